/**
 * The Lambda adapter's translation, on the events AWS documents for each trigger: what the core
 * reads from an event (method, URL, headers, every cookie), and the result written back in the
 * shape that trigger reads (every Set-Cookie its own header, never joined with commas).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  ALBEvent,
  ALBResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { ConfigurationError } from '../../src/index.js';
import {
  LambdaRequest,
  toLambdaResult,
  type LambdaHttpEvent,
  type LambdaHttpResponse,
} from '../../src/lambda/index.js';
import {
  ALB_EVENT,
  ALB_MULTI_VALUE_EVENT,
  FUNCTION_URL_EVENT,
  HTTP_API_V1_EVENT,
  HTTP_API_V2_EVENT,
  REST_API_EVENT,
} from '../fixtures/lambda/aws-events.js';

const view = (event: LambdaHttpEvent) => new LambdaRequest(event);

/** Three cookies from the guard, two more from the app (in two of the Lambda spellings). */
const GUARD_COOKIES = [
  'cognito_access_token=a; Path=/; HttpOnly; SameSite=Lax',
  'cognito_id_token=i; Path=/; HttpOnly; SameSite=Lax',
  'cognito_refresh_token=r; Path=/; HttpOnly; SameSite=Lax; Expires=Thu, 01 Jan 2037 00:00:00 GMT',
];
const APP_RESPONSE: LambdaHttpResponse = {
  statusCode: 302,
  headers: { Location: '/claims', 'Set-Cookie': 'theme=dark; Path=/', 'Cache-Control': 'private' },
  cookies: ['lang=en; Path=/'],
};
const GUARD_HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };
const ALL_COOKIES = [...GUARD_COOKIES, 'theme=dark; Path=/', 'lang=en; Path=/'];

describe('Lambda events: what the core reads', () => {
  it('HTTP API payload 2.0 (the documented example): method, raw path and query, every cookie of the cookies array', () => {
    const request = view(HTTP_API_V2_EVENT);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/my/path?parameter1=value1&parameter1=value2&parameter2=value');
    assert.equal(request.header('header2'), 'value1,value2');
    assert.equal(request.header('cookie'), 'cookie1; cookie2');
    assert.equal(request.header('absent'), undefined);
  });

  it('function URL (the documented example), also with the leading "?" its parameter table shows', () => {
    assert.equal(view(FUNCTION_URL_EVENT).header('cookie'), 'cookie1; cookie2');
    const withMark = view({ ...FUNCTION_URL_EVENT, rawQueryString: '?parameter1=value1' });
    assert.equal(withMark.url, '/my/path?parameter1=value1');
    assert.equal(view({ ...FUNCTION_URL_EVENT, rawQueryString: '' }).url, '/my/path');
  });

  it('HTTP API hands the path over decoded: a "?", "#" or space in it stays part of the path', () => {
    const request = view({
      ...HTTP_API_V2_EVENT,
      rawPath: '/files/a?b#c d',
      rawQueryString: 'x=1',
    });
    assert.equal(request.url, '/files/a%3Fb%23c%20d?x=1');
    assert.equal(new URL(request.url, 'http://h').searchParams.get('x'), '1');
    // An encoded path (REST, function URLs) passes unchanged, never encoded twice.
    assert.equal(
      view({ ...HTTP_API_V2_EVENT, rawPath: '/a%3Fb', rawQueryString: '' }).url,
      '/a%3Fb',
    );
  });

  it('REST API (the documented example): every value of multiValueHeaders, the query rebuilt from the decoded parameters', () => {
    const request = view(REST_API_EVENT);
    assert.equal(request.method, 'GET');
    assert.equal(request.url, '/my/path?parameter1=value1&parameter1=value2&parameter2=value');
    assert.equal(request.header('header2'), 'value1, value2');
    const decoded: APIGatewayProxyEvent = {
      ...REST_API_EVENT,
      queryStringParameters: { returnTo: '/admin?tab=1&x=a b' },
      multiValueQueryStringParameters: { returnTo: ['/admin?tab=1&x=a b'] },
    };
    const url = view(decoded).url;
    assert.equal(new URL(url, 'http://h').searchParams.get('returnTo'), '/admin?tab=1&x=a b');
    assert.equal(new URL(url, 'http://h').searchParams.size, 1);
  });

  it('REST API: the URL is the one the browser used (stage included), header names in any case, cookies from several Cookie headers', () => {
    const request = view({
      ...REST_API_EVENT,
      path: '/claims',
      requestContext: { ...REST_API_EVENT.requestContext, path: '/prod/claims' },
      headers: { Cookie: 'b=2', Accept: 'text/html' },
      multiValueHeaders: { Cookie: ['a=1', 'b=2'], Accept: ['text/html'] },
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
    });
    assert.equal(request.url, '/prod/claims');
    assert.equal(request.header('cookie'), 'a=1; b=2');
    assert.equal(request.header('accept'), 'text/html');
    // Without multiValueHeaders (a hand-made event), `headers` is read, in any case too.
    const single = view({ httpMethod: 'get', path: '/x', headers: { COOKIE: 'c=3' } });
    assert.equal(single.header('cookie'), 'c=3');
    assert.equal(single.method, 'GET');
  });

  it('HTTP API payload 1.0 (the documented example) reads as REST does', () => {
    const request = view(HTTP_API_V1_EVENT);
    assert.equal(request.url, '/my/path?parameter1=value1&parameter1=value2&parameter2=value');
    assert.equal(request.header('header2'), 'value1, value2');
  });

  it('ALB without multi-value headers (the documented example): headers, and the query as the client sent it', () => {
    const request = view(ALB_EVENT);
    assert.equal(request.url, '/?myKey=val2');
    assert.equal(request.header('cookie'), 'cookies');
    // The load balancer does not decode query parameters: they are not encoded again.
    const raw = view({ ...ALB_EVENT, queryStringParameters: { returnTo: '%2Fadmin%3Ftab%3D1' } });
    assert.equal(raw.url, '/?returnTo=%2Fadmin%3Ftab%3D1');
    assert.equal(new URL(raw.url, 'http://h').searchParams.get('returnTo'), '/admin?tab=1');
  });

  it('ALB with multi-value headers (the documented example): every cookie of every Cookie header, every query value', () => {
    const request = view(ALB_MULTI_VALUE_EVENT);
    assert.equal(request.header('cookie'), 'name1=value1; name2=value2');
    assert.equal(request.header('x-forwarded-proto'), 'https');
    assert.equal(request.url, '/?myKey=val1&myKey=val2');
  });
});

