/**
 * Load: 200 concurrent requests to a protected route with valid cookies all succeed, with at
 * most one JWKS fetch between them (single-flight, B36), counted at the emulator. Run against
 * instances whose key cache is cold, so that the 200 really race for the first fetch, and with
 * 200 different users, so that concurrent requests cannot be served each other's identity.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createExampleApp } from '../../examples/express/app.js';
import {
  CLIENT_ID,
  DEMO_PASSWORD,
  guardOptions,
  type RecordingEmulator,
  startRecordingEmulator,
} from '../support/pool.js';
import { login } from '../support/sign-in.js';
import { type Stack, startStack } from '../support/express.js';
import { TestBrowser } from '../support/browser.js';
import { cookieHeader } from '../support/cookies.js';
import { type RunningServer, serveBuilt } from '../support/http.js';
import { watchUnhandledRejections } from '../support/faults.js';

// Aborted fetches and races with timers must never leave a rejection unhandled.
const rejections = watchUnhandledRejections();

const CONCURRENCY = 200;

interface ClaimsAnswer {
  readonly status: number;
  readonly username: unknown;
}

async function getClaims(url: string, cookie: string): Promise<ClaimsAnswer> {
  const response = await fetch(`${url}/claims`, {
    headers: { accept: 'application/json', cookie },
  });
  const body = (await response.json()) as { claims?: { username?: unknown } };
  return { status: response.status, username: body.claims?.username };
}

describe('load: 200 concurrent protected requests', { timeout: 40_000 }, () => {
  let counting: RecordingEmulator;
  let stack: Stack;
  let sessionCookie: string;
  const cold: RunningServer[] = [];

  const startCold = async (): Promise<RunningServer> => {
    const running = await serveBuilt((appUrl) =>
      createExampleApp(guardOptions(counting.emulator, appUrl)),
    );
    cold.push(running);
    return running;
  };

  before(async () => {
    counting = await startRecordingEmulator();
    stack = await startStack({ emulator: counting.emulator });
    const browser = new TestBrowser();
    await login(browser, stack.appUrl, 'alice');
    sessionCookie = cookieHeader(Object.fromEntries(browser.cookiesFor(stack.appUrl)));
  });
  after(async () => {
    await Promise.all(cold.map((server) => server.stop()));
    await stack.stop();
    await counting.emulator.stop();
  });

  it('one session, 200 at once on an instance with nothing cached: all 200, one JWKS fetch', async () => {
    const instance = await startCold();
    const before = counting.jwksFetches();
    const answers = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => getClaims(instance.url, sessionCookie)),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(answer.username, 'alice');
    }
    const fetches = counting.jwksFetches() - before;
    assert.ok(fetches <= 1, `${fetches} JWKS fetches`);
  });

  it('200 different users at once on a cold instance: each gets their own identity, one JWKS fetch', async () => {
    const users = Array.from({ length: CONCURRENCY }, (_, i) => `load-user-${i}`);
    for (const username of users) counting.emulator.addUser({ username, password: DEMO_PASSWORD });
    const sessions = await Promise.all(
      users.map(async (username) => {
        const [access, id] = await Promise.all([
          counting.emulator.mintToken({ use: 'access', clientId: CLIENT_ID, username }),
          counting.emulator.mintToken({ use: 'id', clientId: CLIENT_ID, username }),
        ]);
        return {
          username,
          cookie: cookieHeader({ cognito_access_token: access, cognito_id_token: id }),
        };
      }),
    );
    const instance = await startCold();
    const before = counting.jwksFetches();
    const answers = await Promise.all(
      sessions.map(async ({ username, cookie }) => ({
        username,
        answer: await getClaims(instance.url, cookie),
      })),
    );
    for (const { username, answer } of answers) {
      assert.equal(answer.status, 200);
      assert.equal(answer.username, username, 'no request is served another user’s identity');
    }
    const fetches = counting.jwksFetches() - before;
    assert.ok(fetches <= 1, `${fetches} JWKS fetches`);
  });

  it('200 at once on a warm instance: all 200, no JWKS fetch at all', async () => {
    const before = counting.jwksFetches();
    const answers = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => getClaims(stack.appUrl, sessionCookie)),
    );
    for (const answer of answers) assert.equal(answer.status, 200);
    assert.equal(counting.jwksFetches() - before, 0);
  });
});

describe('process health', () => {
  it('no unhandled promise rejection happened during the run', () => {
    rejections.stop();
    assert.deepEqual(rejections.reasons, []);
  });
});
