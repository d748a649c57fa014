// Every bad input of issue 2 gets its documented 4xx with an error body and x-instance-id: never a 5xx or a hang.
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '../../target/config.ts';
import type { Family } from '../../target/domain.ts';
import {
  createUser, errorCode, header, startService, tempDb, type CallOptions, type RunningService, type TempDb, type TestClient, type TestUser,
} from './helpers/service-harness.ts';

let db: TempDb;
let running: RunningService;
let client: TestClient;
let user: TestUser;
let family: Family;

beforeAll(async () => {
  db = await tempDb();
  running = await startService({ dbPath: db.path, config: { rateLimit: { limit: 1000, windowMs: 60_000 } } });
  client = running.client;
  user = await createUser(client, 'bad_input');
  family = (await client.call('POST', '/families', { token: user.token, json: { name: 'Bad Inputs' } })).body as Family;
});

afterAll(async () => {
  await running.close();
  await db.remove();
});

interface BadCase {
  readonly name: string;
  readonly method: string;
  readonly path: string | (() => string);
  readonly options: CallOptions | (() => CallOptions);
  readonly status: number;
  readonly code: string;
}

const json = (raw: string): CallOptions => ({ raw, headers: { 'content-type': 'application/json' } });
const authed = (options: CallOptions): (() => CallOptions) => () => ({ ...options, token: user.token });
const famPath = (suffix = ''): (() => string) => () => `/families/${family.id}${suffix}`;

const cases: BadCase[] = [
  { name: 'malformed JSON', method: 'POST', path: '/users', options: json('{"username": "abc"'), status: 400, code: 'invalid_request' },
  { name: 'malformed JSON (authed)', method: 'POST', path: '/families', options: authed(json('{name: x}')), status: 400, code: 'invalid_request' },
  { name: 'JSON that is not an object', method: 'POST', path: '/users', options: json('["abc"]'), status: 400, code: 'invalid_request' },
  { name: 'JSON null', method: 'POST', path: '/users', options: json('null'), status: 400, code: 'invalid_request' },
  { name: 'no body where one is needed', method: 'POST', path: '/families', options: authed({}), status: 400, code: 'invalid_request' },
  { name: 'username of the wrong type', method: 'POST', path: '/users', options: { json: { username: 123 } }, status: 400, code: 'invalid_request' },
  { name: 'username too short', method: 'POST', path: '/users', options: { json: { username: 'ab' } }, status: 400, code: 'invalid_request' },
  { name: 'username too long', method: 'POST', path: '/users', options: { json: { username: 'a'.repeat(33) } }, status: 400, code: 'invalid_request' },
  { name: 'username with capitals', method: 'POST', path: '/users', options: { json: { username: 'Alice' } }, status: 400, code: 'invalid_request' },
  { name: 'username with a dash', method: 'POST', path: '/users', options: { json: { username: 'a-b-c' } }, status: 400, code: 'invalid_request' },
  { name: 'unknown field', method: 'POST', path: '/users', options: { json: { username: 'unknown_field', admin: true } }, status: 400, code: 'invalid_request' },
  { name: 'unknown field (family)', method: 'POST', path: '/families', options: authed({ json: { name: 'x', ownerId: 'someone' } }), status: 400, code: 'invalid_request' },
  { name: '__proto__ key', method: 'POST', path: '/users', options: json('{"username":"proto_key","__proto__":{"admin":true}}'), status: 400, code: 'invalid_request' },
  { name: 'blank family name', method: 'POST', path: '/families', options: authed({ json: { name: '   ' } }), status: 400, code: 'invalid_request' },
  { name: 'family name of the wrong type', method: 'POST', path: '/families', options: authed({ json: { name: 42 } }), status: 400, code: 'invalid_request' },
  { name: 'operator key as value', method: 'POST', path: '/users', options: { json: { username: { $gt: '' } } }, status: 400, code: 'invalid_request' },
  { name: 'operator key at the top', method: 'POST', path: '/families', options: authed({ json: { $where: '1' } }), status: 400, code: 'invalid_request' },
  { name: 'operator key deep in an array', method: 'PATCH', path: famPath(), options: authed({ json: { name: [{ a: [{ $ne: 1 }] }] } }), status: 400, code: 'invalid_request' },
  { name: 'operator key in an invitation', method: 'POST', path: famPath('/invitations'), options: authed({ json: { username: { $regex: '.*' }, role: 'member' } }), status: 400, code: 'invalid_request' },
  { name: 'unknown role', method: 'POST', path: famPath('/invitations'), options: authed({ json: { username: 'someone', role: 'owner' } }), status: 400, code: 'invalid_request' },
  { name: 'amount as a string', method: 'POST', path: famPath('/transfers'), options: authed({ json: { to: 'abc', amount: '10' } }), status: 400, code: 'invalid_request' },
  { name: 'fractional amount', method: 'POST', path: famPath('/transfers'), options: authed({ json: { to: 'abc', amount: 1.5 } }), status: 400, code: 'invalid_request' },
  { name: 'zero amount', method: 'POST', path: famPath('/transfers'), options: authed({ json: { to: 'abc', amount: 0 } }), status: 400, code: 'invalid_request' },
  { name: 'negative amount', method: 'POST', path: famPath('/transfers'), options: authed({ json: { to: 'abc', amount: -5 } }), status: 400, code: 'invalid_request' },
  { name: 'unsafe integer amount', method: 'POST', path: famPath('/transfers'), options: authed(json('{"to":"abc","amount":1e300}')), status: 400, code: 'invalid_request' },
  { name: 'recipient that is not an ID', method: 'POST', path: famPath('/transfers'), options: authed({ json: { to: 'a b', amount: 1 } }), status: 400, code: 'invalid_request' },
  { name: 'body on accept that is not {}', method: 'POST', path: '/invitations/abc/accept', options: authed({ json: { force: true } }), status: 400, code: 'invalid_request' },
  { name: 'text/plain body', method: 'POST', path: '/users', options: { raw: '{"username":"plain_text"}', headers: { 'content-type': 'text/plain' } }, status: 415, code: 'unsupported_media_type' },
  { name: 'body without a content type', method: 'POST', path: '/users', options: { raw: '{"username":"no_type"}' }, status: 415, code: 'unsupported_media_type' },
  { name: 'family ID with an operator', method: 'GET', path: '/families/$gt', options: authed({}), status: 400, code: 'invalid_request' },
  { name: 'percent-encoded family ID', method: 'GET', path: '/families/%7B%22%24gt%22%3A%22%22%7D', options: authed({}), status: 400, code: 'invalid_request' },
  { name: 'family ID too long', method: 'GET', path: `/families/${'a'.repeat(65)}`, options: authed({}), status: 400, code: 'invalid_request' },
  { name: 'invitation ID with a dot', method: 'POST', path: '/invitations/a.b/accept', options: authed({}), status: 400, code: 'invalid_request' },
  { name: 'bad ID in the ledger path', method: 'GET', path: '/families/a;b/ledger', options: authed({}), status: 400, code: 'invalid_request' },
  { name: 'malformed If-Match', method: 'PATCH', path: famPath(), options: authed({ json: { name: 'x' }, headers: { 'if-match': 'three' } }), status: 400, code: 'invalid_request' },
  { name: 'Basic instead of Bearer', method: 'GET', path: '/me', options: { headers: { authorization: 'Basic dXNlcjpwYXNz' } }, status: 401, code: 'unauthorized' },
  { name: 'empty Bearer', method: 'GET', path: '/me', options: { headers: { authorization: 'Bearer ' } }, status: 401, code: 'unauthorized' },
  { name: 'DELETE on a family', method: 'DELETE', path: famPath(), options: authed({}), status: 405, code: 'method_not_allowed' },
  { name: 'GET /users', method: 'GET', path: '/users', options: {}, status: 405, code: 'method_not_allowed' },
  { name: 'PUT /families', method: 'PUT', path: '/families', options: authed({ json: { name: 'x' } }), status: 405, code: 'method_not_allowed' },
  { name: 'POST /healthz', method: 'POST', path: '/healthz', options: {}, status: 405, code: 'method_not_allowed' },
  { name: 'unknown path', method: 'GET', path: '/nope', options: {}, status: 404, code: 'not_found' },
  { name: 'trailing slash', method: 'GET', path: '/families/', options: authed({}), status: 404, code: 'not_found' },
  { name: '/_faults without --faults', method: 'POST', path: '/_faults/stall', options: { json: { ms: 10 } }, status: 404, code: 'not_found' },
];

