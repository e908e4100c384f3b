/**
 * Reading a JWT in a test: its header and payload, decoded without verifying anything (the code
 * under test verifies; a test only inspects what it was given, e.g. the `kid` or `origin_jti`).
 *
 * @example
 * ```ts
 * assert.equal(decodeJwt(accessToken).payload.username, 'alice');
 * ```
 */

/** A JWT's header and payload, parsed and as the JSON text they were encoded from. */
export interface DecodedJwt {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly rawHeader: string;
  readonly rawPayload: string;
}

/** Decodes a JWT's header and payload without verifying anything (test inspection only). */
export function decodeJwt(token: string): DecodedJwt {
  const [header = '', payload = ''] = token.split('.');
  const rawHeader = Buffer.from(header, 'base64url').toString('utf8');
  const rawPayload = Buffer.from(payload, 'base64url').toString('utf8');
  return {
    header: JSON.parse(rawHeader) as Record<string, unknown>,
    payload: JSON.parse(rawPayload) as Record<string, unknown>,
    rawHeader,
    rawPayload,
  };
}
