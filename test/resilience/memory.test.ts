/**
 * Bounded memory (B36, B38, B61): hostile input can never grow a cache past its bound. 10,000
 * distinct junk tokens — well-formed-looking JWTs with random kids and signatures, tokens with
 * a real kid and a forged signature, tokens signed by a key the pool never published, junk ID
 * tokens next to a valid access token — go through `CognitoGuard.protect()` in-process, a few
 * hundred more over HTTP, and the caches are checked by size rather than by RSS:
 * `verifier.verifiedCacheSize`, `jwks.keyCount`, `jwks.fetchCount` and `consumedStateCount`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import express from 'express';
import { cognitoGuard } from '../../src/express/index.js';
import { CognitoGuard, type IncomingRequest } from '../../src/index.js';
import { LIMITS } from '../../src/core/limits.js';
import {
  CLIENT_ID,
  guardOptions,
  type RecordingEmulator,
  registerClient,
  startRecordingEmulator,
} from '../support/pool.js';
import { TestBrowser } from '../support/browser.js';
import { cookieHeader } from '../support/cookies.js';
import { inProcessRequest } from '../support/requests.js';
import { type RunningServer, serveBuilt } from '../support/http.js';
import { watchUnhandledRejections } from '../support/faults.js';

// Aborted fetches and races with timers must never leave a rejection unhandled.
const rejections = watchUnhandledRejections();

const JUNK_TOKENS = 10_000;
/** The consumed-state record's bound. */
const CONSUMED_STATES_BOUND = LIMITS.maxConsumedStates;
/** The JWKS cache's default unknown-kid cooldown. */
const KID_COOLDOWN_MS = 10_000;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function protectedRequest(cookies: Readonly<Record<string, string>>): IncomingRequest {
  return inProcessRequest('/claims', { cookie: cookieHeader(cookies), accept: 'application/json' });
}

/** Builds junk that passes every cheap check, so it reaches the key lookup and the signature. */
class JunkFactory {
  readonly #issuer: string;
  readonly #wrongKey: KeyObject;
  #serial = 0;

  constructor(issuer: string) {
    this.#issuer = issuer;
    this.#wrongKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }

  #claims(use: 'access' | 'id'): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    this.#serial += 1;
    const common = {
      sub: randomUUID(),
      iss: this.#issuer,
      token_use: use,
      auth_time: now,
      iat: now,
      exp: now + 3600,
      jti: randomUUID(),
      serial: this.#serial,
    };
    return use === 'access'
      ? { ...common, client_id: CLIENT_ID, scope: 'openid email', username: 'mallory' }
      : { ...common, aud: CLIENT_ID, 'cognito:username': 'mallory' };
  }

  /** Random kid (a tenth of them longer than any real kid), random signature. */
  randomKid(): string {
    const kid = this.#serial % 10 === 0 ? 'k'.repeat(300) : randomBytes(32).toString('base64');
    return `${b64({ kid, alg: 'RS256' })}.${b64(this.#claims('access'))}.${randomBytes(256).toString('base64url')}`;
  }

  /** A real kid with a forged (random) signature. */
  forgedSignature(kid: string, use: 'access' | 'id'): string {
    return `${b64({ kid, alg: 'RS256' })}.${b64(this.#claims(use))}.${randomBytes(256).toString('base64url')}`;
  }

  /** A real kid, correctly signed — by a key the pool never published. */
  wrongKey(kid: string): string {
    const input = `${b64({ kid, alg: 'RS256' })}.${b64(this.#claims('access'))}`;
    return `${input}.${sign('sha256', Buffer.from(input), this.#wrongKey).toString('base64url')}`;
  }
}

