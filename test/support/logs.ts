/**
 * A guard logger that keeps every line, so a test can check what the operator is told (the reason
 * of a refused sign-in, a failed revocation) and what never reaches a log (a token, a secret).
 *
 * @example
 * ```ts
 * const log = captureLogger();
 * const guard = new CognitoGuard({ ...options, logger: log.logger });
 * assert.match(log.text(), /revocation failed/);
 * ```
 */
import type { CognitoGuardLogger } from '../../src/index.js';

/** One logged line. */
export interface LogEntry {
  readonly level: 'warn' | 'info';
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

/** Everything a guard logged. */
export interface CapturedLog {
  /** The logger to give the guard (`logger` option). */
  readonly logger: CognitoGuardLogger;
  /** Every line, oldest first. */
  readonly entries: LogEntry[];
  /** The lines logged at `warn`. */
  warnings(): LogEntry[];
  /**
   * Everything logged from entry `from` on (default: all), messages and fields as JSON, one line
   * an entry, to search all of it.
   */
  text(from?: number): string;
}

/** Starts capturing a guard's log. */
export function captureLogger(): CapturedLog {
  const entries: LogEntry[] = [];
  const record =
    (level: LogEntry['level']) =>
    (message: string, fields?: Record<string, unknown>): void => {
      entries.push({ level, message, fields });
    };
  return {
    logger: { warn: record('warn'), info: record('info') },
    entries,
    warnings: () => entries.filter((entry) => entry.level === 'warn'),
    text: (from = 0) =>
      entries
        .slice(from)
        .map((entry) => `${entry.level} ${entry.message} ${JSON.stringify(entry.fields ?? {})}`)
        .join('\n'),
  };
}
