/** The SQLite store (better-sqlite3): one WAL-mode file shared by every instance of a deployment. */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { DomainError, sbdUsernameFor } from '../domain.ts';
import type { Family, Invitation, Transfer, User } from '../domain.ts';
import { SQLITE_SCHEMA } from './sqlite-schema.ts';
import { toFamily, toInvitation, toTransfer, toUser } from './sqlite-rows.ts';
import { prepareStatements } from './sqlite-statements.ts';
import type { SqliteStatements } from './sqlite-statements.ts';
import type {
  ChangeCursor, FamilyChanges, FamilyRename, InvitationAnswer, NewFamily, NewInvitation, NewTransfer,
  OpContext, PoolStats, RateLimitHit, Store, StoreStall,
} from './store.ts';
import {
  CHANGE_LOG_PAGE, DEFAULT_CLOCK, assertPositiveInteger, distinctIds, faultAfterFirstWrite, parseChangeCursor, timeSync,
} from './query-timing.ts';
import type { Clock } from './query-timing.ts';
import type { SqliteSynchronous } from '../config.ts';
import { closedError, isConstraint } from './sqlite-errors.ts';
import { holdWriteLock, retryWhileLocked } from './sqlite-stall.ts';
import type { HeldLock } from './sqlite-stall.ts';

/** Several instances create the schema at start-up at once: their waits are not a request's. */
const INIT_LOCK_WAIT_MS = 10_000;

const SYNCHRONOUS_PRAGMA: Readonly<Record<SqliteSynchronous, string>> = { off: 'OFF', normal: 'NORMAL', full: 'FULL' };

export interface SqliteStoreOptions {
  readonly path: string;
  /** How long one attempt blocks the event loop on another connection's lock (SQLite busy_timeout). */
  readonly busyTimeoutMs: number;
  /** How long an operation retries a locked database, yielding the event loop between attempts, before `store_unavailable`. */
  readonly lockWaitMs?: number;
  /** The `synchronous` pragma (target/config.ts says why the embedded target uses `off`). */
  readonly synchronous: SqliteSynchronous;
  readonly clock?: Clock;
}