describe('bounded memory under hostile input', { timeout: 50_000 }, () => {
  let counting: RecordingEmulator;
  let app: RunningServer;
  let guard: CognitoGuard;
  let validAccess: string;
  let validId: string;
  let junk: JunkFactory;
  let accessKid: string;
  let idKid: string;

  before(async () => {
    counting = await startRecordingEmulator();
    const { emulator } = counting;
    // The guard is built first and served by an app around the same instance, so the HTTP
    // requests below land in the caches the in-process requests filled.
    app = await serveBuilt((appUrl) => {
      registerClient(emulator, appUrl);
      guard = new CognitoGuard(guardOptions(emulator, appUrl));
      const auth = cognitoGuard(guard);
      const server = express();
      server.get('/login', auth.login());
      server.get('/postlogin', auth.callback({ redirectTo: '/claims' }));
      server.get('/claims', auth.required(), (req, res) => {
        res.json({ sub: req.cognito?.claims.sub });
      });
      return server;
    });
    validAccess = await emulator.mintToken({
      use: 'access',
      clientId: CLIENT_ID,
      username: 'alice',
    });
    validId = await emulator.mintToken({ use: 'id', clientId: CLIENT_ID, username: 'alice' });
    const active = emulator.keys().filter((key) => key.active);
    accessKid = active.find((key) => key.use === 'access')!.kid;
    idKid = active.find((key) => key.use === 'id')!.kid;
    junk = new JunkFactory(emulator.issuer);
  });
  after(async () => {
    await app.stop();
    await counting.emulator.stop();
  });

  it('10,000 junk tokens in-process: all 401, and every cache stays where it was', async () => {
    const valid = { cognito_access_token: validAccess, cognito_id_token: validId };
    const warm = await guard.protect(protectedRequest(valid));
    assert.equal(warm.action, 'continue', 'a valid session is accepted');
    const publishedKeys = counting.emulator.keys().length;
    assert.equal(guard.jwks.keyCount, publishedKeys);
    assert.equal(guard.verifier.verifiedCacheSize, 2, 'the valid access and ID tokens');
    assert.equal(guard.jwks.fetchCount, 1);

    const started = performance.now();
    const kinds = [
      { count: 4000, make: () => ({ cognito_access_token: junk.randomKid() }) },
      {
        count: 2500,
        make: () => ({ cognito_access_token: junk.forgedSignature(accessKid, 'access') }),
      },
      { count: 1000, make: () => ({ cognito_access_token: junk.wrongKey(accessKid) }) },
      {
        count: 2500,
        make: () => ({
          cognito_access_token: validAccess,
          cognito_id_token: junk.forgedSignature(idKid, 'id'),
        }),
      },
    ];
    let sent = 0;
    let rejected = 0;
    for (const kind of kinds) {
      for (let done = 0; done < kind.count; done += 250) {
        const batch = Array.from({ length: Math.min(250, kind.count - done) }, () =>
          guard.protect(protectedRequest(kind.make())),
        );
        for (const outcome of await Promise.all(batch)) {
          sent += 1;
          if (outcome.action === 'respond' && outcome.response.status === 401) rejected += 1;
        }
      }
    }
    const elapsed = performance.now() - started;
    assert.equal(sent, JUNK_TOKENS);
    assert.equal(rejected, JUNK_TOKENS, 'every junk token is a clean 401');

    assert.equal(guard.verifier.verifiedCacheSize, 2, 'no junk token was remembered');
    assert.equal(guard.jwks.keyCount, publishedKeys, 'no key was added or lost');
    // One fetch at start, one for the first unknown kid; the cooldown absorbs the rest.
    const allowed = 2 + Math.floor(elapsed / KID_COOLDOWN_MS);
    assert.ok(guard.jwks.fetchCount <= allowed, `${guard.jwks.fetchCount} JWKS fetches`);
    assert.equal(counting.jwksFetches(), guard.jwks.fetchCount);
    assert.equal(guard.consumedStateCount, 0);

    const still = await guard.protect(protectedRequest(valid));
    assert.equal(still.action, 'continue', 'the valid session still works');
  });

  it('an oversized token is refused before any decoding, and not remembered', async () => {
    const huge = `${'A'.repeat(600_000)}.${'B'.repeat(600_000)}.${'C'.repeat(600_000)}`;
    const before = guard.verifier.verifiedCacheSize;
    for (const cookies of [
      { cognito_access_token: huge },
      { cognito_access_token: validAccess, cognito_id_token: huge },
    ]) {
      const outcome = await guard.protect(protectedRequest(cookies));
      assert.ok(outcome.action === 'respond');
      assert.equal(outcome.response.status, 401);
      assert.ok((outcome.response.body ?? '').length < 1000, 'the token is not echoed');
    }
    assert.equal(guard.verifier.verifiedCacheSize, before);
  });

  it('a few hundred junk tokens over HTTP (cookie and Bearer): 401, caches unchanged', async () => {
    const before = {
      verified: guard.verifier.verifiedCacheSize,
      keys: guard.jwks.keyCount,
      fetches: guard.jwks.fetchCount,
    };
    const requests = Array.from({ length: 300 }, (_, i) => {
      const token =
        i % 3 === 0
          ? junk.randomKid()
          : i % 3 === 1
            ? junk.forgedSignature(accessKid, 'access')
            : junk.wrongKey(accessKid);
      const headers: Record<string, string> =
        i % 2 === 0
          ? { cookie: `cognito_access_token=${token}` }
          : { authorization: `Bearer ${token}` };
      return fetch(`${app.url}/claims`, {
        headers: { accept: 'application/json', ...headers },
      }).then(async (response) => ({
        status: response.status,
        body: await response.text(),
        token,
      }));
    });
    for (const result of await Promise.all(requests)) {
      assert.equal(result.status, 401);
      assert.ok(!result.body.includes(result.token));
    }
    assert.equal(guard.verifier.verifiedCacheSize, before.verified);
    assert.equal(guard.jwks.keyCount, before.keys);
    assert.ok(guard.jwks.fetchCount <= before.fetches + 1);
  });

  it('the verified-token cache holds at most its bound of valid tokens', async () => {
    const bound = 25;
    const small = new CognitoGuard(
      guardOptions(counting.emulator, app.url, { verifiedTokenCacheSize: bound }),
    );
    const tokens = await Promise.all(
      Array.from({ length: 4 * bound }, (_, i) =>
        counting.emulator.mintToken({
          use: 'access',
          clientId: CLIENT_ID,
          username: ['alice', 'bob', 'carol'][i % 3]!,
        }),
      ),
    );
    assert.equal(new Set(tokens).size, tokens.length, 'distinct tokens');
    for (const token of tokens) {
      const outcome = await small.protect(protectedRequest({ cognito_access_token: token }));
      assert.equal(outcome.action, 'continue');
      assert.ok(small.verifier.verifiedCacheSize <= bound);
    }
    assert.equal(small.verifier.verifiedCacheSize, bound);
    // An evicted token is simply verified again.
    const first = await small.protect(protectedRequest({ cognito_access_token: tokens[0]! }));
    assert.equal(first.action, 'continue');
    assert.equal(small.verifier.verifiedCacheSize, bound);
  });

  it('a flood of sign-ins cannot push a redeemed state out of the record: when it is full, new sign-ins wait (503) until entries expire', async () => {
    // The real bound is 100,000 redeemed states per instance; the mechanism is the same with a
    // smaller one, which keeps this test fast.
    const limits = LIMITS as { maxConsumedStates: number };
    const saved = limits.maxConsumedStates;
    limits.maxConsumedStates = 300;
    let clock = Date.now();
    const warnings: { message: string; fields: Record<string, unknown> | undefined }[] = [];
    try {
      const flood = new CognitoGuard(
        guardOptions(counting.emulator, app.url, {
          now: () => clock,
          logger: { warn: (message, fields) => warnings.push({ message, fields }) },
        }),
      );
      const signIn = async (): Promise<{
        callback: IncomingRequest;
        status: number;
        code: string;
      }> => {
        const started = await flood.login(inProcessRequest('/login'));
        const state = new URL(started.headers['location']!).searchParams.get('state')!;
        const transaction = started.setCookies.at(-1)!.split(';')[0]!;
        // `error=` ends the transaction without any call to Cognito, after consuming its state.
        const callback = inProcessRequest(
          `/postlogin?error=access_denied&state=${encodeURIComponent(state)}`,
          { cookie: transaction, accept: 'application/json' },
        );
        const outcome = await flood.callback(callback);
        assert.ok(outcome.action === 'respond');
        const body = JSON.parse(outcome.response.body ?? '{}') as { error: string };
        return { callback, status: outcome.response.status, code: body.error };
      };

      const victim = await signIn();
      assert.equal(victim.status, 400);
      assert.equal(victim.code, 'ERR_CALLBACK_ERROR_RESPONSE', 'the state reached the record');
      for (let i = 1; i < 300; i += 1) assert.equal((await signIn()).status, 400);
      assert.equal(flood.consumedStateCount, 300);

      const waiting = await signIn();
      assert.equal(waiting.status, 503, 'the record is full of live entries: the sign-in waits');
      assert.equal(waiting.code, 'ERR_SIGN_IN_CAPACITY');
      assert.equal(flood.consumedStateCount, 300, 'nothing was evicted');

      warnings.length = 0;
      const replay = await flood.callback(victim.callback);
      assert.ok(replay.action === 'respond');
      assert.equal(replay.response.status, 400);
      assert.deepEqual(
        warnings.map((w) => w.fields?.['detail']),
        ['transaction already used'],
        'the first redeemed state is still remembered after the flood',
      );

      clock += 601_000;
      assert.equal((await signIn()).status, 400, 'after the transactions expired, sign-ins resume');
      assert.equal(flood.consumedStateCount, 1, 'expired entries were dropped');
    } finally {
      limits.maxConsumedStates = saved;
    }
  });

  it('a few hundred junk callbacks over HTTP keep the consumed-state cache bounded', async () => {
    const before = guard.consumedStateCount;
    const browser = new TestBrowser();
    for (let i = 0; i < 200; i += 1) {
      const started = await browser.request(`${app.url}/login`);
      const state = new URL(started.location!).searchParams.get('state')!;
      const query =
        i % 2 === 0
          ? `error=access_denied&state=${encodeURIComponent(state)}`
          : `code=${randomUUID()}&state=${encodeURIComponent(state)}&state=again`;
      const response = await browser.request(`${app.url}/postlogin?${query}`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(response.status, 400);
      // A repeated state is refused before the single-use check; an error answer gets past it.
      const reason = i % 2 === 0 ? 'ERR_CALLBACK_ERROR_RESPONSE' : 'ERR_CALLBACK_INVALID';
      assert.equal(JSON.parse(response.body).error, reason);
    }
    // Only the callbacks that reached the single-use check were remembered.
    assert.equal(guard.consumedStateCount, before + 100);
    assert.ok(guard.consumedStateCount <= CONSUMED_STATES_BOUND);
  });
});

describe('process health', () => {
  it('no unhandled promise rejection happened during the run', () => {
    rejections.stop();
    assert.deepEqual(rejections.reasons, []);
  });
});
