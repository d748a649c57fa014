// x-instance-id everywhere, Server-Timing per query, /metrics with the documented names, unexpected errors as a logged 500.
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_CONFIG, TARGET_HOST } from '../../target/config.ts';
import type { Family } from '../../target/domain.ts';
import { createService } from '../../target/service/create-service.ts';
import type { Store } from '../../target/store/store.ts';
import {
  createUser, errorCode, header, startService, tempDb, TestClient, type RunningService, type TempDb, type TestUser,
} from './helpers/service-harness.ts';

const QUERY_NAMES = [
  'db-user-insert', 'db-user-lookup', 'db-family-count', 'db-family-insert', 'db-family-read', 'db-family-update', 'db-family-list',
  'db-invitation-insert', 'db-invitation-read', 'db-invitation-update', 'db-membership-insert', 'db-transfer', 'db-ledger-read',
  'db-rate-limit', 'db-change-log',
];

let db: TempDb;
let running: RunningService;
let user: TestUser;

beforeAll(async () => {
  db = await tempDb();
  running = await startService({ dbPath: db.path, instanceId: 'observed', config: { rateLimit: { limit: 1000, windowMs: 60_000 } } });
  user = await createUser(running.client, 'observer');
});

afterAll(async () => {
  await running.close();
  await db.remove();
});

/** Parses `name;dur=1.23, name;dur=0.40` strictly. */
function parseServerTiming(value: string): { name: string; dur: number }[] {
  return value.split(', ').map((entry) => {
    const match = /^([a-z-]+);dur=(\d+\.\d{2})$/.exec(entry);
    if (match?.[1] === undefined || match[2] === undefined) throw new Error(`unparseable Server-Timing entry "${entry}" in "${value}"`);
    return { name: match[1], dur: Number(match[2]) };
  });
}

describe('x-instance-id', () => {
  it('is on successes, 401s, 404s and 405s', async () => {
    const results = await Promise.all([
      running.client.call('GET', '/healthz'),
      running.client.call('GET', '/me'),
      running.client.call('GET', '/no/such/route'),
      running.client.call('DELETE', '/users'),
    ]);
    expect(results.map((r) => [r.status, header(r, 'x-instance-id')])).toEqual([[200, 'observed'], [401, 'observed'], [404, 'observed'], [405, 'observed']]);
  });

  it('is on the 400 answering malformed HTTP', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(running.url).port), TARGET_HOST, () => socket.write('GARBAGE / NOT-HTTP\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('x-instance-id: observed');
  });
});

describe('Server-Timing', () => {
  it('lists every query of a store route, parseable, in order', async () => {
    const created = await running.client.call('POST', '/families', { token: user.token, json: { name: 'Timed' } });
    const entries = parseServerTiming(header(created, 'server-timing'));
    expect(entries[0]?.name).toBe('db-user-lookup');
    expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining(['db-rate-limit', 'db-family-count', 'db-family-insert']));
    for (const entry of entries) {
      expect(QUERY_NAMES).toContain(entry.name);
      expect(entry.dur).toBeGreaterThanOrEqual(0);
    }
    const read = await running.client.call('GET', `/families/${(created.body as Family).id}`, { token: user.token });
    expect(parseServerTiming(header(read, 'server-timing')).map((e) => e.name)).toEqual(['db-user-lookup', 'db-change-log', 'db-family-read', 'db-family-read']);
    const signup = await running.client.call('POST', '/users', { json: { username: 'timed_signup' } });
    expect(parseServerTiming(header(signup, 'server-timing')).map((e) => e.name)).toEqual(['db-user-insert']);
  });

  it('is absent where no store is touched', async () => {
    expect((await running.client.call('GET', '/healthz')).headers['server-timing']).toBeUndefined();
  });
});

describe('/metrics', () => {
  it('exposes every metric documented at the top of metrics.ts', async () => {
    const source = await readFile(new URL('../../target/service/metrics.ts', import.meta.url), 'utf8');
    const docBlock = source.slice(0, source.indexOf('*/'));
    const documented = [...docBlock.matchAll(/\b((?:gauntlet|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1] as string);
    expect(documented.length).toBeGreaterThan(20);
    const response = await running.client.call('GET', '/metrics');
    expect(header(response, 'content-type')).toMatch(/^text\/plain/);
    const exposed = new Set([...response.text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    expect(documented.filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('counts requests by route pattern and status, queries by name, and reads the pool', async () => {
    const family = (await running.client.call('POST', '/families', { token: user.token, json: { name: 'Metered' } })).body as Family;
    await running.client.call('GET', `/families/${family.id}`, { token: user.token });
    const text = (await running.client.call('GET', '/metrics')).text;
    expect(text).toMatch(/^gauntlet_http_requests_total\{method="GET",route="\/families\/:id",status="200"[^}]*\} [1-9]/m);
    expect(text).not.toContain(family.id);
    expect(text).toMatch(/^gauntlet_db_query_duration_seconds_count\{[^}]*query="db-family-insert"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^gauntlet_transactions_total\{[^}]*outcome="committed"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^gauntlet_db_pool_connections_open\{instance="observed"\} 1$/m);
    expect(text).toMatch(/^gauntlet_db_pool_connections_max\{instance="observed"\} 1$/m);
    expect(text).toMatch(/^gauntlet_rate_limit_limit\{instance="observed"\} 1000$/m);
    expect(text).toMatch(/^gauntlet_rate_limit_window_seconds\{instance="observed"\} 60$/m);
  });
});

describe('unexpected errors', () => {
  it('answer 500 internal, are logged once without the token, and the instance keeps serving', async () => {
    const lines: string[] = [];
    // The real store with one method broken the way a driver bug would break it.
    const broken: Store = Object.create(running.store, {
      listFamiliesOf: { value: () => Promise.reject(new TypeError('driver exploded')) },
    }) as Store;
    const service = createService({ store: broken, config: DEFAULT_SERVICE_CONFIG, instanceId: 'broken', log: (line) => lines.push(line) });
    await new Promise<void>((resolve) => service.server.listen(0, TARGET_HOST, resolve));
    const address = service.server.address();
    const client = new TestClient(`http://${TARGET_HOST}:${typeof address === 'object' && address !== null ? address.port : 0}`);
    try {
      const failed = await client.call('GET', '/me/families', { token: user.token });
      expect([failed.status, errorCode(failed), header(failed, 'x-instance-id')]).toEqual([500, 'internal', 'broken']);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('driver exploded');
      expect(lines.join('\n')).not.toContain(user.token);
      expect((await client.call('GET', '/me', { token: user.token })).status).toBe(200);
    } finally {
      await client.close();
      await service.close();
    }
  });
});

describe('HEAD', () => {
  it('is answered wherever GET is, with the same headers and no body (RFC 9110)', async () => {
    const health = await request(`${running.url}/healthz`, { method: 'HEAD' });
    expect(health.statusCode).toBe(200);
    expect(health.headers['x-instance-id']).toBe('observed');
    expect(await health.body.text()).toBe('');
    const unknown = await request(`${running.url}/no-such-route`, { method: 'HEAD' });
    expect(unknown.statusCode).toBe(404);
    await unknown.body.dump();
  });
});
