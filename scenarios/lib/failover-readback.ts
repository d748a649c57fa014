/**
 * Reads back, through the service's own API, everything the instance-failure workload may have
 * written: the families its admins own, the invitations and ledgers of the workload families, and
 * the balances of every account involved.
 */
import type { Family, Invitation, Transfer } from '../../target/domain.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { FIXTURE_CONCURRENCY, expectBody, mapLimit } from '../../src/scenario/fixtures.ts';
import type { LedgerEntry } from './transfer-oracle.ts';
import { FAMILY_KEY_PREFIX, invitationKey, transferKey } from './failover-workload.ts';
import type { WorkloadFixtures, WriteKind } from './failover-workload.ts';

/** IDs read back under each client key, per kind of write. */
export type FoundWrites = ReadonlyMap<WriteKind, ReadonlyMap<string, readonly string[]>>;

export interface Balances {
  readonly families: ReadonlyMap<string, number>;
  readonly users: ReadonlyMap<string, number>;
}

export interface ReadBack {
  readonly found: FoundWrites;
  readonly ledger: readonly LedgerEntry[];
}

/** The workload's writes as the service shows them now. */
export async function readBackWrites(ctx: ScenarioContext, fixtures: WorkloadFixtures): Promise<ReadBack> {
  const families = new Map<string, string[]>();
  const invitations = new Map<string, string[]>();
  const transfers = new Map<string, string[]>();
  const add = (into: Map<string, string[]>, key: string, id: string): void => {
    into.set(key, [...(into.get(key) ?? []), id]);
  };
  const fs = fixtures.families;
  // The fixtures made members by invitation: those invitations are not the load's.
  const members = new Set(fs.flatMap((f) => f.members.map((m) => m.id)));
  await mapLimit(fs.length, FIXTURE_CONCURRENCY, async (i) => {
    const f = fs[i];
    if (f === undefined) throw new Error(`no workload family ${i}`);
    const owned = expectBody(await ctx.http.send({ method: 'GET', path: '/me/families', token: f.admin.token }), 200, 'GET /me/families') as Family[];
    for (const family of owned) if (family.name.startsWith(FAMILY_KEY_PREFIX)) add(families, family.name, family.id);
  });
  const ledgers = await mapLimit(fs.length, FIXTURE_CONCURRENCY, async (i) => {
    const f = fs[i];
    if (f === undefined) throw new Error(`no workload family ${i}`);
    const invited = expectBody(
      await ctx.http.send({ method: 'GET', path: `/families/${f.familyId}/invitations`, token: f.admin.token }),
      200,
      'GET /families/:id/invitations',
    ) as Invitation[];
    for (const inv of invited) if (!members.has(inv.inviteeId)) add(invitations, invitationKey(f.familyId, inv.inviteeId), inv.id);
    const ledger = expectBody(await ctx.http.send({ method: 'GET', path: `/families/${f.familyId}/ledger`, token: f.admin.token }), 200, 'GET /families/:id/ledger') as Transfer[];
    for (const t of ledger) add(transfers, transferKey(f.familyId, t.amount), t.id);
    return ledger.map((t): LedgerEntry => ({ id: t.id, familyId: t.familyId, to: t.to, amount: t.amount }));
  });
  return {
    found: new Map<WriteKind, ReadonlyMap<string, readonly string[]>>([
      ['family', families],
      ['invitation', invitations],
      ['transfer', transfers],
    ]),
    ledger: ledgers.flat(),
  };
}

/** Every workload family's balance and every admin's and member's (admins too, so a misdirected credit counts). */
export async function readBalances(ctx: ScenarioContext, fixtures: WorkloadFixtures): Promise<Balances> {
  const fs = fixtures.families;
  const familyEntries = await mapLimit(fs.length, FIXTURE_CONCURRENCY, async (i) => {
    const f = fs[i];
    if (f === undefined) throw new Error(`no workload family ${i}`);
    const body = expectBody(await ctx.http.send({ method: 'GET', path: `/families/${f.familyId}`, token: f.admin.token }), 200, 'GET /families/:id');
    return [f.familyId, balanceOf(body, `family ${f.familyId}`)] as const;
  });
  const users = fs.flatMap((f) => [f.admin, ...f.members]);
  const userEntries = await mapLimit(users.length, FIXTURE_CONCURRENCY, async (i) => {
    const u = users[i];
    if (u === undefined) throw new Error(`no user ${i}`);
    return [u.id, balanceOf(expectBody(await ctx.http.send({ method: 'GET', path: '/me', token: u.token }), 200, 'GET /me'), `user ${u.id}`)] as const;
  });
  return { families: new Map(familyEntries), users: new Map(userEntries) };
}

function balanceOf(body: unknown, what: string): number {
  const balance = (body as { balance?: unknown } | null)?.balance;
  if (typeof balance !== 'number') throw new TypeError(`the service answered no numeric balance for ${what}: ${JSON.stringify(body).slice(0, 120)}`);
  return balance;
}
