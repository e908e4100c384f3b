import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CognitoGuard,
  ConfigurationError,
  fromEnv,
  MemorySessionStore,
  registerSessionStore,
  type CognitoGuardOptions,
} from '../../src/index.js';
import { resolveApiGuardOptions, resolveOptions } from '../../src/core/options.js';

const SECRET = 'x'.repeat(32);

export const validEnv = {
  AWS_REGION: 'eu-west-1',
  AWS_COGNITO_USER_POOL_ID: 'eu-west-1_qwerty',
  AWS_COGNITO_DOMAIN: 'https://app.auth.eu-west-1.amazoncognito.com',
  AWS_COGNITO_USER_POOL_CLIENT_ID: 'asdfghjkl1234asdf',
  AWS_COGNITO_USER_POOL_CLIENT_SECRET: 'zxcvbnm1234567890',
  AWS_COGNITO_REDIRECT_URL: 'https://example.com/postlogin',
  AWS_COGNITO_LOGOUT_URL: 'https://example.com/postlogout',
  SECRET_KEY: SECRET,
};

function configurationProblems(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigurationError);
    assert.equal(error.code, 'ERR_CONFIGURATION');
    return error.problems;
  }
  assert.fail('expected a ConfigurationError');
}

describe('fromEnv', () => {
  it("reads flask-cognito-lib's variable names and derives the issuer and endpoints", () => {
    const resolved = resolveOptions(fromEnv(validEnv));
    assert.equal(
      resolved.endpoints.issuer,
      'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_qwerty',
    );
    assert.equal(resolved.endpoints.jwksUri, `${resolved.endpoints.issuer}/.well-known/jwks.json`);
    assert.equal(
      resolved.endpoints.token,
      'https://app.auth.eu-west-1.amazoncognito.com/oauth2/token',
    );
    assert.equal(
      resolved.endpoints.userInfo,
      'https://app.auth.eu-west-1.amazoncognito.com/oauth2/userInfo',
    );
    assert.equal(resolved.clientSecret, 'zxcvbnm1234567890');
    assert.equal(resolved.cookieMaxAgeSeconds, 1800);
    assert.equal(resolved.refreshCookieMaxAgeSeconds, 86400);
    assert.equal(resolved.cookieSameSite, 'Lax');
    assert.equal(resolved.secureCookies, true);
    assert.equal(resolved.refreshCookieEncrypted, true);
    assert.equal(resolved.refreshFlowEnabled, false);
    assert.equal(resolved.disabled, false);
  });

  it('names every missing required key in one ConfigurationError', () => {
    const problems = configurationProblems(() => fromEnv({}));
    for (const name of [
      'AWS_REGION',
      'AWS_COGNITO_USER_POOL_ID',
      'AWS_COGNITO_DOMAIN',
      'AWS_COGNITO_USER_POOL_CLIENT_ID',
      'AWS_COGNITO_REDIRECT_URL',
      'AWS_COGNITO_LOGOUT_URL',
      'SECRET_KEY',
    ]) {
      assert.ok(
        problems.some((p) => p.includes(name)),
        `${name} missing from ${problems.join('|')}`,
      );
    }
    assert.ok(!problems.some((p) => p.includes('CLIENT_SECRET')), 'the client secret is optional');
  });

  it('regression (flask-cognito-lib fault 16): booleans accept only true/false/1/0, "False" does not disable auth', () => {
    assert.equal(fromEnv({ ...validEnv, AWS_COGNITO_DISABLED: 'false' }).disabled, false);
    assert.equal(fromEnv({ ...validEnv, AWS_COGNITO_DISABLED: 'False' }).disabled, false);
    assert.equal(fromEnv({ ...validEnv, AWS_COGNITO_DISABLED: '0' }).disabled, false);
    assert.equal(fromEnv({ ...validEnv, AWS_COGNITO_DISABLED: 'true' }).disabled, true);
    assert.equal(fromEnv({ ...validEnv, AWS_COGNITO_DISABLED: '1' }).disabled, true);
    for (const bad of ['yes', 'on', 'no', 'enabled', ' x']) {
      const problems = configurationProblems(() =>
        fromEnv({ ...validEnv, AWS_COGNITO_DISABLED: bad }),
      );
      assert.ok(problems.some((p) => p.includes('AWS_COGNITO_DISABLED')));
    }
  });

  it('regression (flask-cognito-lib fault 16): scopes given as a string are split, not joined per character', () => {
    assert.deepEqual(fromEnv({ ...validEnv, AWS_COGNITO_SCOPES: 'openid email' }).scopes, [
      'openid',
      'email',
    ]);
    assert.deepEqual(fromEnv({ ...validEnv, AWS_COGNITO_SCOPES: 'openid,profile, email' }).scopes, [
      'openid',
      'profile',
      'email',
    ]);
  });

  it('rejects non-numeric durations and reports all problems together', () => {
    const problems = configurationProblems(() =>
      fromEnv({
        ...validEnv,
        AWS_COGNITO_COOKIE_AGE_SECONDS: '1e9',
        AWS_COGNITO_EXPIRATION_LEEWAY: '-1',
      }),
    );
    assert.equal(problems.length, 2);
  });

  it('accepts SECRET_KEY_FALLBACKS for rotation', () => {
    const options = fromEnv({
      ...validEnv,
      SECRET_KEY_FALLBACKS: `${'y'.repeat(32)},${'z'.repeat(32)}`,
    });
    assert.deepEqual(resolveOptions(options).secretKeys, [SECRET, 'y'.repeat(32), 'z'.repeat(32)]);
  });

  it('AWS_COGNITO_ISSUER overrides the issuer (for the emulator)', () => {
    const resolved = resolveOptions(
      fromEnv({
        ...validEnv,
        AWS_COGNITO_DOMAIN: 'http://localhost:9229',
        AWS_COGNITO_ISSUER: 'http://localhost:9229/eu-west-1_qwerty',
        AWS_COGNITO_REDIRECT_URL: 'http://localhost:3000/postlogin',
      }),
    );
    assert.equal(
      resolved.endpoints.jwksUri,
      'http://localhost:9229/eu-west-1_qwerty/.well-known/jwks.json',
    );
    assert.equal(resolved.allowInsecureHttp, true);
    assert.equal(
      resolved.secureCookies,
      false,
      'plain-http loopback redirect URL turns Secure off',
    );
  });
});

