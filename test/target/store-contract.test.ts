/** One contract suite, run against every Store implementation (Mongo only where a mongod is reachable). */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../target/domain.ts';
import type { DomainErrorCode, Family, User } from '../../target/domain.ts';
import type { OpContext, QueryName, Store } from '../../target/store/store.ts';
import { mongoHarness, sqliteHarness } from './helpers/store-harness.ts';
import type { StoreHarness } from './helpers/store-harness.ts';

const HARNESSES: StoreHarness[] = [sqliteHarness(), mongoHarness()];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ctx = (extra: Partial<OpContext> = {}): OpContext => ({ timings: [], ...extra });
const names = (c: OpContext): QueryName[] => c.timings.map((t) => t.name);

async function codeOf(promise: Promise<unknown>): Promise<DomainErrorCode | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

/** Waits until the wall clock has moved past the current millisecond (bounded: at most ~50 ms). */
async function nextMillisecond(): Promise<void> {
  const start = Date.now();
  for (let i = 0; i < 50 && Date.now() <= start; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

function tally(results: PromiseSettledResult<unknown>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.status === 'fulfilled' ? 'ok' : r.reason instanceof DomainError ? r.reason.code : String(r.reason);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

describe.each(HARNESSES.map((h) => [h.kind, h] as const))('%s store', (_kind, h) => {
  const title = h.skipReason === null ? 'contract' : `contract (skipped: ${h.skipReason})`;
  describe.skipIf(h.skipReason !== null)(title, () => {
    afterEach(() => h.cleanup());
    afterAll(() => h.dispose());

    let seq = 0;
    const user = (s: Store, name = `user_${++seq}`): Promise<User> => s.createUser({ username: name, tokenHash: randomUUID() }, ctx());
    const family = (s: Store, owner: User, name = 'Family', limit = 10): Promise<Family> =>
      s.createFamily({ ownerId: owner.id, name, familyLimit: limit, initialBalance: 1000 }, ctx());
    async function join(s: Store, f: Family, u: User, role: 'member' | 'admin' = 'member'): Promise<void> {
      const inv = await s.createInvitation({ familyId: f.id, inviteeId: u.id, invitedBy: f.ownerId, role }, ctx());
      await s.answerInvitation({ invitationId: inv.id, userId: u.id, accept: true }, ctx());
    }

    it('creates and finds users; a taken username is username_taken', async () => {
      const s = await h.open();
      const c = ctx();
      const u = await s.createUser({ username: 'alice', tokenHash: 'hash-a' }, c);
      expect(u).toMatchObject({ username: 'alice', balance: 0 });
      expect(u.id).toMatch(UUID);
      expect(names(c)).toEqual(['db-user-insert']);
      const lookup = ctx();
      expect(await s.findUserByTokenHash('hash-a', lookup)).toEqual(u);
      expect(await s.findUserByUsername('alice', lookup)).toEqual(u);
      expect(names(lookup)).toEqual(['db-user-lookup', 'db-user-lookup']);
      expect(await s.findUserByTokenHash('nope', ctx())).toBeNull();
      expect(await s.findUserByUsername('bob', ctx())).toBeNull();
      expect(await codeOf(s.createUser({ username: 'alice', tokenHash: 'hash-b' }, ctx()))).toBe('username_taken');
    });

    it('creates a family at version 1 with the owner as admin, timed by the documented queries', async () => {
      const s = await h.open();
      const owner = await user(s);
      const c = ctx();
      const f = await s.createFamily({ ownerId: owner.id, name: "Bob's Family", familyLimit: 10, initialBalance: 1000 }, c);
      expect(f).toMatchObject({ name: "Bob's Family", sbdUsername: 'family_bob_s_family', ownerId: owner.id,
        admins: [owner.id], members: [owner.id], balance: 1000, version: 1 });
      expect(f.id).toMatch(UUID);
      expect(names(c)).toEqual(expect.arrayContaining(['db-family-count', 'db-family-insert', 'db-change-log']));
      expect(c.timings.every((t) => t.durationMs >= 0)).toBe(true);
      expect(await s.getFamily(f.id, ctx())).toEqual(f);
      expect(await s.getFamily(randomUUID(), ctx())).toBeNull();
      expect(await s.getFamily('not-a-uuid', ctx())).toBeNull();
      expect(await codeOf(family(s, { ...owner, id: randomUUID() }))).toBe('not_found');
    });

    it('takes the lowest free sbd suffix, also where "a 2" collides with the second "a"', async () => {
      const s = await h.open();
      const u = await user(s);
      const sbd = async (name: string) => (await family(s, u, name, 100)).sbdUsername;
      expect([await sbd('a'), await sbd('a 2'), await sbd('a'), await sbd('A'), await sbd('a 2')])
        .toEqual(['family_a', 'family_a_2', 'family_a_3', 'family_a_4', 'family_a_2_2']);
    });

    it('keeps IDs and sbd usernames unique under 200 concurrent creations with colliding names', async () => {
      const s = await h.open();
      const owners = await Promise.all(Array.from({ length: 20 }, () => user(s)));
      const plan = Array.from({ length: 200 }, (_, i) => ({ owner: owners[i % 20], name: i % 5 < 3 ? 'Smith' : i % 5 === 3 ? 'a' : 'a 2' }));
      const results = await Promise.allSettled(plan.map((p) => family(s, p.owner ?? owners[0] as User, p.name)));
      expect(tally(results)).toEqual({ ok: 200 });
      const readBack = (await Promise.all(owners.map((o) => s.listFamiliesOf(o.id, ctx())))).flat();
      expect(readBack).toHaveLength(200);
      expect(new Set(readBack.map((f) => f.id)).size).toBe(200);
      expect(new Set(readBack.map((f) => f.sbdUsername)).size).toBe(200);
      const smiths = readBack.filter((f) => f.name === 'Smith').map((f) => f.sbdUsername).sort();
      expect(smiths).toEqual(['family_smith', ...Array.from({ length: 119 }, (_, i) => `family_smith_${i + 2}`)].sort());
      for (const f of readBack) expect(await s.getFamily(f.id, ctx())).toEqual(f);
    });

    it('admits exactly the family limit under 25 concurrent creations by one user', async () => {
      const s = await h.open();
      const u = await user(s);
      const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => family(s, u, `F ${i}`, 10)));
      expect(tally(results)).toEqual({ ok: 10, family_limit: 15 });
      expect(await s.listFamiliesOf(u.id, ctx())).toHaveLength(10);
    });

    it('renames with version + 1; a stale If-Match is version_mismatch; unknown is not_found', async () => {
      const s = await h.open();
      const f = await family(s, await user(s));
      const c = ctx();
      const renamed = await s.renameFamily({ familyId: f.id, name: 'New', expectedVersion: 1 }, c);
      expect(renamed).toMatchObject({ name: 'New', version: 2, sbdUsername: f.sbdUsername });
      expect(names(c)).toContain('db-family-update');
      expect(await codeOf(s.renameFamily({ familyId: f.id, name: 'X', expectedVersion: 1 }, ctx()))).toBe('version_mismatch');
      expect((await s.renameFamily({ familyId: f.id, name: 'Any' }, ctx())).version).toBe(3);
      expect(await codeOf(s.renameFamily({ familyId: randomUUID(), name: 'X' }, ctx()))).toBe('not_found');
      expect((await s.getFamily(f.id, ctx()))?.name).toBe('Any');
    });

    it('invitations: one pending per invitee, accept joins and closes atomically, decline does not join', async () => {
      const s = await h.open();
      const owner = await user(s);
      const [bob, carol, eve] = [await user(s), await user(s), await user(s)];
      const f = await family(s, owner);
      const invite = (invitee: User, role: 'member' | 'admin' = 'member') =>
        s.createInvitation({ familyId: f.id, inviteeId: invitee.id, invitedBy: owner.id, role }, ctx());
      const inv = await invite(bob, 'admin');
      expect(inv).toMatchObject({ familyId: f.id, inviteeId: bob.id, invitedBy: owner.id, role: 'admin', status: 'pending' });
      expect(await s.getInvitation(inv.id, ctx())).toEqual(inv);
      expect(await s.getInvitation(randomUUID(), ctx())).toBeNull();
      expect(await codeOf(invite(bob))).toBe('invitation_pending');
      expect(await codeOf(invite(owner))).toBe('already_member');
      expect(await codeOf(s.createInvitation({ familyId: randomUUID(), inviteeId: bob.id, invitedBy: owner.id, role: 'member' }, ctx())))
        .toBe('not_found');
      expect(await codeOf(s.createInvitation({ familyId: f.id, inviteeId: randomUUID(), invitedBy: owner.id, role: 'member' }, ctx())))
        .toBe('not_found');
      expect(await codeOf(s.answerInvitation({ invitationId: inv.id, userId: eve.id, accept: true }, ctx()))).toBe('forbidden');
      expect(await codeOf(s.answerInvitation({ invitationId: randomUUID(), userId: bob.id, accept: true }, ctx()))).toBe('not_found');
      const c = ctx();
      expect(await s.answerInvitation({ invitationId: inv.id, userId: bob.id, accept: true }, c)).toMatchObject({ status: 'accepted' });
      expect(names(c)).toEqual(expect.arrayContaining(['db-invitation-read', 'db-invitation-update', 'db-membership-insert']));
      expect(await s.getFamily(f.id, ctx())).toMatchObject({ admins: [owner.id, bob.id], members: [owner.id, bob.id], version: 2 });
      expect(await codeOf(s.answerInvitation({ invitationId: inv.id, userId: bob.id, accept: true }, ctx()))).toBe('invitation_closed');
      expect(await codeOf(invite(bob))).toBe('already_member');
      const toCarol = await invite(carol);
      expect(await s.answerInvitation({ invitationId: toCarol.id, userId: carol.id, accept: false }, ctx())).toMatchObject({ status: 'declined' });
      expect((await s.getFamily(f.id, ctx()))?.members).not.toContain(carol.id);
      expect((await invite(carol)).status).toBe('pending');
      expect((await s.listFamiliesOf(bob.id, ctx())).map((x) => x.id)).toEqual([f.id]);
    });

    it('lists a family\'s invitations with their statuses, oldest first, after invite, accept and decline', async () => {
      const s = await h.open();
      const owner = await user(s);
      const [bob, carol, dave] = [await user(s), await user(s), await user(s)];
      const [f, other] = [await family(s, owner), await family(s, owner)];
      const invite = async (fam: Family, invitee: User) => {
        const inv = await s.createInvitation({ familyId: fam.id, inviteeId: invitee.id, invitedBy: owner.id, role: 'member' }, ctx());
        await nextMillisecond(); // Mongo orders by createdAt: keep the order this test asserts unambiguous.
        return inv;
      };
      const toBob = await invite(f, bob);
      const toCarol = await invite(f, carol);
      await invite(other, dave);
      const toDave = await invite(f, dave);
      await s.answerInvitation({ invitationId: toBob.id, userId: bob.id, accept: true }, ctx());
      await s.answerInvitation({ invitationId: toCarol.id, userId: carol.id, accept: false }, ctx());
      const c = ctx();
      const listed = await s.listInvitations(f.id, c);
      expect(names(c)).toEqual(['db-invitation-list']);
      expect(listed).toEqual([{ ...toBob, status: 'accepted' }, { ...toCarol, status: 'declined' }, toDave]);
      expect(await s.listInvitations(randomUUID(), ctx())).toEqual([]);
    });

    it('two admins racing the same invitation leave exactly one pending', async () => {
      const s = await h.open();
      const owner = await user(s);
      const [admin, target] = [await user(s), await user(s)];
      const f = await family(s, owner);
      await join(s, f, admin, 'admin');
      const results = await Promise.allSettled([owner, admin, owner, admin, owner, admin].map((by) =>
        s.createInvitation({ familyId: f.id, inviteeId: target.id, invitedBy: by.id, role: 'member' }, ctx())));
      expect(tally(results)).toEqual({ ok: 1, invitation_pending: 5 });
    });

    it('a fault after the first write of accept leaves invitation and membership untouched', async () => {
      const s = await h.open();
      const owner = await user(s);
      const bob = await user(s);
      const f = await family(s, owner);
      const inv = await s.createInvitation({ familyId: f.id, inviteeId: bob.id, invitedBy: owner.id, role: 'member' }, ctx());
      const c = ctx({ failMidTransaction: true });
      expect(await codeOf(s.answerInvitation({ invitationId: inv.id, userId: bob.id, accept: true }, c))).toBe('injected_fault');
      expect(names(c)).toContain('db-invitation-update'); // the write ran before the fault
      expect((await s.getInvitation(inv.id, ctx()))?.status).toBe('pending');
      expect(await s.getFamily(f.id, ctx())).toEqual(f);
    });

    it('transfers debit, credit and append to the ledger; errors for funds, membership and unknown family', async () => {
      const s = await h.open();
      const owner = await user(s);
      const [bob, eve] = [await user(s), await user(s)];
      const f = await family(s, owner);
      await join(s, f, bob);
      const c = ctx();
      const t = await s.transfer({ familyId: f.id, toUserId: bob.id, amount: 300, byUserId: owner.id }, c);
      expect(t).toMatchObject({ familyId: f.id, from: f.id, to: bob.id, amount: 300, byUserId: owner.id });
      expect(names(c)).toContain('db-transfer');
      expect(await s.getFamily(f.id, ctx())).toMatchObject({ balance: 700, version: 3 });
      expect((await s.findUserByUsername(bob.username, ctx()))?.balance).toBe(300);
      expect(await s.listLedger(f.id, ctx())).toEqual([t]);
      const bad = (over: Partial<{ familyId: string; toUserId: string; amount: number }>) =>
        codeOf(s.transfer({ familyId: f.id, toUserId: bob.id, amount: 1, byUserId: owner.id, ...over }, ctx()));
      expect(await bad({ amount: 701 })).toBe('insufficient_funds');
      expect(await bad({ toUserId: eve.id })).toBe('not_a_member');
      expect(await bad({ familyId: randomUUID() })).toBe('not_found');
      expect(await bad({ amount: 0 })).toBe('invalid_request');
      expect(await bad({ amount: 1.5 })).toBe('invalid_request');
      expect(await s.getFamily(f.id, ctx())).toMatchObject({ balance: 700, version: 3 });
    });

    it('concurrent transfers conserve tokens and the ledger is exactly the committed set', async () => {
      const s = await h.open();
      const owner = await user(s);
      const members = [await user(s), await user(s), await user(s)];
      const f = await family(s, owner);
      for (const m of members) await join(s, f, m);
      const amounts = Array.from({ length: 60 }, (_, i) => 10 + ((i * 7) % 40));
      const results = await Promise.allSettled(amounts.map((amount, i) =>
        s.transfer({ familyId: f.id, toUserId: (members[i % 3] as User).id, amount, byUserId: owner.id }, ctx())));
      const committed = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(Object.keys(tally(results)).filter((k) => k !== 'ok' && k !== 'insufficient_funds')).toEqual([]);
      expect(committed.length).toBeGreaterThan(0);
      const after = await s.getFamily(f.id, ctx());
      const credited = await Promise.all(members.map(async (m) => (await s.findUserByUsername(m.username, ctx()))?.balance ?? NaN));
      expect((after?.balance ?? NaN) + credited.reduce((a, b) => a + b, 0)).toBe(1000);
      const ledger = await s.listLedger(f.id, ctx());
      expect(ledger.map((t) => t.id).sort()).toEqual(committed.map((t) => t.id).sort());
      expect(ledger.reduce((a, t) => a + t.amount, 0)).toBe(1000 - (after?.balance ?? NaN));
    });

    it('a fault after the first write of a transfer leaves balances and ledger untouched', async () => {
      const s = await h.open();
      const owner = await user(s);
      const bob = await user(s);
      const f = await family(s, owner);
      await join(s, f, bob);
      const before = await s.getFamily(f.id, ctx());
      const c = ctx({ failMidTransaction: true });
      expect(await codeOf(s.transfer({ familyId: f.id, toUserId: bob.id, amount: 5, byUserId: owner.id }, c))).toBe('injected_fault');
      expect(names(c)).toContain('db-transfer'); // the debit ran before the fault
      expect(await s.getFamily(f.id, ctx())).toEqual(before);
      expect((await s.findUserByUsername(bob.username, ctx()))?.balance).toBe(0);
      expect(await s.listLedger(f.id, ctx())).toEqual([]);
    });

    it('a fault after the first write of a creation leaves no family and frees its sbd username and quota', async () => {
      const s = await h.open();
      const owner = await user(s);
      const c = ctx({ failMidTransaction: true });
      const failed = s.createFamily({ ownerId: owner.id, name: 'Ghost', familyLimit: 1, initialBalance: 1000 }, c);
      expect(await codeOf(failed)).toBe('injected_fault');
      expect(names(c)).toContain('db-family-insert');
      expect(await s.listFamiliesOf(owner.id, ctx())).toEqual([]);
      expect((await family(s, owner, 'Ghost', 1)).sbdUsername).toBe('family_ghost');
    });

    it('counts rate-limit hits exactly per key and window', async () => {
      const s = await h.open();
      const hit = (key: string, windowStartMs: number) => s.hitRateLimit({ key, windowStartMs }, ctx({ failMidTransaction: true }));
      const counts = await Promise.all(Array.from({ length: 30 }, () => hit('u1:families', 60_000)));
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(await hit('u2:families', 60_000)).toBe(1);
      expect(await hit('u1:families', 120_000)).toBe(1);
      expect(await hit('u1:families', 120_000)).toBe(2);
      const c = ctx();
      await s.hitRateLimit({ key: 'u3', windowStartMs: 0 }, c);
      expect(names(c)).toEqual(['db-rate-limit']);
    });

    it('change log: null starts at the end, then every family change is reported once after its cursor', async () => {
      const s = await h.open();
      const owner = await user(s);
      const bob = await user(s);
      const f = await family(s, owner);
      const g = await family(s, owner, 'Other');
      const start = await s.familyChangesSince(null, ctx());
      expect(start.familyIds).toEqual([]);
      expect(await s.familyChangesSince(start.cursor, ctx())).toEqual({ familyIds: [], cursor: start.cursor });
      await s.renameFamily({ familyId: f.id, name: 'R' }, ctx());
      const c = ctx();
      const afterRename = await s.familyChangesSince(start.cursor, c);
      expect(afterRename.familyIds).toEqual([f.id]);
      expect(names(c)).toEqual(['db-change-log']);
      await join(s, g, bob);
      await s.transfer({ familyId: f.id, toUserId: owner.id, amount: 1, byUserId: owner.id }, ctx());
      await s.renameFamily({ familyId: f.id, name: 'S' }, ctx());
      const next = await s.familyChangesSince(afterRename.cursor, ctx());
      expect(next.familyIds).toEqual([g.id, f.id]);
      expect((await s.familyChangesSince(next.cursor, ctx())).familyIds).toEqual([]);
      await codeOf(s.renameFamily({ familyId: f.id, name: 'T' }, ctx({ failMidTransaction: true })));
      expect((await s.familyChangesSince(next.cursor, ctx())).familyIds).toEqual([]);
      expect(await codeOf(s.familyChangesSince('bogus', ctx()))).toBe('invalid_request');
    });

    it('reports pool gauges and answers store_unavailable once closed', async () => {
      const s = await h.open({ dbPoolSize: 4 });
      await user(s);
      const stats = s.poolStats();
      expect(stats.open).toBeGreaterThanOrEqual(1);
      expect(stats.checkedOut).toBe(0);
      expect(stats.max).toBe(h.kind === 'sqlite' ? 1 : 4);
      expect(stats.open).toBeLessThanOrEqual(stats.max);
      await s.close();
      expect(await codeOf(s.findUserByUsername('x', ctx()))).toBe('store_unavailable');
    });
  });
});
