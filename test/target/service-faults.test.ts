// Fault injection: only with config.faults; a failed transaction leaves nothing behind; delays and stalls are bounded.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Family, Invitation } from '../../target/domain.ts';
import {
  createUser, errorCode, startService, tempDb, type RunningService, type TempDb, type TestClient, type TestUser,
} from './helpers/service-harness.ts';

let db: TempDb;
let faulty: RunningService;
let normal: RunningService;

beforeAll(async () => {
  db = await tempDb();
  const config = { rateLimit: { limit: 1000, windowMs: 60_000 } };
  faulty = await startService({ dbPath: db.path, config: { ...config, faults: true }, instanceId: 'faulty' });
  normal = await startService({ dbPath: db.path, config, instanceId: 'normal' });
});

afterAll(async () => {
  await faulty.close();
  await normal.close();
  await db.remove();
});

async function familyWithMember(client: TestClient): Promise<{ family: Family; owner: TestUser; member: TestUser }> {
  const owner = await createUser(client, 'fault_owner');
  const member = await createUser(client, 'fault_member');
  const family = (await client.call('POST', '/families', { token: owner.token, json: { name: 'Faulty' } })).body as Family;
  const invited = await client.call('POST', `/families/${family.id}/invitations`, { token: owner.token, json: { username: member.username, role: 'member' } });
  await client.call('POST', `/invitations/${(invited.body as Invitation).id}/accept`, { token: member.token });
  return { family, owner, member };
}

async function snapshot(client: TestClient, family: Family, owner: TestUser, member: TestUser): Promise<unknown> {
  const [fam, ledger, me] = await Promise.all([
    client.call('GET', `/families/${family.id}`, { token: owner.token }),
    client.call('GET', `/families/${family.id}/ledger`, { token: owner.token }),
    client.call('GET', '/me', { token: member.token }),
  ]);
  return { family: fam.body, ledger: ledger.body, memberBalance: (me.body as { balance: number }).balance };
}

async function abortedTransactions(client: TestClient): Promise<number> {
  const match = /^gauntlet_transactions_total\{outcome="aborted"[^}]*\} (\d+)$/m.exec((await client.call('GET', '/metrics')).text);
  return Number(match?.[1]);
}

describe('with faults enabled', () => {
  it('x-fault: fail-mid-transaction on a transfer answers 500 injected_fault and leaves balances and ledger untouched', async () => {
    const { family, owner, member } = await familyWithMember(faulty.client);
    const before = await snapshot(faulty.client, family, owner, member);
    const abortedBefore = await abortedTransactions(faulty.client);
    const failed = await faulty.client.call('POST', `/families/${family.id}/transfers`, {
      token: owner.token, json: { to: member.id, amount: 100 }, headers: { 'x-fault': 'fail-mid-transaction' },
    });
    expect([failed.status, errorCode(failed)]).toEqual([500, 'injected_fault']);
    expect(await snapshot(faulty.client, family, owner, member)).toEqual(before);
    expect(await abortedTransactions(faulty.client)).toBe(abortedBefore + 1);

    const real = await faulty.client.call('POST', `/families/${family.id}/transfers`, { token: owner.token, json: { to: member.id, amount: 100 } });
    expect(real.status).toBe(201);
    expect(await snapshot(faulty.client, family, owner, member)).not.toEqual(before);
  });

  it('a fault-injected family creation leaves no family and frees its sbd username', async () => {
    const owner = await createUser(faulty.client, 'fault_creator');
    const failed = await faulty.client.call('POST', '/families', {
      token: owner.token, json: { name: 'Ghost Family' }, headers: { 'x-fault': 'fail-mid-transaction' },
    });
    expect([failed.status, errorCode(failed)]).toEqual([500, 'injected_fault']);
    expect((await faulty.client.call('GET', '/me/families', { token: owner.token })).body).toEqual([]);
    const created = await faulty.client.call('POST', '/families', { token: owner.token, json: { name: 'Ghost Family' } });
    expect((created.body as Family).sbdUsername).toBe('family_ghost_family');
  });

  it('x-fault: delay-ms=N delays the response by at least N ms', async () => {
    const started = performance.now();
    const result = await faulty.client.call('GET', '/healthz', { headers: { 'x-fault': 'delay-ms=150' } });
    expect(result.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  it.each(['delay-ms=abc', 'delay-ms=30001', 'delay-ms=-1', 'explode', 'fail-mid-transaction, nope'])('x-fault: %s is a 400', async (value) => {
    const result = await faulty.client.call('GET', '/healthz', { headers: { 'x-fault': value } });
    expect([result.status, errorCode(result)]).toEqual([400, 'invalid_request']);
  });

  it('POST /_faults/stall blocks the event loop for the requested time', async () => {
    const started = performance.now();
    const result = await faulty.client.call('POST', '/_faults/stall', { json: { ms: 120 } });
    expect(result.status).toBe(200);
    expect((result.body as { stalledMs: number }).stalledMs).toBeGreaterThanOrEqual(120);
    expect(performance.now() - started).toBeGreaterThanOrEqual(120);
  });

  it.each([{ ms: 30_001 }, { ms: -1 }, { ms: 'long' }, {}])('POST /_faults/stall %j is a 400', async (body) => {
    const result = await faulty.client.call('POST', '/_faults/stall', { json: body });
    expect([result.status, errorCode(result)]).toEqual([400, 'invalid_request']);
  });
});

describe('with faults disabled', () => {
  it('ignores x-fault (the transfer commits) and has no /_faults routes', async () => {
    const { family, owner, member } = await familyWithMember(normal.client);
    const sent = await normal.client.call('POST', `/families/${family.id}/transfers`, {
      token: owner.token, json: { to: member.id, amount: 5 }, headers: { 'x-fault': 'fail-mid-transaction' },
    });
    expect(sent.status).toBe(201);
    expect(((await normal.client.call('GET', `/families/${family.id}/ledger`, { token: owner.token })).body as unknown[]).length).toBe(1);
    const garbage = await normal.client.call('GET', '/healthz', { headers: { 'x-fault': 'delay-ms=abc' } });
    expect(garbage.status).toBe(200);
    const stall = await normal.client.call('POST', '/_faults/stall', { json: { ms: 10 } });
    expect([stall.status, errorCode(stall)]).toEqual([404, 'not_found']);
  });
});
