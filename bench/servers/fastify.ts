// The Fastify 5 bench server: `/open`, `/noop` (an empty onRequest hook), `/protected` (the
// guard's `required()` hook) and `/uncached` (a guard with the verified-token cache off).
import Fastify from 'fastify';
import type * as FastifyAdapter from '../../src/fastify/index.js';
import { benchGuardOptions, BODY, importBuilt, serveBench } from './common.js';

const options = benchGuardOptions();
const { cognitoGuard } = await importBuilt<typeof FastifyAdapter>('fastify/index.js');

const app = Fastify({ logger: false });
// A synchronous handler that sends, as a fast Fastify route does (no async wrapper to await).
const handler = (_request: unknown, reply: { send(body: unknown): unknown }): void => {
  reply.send(BODY);
};
app.get('/open', handler);
app.get(
  '/noop',
  {
    onRequest: (_request, _reply, done) => {
      done();
    },
  },
  handler,
);
await app.register(async (scope) => {
  await scope.register(cognitoGuard, { guard: options });
  scope.get('/protected', { onRequest: scope.cognito.required() }, handler);
});
await app.register(async (scope) => {
  await scope.register(cognitoGuard, { guard: { ...options, verifiedTokenCacheSize: 0 } });
  scope.get('/uncached', { onRequest: scope.cognito.required() }, handler);
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
serveBench(app.server, typeof address === 'object' && address !== null ? address.port : 0, () =>
  app.close(),
);
