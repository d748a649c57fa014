/**
 * The instance-failure workload: a fixed cycle of acknowledged writes (create a family, invite a
 * user, transfer tokens) and reads, each write carrying a client key unique in the run, so a read-back
 * can tell a write applied once from one applied twice or not at all. Pure: the plan is a function
 * of the request index and the fixtures.
 */
import type { RequestSpec } from '../../src/load/index.ts';
import type { TestUser } from '../../src/scenario/fixtures.ts';
import { isFaulted as isSpreadEvenly } from './transfer-plan.ts';

export type WriteKind = 'family' | 'invitation' | 'transfer';
export type OpKind = WriteKind | 'read';

/**
 * Three writes and four reads, interleaved so every stretch of the run has all four kinds. Seven long:
 * prime to any instance count up to 6, so round-robin does not pin each kind to one instance (with
 * an even cycle over two instances every write went to one and every read to the other).
 */
export const OP_CYCLE: readonly OpKind[] = ['family', 'read', 'invitation', 'read', 'transfer', 'read', 'read'];
/** Every family the workload creates is named with this prefix and its ordinal (the client key). */
export const FAMILY_KEY_PREFIX = 'failover ';

/** A family made before the load: its admin creates families, invites and transfers; its members receive tokens. */
export interface WorkloadFamily {
  readonly familyId: string;
  readonly admin: TestUser;
  readonly members: readonly TestUser[];
}

export interface WorkloadFixtures {
  readonly families: readonly WorkloadFamily[];
  /** Users invited by the load, one per invitation (an invitation to the same user twice would be refused). */
  readonly invitees: readonly TestUser[];
}

export interface WorkloadShape {
  /** Share of writes the service is asked to hold before answering (after committing), 0..1. */
  readonly slowWriteShare: number;
  readonly slowWriteDelayMs: number;
}

/** One request of the run and what it means. */
export interface PlannedOp {
  readonly index: number;
  readonly kind: OpKind;
  /** Unique per write in the run (a family's name; see invitationKey, transferKey); for reads, the family read. */
  readonly key: string;
  /** The workload family the request is about (the creator's, for a new family). */
  readonly family: WorkloadFamily;
  /** The write's answer is held by the service (x-fault: delay-ms) after it committed. */
  readonly held: boolean;
  readonly spec: RequestSpec;
  /** Transfers: recipient and amount (the amount is the key's unique part). */
  readonly to?: string;
  readonly amount?: number;
  /** Invitations: the invitee's user ID. */
  readonly inviteeId?: string;
}

/** The key of an invitation: one per (family, invitee). */
export function invitationKey(familyId: string, inviteeId: string): string {
  return `${familyId}/${inviteeId}`;
}

/** The key of a transfer: its amount is unique within its family. */
export function transferKey(familyId: string, amount: number): string {
  return `${familyId}/${amount}`;
}

/** Invitations among the first `requests` indices: the invitees the fixtures must provide. */
export function invitationsIn(requests: number): number {
  const at = OP_CYCLE.indexOf('invitation');
  return Math.max(0, Math.ceil((requests - at) / OP_CYCLE.length));
}

/** The largest amount any family is asked to transfer in `requests` requests, summed (what its balance must cover). */
export function transferTotalPerFamily(requests: number, families: number): number {
  const at = OP_CYCLE.indexOf('transfer');
  const transfers = Math.max(0, Math.ceil((requests - at) / OP_CYCLE.length));
  const perFamily = Math.ceil(transfers / Math.max(1, families));
  return (perFamily * (perFamily + 1)) / 2;
}

/** The `index`-th request of the run; throws when the fixtures cannot serve it (too few invitees). */
export function planOp(index: number, fixtures: WorkloadFixtures, shape: WorkloadShape): PlannedOp {
  const kind = OP_CYCLE[index % OP_CYCLE.length] ?? 'read';
  const n = Math.floor(index / OP_CYCLE.length);
  const families = fixtures.families;
  const family = families[n % families.length];
  if (family === undefined) throw new Error('the workload needs at least one family');
  const auth = `Bearer ${family.admin.token}`;
  const held = kind !== 'read' && isSpreadEvenly(n, shape.slowWriteShare);
  const headers = (withBody: boolean): Record<string, string> => ({
    authorization: auth,
    ...(withBody ? { 'content-type': 'application/json' } : {}),
    ...(held ? { 'x-fault': `delay-ms=${shape.slowWriteDelayMs}` } : {}),
  });
  switch (kind) {
    case 'family': {
      const name = `${FAMILY_KEY_PREFIX}${n}`;
      return { index, kind, key: name, family, held, spec: { method: 'POST', path: '/families', headers: headers(true), body: JSON.stringify({ name }) } };
    }
    case 'invitation': {
      const invitee = fixtures.invitees[n];
      if (invitee === undefined) throw new Error(`invitation ${n} has no invitee: the fixtures made ${fixtures.invitees.length}`);
      return {
        index, kind, key: invitationKey(family.familyId, invitee.id), family, held, inviteeId: invitee.id,
        spec: { method: 'POST', path: `/families/${family.familyId}/invitations`, headers: headers(true), body: JSON.stringify({ username: invitee.username, role: 'member' }) },
      };
    }
    case 'transfer': {
      const k = Math.floor(n / families.length);
      const to = family.members[k % Math.max(1, family.members.length)];
      if (to === undefined) throw new Error(`family ${family.familyId} has no member to receive transfers`);
      const amount = k + 1;
      return {
        index, kind, key: transferKey(family.familyId, amount), family, held, to: to.id, amount,
        spec: { method: 'POST', path: `/families/${family.familyId}/transfers`, headers: headers(true), body: JSON.stringify({ to: to.id, amount }) },
      };
    }
    case 'read':
      return { index, kind, key: family.familyId, family, held: false, spec: { method: 'GET', path: `/families/${family.familyId}`, headers: headers(false) } };
  }
}
