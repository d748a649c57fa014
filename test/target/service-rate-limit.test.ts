// Rate limiting: fixed windows on an injected clock, exact admission counts, headers, and a count shared by two instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Family } from '../../target/domain.ts';
import { createUser, errorCode, header, startService, tempDb, type RunningService, type TempDb } from './helpers/service-harness.ts';

const LIMIT = 3;
const WINDOW_MS = 10_000;
/** A multiple of WINDOW_MS: the start of a window. */
const WINDOW_START = 1_700_000_000_000;

let clock = WINDOW_START;
let db: TempDb;
let a: RunningService;
let b: RunningService;

beforeAll(async () => {
  db = await tempDb();
  const config = { familyLimit: 100, rateLimit: { limit: LIMIT, windowMs: WINDOW_MS } };
  a = await startService({ dbPath: db.path, config, instanceId: 'a', now: () => clock });
  b = await startService({ dbPath: db.path, config, instanceId: 'b', now: () => clock });
});

afterAll(async () => {
  await a.close();
  await b.close();
  await db.remove();
});

const rateHeaders = (result: Awaited<ReturnType<typeof a.client.call>>): Record<string, string | undefined> => ({
  limit: result.headers['ratelimit-limit'] as string | undefined,
  remaining: result.headers['ratelimit-remaining'] as string | undefined,
  reset: result.headers['ratelimit-reset'] as string | undefined,
  retryAfter: result.headers['retry-after'] as string | undefined,
});

describe('rate limiting', () => {
  it('admits exactly the limit per window, with RateLimit-* headers and Retry-After on 429, then admits again', async () => {
    clock = WINDOW_START + 2_500;
    const user = await createUser(a.client, 'limited');
    const seen = [];
    for (let i = 0; i <= LIMIT; i++) {
      const result = await a.client.call('POST', '/families', { token: user.token, json: { name: `limited ${i}` } });
      seen.push({ status: result.status, ...rateHeaders(result) });
    }
    expect(seen).toEqual([
      { status: 201, limit: '3', remaining: '2', reset: '8', retryAfter: undefined },
      { status: 201, limit: '3', remaining: '1', reset: '8', retryAfter: undefined },
      { status: 201, limit: '3', remaining: '0', reset: '8', retryAfter: undefined },
      { status: 429, limit: '3', remaining: '0', reset: '8', retryAfter: '8' },
    ]);

    clock = WINDOW_START + WINDOW_MS - 1;
    const lastMs = await a.client.call('POST', '/families', { token: user.token, json: { name: 'still limited' } });
    expect([lastMs.status, errorCode(lastMs), header(lastMs, 'retry-after')]).toEqual([429, 'rate_limited', '1']);

    clock = WINDOW_START + WINDOW_MS;
    const next = await a.client.call('POST', '/families', { token: user.token, json: { name: 'next window' } });
    expect({ status: next.status, ...rateHeaders(next) }).toEqual({ status: 201, limit: '3', remaining: '2', reset: '10', retryAfter: undefined });
  });

  it('counts per user and per action; unlimited routes carry no RateLimit headers', async () => {
    clock = WINDOW_START + 3 * WINDOW_MS;
    const first = await createUser(a.client, 'per_user');
    const second = await createUser(a.client, 'per_user');
    for (let i = 0; i < LIMIT; i++) await a.client.call('POST', '/families', { token: first.token, json: { name: `f${i}` } });
    const other = await a.client.call('POST', '/families', { token: second.token, json: { name: 'other user' } });
    expect([other.status, header(other, 'ratelimit-remaining')]).toEqual([201, '2']);
    const family = (await a.client.call('GET', '/me/families', { token: first.token })).body as Family[];
    const invite = await a.client.call('POST', `/families/${family[0]?.id ?? ''}/invitations`, { token: first.token, json: { username: second.username, role: 'member' } });
    expect([invite.status, header(invite, 'ratelimit-remaining')]).toEqual([201, '2']);
    const me = await a.client.call('GET', '/me', { token: first.token });
    expect(me.headers['ratelimit-limit']).toBeUndefined();
  });

  it('every response of a limited route carries the headers, errors included', async () => {
    clock = WINDOW_START + 5 * WINDOW_MS;
    const user = await createUser(a.client, 'bad_body');
    const invalid = await a.client.call('POST', '/families', { token: user.token, json: { name: 42 } });
    expect([invalid.status, header(invalid, 'ratelimit-limit'), header(invalid, 'ratelimit-remaining')]).toEqual([400, '3', '2']);
  });

  it('concurrent requests of one user: exactly the limit admitted', async () => {
    clock = WINDOW_START + 7 * WINDOW_MS;
    const user = await createUser(a.client, 'burst');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => a.client.call('POST', '/families', { token: user.token, json: { name: `burst ${i}` } })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12 - LIMIT);
  });

  it('two instances on one store share the count: exactly the limit admitted across both', async () => {
    clock = WINDOW_START + 9 * WINDOW_MS;
    const user = await createUser(a.client, 'shared');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).client.call('POST', '/families', { token: user.token, json: { name: `shared ${i}` } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(LIMIT);
    expect(results.filter((r) => r.status === 429)).toHaveLength(10 - LIMIT);
    const metrics = (await a.client.call('GET', '/metrics')).text + (await b.client.call('GET', '/metrics')).text;
    const refused = [...metrics.matchAll(/^gauntlet_rate_limited_requests_total\{action="families",instance="[ab]"\} (\d+)$/gm)]
      .reduce((sum, m) => sum + Number(m[1]), 0);
    // Earlier tests in this file refused 1 (first test) + 1 (last ms) + 9 (burst) on instance a.
    expect(refused).toBe(2 + (12 - LIMIT) + (10 - LIMIT));
  });
});