describe('Lambda events: the Cookie header API Gateway leaves room for', () => {
  it('API Gateway (REST and HTTP API) caps request line and header values at 10,240 bytes; load balancers and function URLs are not capped here', () => {
    for (const event of [HTTP_API_V2_EVENT, REST_API_EVENT, HTTP_API_V1_EVENT]) {
      const limit = new LambdaRequest(event).cookieHeaderLimitBytes;
      assert.ok(limit !== undefined && limit > 8000 && limit < 10_240, `${limit}`);
    }
    // More of the quota taken by other headers leaves less for cookies.
    const heavy = {
      ...HTTP_API_V2_EVENT,
      headers: { ...HTTP_API_V2_EVENT.headers, 'x-large': 'x'.repeat(4000) },
    };
    assert.equal(
      new LambdaRequest(heavy as never).cookieHeaderLimitBytes,
      (new LambdaRequest(HTTP_API_V2_EVENT as never).cookieHeaderLimitBytes ?? 0) - 4000,
    );
    for (const event of [FUNCTION_URL_EVENT, ALB_EVENT, ALB_MULTI_VALUE_EVENT]) {
      assert.equal(new LambdaRequest(event as never).cookieHeaderLimitBytes, undefined);
    }
  });
});

describe('Lambda results: written in the shape the event came in', () => {
  it('HTTP API payload 2.0 and function URLs: every cookie in `cookies`, none in `headers`', () => {
    for (const event of [HTTP_API_V2_EVENT, FUNCTION_URL_EVENT]) {
      const result: APIGatewayProxyStructuredResultV2 = toLambdaResult<APIGatewayProxyEventV2>(
        view(event),
        APP_RESPONSE,
        GUARD_HEADERS,
        GUARD_COOKIES,
      );
      assert.deepEqual(result, {
        statusCode: 302,
        headers: {
          'cache-control': 'private',
          'referrer-policy': 'no-referrer',
          location: '/claims',
        },
        cookies: ALL_COOKIES,
        body: '',
        isBase64Encoded: false,
      });
    }
  });

  it('REST API and HTTP API payload 1.0: every Set-Cookie in multiValueHeaders, and no `cookies` key (REST answers 502 to unknown keys)', () => {
    for (const event of [REST_API_EVENT, HTTP_API_V1_EVENT]) {
      const result: APIGatewayProxyResult = toLambdaResult<APIGatewayProxyEvent>(
        view(event),
        { ...APP_RESPONSE, multiValueHeaders: { Vary: ['Accept', 'Cookie'] } },
        GUARD_HEADERS,
        GUARD_COOKIES,
      );
      assert.deepEqual(result, {
        statusCode: 302,
        headers: {
          'cache-control': 'private',
          'referrer-policy': 'no-referrer',
          location: '/claims',
        },
        multiValueHeaders: { vary: ['Accept', 'Cookie'], 'set-cookie': ALL_COOKIES },
        body: '',
        isBase64Encoded: false,
      });
    }
  });

  it('ALB with multi-value headers: only multiValueHeaders, every Set-Cookie apart, and the status description', () => {
    const result: ALBResult = toLambdaResult<ALBEvent>(
      view(ALB_MULTI_VALUE_EVENT),
      APP_RESPONSE,
      GUARD_HEADERS,
      GUARD_COOKIES,
    );
    assert.deepEqual(result, {
      statusCode: 302,
      statusDescription: '302 Found',
      multiValueHeaders: {
        'cache-control': ['private'],
        'referrer-policy': ['no-referrer'],
        location: ['/claims'],
        'set-cookie': ALL_COOKIES,
      },
      body: '',
      isBase64Encoded: false,
    });
  });

  it('ALB without multi-value headers: only headers; one Set-Cookie fits, several cannot and are refused, never joined', () => {
    const one: ALBResult = toLambdaResult<ALBEvent>(
      view(ALB_EVENT),
      { statusCode: 200, body: 'ok' },
      {},
      GUARD_COOKIES.slice(0, 1),
    );
    assert.deepEqual(one, {
      statusCode: 200,
      statusDescription: '200 OK',
      headers: { 'set-cookie': GUARD_COOKIES[0] },
      body: 'ok',
      isBase64Encoded: false,
    });
    assert.throws(
      () => toLambdaResult(view(ALB_EVENT), APP_RESPONSE, GUARD_HEADERS, GUARD_COOKIES),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        /multi-value headers/.test(error.message) &&
        /lambda\.multi_value_headers\.enabled/.test(error.message),
    );
  });

  it('a base64 body (binary) passes through with its flag; numbers and booleans in headers become strings', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64');
    const response: LambdaHttpResponse = {
      statusCode: 200,
      headers: { 'content-type': 'image/png', 'x-size': 4, 'x-cached': false },
      body: png,
      isBase64Encoded: true,
    };
    const v2 = toLambdaResult<APIGatewayProxyEventV2>(view(HTTP_API_V2_EVENT), response);
    assert.equal(v2.body, png);
    assert.equal(v2.isBase64Encoded, true);
    assert.deepEqual(v2.headers, {
      'content-type': 'image/png',
      'x-size': '4',
      'x-cached': 'false',
    });
    const alb = toLambdaResult<ALBEvent>(view(ALB_EVENT), response);
    assert.equal(alb.isBase64Encoded, true);
    assert.equal(alb.body, png);
  });

  it('payload 2.0 joins a repeated header with commas, as API Gateway does; REST and ALB keep the values apart', () => {
    const response: LambdaHttpResponse = {
      statusCode: 200,
      multiValueHeaders: { vary: ['Accept', 'Cookie'] },
    };
    assert.equal(
      toLambdaResult<APIGatewayProxyEventV2>(view(HTTP_API_V2_EVENT), response).headers['vary'],
      'Accept,Cookie',
    );
    assert.deepEqual(
      toLambdaResult<APIGatewayProxyEvent>(view(REST_API_EVENT), response).multiValueHeaders,
      { vary: ['Accept', 'Cookie'] },
    );
    assert.deepEqual(
      toLambdaResult<ALBEvent>(view(ALB_MULTI_VALUE_EVENT), response).multiValueHeaders,
      { vary: ['Accept', 'Cookie'] },
    );
  });
});
