/**
 * `npm start`: runs the example app on PORT (default 3000).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { fromEnv, ConfigurationError } from 'cognito-guard';
import {
  DEMO_CONFIG,
  DEMO_PASSWORD,
  startEmulator,
  type EmulatorHandle,
} from 'cognito-guard/emulator';
import { createExampleApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const env: Record<string, string | undefined> = { ...process.env };
let emulator: EmulatorHandle | undefined;

if (env.AWS_COGNITO_DOMAIN === undefined || env.AWS_COGNITO_DOMAIN === '') {
  emulator = await startEmulator({ port: Number(env.EMULATOR_PORT ?? 9229), host: '127.0.0.1' });
  const [demoClient] = DEMO_CONFIG.clients;
  if (demoClient === undefined) throw new Error('the demo pool has no client');
  const appOrigin = `http://localhost:${port}`;
  if (port !== 3000) {
    // The demo client registers port 3000; register this port's URLs too.
    emulator.addClient({
      ...demoClient,
      callbackUrls: [...demoClient.callbackUrls, `${appOrigin}/postlogin`],
      logoutUrls: [...(demoClient.logoutUrls ?? []), `${appOrigin}/postlogout`],
    });
  }
  Object.assign(env, {
    AWS_REGION: emulator.region,
    AWS_COGNITO_USER_POOL_ID: emulator.poolId,
    AWS_COGNITO_DOMAIN: emulator.domain,
    AWS_COGNITO_ISSUER: emulator.issuer,
    AWS_COGNITO_USER_POOL_CLIENT_ID: demoClient.clientId,
    AWS_COGNITO_USER_POOL_CLIENT_SECRET: demoClient.clientSecret,
    AWS_COGNITO_REDIRECT_URL: `${appOrigin}/postlogin`,
    AWS_COGNITO_LOGOUT_URL: `${appOrigin}/postlogout`,
    AWS_COGNITO_SCOPES: env.AWS_COGNITO_SCOPES ?? 'openid email profile',
    AWS_COGNITO_REFRESH_FLOW_ENABLED: env.AWS_COGNITO_REFRESH_FLOW_ENABLED ?? 'true',
    // A fresh secret per run is fine for a demo; set SECRET_KEY to keep sessions across restarts.
    SECRET_KEY: env.SECRET_KEY ?? randomBytes(32).toString('base64url'),
  });
}

let server: Server;
try {
  const app = createExampleApp(fromEnv(env));
  server = app.listen(port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
} catch (error) {
  await emulator?.stop();
  if (error instanceof ConfigurationError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

console.log(`Example app: http://localhost:${port}/`);
if (emulator !== undefined) {
  console.log(`Cognito emulator: ${emulator.domain} (issuer ${emulator.issuer})`);
  console.log(`Log in with one of (password ${DEMO_PASSWORD}):`);
  for (const user of DEMO_CONFIG.users) {
    const groups = user.groups?.length ? `groups: ${user.groups.join(', ')}` : 'no group';
    console.log(`  ${user.username.padEnd(6)} ${groups}`);
  }
}

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  void (emulator?.stop() ?? Promise.resolve()).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