describe('resolveOptions', () => {
  const base: CognitoGuardOptions = {
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_qwerty',
    domain: 'https://app.auth.eu-west-1.amazoncognito.com',
    clientId: 'client',
    redirectUrl: 'https://example.com/postlogin',
    logoutUrl: 'https://example.com/postlogout',
    secretKey: SECRET,
  };

  it('B46 refuses plain http for a non-loopback domain or issuer', () => {
    const problems = configurationProblems(() =>
      resolveOptions({
        ...base,
        domain: 'http://auth.example.com',
        issuer: 'http://issuer.example.com/pool',
      }),
    );
    assert.ok(problems.some((p) => p.startsWith('domain must use https')));
    assert.ok(problems.some((p) => p.startsWith('issuer must use https')));
  });

  it('B30 bounds the leeway at 300 seconds', () => {
    assert.equal(
      resolveOptions({ ...base, expirationLeewaySeconds: 300 }).expirationLeewaySeconds,
      300,
    );
    const problems = configurationProblems(() =>
      resolveOptions({ ...base, expirationLeewaySeconds: 1e9 }),
    );
    assert.ok(problems.some((p) => p.startsWith('expirationLeewaySeconds')));
  });

  it('refuses short secrets and a pool id from another region', () => {
    const problems = configurationProblems(() =>
      resolveOptions({ ...base, secretKey: 'short', userPoolId: 'us-east-1_abc' }),
    );
    assert.ok(problems.some((p) => p.includes('at least 32 characters')));
    assert.ok(problems.some((p) => p.includes('not in region')));
  });

  it('refuses an issuer with a trailing slash (compared exactly, B23)', () => {
    const problems = configurationProblems(() =>
      resolveOptions({
        ...base,
        issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_qwerty/',
      }),
    );
    assert.ok(problems.some((p) => p.includes('trailing') || p.includes('slash')));
  });

  it('strips the leading dot of a cookie domain', () => {
    assert.equal(
      resolveOptions({ ...base, cookieDomain: '.example.com' }).cookieDomain,
      'example.com',
    );
  });

  it('an unknown option is refused, naming the option it was probably meant to be', () => {
    const problems = configurationProblems(() =>
      resolveOptions({ ...base, secretkey: 'typo', refreshFlowEnable: true } as never),
    );
    assert.ok(problems.includes('unknown option "secretkey" (did you mean "secretKey"?)'));
    assert.ok(
      problems.includes('unknown option "refreshFlowEnable" (did you mean "refreshFlowEnabled"?)'),
    );
    const far = configurationProblems(() => resolveOptions({ ...base, zzz: 1 } as never));
    assert.deepEqual(far, ['unknown option "zzz"']);
  });

  it('a redirect or logout URL of the wrong type gets one problem that says what it must be', () => {
    assert.deepEqual(
      configurationProblems(() => resolveOptions({ ...base, redirectUrl: 5 } as never)),
      ['redirectUrl must be a URL string or a function of the request'],
    );
    assert.deepEqual(
      configurationProblems(() => resolveOptions({ ...base, logoutUrl: undefined } as never)),
      ['logoutUrl is required'],
    );
    assert.deepEqual(
      configurationProblems(() => resolveOptions({ ...base, logoutUrl: 'ftp://example.com/' })),
      [
        'logoutUrl must use https (plain http is allowed only for localhost/127.0.0.1, or for a host listed in allowHttpHosts outside production)',
      ],
    );
    assert.doesNotThrow(() =>
      resolveOptions({ ...base, redirectUrl: () => 'https://example.com/postlogin' }),
    );
  });

  it('settings that can never work are refused at startup: scopes without openid, cookie ages of 0', () => {
    const problems = configurationProblems(() =>
      resolveOptions({
        ...base,
        scopes: ['email', 'profile'],
        cookieMaxAgeSeconds: 0,
        refreshCookieMaxAgeSeconds: 0,
      }),
    );
    assert.ok(problems.some((p) => p.startsWith('scopes must include "openid"')));
    assert.ok(
      problems.some((p) => p.startsWith('cookieMaxAgeSeconds must be an integer between 1')),
    );
    assert.ok(
      problems.some((p) => p.startsWith('refreshCookieMaxAgeSeconds must be an integer between 1')),
    );
    const fromEnvironment = configurationProblems(() =>
      resolveOptions(
        fromEnv({ ...validEnv, AWS_COGNITO_SCOPES: 'email', AWS_COGNITO_COOKIE_AGE_SECONDS: '0' }),
      ),
    );
    assert.equal(fromEnvironment.length, 2, fromEnvironment.join('|'));
    assert.deepEqual(resolveOptions({ ...base, scopes: ['openid', 'email'] }).scopes, [
      'openid',
      'email',
    ]);
  });

  it('disabled is refused in production unless explicitly allowed', () => {
    const refused = configurationProblems(() =>
      resolveOptions({ ...base, disabled: true, production: true }),
    );
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /refused in production/);
    assert.equal(
      resolveOptions({ ...base, disabled: true, production: true, allowDisabledInProduction: true })
        .disabled,
      true,
    );
    assert.equal(resolveOptions({ ...base, disabled: true, production: false }).disabled, true);
    const fromEnvironment = configurationProblems(() =>
      resolveOptions(
        fromEnv({ ...validEnv, AWS_COGNITO_DISABLED: 'true', NODE_ENV: 'production' }),
      ),
    );
    assert.match(fromEnvironment.join('|'), /AWS_COGNITO_ALLOW_DISABLED_IN_PRODUCTION/);
    assert.equal(
      resolveOptions(
        fromEnv({
          ...validEnv,
          AWS_COGNITO_DISABLED: 'true',
          AWS_COGNITO_ALLOW_DISABLED_IN_PRODUCTION: 'true',
          NODE_ENV: 'production',
        }),
      ).disabled,
      true,
    );
  });

  it('without a process (Cloudflare Workers), production is assumed: disabled is refused unless production is set false', () => {
    const runtime = globalThis as { process?: unknown };
    const saved = runtime.process;
    let problems: readonly string[] = [];
    try {
      delete runtime.process;
      problems = configurationProblems(() => resolveOptions({ ...base, disabled: true }));
    } finally {
      runtime.process = saved;
    }
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /refused in production/);
    assert.equal(resolveOptions({ ...base, disabled: true, production: false }).disabled, true);
  });

  it('disabled logs a warning when the guard is built', () => {
    const warnings: string[] = [];
    new CognitoGuard({
      ...base,
      disabled: true,
      production: false,
      logger: { warn: (message) => warnings.push(message) },
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /every protected route is open to anyone/);
    const quiet: string[] = [];
    new CognitoGuard({ ...base, logger: { warn: (message) => quiet.push(message) } });
    assert.deepEqual(quiet, []);
  });

  it('plain http on a named host (docker-compose) needs allowHttpHosts, which production refuses', () => {
    const compose = {
      ...base,
      domain: 'http://localhost:9229',
      internalDomain: 'http://cognito:9229',
      issuer: 'http://localhost:9229/eu-west-1_qwerty',
    };
    const refused = configurationProblems(() => resolveOptions(compose));
    assert.ok(refused.some((p) => p.startsWith('internalDomain must use https')));
    const resolved = resolveOptions({ ...compose, allowHttpHosts: ['cognito'] });
    // The browser is sent to the public domain; the server calls the internal one.
    assert.equal(resolved.endpoints.authorize, 'http://localhost:9229/oauth2/authorize');
    assert.equal(resolved.endpoints.logout, 'http://localhost:9229/logout');
    assert.equal(resolved.endpoints.token, 'http://cognito:9229/oauth2/token');
    assert.equal(resolved.endpoints.revoke, 'http://cognito:9229/oauth2/revoke');
    assert.equal(
      resolved.endpoints.jwksUri,
      'http://cognito:9229/eu-west-1_qwerty/.well-known/jwks.json',
    );
    assert.equal(resolved.endpoints.issuer, 'http://localhost:9229/eu-west-1_qwerty');
    const inProduction = configurationProblems(() =>
      resolveOptions({ ...compose, allowHttpHosts: ['cognito'], production: true }),
    );
    assert.ok(inProduction.some((p) => p.includes('refused in production')));
    const env = fromEnv({
      ...validEnv,
      AWS_COGNITO_DOMAIN: 'http://localhost:9229',
      AWS_COGNITO_DOMAIN_INTERNAL: 'http://cognito:9229',
      AWS_COGNITO_ALLOW_HTTP_HOSTS: 'cognito, app',
    });
    assert.deepEqual(env.allowHttpHosts, ['cognito', 'app']);
    assert.equal(env.internalDomain, 'http://cognito:9229');
  });

  it('verifiedTokenCacheSize 0 turns the cache off (every request verifies)', () => {
    assert.equal(resolveOptions({ ...base, verifiedTokenCacheSize: 0 }).verifiedTokenCacheSize, 0);
  });

  it('treats an empty client secret as a public client', () => {
    assert.equal(resolveOptions({ ...base, clientSecret: '' }).clientSecret, undefined);
  });
});

