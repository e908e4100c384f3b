/**
 * Fault injection: an endpoint can be told to answer a given status and body, to answer late, or
 * never to answer, so a library's timeouts and error handling can be tested against real sockets.
 */

/** Endpoints a fault can be set on. */
export type FaultEndpoint =
  | 'jwks'
  | 'openid-configuration'
  | 'token'
  | 'revoke'
  | 'userInfo'
  | 'authorize'
  | 'login'
  | 'logout'
  /** `/`: Cognito's JSON API (and the small index a GET shows). */
  | 'api';

/**
 * A fault for one endpoint. With `status`/`body` the endpoint answers that instead of its real
 * response; with only `delayMs` it answers normally but late; with `hang` it never answers until
 * the emulator stops.
 *
 * @example
 * ```ts
 * emulator.setFault('jwks', { status: 500, body: '<html>oops</html>', contentType: 'text/html' });
 * emulator.setFault('token', { delayMs: 5000 });
 * emulator.setFault('jwks', { hang: true, times: 1 });
 * ```
 */
export interface EmulatorFault {
  readonly status?: number;
  readonly body?: string;
  /** Default `text/plain; charset=utf-8` when a body is given. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly delayMs?: number;
  readonly hang?: boolean;
  /** Apply to this many requests, then clear itself. Default: until cleared. */
  readonly times?: number;
}

function sleep(ms: number, cancelled: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
    cancelled,
  ]).finally(() => {
    clearTimeout(timer);
  });
}

/**
 * The faults currently set, per endpoint. {@link close} releases every held request, so stopping
 * the emulator never waits for a `hang`.
 *
 * @example
 * ```ts
 * const faults = new FaultInjector();
 * faults.set('token', { status: 503, times: 1 });
 * const injected = await faults.apply('token'); // a 503 Response, once
 * ```
 */
export class FaultInjector {
  readonly #faults = new Map<FaultEndpoint, { fault: EmulatorFault; remaining: number }>();
  readonly #closed: Promise<void>;
  #close: () => void = () => undefined;

  constructor() {
    this.#closed = new Promise((resolve) => {
      this.#close = resolve;
    });
  }

  /** Sets (or with `null` clears) the fault of one endpoint. */
  set(endpoint: FaultEndpoint, fault: EmulatorFault | null): void {
    if (fault === null) this.#faults.delete(endpoint);
    else this.#faults.set(endpoint, { fault, remaining: fault.times ?? Infinity });
  }

  /** Clears every fault. */
  clear(): void {
    this.#faults.clear();
  }

  /**
   * Applies the endpoint's fault, if any: waits (delay, hang) and returns the response to send
   * instead of the real one, or `undefined` to go on normally.
   */
  async apply(endpoint: FaultEndpoint): Promise<Response | undefined> {
    const entry = this.#faults.get(endpoint);
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.#faults.delete(endpoint);
    const { fault } = entry;
    if (fault.hang) {
      await this.#closed;
      return new Response('emulator stopped', { status: 503 });
    }
    if (fault.delayMs !== undefined && fault.delayMs > 0) await sleep(fault.delayMs, this.#closed);
    if (fault.status === undefined && fault.body === undefined) return undefined;
    return new Response(fault.body ?? '', {
      status: fault.status ?? 200,
      headers: {
        'content-type': fault.contentType ?? 'text/plain; charset=utf-8',
        ...fault.headers,
      },
    });
  }

  /** Releases requests held by `hang`/`delayMs` faults; call when stopping. */
  close(): void {
    this.#close();
  }
}
