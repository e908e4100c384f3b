// Test helpers for the verification tests: RSA keys, token signing and a scriptable JWKS server
// on a real socket (127.0.0.1, ephemeral port). Not a test file itself.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { CompactSign, exportJWK } from 'jose';
import type { JWK } from 'jose';

export const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool1';
export const CLIENT_ID = 'testclient0000000000000001';
/** A fixed test clock (seconds); tokens are minted around it. */
export const NOW_S = 1_700_000_000;
export const NOW_MS = NOW_S * 1000;

export interface TestKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

/** A Cognito-like RSA signing key: RS256, 2048 bits, a base64 kid with `+`, `/` and `=`. */
export async function makeKey(kid: string, modulusLength = 2048): Promise<TestKey> {
  // WebCrypto directly: jose refuses to generate keys under 2048 bits, which B21/B63 need.
  const { privateKey, publicKey } = await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      modulusLength,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    true,
    ['sign', 'verify'],
  );
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicKey, jwk };
}

/** Signs an arbitrary header and payload (payload given as an object or as exact JSON text). */
export async function sign(
  key: CryptoKey | Uint8Array,
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string | Uint8Array,
): Promise<string> {
  const bytes =
    payload instanceof Uint8Array
      ? payload
      : new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader(header as { alg: string }).sign(key);
}

/** Claims of a valid access token for {@link ISSUER}/{@link CLIENT_ID} at {@link NOW_S}. */
export function accessClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: '9048d38f-8174-49b9-8d59-3238172823d8',
    'cognito:groups': ['admin'],
    iss: ISSUER,
    version: 2,
    client_id: CLIENT_ID,
    token_use: 'access',
    scope: 'openid email',
    auth_time: NOW_S - 60,
    exp: NOW_S + 3600,
    iat: NOW_S - 60,
    jti: '0fe29a9e-6e94-479b-987b-e45696d5843a',
    username: 'alice',
    ...overrides,
  };
}

/** Claims of a valid ID token for {@link ISSUER}/{@link CLIENT_ID} at {@link NOW_S}. */
export function idClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: '9048d38f-8174-49b9-8d59-3238172823d8',
    iss: ISSUER,
    aud: CLIENT_ID,
    token_use: 'id',
    'cognito:username': 'alice',
    email: 'alice@example.com',
    email_verified: true,
    nonce: 'n-0S6_WzA2Mj',
    auth_time: NOW_S - 60,
    exp: NOW_S + 3600,
    iat: NOW_S - 60,
    ...overrides,
  };
}

/** Removes the named claims (to build "missing claim" tokens). */
export function without(
  claims: Record<string, unknown>,
  ...names: string[]
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !names.includes(name)));
}

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number }
  | { kind: 'raw'; contentType: string; body: string }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'refuse' };

export interface JwksServer {
  /** The JWKS URL. */
  readonly url: string;
  /** Requests received so far. */
  readonly hits: number;
  /** The key set served by the `ok` and `delay` behaviours. */
  keys: JWK[];
  /** What the next requests get. */
  behaviour: Behaviour;
  close(): Promise<void>;
}

/** Starts a JWKS server whose answers the test scripts; count its hits, close it at the end. */
export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let hits = 0;
  const pending = new Set<ServerResponse>();
  const state = { keys, behaviour: { kind: 'ok' } as Behaviour };
  const serveKeys = (res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: state.keys }));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits += 1;
    const behaviour = state.behaviour;
    switch (behaviour.kind) {
      case 'ok':
        serveKeys(res);
        return;
      case 'status':
        res.writeHead(behaviour.status, { 'content-type': 'application/json' });
        res.end('{"message":"error"}');
        return;
      case 'raw':
        res.writeHead(200, { 'content-type': behaviour.contentType });
        res.end(behaviour.body);
        return;
      case 'hang':
        pending.add(res);
        return;
      case 'delay': {
        const timer = setTimeout(() => {
          serveKeys(res);
        }, behaviour.ms);
        res.on('close', () => {
          clearTimeout(timer);
        });
        return;
      }
      case 'refuse':
        req.socket.destroy();
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/eu-west-1_TestPool1/.well-known/jwks.json`,
    get hits() {
      return hits;
    },
    get keys() {
      return state.keys;
    },
    set keys(next: JWK[]) {
      state.keys = next;
    },
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(next: Behaviour) {
      state.behaviour = next;
    },
    async close() {
      for (const res of pending) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
      });
    },
  };
}

/** A URL on which nothing listens (connection refused). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

/** Re-encodes a token segment after editing its decoded text. */
export function editSegment(token: string, index: number, edit: (text: string) => string): string {
  const parts = token.split('.');
  const text = Buffer.from(parts[index] ?? '', 'base64url').toString('utf8');
  parts[index] = Buffer.from(edit(text), 'utf8').toString('base64url');
  return parts.join('.');
}

/** Flips one bit in one byte of a segment (the byte index counts from the start of the segment). */
export function flipByte(token: string, index: number, byte: number): string {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[byte] = (bytes[byte] ?? 0) ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

/**
 * Signs exact header and payload bytes with RS256 (no JSON round trip), for tokens that a JOSE
 * library would refuse to build: duplicate header members, non-UTF-8 payloads and the like.
 */
export async function signRaw(
  privateKey: CryptoKey,
  headerText: string,
  payload: string | Uint8Array,
): Promise<string> {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const signingInput = `${Buffer.from(headerText, 'utf8').toString('base64url')}.${Buffer.from(bytes).toString('base64url')}`;
  const signature = await crypto.subtle.sign(
    'RSASSA-PKCS1-v1_5',
    privateKey,
    new TextEncoder().encode(signingInput),
  );
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
}
