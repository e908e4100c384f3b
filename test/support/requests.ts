/**
 * Requests `fetch` would not send: a raw HTTP/1.1 request with any `Host` header and any header
 * size (what an attacker or a proxy sends), and a request handed to `CognitoGuard` in-process,
 * without a socket.
 *
 * @example
 * ```ts
 * const spoofed = await rawRequest(`${app.url}/login`, { headers: { host: 'evil.example' } });
 * ```
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { IncomingRequest } from '../../src/index.js';

/** The answer to a {@link rawRequest}. */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A request through `node:http`, which (unlike `fetch`) sends the `Host` header it is given and
 * headers of any size, so a test can forge what an attacker sends.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        // Our own client must be able to read what a server answers to an attacker.
        maxHeaderSize: 1024 * 1024,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A request for `CognitoGuard` called in-process (no socket). */
export function inProcessRequest(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  method = 'GET',
): IncomingRequest {
  const lower = new Map(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return { method, url, header: (name) => lower.get(name) };
}