/**
 * One connection per instance: better-sqlite3 is synchronous, so an operation holds the connection
 * for its whole (blocking) run and no second operation of this process can start meanwhile; a pool
 * would add nothing. Hence `poolStats()` is open=1, max=1, and checkedOut=1 only inside a running
 * operation (which a caller on the same thread can never observe). Concurrency across instances
 * comes from WAL: readers never block; a writer whose BEGIN IMMEDIATE finds the lock taken retries
 * for up to `lockWaitMs`, between attempts yielding the event loop so the instance serves others.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private db: Database.Database | null = null;
  private stmts: SqliteStatements | null = null;
  private running = 0;
  private readonly clock: Clock;
  /** Stalls in progress (fault injection): close() ends them, so no timer or second connection outlives the store. */
  private readonly stalls = new Set<HeldLock>();

  constructor(private readonly options: SqliteStoreOptions) {
    this.clock = options.clock ?? DEFAULT_CLOCK;
  }

  init(): Promise<void> {
    return this.op(INIT_LOCK_WAIT_MS, () => {
      if (this.db !== null) return;
      const db = openDatabase(this.options.path, this.options.busyTimeoutMs);
      try {
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${SYNCHRONOUS_PRAGMA[this.options.synchronous]}`);
        db.pragma('foreign_keys = ON');
        db.transaction(() => db.exec(SQLITE_SCHEMA)).immediate();
        this.stmts = prepareStatements(db);
        this.db = db;
      } catch (error) {
        db.close();
        throw error;
      }
    });
  }

  close(): Promise<void> {
    for (const held of [...this.stalls]) held.release();
    this.db?.close();
    this.db = null;
    this.stmts = null;
    return Promise.resolve();
  }

  poolStats(): PoolStats {
    return { open: this.db === null ? 0 : 1, checkedOut: this.running > 0 ? 1 : 0, max: 1 };
  }

  createUser(input: { username: string; tokenHash: string }, ctx: OpContext): Promise<User> {
    return this.write((s) => {
      const user: User = { id: randomUUID(), username: input.username, balance: 0, createdAt: new Date().toISOString() };
      try {
        timeSync(ctx, 'db-user-insert', this.clock, () =>
          s.insertUser.run(user.id, user.username, input.tokenHash, user.createdAt));
      } catch (error) {
        if (isConstraint(error, 'UNIQUE') && String(error).includes('users.username')) {
          throw new DomainError('username_taken', `username "${input.username}" is taken; choose another`);
        }
        throw error;
      }
      faultAfterFirstWrite(ctx);
      return user;
    });
  }

  findUserByTokenHash(tokenHash: string, ctx: OpContext): Promise<User | null> {
    return this.read((s) => toUser(timeSync(ctx, 'db-user-lookup', this.clock, () => s.userByTokenHash.get(tokenHash))));
  }

  findUserByUsername(username: string, ctx: OpContext): Promise<User | null> {
    return this.read((s) => toUser(timeSync(ctx, 'db-user-lookup', this.clock, () => s.userByUsername.get(username))));
  }

  createFamily(input: NewFamily, ctx: OpContext): Promise<Family> {
    return this.write((s) => {
      const owned = timeSync(ctx, 'db-family-count', this.clock, () => s.countOwned.get(input.ownerId)?.n ?? 0);
      if (owned >= input.familyLimit) {
        throw new DomainError('family_limit', `user already owns ${owned} families, the limit is ${input.familyLimit}`);
      }
      const id = randomUUID();
      const createdAt = new Date().toISOString();
      const sbdUsername = timeSync(ctx, 'db-family-insert', this.clock, () => {
        const sbd = allocateSbdUsername(s, input.name);
        s.insertFamily.run(id, input.name, sbd, input.ownerId, input.initialBalance, createdAt);
        return sbd;
      });
      faultAfterFirstWrite(ctx);
      timeSync(ctx, 'db-membership-insert', this.clock, () => s.insertMembership.run(id, input.ownerId, 'admin', createdAt));
      this.appendChange(s, id, ctx);
      const family: Family = {
        id, name: input.name, sbdUsername, ownerId: input.ownerId, admins: [input.ownerId], members: [input.ownerId],
        balance: input.initialBalance, version: 1, createdAt,
      };
      return family;
    }, { foreignKey: `owner ${input.ownerId} not found` });
  }

  getFamily(familyId: string, ctx: OpContext): Promise<Family | null> {
    return this.readSnapshot((s) => {
      const row = timeSync(ctx, 'db-family-read', this.clock, () => s.familyById.get(familyId));
      if (row === undefined) return null;
      return toFamily(row, timeSync(ctx, 'db-family-read', this.clock, () => s.membersOf.all(familyId)));
    });
  }

  listFamiliesOf(userId: string, ctx: OpContext): Promise<Family[]> {
    return this.readSnapshot((s) => {
      const rows = timeSync(ctx, 'db-family-list', this.clock, () => s.familiesOfUser.all(userId));
      const memberships = timeSync(ctx, 'db-family-list', this.clock, () => s.membershipsOfFamiliesOfUser.all(userId));
      return rows.map((row) => toFamily(row, memberships.filter((m) => m.family_id === row.id)));
    });
  }

  renameFamily(input: FamilyRename, ctx: OpContext): Promise<Family> {
    return this.write((s) => {
      const expected = input.expectedVersion ?? null;
      const result = timeSync(ctx, 'db-family-update', this.clock, () =>
        s.renameFamily.run({ id: input.familyId, name: input.name, expected }));
      if (result.changes === 0) {
        const current = timeSync(ctx, 'db-family-read', this.clock, () => s.familyById.get(input.familyId));
        if (current === undefined) throw notFound('family', input.familyId);
        throw new DomainError('version_mismatch', `family is at version ${current.version}, not ${String(expected)}; re-read it and retry`);
      }
      faultAfterFirstWrite(ctx);
      this.appendChange(s, input.familyId, ctx);
      return this.loadFamily(s, input.familyId, ctx);
    });
  }

  createInvitation(input: NewInvitation, ctx: OpContext): Promise<Invitation> {
    return this.write((s) => {
      if (timeSync(ctx, 'db-family-read', this.clock, () => s.familyById.get(input.familyId)) === undefined) {
        throw notFound('family', input.familyId);
      }
      if (timeSync(ctx, 'db-family-read', this.clock, () => s.membership.get(input.familyId, input.inviteeId)) !== undefined) {
        throw new DomainError('already_member', 'the invitee is already a member of this family');
      }
      const invitation: Invitation = {
        id: randomUUID(), familyId: input.familyId, inviteeId: input.inviteeId, invitedBy: input.invitedBy,
        role: input.role, status: 'pending', createdAt: new Date().toISOString(),
      };
      try {
        timeSync(ctx, 'db-invitation-insert', this.clock, () => s.insertInvitation.run(
          invitation.id, invitation.familyId, invitation.inviteeId, invitation.invitedBy, invitation.role, invitation.createdAt));
      } catch (error) {
        if (isConstraint(error, 'UNIQUE')) {
          throw new DomainError('invitation_pending', 'an invitation to this family is already pending for this user');
        }
        throw error;
      }
      faultAfterFirstWrite(ctx);
      return invitation;
    }, { foreignKey: `invitee ${input.inviteeId} or inviter ${input.invitedBy} not found` });
  }

  getInvitation(invitationId: string, ctx: OpContext): Promise<Invitation | null> {
    return this.read((s) => {
      const row = timeSync(ctx, 'db-invitation-read', this.clock, () => s.invitationById.get(invitationId));
      return row === undefined ? null : toInvitation(row);
    });
  }

  listInvitations(familyId: string, ctx: OpContext): Promise<Invitation[]> {
    return this.read((s) => timeSync(ctx, 'db-invitation-list', this.clock, () => s.invitationsOf.all(familyId)).map(toInvitation));
  }

  answerInvitation(input: InvitationAnswer, ctx: OpContext): Promise<Invitation> {
    return this.write((s) => {
      const row = timeSync(ctx, 'db-invitation-read', this.clock, () => s.invitationById.get(input.invitationId));
      if (row === undefined) throw notFound('invitation', input.invitationId);
      if (row.invitee_id !== input.userId) throw new DomainError('forbidden', 'only the invitee may answer an invitation');
      if (row.status !== 'pending') throw new DomainError('invitation_closed', `the invitation was already ${row.status}`);
      const status = input.accept ? 'accepted' : 'declined';
      timeSync(ctx, 'db-invitation-update', this.clock, () => s.closeInvitation.run(status, row.id));
      faultAfterFirstWrite(ctx);
      if (input.accept) {
        try {
          timeSync(ctx, 'db-membership-insert', this.clock, () =>
            s.insertMembership.run(row.family_id, row.invitee_id, row.role, new Date().toISOString()));
        } catch (error) {
          if (isConstraint(error, 'PRIMARYKEY')) throw new DomainError('already_member', 'the invitee is already a member of this family');
          throw error;
        }
        timeSync(ctx, 'db-family-update', this.clock, () => s.bumpVersion.run(row.family_id));
        this.appendChange(s, row.family_id, ctx);
      }
      return toInvitation({ ...row, status });
    });
  }

  transfer(input: NewTransfer, ctx: OpContext): Promise<Transfer> {
    return this.write((s) => {
      assertPositiveInteger(input.amount, 'amount');
      const family = timeSync(ctx, 'db-family-read', this.clock, () => s.familyById.get(input.familyId));
      if (family === undefined) throw notFound('family', input.familyId);
      if (timeSync(ctx, 'db-family-read', this.clock, () => s.membership.get(input.familyId, input.toUserId)) === undefined) {
        throw new DomainError('not_a_member', 'the recipient of a transfer must be a member of the family');
      }
      const debit = timeSync(ctx, 'db-transfer', this.clock, () => s.debitFamily.run({ id: input.familyId, amount: input.amount }));
      if (debit.changes === 0) {
        throw new DomainError('insufficient_funds', `the family holds ${family.balance} tokens, fewer than ${input.amount}`);
      }
      faultAfterFirstWrite(ctx);
      const transfer: Transfer = {
        id: randomUUID(), familyId: input.familyId, from: input.familyId, to: input.toUserId, amount: input.amount,
        byUserId: input.byUserId, createdAt: new Date().toISOString(),
      };
      timeSync(ctx, 'db-transfer', this.clock, () => s.creditUser.run(input.amount, input.toUserId));
      timeSync(ctx, 'db-transfer', this.clock, () => s.insertTransfer.run(
        transfer.id, transfer.familyId, transfer.to, transfer.amount, transfer.byUserId, transfer.createdAt));
      this.appendChange(s, input.familyId, ctx);
      return transfer;
    }, { foreignKey: `user ${input.byUserId} not found` });
  }

  listLedger(familyId: string, ctx: OpContext): Promise<Transfer[]> {
    return this.read((s) => timeSync(ctx, 'db-ledger-read', this.clock, () => s.ledgerOf.all(familyId)).map(toTransfer));
  }

  hitRateLimit(input: RateLimitHit, ctx: OpContext): Promise<number> {
    // Not subject to failMidTransaction: it runs before the limited operation, which the fault targets.
    return this.write((s) => timeSync(ctx, 'db-rate-limit', this.clock, () => {
      const hits = s.hitRateLimit.get(input.key, input.windowStartMs)?.hits;
      if (hits === undefined) throw new Error('rate-limit upsert returned no row');
      s.dropOldWindows.run(input.key, input.windowStartMs);
      return hits;
    }));
  }

  familyChangesSince(cursor: ChangeCursor | null, ctx: OpContext): Promise<FamilyChanges> {
    return this.read((s) => timeSync(ctx, 'db-change-log', this.clock, () => {
      if (cursor === null) return { familyIds: [], cursor: String(s.lastChange.get()?.seq ?? 0) };
      const after = parseChangeCursor(cursor);
      const rows = s.changesAfter.all(after, CHANGE_LOG_PAGE);
      const last = rows.at(-1);
      return { familyIds: distinctIds(rows.map((r) => r.family_id)), cursor: last === undefined ? cursor : String(last.seq) };
    }));
  }

  private appendChange(s: SqliteStatements, familyId: string, ctx: OpContext): void {
    timeSync(ctx, 'db-change-log', this.clock, () => s.appendChange.run(familyId));
  }

  private loadFamily(s: SqliteStatements, familyId: string, ctx: OpContext): Family {
    const row = timeSync(ctx, 'db-family-read', this.clock, () => s.familyById.get(familyId));
    if (row === undefined) throw notFound('family', familyId);
    return toFamily(row, timeSync(ctx, 'db-family-read', this.clock, () => s.membersOf.all(familyId)));
  }

  private read<T>(body: (s: SqliteStatements) => T): Promise<T> {
    return this.op(this.lockWaitMs, () => body(this.statements()));
  }

  /** Several reads in one deferred transaction: one WAL snapshot, so a family and its members agree. */
  private readSnapshot<T>(body: (s: SqliteStatements) => T): Promise<T> {
    return this.op(this.lockWaitMs, () => {
      const s = this.statements();
      const db = this.db;
      if (db === null) throw closedError();
      return db.transaction(() => body(s)).deferred();
    });
  }

  /** Runs `body` as one BEGIN IMMEDIATE transaction: it takes the write lock up front, so reads inside it are current. */
  private write<T>(body: (s: SqliteStatements) => T, messages: { foreignKey?: string } = {}): Promise<T> {
    return this.op(this.lockWaitMs, () => {
      const s = this.statements();
      const db = this.db;
      if (db === null) throw closedError();
      try {
        return db.transaction(() => body(s)).immediate();
      } catch (error) {
        if (messages.foreignKey !== undefined && isConstraint(error, 'FOREIGNKEY')) {
          throw new DomainError('not_found', messages.foreignKey);
        }
        throw error;
      }
    });
  }

  private get lockWaitMs(): number {
    return this.options.lockWaitMs ?? 0;
  }

  /** Runs `body`, retrying it while the database is locked for up to `waitMs` (sqlite-stall.ts says how). */
  private op<T>(waitMs: number, body: () => T): Promise<T> {
    return retryWhileLocked(waitMs, this.options.busyTimeoutMs, () => {
      this.running += 1;
      try {
        return body();
      } finally {
        this.running -= 1;
      }
    });
  }

  /** A second connection holds the write lock (BEGIN EXCLUSIVE) for `ms`, as another process's long transaction would. */
  async stall(ms: number): Promise<StoreStall> {
    const held = await holdWriteLock(() => openDatabase(this.options.path, 0), ms, this.clock, (done) => this.stalls.delete(done));
    this.stalls.add(held);
    return held.stall;
  }

  private statements(): SqliteStatements {
    if (this.stmts === null) throw closedError();
    return this.stmts;
  }
}

/** Lowest free `family_<slug>`, `_2`, `_3`, ... Must run inside the write transaction, which serialises allocators. */
function allocateSbdUsername(s: SqliteStatements, name: string): string {
  const base = sbdUsernameFor(name, 1);
  // Candidates are probed against the real column: `a 2` is family_a_2, which is also `a`'s second suffix.
  for (let n = s.sbdNext.get(base)?.next_n ?? 1; ; n += 1) {
    const candidate = sbdUsernameFor(name, n);
    if (s.sbdTaken.get(candidate) === undefined) {
      s.sbdSetNext.run(base, n + 1);
      return candidate;
    }
  }
}

function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  try {
    return new Database(path, { timeout: busyTimeoutMs });
  } catch (error) {
    throw new Error(`cannot open the SQLite database at ${path} (${String(error)}); check that its directory exists and is writable`);
  }
}

function notFound(what: string, id: string): DomainError {
  return new DomainError('not_found', `${what} ${id} not found`);
}
