// The family cache: x-cache headers, TTL and capacity eviction on an injected clock, and coherence across two instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Family, Invitation } from '../../target/domain.ts';
import {
  createUser, header, startService, tempDb, type RunningService, type TempDb, type TestClient, type TestUser,
} from './helpers/service-harness.ts';

const TTL_MS = 1_000;
const MAX_ENTRIES = 2;

let clock = 1_000_000;
let db: TempDb;
let a: RunningService;
let b: RunningService;
let owner: TestUser;

beforeAll(async () => {
  db = await tempDb();
  const config = { familyLimit: 100, rateLimit: { limit: 1000, windowMs: 60_000 }, cache: { maxEntries: MAX_ENTRIES, ttlMs: TTL_MS } };
  a = await startService({ dbPath: db.path, config, instanceId: 'a', now: () => clock });
  b = await startService({ dbPath: db.path, config, instanceId: 'b', now: () => clock });
  owner = await createUser(a.client, 'cache_owner');
});

afterAll(async () => {
  await a.close();
  await b.close();
  await db.remove();
});

async function newFamily(name: string): Promise<Family> {
  const result = await a.client.call('POST', '/families', { token: owner.token, json: { name } });
  expect(result.status, result.text).toBe(201);
  return result.body as Family;
}

async function read(client: TestClient, family: Family, token = owner.token): Promise<{ cache: string; family: Family; status: number }> {
  const result = await client.call('GET', `/families/${family.id}`, { token });
  return { cache: header(result, 'x-cache'), family: result.body as Family, status: result.status };
}

async function metric(client: TestClient, series: string): Promise<number> {
  const text = (await client.call('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(series));
  if (line === undefined) throw new Error(`no series ${series} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('family cache', () => {
  it('misses, then hits; expires after the TTL (counted as a ttl eviction)', async () => {
    const family = await newFamily('ttl');
    expect((await read(b.client, family)).cache).toBe('miss');
    clock += TTL_MS;
    expect((await read(b.client, family)).cache).toBe('hit');
    const before = await metric(b.client, 'gauntlet_cache_evictions_total{reason="ttl"');
    clock += 1;
    expect((await read(b.client, family)).cache).toBe('miss');
    expect(await metric(b.client, 'gauntlet_cache_evictions_total{reason="ttl"')).toBe(before + 1);
  });

  it('holds at most maxEntries families (capacity evictions counted)', async () => {
    const families = [await newFamily('cap 1'), await newFamily('cap 2'), await newFamily('cap 3')];
    const before = await metric(b.client, 'gauntlet_cache_evictions_total{reason="capacity"');
    const entriesBefore = await metric(b.client, 'gauntlet_cache_entries');
    for (const family of families) expect((await read(b.client, family)).cache).toBe('miss');
    expect(await metric(b.client, 'gauntlet_cache_evictions_total{reason="capacity"')).toBe(before + entriesBefore + families.length - MAX_ENTRIES);
    expect(await metric(b.client, 'gauntlet_cache_entries')).toBe(MAX_ENTRIES);
    expect((await read(b.client, families[0] as Family)).cache).toBe('miss');
    expect(await metric(b.client, 'gauntlet_cache_max_entries')).toBe(MAX_ENTRIES);
    expect(await metric(b.client, 'gauntlet_cache_ttl_seconds')).toBe(TTL_MS / 1000);
  });

  it('a rename through instance A is seen by the next read through B, every time', async () => {
    const family = await newFamily('coherent');
    const stale: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const warm = await read(b.client, family);
      expect(warm.status).toBe(200);
      const renamed = await a.client.call('PATCH', `/families/${family.id}`, { token: owner.token, json: { name: `coherent ${i}` } });
      expect(renamed.status).toBe(200);
      const after = await read(b.client, family);
      if (after.family.version !== i + 1 || after.family.name !== `coherent ${i}`) {
        stale.push(`after rename ${i}: got v${after.family.version} "${after.family.name}" (${after.cache})`);
      }
    }
    expect(stale).toEqual([]);
    expect(await metric(b.client, 'gauntlet_cache_evictions_total{reason="invalidation"')).toBeGreaterThan(0);
  });

  it('reads racing writes never return a version older than the last acknowledged one', async () => {
    const family = await newFamily('racing');
    let acked = 1;
    const violations: string[] = [];
    const writer = async (): Promise<void> => {
      for (let i = 1; i <= 15; i++) {
        const result = await a.client.call('PATCH', `/families/${family.id}`, { token: owner.token, json: { name: `racing ${i}` } });
        acked = (result.body as Family).version;
      }
    };
    const reader = async (): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        const floor = acked;
        const got = await read(b.client, family);
        if (got.family.version < floor) violations.push(`read v${got.family.version} after v${floor} was acknowledged`);
      }
    };
    await Promise.all([writer(), reader(), reader()]);
    expect(violations).toEqual([]);
  });

  it('membership and balance changes through A reach B\'s cache', async () => {
    const family = await newFamily('members');
    const joiner = await createUser(a.client, 'joiner');
    expect((await read(b.client, family, joiner.token)).status).toBe(403);
    expect((await read(b.client, family)).cache).toBe('hit');
    const invited = await a.client.call('POST', `/families/${family.id}/invitations`, { token: owner.token, json: { username: joiner.username, role: 'member' } });
    await a.client.call('POST', `/invitations/${(invited.body as Invitation).id}/accept`, { token: joiner.token });
    const asMember = await read(b.client, family, joiner.token);
    expect([asMember.status, asMember.family.members.includes(joiner.id)]).toEqual([200, true]);
    await a.client.call('POST', `/families/${family.id}/transfers`, { token: owner.token, json: { to: joiner.id, amount: 7 } });
    expect((await read(b.client, family)).family.balance).toBe(family.balance - 7);
  });
});
