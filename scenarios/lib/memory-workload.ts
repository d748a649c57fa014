/**
 * The operation mix of the memory-and-GC scenario: family creations, reads, listings, renames and
 * invitations, spread evenly over request indexes, every invitation to a (family, invitee) pair not
 * used before so none is refused as a duplicate.
 */
import type { RequestSpec } from '../../src/load/index.ts';
import type { FamilyView, TestUser } from '../../src/scenario/fixtures.ts';

/** Golden-ratio spacing: a deterministic, evenly mixed sequence of operation kinds over request indexes. */
const MIX_STEP = 0.6180339887;

export const MEMORY_OPERATIONS = ['create', 'invite', 'rename', 'list', 'read'] as const;
export type MemoryOperation = (typeof MEMORY_OPERATIONS)[number];

/** Fractions of each operation; `read` takes the rest. */
export const MEMORY_MIX: Readonly<Record<Exclude<MemoryOperation, 'read'>, number>> = { create: 0.1, invite: 0.1, rename: 0.1, list: 0.15 };

export interface MemoryWorkload {
  /** The request for a cumulative operation index (across batches). */
  request(index: number): RequestSpec;
  /** Operations of each kind built so far. */
  readonly counts: Readonly<Record<MemoryOperation, number>>;
}

/** Which operation a cumulative index is, before invitation capacity is considered. */
export function operationAt(index: number): MemoryOperation {
  const u = (index * MIX_STEP) % 1;
  let edge = 0;
  for (const op of ['create', 'invite', 'rename', 'list'] as const) {
    edge += MEMORY_MIX[op];
    if (u < edge) return op;
  }
  return 'read';
}

/**
 * Builds the mix over `owners` (one family each, in `families`) and `invitees` (never members).
 * Invitation n goes to family n mod F from invitee floor(n / F): unique for F x V invitations,
 * after which an invitation slot becomes a read (counted as such).
 */
export function memoryWorkload(owners: readonly TestUser[], families: readonly FamilyView[], invitees: readonly TestUser[], runTag: string): MemoryWorkload {
  if (owners.length === 0 || owners.length !== families.length || invitees.length === 0) {
    throw new Error(`scenario bug: need one family per owner and at least one invitee (owners ${owners.length}, families ${families.length}, invitees ${invitees.length})`);
  }
  const counts: Record<MemoryOperation, number> = { create: 0, invite: 0, rename: 0, list: 0, read: 0 };
  const json = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  const at = <T>(list: readonly T[], i: number): T => {
    const item = list[i % list.length];
    if (item === undefined) throw new Error(`scenario bug: no fixture at index ${i}`);
    return item;
  };
  let invitations = 0;
  const capacity = families.length * invitees.length;
  const request = (index: number): RequestSpec => {
    let op = operationAt(index);
    if (op === 'invite' && invitations >= capacity) op = 'read';
    counts[op] += 1;
    const owner = at(owners, index);
    const family = at(families, index);
    switch (op) {
      case 'create':
        return { method: 'POST', path: '/families', headers: json(owner.token), body: JSON.stringify({ name: `mem ${runTag} ${index}` }) };
      case 'invite': {
        const n = invitations++;
        const target = at(families, n);
        const admin = at(owners, n);
        const invitee = at(invitees, Math.floor(n / families.length));
        return { method: 'POST', path: `/families/${target.id}/invitations`, headers: json(admin.token), body: JSON.stringify({ username: invitee.username, role: 'member' }) };
      }
      case 'rename':
        return { method: 'PATCH', path: `/families/${family.id}`, headers: json(owner.token), body: JSON.stringify({ name: `mem family ${index}` }) };
      case 'list':
        return { method: 'GET', path: '/me/families', headers: { authorization: `Bearer ${owner.token}` } };
      case 'read':
        return { method: 'GET', path: `/families/${family.id}`, headers: { authorization: `Bearer ${owner.token}` } };
    }
  };
  return { request, counts };
}