describe('resolveApiGuardOptions', () => {
  const api = {
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_qwerty',
    clientId: 'asdfghjkl1234asdf',
    issuer: 'http://localhost:9229/eu-west-1_qwerty',
    production: false,
  };

  it('internalDomain is checked under its own name, and drives where the key set is fetched', () => {
    const refused = configurationProblems(() =>
      resolveApiGuardOptions({ ...api, internalDomain: 'http://cognito:9229' }),
    );
    assert.ok(refused.some((p) => p.startsWith('internalDomain must use https')));
    assert.ok(!refused.some((p) => p.startsWith('domain')), refused.join('; '));
    const withPath = configurationProblems(() =>
      resolveApiGuardOptions({ ...api, internalDomain: 'https://cognito.internal/keys' }),
    );
    assert.ok(withPath.some((p) => p.startsWith('internalDomain must be an origin only')));
    assert.ok(!withPath.some((p) => p.startsWith('domain')), withPath.join('; '));

    const resolved = resolveApiGuardOptions({
      ...api,
      internalDomain: 'http://cognito:9229',
      allowHttpHosts: ['cognito'],
    });
    assert.equal(resolved.issuer, 'http://localhost:9229/eu-west-1_qwerty');
    assert.equal(resolved.jwksUri, 'http://cognito:9229/eu-west-1_qwerty/.well-known/jwks.json');
  });

  it('an empty internalDomain is absent: the key set comes from the issuer', () => {
    const resolved = resolveApiGuardOptions({ ...api, internalDomain: '' });
    assert.equal(resolved.jwksUri, 'http://localhost:9229/eu-west-1_qwerty/.well-known/jwks.json');
  });
});

