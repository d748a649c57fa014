/** The MongoDB store (official driver): unique indexes, and `withTransaction` for every multi-document write. */
import { randomUUID } from 'node:crypto';
import { MongoClient, MongoServerError, WriteConcern } from 'mongodb';
import type { ClientSession, Db, TransactionOptions } from 'mongodb';
import { DomainError } from '../domain.ts';
import type { Family, Invitation, Transfer, User } from '../domain.ts';
import {
  CHANGE_COUNTER_ID, INDEXES, SBD_INDEX, USERNAME_INDEX, collections, toFamily, toInvitation, toTransfer, toUser,
} from './mongo-docs.ts';
import type { Collections, InvitationDoc, TransferDoc, UserDoc } from './mongo-docs.ts';
import { NAMESPACE_EXISTS, isDuplicateKey, toStoreError } from './mongo-errors.ts';
import { appendFamilyChange, createFamilyInTransaction } from './mongo-family-create.ts';
import type { SbdClaim } from './mongo-family-create.ts';
import { watchPool } from './mongo-pool-gauge.ts';
import {
  CHANGE_LOG_PAGE, DEFAULT_CLOCK, assertPositiveInteger, distinctIds, faultAfterFirstWrite, parseChangeCursor, timeAsync,
} from './query-timing.ts';
import type { Clock } from './query-timing.ts';
import type {
  ChangeCursor, FamilyChanges, FamilyRename, InvitationAnswer, NewFamily, NewInvitation, NewTransfer,
  OpContext, PoolStats, RateLimitHit, Store, StoreStall,
} from './store.ts';
import { exhaustPool } from './mongo-stall.ts';

export interface MongoStoreOptions {
  readonly uri: string;
  readonly dbName: string;
  /** The driver's maxPoolSize. */
  readonly poolSize: number;
  /** Rate-limit windows expire (TTL index) one window after they end. */
  readonly rateLimitWindowMs: number;
  /** How long an operation waits for a pooled connection (the driver's waitQueueTimeoutMS) before `store_unavailable`. */
  readonly waitQueueTimeoutMs?: number;
  readonly clock?: Clock;
}

/** How long the driver looks for a server before an operation fails with `store_unavailable`. */
export const MONGO_SERVER_SELECTION_TIMEOUT_MS = 5_000;
/** Transactions that lose a sbd-username race (E11000) start over from the next suffix, this many times at most. */
export const SBD_MAX_ATTEMPTS = 20;
/** Concurrent first hits of a rate-limit window may race their upserts (E11000); retried this many times. */
const RATE_LIMIT_UPSERT_ATTEMPTS = 3;

const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: new WriteConcern('majority'),
  readPreference: 'primary',
};

export class MongoStore implements Store {
  readonly kind = 'mongo';
  private client: MongoClient | null = null;
  private cols: Collections | null = null;
  private stats: () => PoolStats;
  private readonly clock: Clock;

  constructor(private readonly options: MongoStoreOptions) {
    this.clock = options.clock ?? DEFAULT_CLOCK;
    this.stats = () => ({ open: 0, checkedOut: 0, max: options.poolSize });
  }

