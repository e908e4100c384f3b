/**
 * The control API under `/_emulator/`: list, rotate and retire signing keys from another process
 * (the CLI's `rotate-keys` / `retire-key`). It answers loopback callers only, and its POSTs need
 * a JSON content type, which forces a CORS preflight so a web page cannot drive them.
 */
import { json } from '../http.js';
import type { RequestInfo } from '../http.js';
import type { UserPool } from '../pool.js';

const LOOPBACK_RE = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function refusedPeer(info: RequestInfo): Response | undefined {
  if (info.remoteAddress !== undefined && !LOOPBACK_RE.test(info.remoteAddress)) {
    return json(403, { error: 'admin endpoints answer loopback callers only' });
  }
  return undefined;
}

async function readJsonObject(request: Request): Promise<Record<string, unknown> | Response> {
  if (!(request.headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
    return json(415, { error: 'send Content-Type: application/json' });
  }
  let body: unknown;
  try {
    const text = await request.text();
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return json(400, { error: 'body is not JSON' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return json(400, { error: 'body must be a JSON object' });
  }
  return body as Record<string, unknown>;
}

/** `GET /_emulator/keys`. */
export function listKeys(pool: UserPool, _request: Request, info: RequestInfo): Response {
  return refusedPeer(info) ?? json(200, { keys: pool.keys.list() });
}

/** `POST /_emulator/keys/rotate` with `{"use"?: "access" | "id"}`. */
export async function rotateKeys(
  pool: UserPool,
  request: Request,
  info: RequestInfo,
): Promise<Response> {
  const refused = refusedPeer(info);
  if (refused) return refused;
  const body = await readJsonObject(request);
  if (body instanceof Response) return body;
  const { use } = body;
  if (use !== undefined && use !== 'access' && use !== 'id') {
    return json(400, { error: 'use must be "access" or "id"' });
  }
  const added = await pool.keys.rotate(use);
  return json(200, { added, keys: pool.keys.list() });
}

/** `POST /_emulator/keys/retire` with `{"kid"?: string}` (none: every inactive key). */
export async function retireKey(
  pool: UserPool,
  request: Request,
  info: RequestInfo,
): Promise<Response> {
  const refused = refusedPeer(info);
  if (refused) return refused;
  const body = await readJsonObject(request);
  if (body instanceof Response) return body;
  if (body.kid !== undefined && typeof body.kid !== 'string') {
    return json(400, { error: 'kid must be a string' });
  }
  try {
    return json(200, { retired: pool.keys.retire(body.kid), keys: pool.keys.list() });
  } catch (error) {
    // RangeError from the key store: an unknown or still-active kid.
    return json(400, { error: (error as Error).message });
  }
}
