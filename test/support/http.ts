/**
 * Loopback servers for tests: listen on 127.0.0.1, close with every connection, find a free port,
 * and see whether something accepts connections. Every server a test starts goes through here, so
 * they all behave the same on a loaded machine.
 *
 * @example
 * ```ts
 * const server = await serve((req, res) => res.end('ok'));
 * try { await fetch(server.url); } finally { await server.stop(); }
 * ```
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';

/**
 * Listens on 127.0.0.1:`port` (0 for any) and resolves with the bound port. The server never
 * closes an idle keep-alive connection itself (the test's stop() closes them all): otherwise, on a
 * loaded machine, the client (undici, whose idle timer is coarse) can send its next request on a
 * connection the server is closing at that moment, and the request fails with ECONNRESET.
 */
export async function listenOn(server: Server, port = 0): Promise<number> {
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and every connection it holds. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

/**
 * A loopback port that was free a moment ago, for servers that must be told their port up front
 * (nginx, redis-server, an app whose redirect URL names its port). Loopback ports are not reused
 * that fast, but another process may take it: starters that can, retry.
 */
export async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    probe.close(() => {
      resolve();
    });
  });
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/** A running HTTP server a test started. */
export interface RunningServer {
  /** `http://127.0.0.1:{port}` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Serves a Node request listener on 127.0.0.1:`port` (0 for any). */
export async function serve(listener: RequestListener, port = 0): Promise<RunningServer> {
  const server = createServer(listener);
  const bound = await listenOn(server, port);
  return { url: `http://127.0.0.1:${bound}`, port: bound, stop: () => closeServer(server) };
}

/**
 * Listens first, then builds the request listener for its own URL (an app's redirect URL names
 * its port). Requests that arrive before the listener is built get 503; a `build` that throws (a
 * configuration error) closes the socket again and rethrows.
 */
export async function serveBuilt(
  build: (url: string) => RequestListener,
  port = 0,
): Promise<RunningServer> {
  const built: { listener?: RequestListener } = {};
  const running = await serve((req, res) => {
    if (built.listener === undefined) res.writeHead(503).end();
    else built.listener(req, res);
  }, port);
  try {
    built.listener = build(running.url);
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}