  async init(): Promise<void> {
    const client = new MongoClient(this.options.uri, {
      maxPoolSize: this.options.poolSize,
      serverSelectionTimeoutMS: MONGO_SERVER_SELECTION_TIMEOUT_MS,
      ...(this.options.waitQueueTimeoutMs === undefined || this.options.waitQueueTimeoutMs === 0
        ? {}
        : { waitQueueTimeoutMS: this.options.waitQueueTimeoutMs }),
    });
    this.stats = watchPool(client, this.options.poolSize);
    try {
      await client.connect();
      const db = client.db(this.options.dbName);
      // Collections exist before any transaction writes them (creating one inside a transaction races other instances).
      for (const [name, indexes] of Object.entries(INDEXES)) {
        await createCollection(db, name);
        if (indexes.length > 0) await db.collection(name).createIndexes(indexes);
      }
      this.cols = collections(db);
      await this.cols.counters.updateOne({ _id: CHANGE_COUNTER_ID }, { $setOnInsert: { seq: 0 } }, { upsert: true })
        .catch((error: unknown) => {
          // Another instance inserted the counter between our match and insert: it exists, which is all init needs.
          if (!isDuplicateKey(error)) throw error;
        });
      this.client = client;
    } catch (error) {
      await client.close();
      throw toStoreError(error);
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.cols = null;
    await client?.close();
  }

  poolStats(): PoolStats {
    return this.stats();
  }

  /** Every pooled connection of this instance held for `ms` (target/store/mongo-stall.ts). */
  stall(ms: number): Promise<StoreStall> {
    const client = this.client;
    if (client === null) return Promise.reject(closedError());
    return exhaustPool(client.db(this.options.dbName), this.options.poolSize, ms);
  }

  createUser(input: { username: string; tokenHash: string }, ctx: OpContext): Promise<User> {
    return this.op(async (c) => {
      const doc: UserDoc = {
        _id: randomUUID(), username: input.username, tokenHash: input.tokenHash, balance: 0, familiesOwned: 0,
        createdAt: new Date().toISOString(),
      };
      try {
        await this.tx(async (session) => {
          await timeAsync(ctx, 'db-user-insert', this.clock, () => c.users.insertOne(doc, { session }));
          faultAfterFirstWrite(ctx);
        });
      } catch (error) {
        if (isDuplicateKey(error, USERNAME_INDEX)) {
          throw new DomainError('username_taken', `username "${input.username}" is taken; choose another`);
        }
        throw error;
      }
      return toUser(doc);
    });
  }

  findUserByTokenHash(tokenHash: string, ctx: OpContext): Promise<User | null> {
    return this.op(async (c) => {
      const doc = await timeAsync(ctx, 'db-user-lookup', this.clock, () => c.users.findOne({ tokenHash }));
      return doc === null ? null : toUser(doc);
    });
  }

  findUserByUsername(username: string, ctx: OpContext): Promise<User | null> {
    return this.op(async (c) => {
      const doc = await timeAsync(ctx, 'db-user-lookup', this.clock, () => c.users.findOne({ username }));
      return doc === null ? null : toUser(doc);
    });
  }

  createFamily(input: NewFamily, ctx: OpContext): Promise<Family> {
    return this.op(async (c) => {
      const claim: SbdClaim = { minN: 1, triedN: 1 };
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await this.tx((session) => createFamilyInTransaction(c, session, input, claim, ctx, this.clock));
        } catch (error) {
          if (!isDuplicateKey(error) || attempt >= SBD_MAX_ATTEMPTS) throw error;
          // A concurrent transaction committed this suffix after our snapshot: start over past it.
          if (isDuplicateKey(error, SBD_INDEX)) claim.minN = claim.triedN + 1;
        }
      }
    });
  }

  getFamily(familyId: string, ctx: OpContext): Promise<Family | null> {
    return this.op(async (c) => {
      const doc = await timeAsync(ctx, 'db-family-read', this.clock, () => c.families.findOne({ _id: familyId }));
      return doc === null ? null : toFamily(doc);
    });
  }

  listFamiliesOf(userId: string, ctx: OpContext): Promise<Family[]> {
    return this.op(async (c) => {
      const docs = await timeAsync(ctx, 'db-family-list', this.clock, () =>
        c.families.find({ members: userId }).sort({ createdAt: 1, _id: 1 }).toArray());
      return docs.map(toFamily);
    });
  }

  renameFamily(input: FamilyRename, ctx: OpContext): Promise<Family> {
    return this.op((c) => this.tx(async (session) => {
      const filter = input.expectedVersion === undefined
        ? { _id: input.familyId } : { _id: input.familyId, version: input.expectedVersion };
      const updated = await timeAsync(ctx, 'db-family-update', this.clock, () => c.families.findOneAndUpdate(
        filter, { $set: { name: input.name }, $inc: { version: 1 } }, { session, returnDocument: 'after' }));
      if (updated === null) {
        const current = await timeAsync(ctx, 'db-family-read', this.clock, () => c.families.findOne({ _id: input.familyId }, { session }));
        if (current === null) throw new DomainError('not_found', `family ${input.familyId} not found`);
        throw new DomainError('version_mismatch',
          `family is at version ${current.version}, not ${String(input.expectedVersion)}; re-read it and retry`);
      }
      faultAfterFirstWrite(ctx);
      await appendFamilyChange(c, session, input.familyId, ctx, this.clock);
      return toFamily(updated);
    }));
  }

  createInvitation(input: NewInvitation, ctx: OpContext): Promise<Invitation> {
    return this.op(async (c) => {
      const doc: InvitationDoc = {
        _id: randomUUID(), familyId: input.familyId, inviteeId: input.inviteeId, invitedBy: input.invitedBy,
        role: input.role, status: 'pending', createdAt: new Date().toISOString(),
      };
      try {
        await this.tx(async (session) => {
          const family = await timeAsync(ctx, 'db-family-read', this.clock, () => c.families.findOne({ _id: input.familyId }, { session }));
          if (family === null) throw new DomainError('not_found', `family ${input.familyId} not found`);
          if (family.members.includes(input.inviteeId)) {
            throw new DomainError('already_member', 'the invitee is already a member of this family');
          }
          const invitee = await timeAsync(ctx, 'db-user-lookup', this.clock, () => c.users.findOne({ _id: input.inviteeId }, { session }));
          if (invitee === null) throw new DomainError('not_found', `invitee ${input.inviteeId} not found`);
          await timeAsync(ctx, 'db-invitation-insert', this.clock, () => c.invitations.insertOne(doc, { session }));
          faultAfterFirstWrite(ctx);
        });
      } catch (error) {
        if (isDuplicateKey(error)) {
          throw new DomainError('invitation_pending', 'an invitation to this family is already pending for this user');
        }
        throw error;
      }
      return toInvitation(doc);
    });
  }

  getInvitation(invitationId: string, ctx: OpContext): Promise<Invitation | null> {
    return this.op(async (c) => {
      const doc = await timeAsync(ctx, 'db-invitation-read', this.clock, () => c.invitations.findOne({ _id: invitationId }));
      return doc === null ? null : toInvitation(doc);
    });
  }

  listInvitations(familyId: string, ctx: OpContext): Promise<Invitation[]> {
    return this.op(async (c) => {
      // No insertion order in a collection: createdAt orders, the ID only makes ties within a millisecond deterministic.
      const docs = await timeAsync(ctx, 'db-invitation-list', this.clock, () =>
        c.invitations.find({ familyId }).sort({ createdAt: 1, _id: 1 }).toArray());
      return docs.map(toInvitation);
    });
  }

  answerInvitation(input: InvitationAnswer, ctx: OpContext): Promise<Invitation> {
    return this.op((c) => this.tx(async (session) => {
      const doc = await timeAsync(ctx, 'db-invitation-read', this.clock, () => c.invitations.findOne({ _id: input.invitationId }, { session }));
      if (doc === null) throw new DomainError('not_found', `invitation ${input.invitationId} not found`);
      if (doc.inviteeId !== input.userId) throw new DomainError('forbidden', 'only the invitee may answer an invitation');
      if (doc.status !== 'pending') throw new DomainError('invitation_closed', `the invitation was already ${doc.status}`);
      const status = input.accept ? 'accepted' : 'declined';
      const closed = await timeAsync(ctx, 'db-invitation-update', this.clock, () =>
        c.invitations.updateOne({ _id: doc._id, status: 'pending' }, { $set: { status } }, { session }));
      if (closed.matchedCount === 0) throw new DomainError('invitation_closed', 'the invitation was answered concurrently');
      faultAfterFirstWrite(ctx);
      if (input.accept) {
        const push = doc.role === 'admin' ? { members: doc.inviteeId, admins: doc.inviteeId } : { members: doc.inviteeId };
        const joined = await timeAsync(ctx, 'db-membership-insert', this.clock, () => c.families.updateOne(
          { _id: doc.familyId, members: { $ne: doc.inviteeId } }, { $push: push, $inc: { version: 1 } }, { session }));
        if (joined.matchedCount === 0) throw new DomainError('already_member', 'the invitee is already a member of this family');
        await appendFamilyChange(c, session, doc.familyId, ctx, this.clock);
      }
      return toInvitation({ ...doc, status });
    }));
  }

  transfer(input: NewTransfer, ctx: OpContext): Promise<Transfer> {
    return this.op((c) => this.tx(async (session) => {
      assertPositiveInteger(input.amount, 'amount');
      const family = await timeAsync(ctx, 'db-family-read', this.clock, () => c.families.findOne({ _id: input.familyId }, { session }));
      if (family === null) throw new DomainError('not_found', `family ${input.familyId} not found`);
      if (!family.members.includes(input.toUserId)) {
        throw new DomainError('not_a_member', 'the recipient of a transfer must be a member of the family');
      }
      const debited = await timeAsync(ctx, 'db-transfer', this.clock, () => c.families.findOneAndUpdate(
        { _id: input.familyId, balance: { $gte: input.amount } }, { $inc: { balance: -input.amount, version: 1 } },
        { session, returnDocument: 'after' }));
      if (debited === null) {
        throw new DomainError('insufficient_funds', `the family holds ${family.balance} tokens, fewer than ${input.amount}`);
      }
      faultAfterFirstWrite(ctx);
      const doc: TransferDoc = {
        _id: randomUUID(), familyId: input.familyId, to: input.toUserId, amount: input.amount, byUserId: input.byUserId,
        familyVersion: debited.version, createdAt: new Date().toISOString(),
      };
      await timeAsync(ctx, 'db-transfer', this.clock, () =>
        c.users.updateOne({ _id: input.toUserId }, { $inc: { balance: input.amount } }, { session }));
      await timeAsync(ctx, 'db-transfer', this.clock, () => c.transfers.insertOne(doc, { session }));
      await appendFamilyChange(c, session, input.familyId, ctx, this.clock);
      return toTransfer(doc);
    }));
  }

  listLedger(familyId: string, ctx: OpContext): Promise<Transfer[]> {
    return this.op(async (c) => {
      const docs = await timeAsync(ctx, 'db-ledger-read', this.clock, () =>
        c.transfers.find({ familyId }).sort({ familyVersion: 1 }).toArray());
      return docs.map(toTransfer);
    });
  }

  hitRateLimit(input: RateLimitHit, ctx: OpContext): Promise<number> {
    // Not subject to failMidTransaction: it runs before the limited operation, which the fault targets.
    return this.op(async (c) => {
      const expiresAt = new Date(input.windowStartMs + 2 * this.options.rateLimitWindowMs);
      for (let attempt = 1; ; attempt += 1) {
        try {
          const doc = await timeAsync(ctx, 'db-rate-limit', this.clock, () => c.rateLimits.findOneAndUpdate(
            { _id: `${input.key}@${input.windowStartMs}` }, { $inc: { hits: 1 }, $setOnInsert: { expiresAt } },
            { upsert: true, returnDocument: 'after' }));
          if (doc === null) throw new Error('rate-limit upsert returned no document');
          return doc.hits;
        } catch (error) {
          if (!isDuplicateKey(error) || attempt >= RATE_LIMIT_UPSERT_ATTEMPTS) throw error;
        }
      }
    });
  }

  familyChangesSince(cursor: ChangeCursor | null, ctx: OpContext): Promise<FamilyChanges> {
    return this.op((c) => timeAsync(ctx, 'db-change-log', this.clock, async () => {
      if (cursor === null) {
        const counter = await c.counters.findOne({ _id: CHANGE_COUNTER_ID });
        return { familyIds: [], cursor: String(counter?.seq ?? 0) };
      }
      const after = parseChangeCursor(cursor);
      const docs = await c.familyChanges.find({ _id: { $gt: after } }).sort({ _id: 1 }).limit(CHANGE_LOG_PAGE).toArray();
      const last = docs.at(-1);
      return { familyIds: distinctIds(docs.map((d) => d.familyId)), cursor: last === undefined ? cursor : String(last._id) };
    }));
  }

  /** The counter `$inc` serialises every family-changing transaction's entry, so sequence order is commit order. */
  private async tx<T>(body: (session: ClientSession) => Promise<T>): Promise<T> {
    const client = this.client;
    if (client === null) throw closedError();
    const session = client.startSession();
    try {
      return await session.withTransaction(body, TRANSACTION_OPTIONS);
    } finally {
      await session.endSession();
    }
  }

  private async op<T>(body: (c: Collections) => Promise<T>): Promise<T> {
    const cols = this.cols;
    if (cols === null) throw closedError();
    try {
      return await body(cols);
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

async function createCollection(db: Db, name: string): Promise<void> {
  try {
    await db.createCollection(name);
  } catch (error) {
    // Another instance created it first: exactly the state we wanted.
    if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
  }
}

function closedError(): DomainError {
  return new DomainError('store_unavailable', 'the MongoDB store is closed (or init() was not awaited)');
}
