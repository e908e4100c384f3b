// Node's `spec` reporter, plus an honest count of what was skipped.
//
// Node counts a skipped test in its "skipped" line but not a skipped `describe`: the suite's body
// never runs, so its tests are never created, and the summary says `skipped 0` while a whole suite
// (say, the Chromium tests on a machine without Chromium) did not run. This reporter passes every
// event to `spec` unchanged except that it adds skipped suites to the "skipped" line, and it lists
// every skip with its reason just above the summary, so node's summary stays the last lines.
//
// When COGNITO_GUARD_TEST_REPORT names a file, the skips are written there as JSON for
// scripts/run-tests.mjs, which fails a --require-all (CI) run that skipped anything
// (COGNITO_GUARD_REQUIRE_ALL=1 makes this reporter say so above the summary).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Transform } from 'node:stream';
import { spec as Spec } from 'node:test/reporters';

export default class SkipCountingSpec extends Transform {
  #spec = new Spec();
  /** @type {{ file: string | undefined; name: string; suite: boolean; reason: string }[]} */
  #skipped = [];
  #summaryStarted = false;

  constructor() {
    super({ writableObjectMode: true });
    // Everything printed goes through `spec`, in order.
    this.#spec.on('data', (chunk) => this.push(chunk));
  }

  _transform(event, _encoding, callback) {
    const data = event.data ?? {};
    if (event.type === 'test:pass' || event.type === 'test:fail') {
      if (data.skip !== undefined && data.skip !== false) {
        this.#skipped.push({
          file: data.file === undefined ? undefined : relative(process.cwd(), data.file),
          name: data.name,
          suite: data.details?.type === 'suite',
          reason: typeof data.skip === 'string' ? data.skip : 'skipped',
        });
      }
    }
    const rootSummary =
      event.type === 'test:diagnostic' && data.nesting === 0 && data.file === undefined;
    if (rootSummary && !this.#summaryStarted && /^tests \d+$/.test(data.message)) {
      this.#summaryStarted = true;
      for (const skip of this.#skipped) {
        const where = skip.file === undefined ? '' : `${skip.file} › `;
        const what = skip.suite ? 'suite ' : '';
        this.#diagnostic(`skipped ${what}${where}${skip.name}: ${skip.reason}`);
      }
      if (process.env.COGNITO_GUARD_REQUIRE_ALL === '1' && this.#skipped.length > 0) {
        this.#diagnostic(
          `--require-all (CI): ${this.#skipped.length} skipped, so this run fails; nothing may be skipped`,
        );
      }
    }
    const skippedLine = rootSummary ? /^skipped (\d+)$/.exec(data.message) : null;
    if (skippedLine !== null) {
      const suites = this.#skipped.filter((skip) => skip.suite).length;
      const total = Number(skippedLine[1]) + suites;
      this.#spec.write({ ...event, data: { ...data, message: `skipped ${total}` } }, callback);
      return;
    }
    this.#spec.write(event, callback);
  }

  _flush(callback) {
    const reportFile = process.env.COGNITO_GUARD_TEST_REPORT;
    if (reportFile !== undefined && reportFile !== '') {
      writeFileSync(reportFile, JSON.stringify({ skipped: this.#skipped }));
    }
    this.#spec.once('end', () => {
      callback();
    });
    this.#spec.end();
  }

  #diagnostic(message) {
    this.#spec.write({ type: 'test:diagnostic', data: { nesting: 0, message } });
  }
}
