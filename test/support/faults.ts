/**
 * Faults below what an HTTP framework allows, for resilience tests: an upstream whose answers are
 * broken at the socket level, and a watch on unhandled promise rejections (a fault must never
 * leave one behind).
 *
 * @example
 * ```ts
 * const broken = await startBrokenUpstream();
 * const rejections = watchUnhandledRejections();
 * try { ... } finally { rejections.stop(); await broken.stop(); }
 * ```
 */
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

/** Records unhandled promise rejections while installed; call `stop()` to remove the listener. */
export function watchUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => {
    reasons.push(reason);
  };
  process.on('unhandledRejection', listener);
  return {
    reasons,
    stop: () => {
      process.off('unhandledRejection', listener);
    },
  };
}

/** How a {@link BrokenUpstream} misbehaves; chosen by the request path (`/{mode}`). */
export type BreakageMode = 'stall-body' | 'reset-mid-body' | 'not-http' | 'close';

/** A TCP server that answers every request in a broken way, below what an HTTP framework allows. */
export interface BrokenUpstream {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts a raw TCP server on 127.0.0.1 whose answers are broken at the socket level: headers
 * and then a body that never ends (`stall-body`), a connection reset half-way through the body
 * (`reset-mid-body`), something that is not HTTP (`not-http`), or a close with no answer.
 */
export async function startBrokenUpstream(): Promise<BrokenUpstream> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const mode = /^[A-Z]+ \/([a-z-]+)/.exec(head)?.[1] as BreakageMode | undefined;
      const partial =
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n{"keys":[{"kty":"RSA","access_token":"';
      switch (mode) {
        case 'stall-body':
          socket.write(partial);
          break;
        case 'reset-mid-body':
          socket.write(partial, () => socket.resetAndDestroy());
          break;
        case 'not-http':
          socket.end('SSH-2.0-OpenSSH_9.2\r\n');
          break;
        default:
          socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