describe('bad inputs', () => {
  for (const testCase of cases) {
    it(`${testCase.name}: ${testCase.status} ${testCase.code}`, async () => {
      const path = typeof testCase.path === 'function' ? testCase.path() : testCase.path;
      const options = typeof testCase.options === 'function' ? testCase.options() : testCase.options;
      const result = await client.call(testCase.method, path, options);
      expect([result.status, errorCode(result)], result.text).toEqual([testCase.status, testCase.code]);
      expect(header(result, 'x-instance-id')).toBe('test-instance');
      expect((result.body as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
    });
  }

  it('405 names the allowed methods', async () => {
    const result = await client.call('DELETE', `/families/${family.id}`, { token: user.token });
    expect(header(result, 'allow')).toBe('GET, PATCH');
  });

  it('deeply nested JSON is a 400, not a stack overflow', async () => {
    const depth = 30_000;
    const result = await client.call('POST', '/users', json(`${'['.repeat(depth)}${']'.repeat(depth)}`));
    expect([result.status, errorCode(result)]).toEqual([400, 'invalid_request']);
  });
});

describe('body size limit', () => {
  /** A POST /users body of exactly `bytes` bytes (a valid JSON object with an over-long username). */
  const bodyOf = (bytes: number): string => {
    const frame = '{"username":""}';
    return `{"username":"${'a'.repeat(bytes - frame.length)}"}`;
  };

  it('a body of exactly the limit is read (and fails validation, 400)', async () => {
    const raw = bodyOf(DEFAULT_MAX_BODY_BYTES);
    expect(Buffer.byteLength(raw)).toBe(DEFAULT_MAX_BODY_BYTES);
    const result = await client.call('POST', '/users', json(raw));
    expect([result.status, errorCode(result)]).toEqual([400, 'invalid_request']);
  });

  it('one byte over the limit is 413, with Content-Length', async () => {
    const result = await client.call('POST', '/users', json(bodyOf(DEFAULT_MAX_BODY_BYTES + 1)));
    expect([result.status, errorCode(result)]).toEqual([413, 'payload_too_large']);
  });

  it('an oversized chunked body (no Content-Length) is 413 too, and the service keeps serving', async () => {
    const response = await request(`${running.url}/families`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      body: Readable.from(Array.from({ length: 8 }, () => Buffer.alloc(16 * 1024, 0x61))),
    });
    const text = await response.body.text();
    expect(response.statusCode, text).toBe(413);
    expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect((await client.call('GET', '/healthz')).status).toBe(200);
  });
});
