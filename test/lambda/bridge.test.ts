/**
 * The local HTTP API bridge against AWS's documented payload 2.0 mapping, over real sockets: the
 * documented example request becomes the documented example event, the documented results become
 * the documented responses, and the quotas answer as API Gateway does.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import {
  serveLambda,
  type HttpApiEvent,
  type HttpApiHandler,
  type LambdaBridgeOptions,
  type LambdaBridgeServer,
} from '../../src/lambda/bridge.js';
import { HTTP_API_V2_EVENT } from '../fixtures/lambda/aws-events.js';

/** Sends a raw HTTP/1.1 request (repeated headers exactly as written) and returns the raw answer. */
function rawRequest(port: number, head: string, body = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`${head}\r\nConnection: close\r\n\r\n${body}`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => {
      resolve(text);
    });
    socket.on('error', reject);
  });
}

describe('the HTTP API bridge', () => {
  const events: HttpApiEvent[] = [];
  const errors: unknown[] = [];
  let answer: HttpApiHandler = () => Promise.resolve({ statusCode: 204 });
  let bridge: LambdaBridgeServer;
  let limited: LambdaBridgeServer;

  const options: LambdaBridgeOptions = { onError: (error) => errors.push(error) };
  before(async () => {
    bridge = await serveLambda((event, context, callback) => {
      events.push(event);
      return answer(event, context, callback);
    }, options);
    limited = await serveLambda(
      (event) => {
        events.push(event);
        return new Promise(() => undefined); // never answers
      },
      { ...options, timeoutMs: 200, maxBodyBytes: 1000 },
    );
  });
  after(async () => {
    await bridge.close();
    await limited.close();
  });

  const last = (): HttpApiEvent => events.at(-1)!;

  it('turns the documented example request into the documented example event', async () => {
    answer = () => Promise.resolve({ statusCode: 204 });
    const raw = await rawRequest(
      bridge.port,
      [
        'POST /my/path?parameter1=value1&parameter1=value2&parameter2=value HTTP/1.1',
        `Host: 127.0.0.1:${bridge.port}`,
        'User-Agent: agent',
        'Header1: value1',
        'Header2: value1',
        'Header2: value2',
        'Cookie: cookie1',
        'Cookie: cookie2',
        'Content-Type: text/plain',
        'Content-Length: 17',
      ].join('\r\n'),
      'Hello from Lambda',
    );
    assert.match(raw, /^HTTP\/1\.1 204 /);
    const event = last();
    // The fields a $default route without authorizer carries, as in the documented example.
    const documented = HTTP_API_V2_EVENT;
    for (const key of ['version', 'routeKey', 'rawPath', 'rawQueryString', 'cookies'] as const) {
      assert.deepEqual(event[key], documented[key], key);
    }
    assert.deepEqual(event.queryStringParameters, documented.queryStringParameters);
    assert.equal(event.headers['header1'], 'value1');
    assert.equal(event.headers['header2'], 'value1,value2', 'repeated headers joined with commas');
    assert.ok(!('cookie' in event.headers), 'cookies travel in `cookies` only');
    assert.equal(event.body, 'Hello from Lambda');
    assert.equal(event.isBase64Encoded, false);
    const { http } = event.requestContext;
    assert.deepEqual(http, { ...documented.requestContext.http, sourceIp: '127.0.0.1' });
    assert.equal(event.requestContext.routeKey, '$default');
    assert.equal(event.requestContext.stage, '$default');
    assert.equal(event.requestContext.domainName, `127.0.0.1:${bridge.port}`);
    assert.match(
      event.requestContext.time,
      /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/,
    );
    assert.ok(Math.abs(event.requestContext.timeEpoch - Date.now()) < 60_000);
    // What the bridge builds is what @types/aws-lambda calls the event.
    const typed: APIGatewayProxyEventV2 = event;
    assert.equal(typed.version, '2.0');
  });

  it('a request without query, cookies or body has none of those fields', async () => {
    await fetch(`${bridge.url}/plain`);
    const event = last();
    assert.equal(event.rawQueryString, '');
    for (const key of ['cookies', 'queryStringParameters', 'body'] as const) {
      assert.ok(!(key in event), `${key} absent`);
    }
  });

  it("the response's apigw-requestid is the event's requestContext.requestId, one id per request, as on AWS", async () => {
    answer = () => Promise.resolve({ statusCode: 204 });
    const first = await fetch(`${bridge.url}/first`);
    const firstId = last().requestContext.requestId;
    const second = await fetch(`${bridge.url}/second`);
    const secondId = last().requestContext.requestId;
    assert.ok(firstId !== '' && firstId !== secondId, 'each request has its own id');
    assert.equal(first.headers.get('apigw-requestid'), firstId);
    assert.equal(second.headers.get('apigw-requestid'), secondId);
  });

  it('a binary body arrives base64-encoded with isBase64Encoded; a text or JSON body as text', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    await fetch(`${bridge.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    assert.equal(last().isBase64Encoded, true);
    assert.deepEqual(Buffer.from(last().body!, 'base64'), bytes);
    await fetch(`${bridge.url}/form`, {
      method: 'POST',
      body: new URLSearchParams({ a: '1' }),
    });
    assert.equal(last().isBase64Encoded, true);
    assert.equal(Buffer.from(last().body!, 'base64').toString(), 'a=1');
    await fetch(`${bridge.url}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"é":1}',
    });
    assert.equal(last().isBase64Encoded, false);
    assert.equal(last().body, '{"é":1}');
  });

  it('answers the documented custom response: status, headers, and each cookie as its own Set-Cookie', async () => {
    answer = () =>
      Promise.resolve({
        statusCode: 201,
        headers: { 'Content-Type': 'application/json', 'My-Custom-Header': 'Custom Value' },
        body: JSON.stringify({ message: 'Hello, world!' }),
        cookies: [
          'Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT',
          'Cookie_2=Value2; Max-Age=78000',
        ],
        isBase64Encoded: false,
      });
    const response = await fetch(`${bridge.url}/`);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('my-custom-header'), 'Custom Value');
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(response.headers.getSetCookie(), [
      'Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT',
      'Cookie_2=Value2; Max-Age=78000',
    ]);
    assert.deepEqual(await response.json(), { message: 'Hello, world!' });
  });

  it('infers a 200 JSON response for a result without statusCode, as documented', async () => {
    answer = () => Promise.resolve('Hello from Lambda!');
    let response = await fetch(`${bridge.url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.text(), 'Hello from Lambda!');
    answer = () => Promise.resolve({ message: 'Hello from Lambda!' });
    response = await fetch(`${bridge.url}/`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { message: 'Hello from Lambda!' });
  });

  it('decodes a base64 body when isBase64Encoded, and accepts a callback-style handler', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]);
    answer = (_event, _context, callback) => {
      callback(null, {
        statusCode: 200,
        headers: { 'content-type': 'image/png' },
        body: png.toString('base64'),
        isBase64Encoded: true,
      });
      return undefined;
    };
    const response = await fetch(`${bridge.url}/logo.png`);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), png);
  });

  it('a failing handler or a malformed result is a 500 that says nothing about it; the error goes to onError', async () => {
    const cases: HttpApiHandler[] = [
      () => Promise.reject(new Error('secret detail at /var/task/index.js:12')),
      () => {
        throw new TypeError('sync failure');
      },
      () => Promise.resolve({ statusCode: 'teapot' }),
      () => Promise.resolve({ statusCode: 200, headers: { 'x-bad': 'a\r\nset-cookie: x=1' } }),
      () => Promise.resolve({ statusCode: 200, body: { not: 'a string' } }),
    ];
    for (const handler of cases) {
      answer = handler;
      errors.length = 0;
      const response = await fetch(`${bridge.url}/`);
      assert.equal(response.status, 500);
      assert.deepEqual(await response.json(), { message: 'Internal Server Error' });
      assert.equal(response.headers.get('set-cookie'), null);
      assert.equal(errors.length, 1);
    }
  });

  it('answers 503 when the handler outlives the integration timeout, and 413 past the payload quota', async () => {
    errors.length = 0;
    const slow = await fetch(`${limited.url}/`);
    assert.equal(slow.status, 503);
    assert.deepEqual(await slow.json(), { message: 'Service Unavailable' });
    assert.match(String(errors[0]), /did not answer within 200 ms/);
    const before = events.length;
    const big = await fetch(`${limited.url}/`, { method: 'POST', body: 'x'.repeat(2000) });
    assert.equal(big.status, 413);
    assert.equal(events.length, before, 'the handler never ran');
  });

  it('refuses a request line plus header values over 10,240 bytes before the handler runs (431)', async () => {
    answer = () => Promise.resolve({ statusCode: 200 });
    const before = events.length;
    // "GET / HTTP/1.1" is 14 bytes and the Host value 15 or so: a cookie of 10,240 is past it.
    const over = await fetch(`${bridge.url}/`, { headers: { cookie: `a=${'x'.repeat(10_240)}` } });
    assert.equal(over.status, 431);
    assert.equal(events.length, before);
    const under = await fetch(`${bridge.url}/`, { headers: { cookie: `a=${'x'.repeat(9_000)}` } });
    assert.equal(under.status, 200);
  });

  it('serves a handler written for @types/aws-lambda (event and context types)', async () => {
    const typed = (event: APIGatewayProxyEventV2, context: Context) =>
      Promise.resolve({
        statusCode: 200,
        body: `${event.requestContext.http.method} ${context.functionName} ${String(context.getRemainingTimeInMillis() > 0)}`,
      });
    const server = await serveLambda(typed, { functionName: 'demo' });
    try {
      assert.equal(await (await fetch(`${server.url}/`)).text(), 'GET demo true');
    } finally {
      await server.close();
    }
  });
});