describe('sessionStore (AWS_COGNITO_SESSION_STORE)', () => {
  it('a registered URL scheme builds its store once, with the guard’s deadline and logger', () => {
    const calls: { url: string; timeoutMs: number; logger: unknown }[] = [];
    registerSessionStore('test-store:', (url, context) => {
      calls.push({ url: url.href, timeoutMs: context.timeoutMs, logger: context.logger });
      return new MemorySessionStore();
    });
    const logger = { warn: () => undefined };
    const resolved = resolveOptions({
      ...fromEnv({ ...validEnv, AWS_COGNITO_SESSION_STORE: 'test-store://somewhere/1' }),
      httpTimeoutMs: 1234,
      logger,
    });
    assert.ok(resolved.sessionStore instanceof MemorySessionStore);
    assert.deepEqual(calls, [{ url: 'test-store://somewhere/1', timeoutMs: 1234, logger }]);
  });

  it('an invalid configuration never builds a store (no client is created for nothing)', () => {
    let built = 0;
    registerSessionStore('counting:', () => {
      built += 1;
      return new MemorySessionStore();
    });
    const problems = configurationProblems(() =>
      resolveOptions(
        fromEnv({ ...validEnv, SECRET_KEY: 'short', AWS_COGNITO_SESSION_STORE: 'counting://x' }),
      ),
    );
    assert.ok(problems.some((p) => p.startsWith('secretKey')));
    assert.equal(built, 0);
  });

  it('a factory that throws, an unregistered scheme and a Redis URL without the import are configuration problems', () => {
    registerSessionStore('broken:', () => {
      throw new Error('bad database number');
    });
    assert.deepEqual(
      configurationProblems(() =>
        resolveOptions(fromEnv({ ...validEnv, AWS_COGNITO_SESSION_STORE: 'broken://x' })),
      ),
      ['sessionStore (AWS_COGNITO_SESSION_STORE): bad database number'],
    );
    assert.match(
      configurationProblems(() =>
        resolveOptions(fromEnv({ ...validEnv, AWS_COGNITO_SESSION_STORE: 'nothing://x' })),
      )[0] ?? '',
      /no store is registered for nothing:/,
    );
  });
});
