/**
 * Small async tools for tests: wait, time a step, and hold a step until the test releases it.
 *
 * @example
 * ```ts
 * const gate = deferred();
 * const pending = request(); // blocked on gate.promise somewhere
 * gate.resolve();
 * ```
 */

/** Resolves after `ms` (keep it to a couple of seconds at most: no timed tests). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Milliseconds taken by `run`, with its result. */
export async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

/** A promise with its resolve function, for a test to release a step it holds. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
