/** Family creation on MongoDB: the owner's counter caps the family limit, the sbd index backstops the name. */
import { randomUUID } from 'node:crypto';
import type { ClientSession } from 'mongodb';
import { DomainError, sbdUsernameFor } from '../domain.ts';
import type { Family } from '../domain.ts';
import { CHANGE_COUNTER_ID, toFamily } from './mongo-docs.ts';
import type { Collections, FamilyDoc } from './mongo-docs.ts';
import { faultAfterFirstWrite, timeAsync } from './query-timing.ts';
import type { Clock } from './query-timing.ts';
import type { NewFamily, OpContext } from './store.ts';

/** The suffix search restarts past `minN` after losing a race; `triedN` is the suffix the last attempt claimed. */
export interface SbdClaim {
  minN: number;
  triedN: number;
}

/** One attempt at creating a family, inside the caller's transaction. */
export async function createFamilyInTransaction(
  c: Collections, session: ClientSession, input: NewFamily, claim: SbdClaim, ctx: OpContext, clock: Clock,
): Promise<Family> {
  const counted = await timeAsync(ctx, 'db-family-count', clock, () => c.users.updateOne(
    { _id: input.ownerId, familiesOwned: { $lt: input.familyLimit } }, { $inc: { familiesOwned: 1 } }, { session }));
  if (counted.matchedCount === 0) {
    const owner = await timeAsync(ctx, 'db-user-lookup', clock, () => c.users.findOne({ _id: input.ownerId }, { session }));
    if (owner === null) throw new DomainError('not_found', `owner ${input.ownerId} not found`);
    throw new DomainError('family_limit', `user already owns ${owner.familiesOwned} families, the limit is ${input.familyLimit}`);
  }
  const base = sbdUsernameFor(input.name, 1);
  const doc: FamilyDoc = {
    _id: randomUUID(), name: input.name, sbdUsername: base, ownerId: input.ownerId, admins: [input.ownerId],
    members: [input.ownerId], balance: input.initialBalance, version: 1, createdAt: new Date().toISOString(),
  };
  await timeAsync(ctx, 'db-family-insert', clock, async () => {
    const hint = await c.sbdBases.findOne({ _id: base }, { session });
    // Probe the real index: `a 2` is family_a_2, which is also `a`'s second suffix.
    let n = Math.max(hint?.next ?? 1, claim.minN);
    while (await c.families.findOne({ sbdUsername: sbdUsernameFor(input.name, n) }, { session, projection: { _id: 1 } }) !== null) {
      n += 1;
    }
    claim.triedN = n;
    doc.sbdUsername = sbdUsernameFor(input.name, n);
    await c.families.insertOne(doc, { session });
    await c.sbdBases.updateOne({ _id: base }, { $max: { next: n + 1 } }, { session, upsert: true });
  });
  faultAfterFirstWrite(ctx);
  await appendFamilyChange(c, session, doc._id, ctx, clock);
  return toFamily(doc);
}

/** The counter `$inc` serialises every family-changing transaction's entry, so sequence order is commit order. */
export async function appendFamilyChange(
  c: Collections, session: ClientSession, familyId: string, ctx: OpContext, clock: Clock,
): Promise<void> {
  await timeAsync(ctx, 'db-change-log', clock, async () => {
    const counter = await c.counters.findOneAndUpdate(
      { _id: CHANGE_COUNTER_ID }, { $inc: { seq: 1 } }, { session, upsert: true, returnDocument: 'after' });
    if (counter === null) throw new Error('change-log counter upsert returned no document');
    await c.familyChanges.insertOne({ _id: counter.seq, familyId }, { session });
  });
}
