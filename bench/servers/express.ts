// The Express 5 bench server: the same JSON route unprotected (`/open`), behind a no-op
// middleware (`/noop`, what any extra middleware costs), behind `auth.required()` (`/protected`),
// and behind a guard with the verified-token cache off (`/uncached`, every request verifies).
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Request, Response } from 'express';
import type * as ExpressAdapter from '../../src/express/index.js';
import { benchGuardOptions, BODY, importBuilt, serveBench } from './common.js';

const options = benchGuardOptions();
const { cognitoGuard } = await importBuilt<typeof ExpressAdapter>('express/index.js');
const auth = cognitoGuard(options);
const uncached = cognitoGuard({ ...options, verifiedTokenCacheSize: 0 });

const handler = (_req: Request, res: Response): void => {
  res.json(BODY);
};
const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get('/open', handler);
app.get(
  '/noop',
  (_req, _res, next) => {
    next();
  },
  handler,
);
app.get('/protected', auth.required(), handler);
app.get('/uncached', uncached.required(), handler);

const server = app.listen(0, '127.0.0.1', () => {
  serveBench(server, (server.address() as AddressInfo).port, () => undefined);
});
