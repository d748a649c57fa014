/** The one persistence interface of the reference service; SQLite and MongoDB implement it. */
import type { Family, Invitation, Role, Transfer, User } from '../domain.ts';

/** The named queries reported in `Server-Timing` and the query-duration metric. */
export type QueryName =
  | 'db-user-insert'
  | 'db-user-lookup'
  | 'db-family-count'
  | 'db-family-insert'
  | 'db-family-read'
  | 'db-family-update'
  | 'db-family-list'
  | 'db-invitation-insert'
  | 'db-invitation-read'
  | 'db-invitation-update'
  | 'db-invitation-list'
  | 'db-membership-insert'
  | 'db-transfer'
  | 'db-ledger-read'
  | 'db-rate-limit'
  | 'db-change-log';

export interface QueryTiming {
  readonly name: QueryName;
  readonly durationMs: number;
}

/** Per-request context a store operation reports into and reads fault flags from. */
export interface OpContext {
  /** Every query the operation ran, in order (appended by the store). */
  readonly timings: QueryTiming[];
  /**
   * Fault injection: throw `DomainError('injected_fault')` after the first write of the transaction. Honoured by
   * createUser, createFamily, renameFamily, createInvitation, answerInvitation and transfer; ignored by reads and
   * by hitRateLimit (it runs before the limited operation, which is what the fault targets).
   */
  readonly failMidTransaction?: boolean;
}

export interface PoolStats {
  /** Connections open now. */
  readonly open: number;
  /** Connections checked out by an operation now. */
  readonly checkedOut: number;
  /** The most connections the pool may open (SQLite: 1, its synchronous driver uses one connection per instance). */
  readonly max: number;
}

export interface NewFamily {
  readonly ownerId: string;
  readonly name: string;
  /** An owner with this many families already gets `family_limit`. */
  readonly familyLimit: number;
  readonly initialBalance: number;
}

export interface FamilyRename {
  readonly familyId: string;
  readonly name: string;
  /** When set, a family at another version gets `version_mismatch`. */
  readonly expectedVersion?: number;
}

export interface NewInvitation {
  readonly familyId: string;
  readonly inviteeId: string;
  readonly invitedBy: string;
  readonly role: Role;
}

export interface InvitationAnswer {
  readonly invitationId: string;
  /** Only the invitee may answer; anyone else gets `forbidden`. */
  readonly userId: string;
  readonly accept: boolean;
}

export interface NewTransfer {
  readonly familyId: string;
  readonly toUserId: string;
  readonly amount: number;
  readonly byUserId: string;
}

export interface RateLimitHit {
  /** e.g. `<userId>:families`. */
  readonly key: string;
  /** Start of the fixed window this hit falls in (ms since the epoch). */
  readonly windowStartMs: number;
}

/** Where a reader of the change log got to; opaque to callers. */
export type ChangeCursor = string;

export interface FamilyChanges {
  readonly familyIds: readonly string[];
  readonly cursor: ChangeCursor;
}

/**
 * Invariants are the store's job, enforced by unique indexes and transactions so they hold across
 * instances: unique family IDs and sbd usernames, the per-user family limit, one pending invitation
 * per (family, invitee), conservation of tokens. Failures are `DomainError`s; an unavailable or
 * overloaded database is `DomainError('store_unavailable')`.
 * Authorization (admins only, members only) is the caller's: roles are never revoked, so a check made on a read
 * family stays true. IDs are UUID strings and timestamps ISO-8601 strings on every implementation.
 */
export interface Store {
  readonly kind: 'sqlite' | 'mongo';
  /** Creates tables/collections and indexes; safe to call from several instances at once. */
  init(): Promise<void>;
  close(): Promise<void>;
  poolStats(): PoolStats;

  /** `username_taken` when the name exists. */
  createUser(input: { username: string; tokenHash: string }, ctx: OpContext): Promise<User>;
  findUserByTokenHash(tokenHash: string, ctx: OpContext): Promise<User | null>;
  findUserByUsername(username: string, ctx: OpContext): Promise<User | null>;

  /**
   * `family_limit` when the owner already owns `familyLimit` families, also under concurrent creation; `not_found`
   * for an unknown owner. The sbdUsername is the lowest free of `family_<slug>`, `_2`, `_3`, ... (`sbdUsernameFor`).
   * The creation is appended to the change log.
   */
  createFamily(input: NewFamily, ctx: OpContext): Promise<Family>;
  getFamily(familyId: string, ctx: OpContext): Promise<Family | null>;
  /** Every family the user is a member of (owned or joined), in no promised order. */
  listFamiliesOf(userId: string, ctx: OpContext): Promise<Family[]>;
  /** `not_found`, `version_mismatch`; returns the family at version + 1. The sbdUsername does not change. */
  renameFamily(input: FamilyRename, ctx: OpContext): Promise<Family>;

  /** `not_found` (family or invitee), `already_member`, `invitation_pending` (exactly one pending per family and invitee). */
  createInvitation(input: NewInvitation, ctx: OpContext): Promise<Invitation>;
  getInvitation(invitationId: string, ctx: OpContext): Promise<Invitation | null>;
  /** Accepting adds the membership and closes the invitation in one transaction. `not_found`, `forbidden`, `invitation_closed`. */
  answerInvitation(input: InvitationAnswer, ctx: OpContext): Promise<Invitation>;
  /**
   * Every invitation of the family, any status, oldest first (by `createdAt`; invitations created in the same
   * millisecond in no promised order); empty for an unknown family.
   */
  listInvitations(familyId: string, ctx: OpContext): Promise<Invitation[]>;

  /**
   * Debit family, credit member, append ledger entry in one transaction. `not_found`, `not_a_member`,
   * `insufficient_funds`; `invalid_request` unless the amount is an integer > 0.
   */
  transfer(input: NewTransfer, ctx: OpContext): Promise<Transfer>;
  /** The family's transfers, oldest first; empty for an unknown family. */
  listLedger(familyId: string, ctx: OpContext): Promise<Transfer[]>;

  /** Counts this hit atomically and returns the hits in the key's window so far, this one included. */
  hitRateLimit(input: RateLimitHit, ctx: OpContext): Promise<number>;

  /**
   * Families changed (renamed, membership, balance) after `cursor`; `null` starts at the current end.
   * Every write that changes a family appends to this log in its own transaction, so a reader that
   * polls after a write was acknowledged sees it: the per-instance cache stays coherent through it.
   * A page holds at most CHANGE_LOG_PAGE entries (poll again from the returned cursor); the cursor is unchanged
   * when nothing changed; a cursor this store did not issue is `invalid_request`.
   */
  familyChangesSince(cursor: ChangeCursor | null, ctx: OpContext): Promise<FamilyChanges>;

  /**
   * Fault injection (`POST /_faults/db-stall`): makes the database unavailable to the service for `ms`
   * and resolves once the stall has begun. SQLite: a second connection holds the write lock (WAL
   * readers are never blocked, so reads go on); scope `database`, every instance on the file stalls.
   * MongoDB: this instance's pool is checked out to the last connection; scope `instance`.
   */
  stall?(ms: number): Promise<StoreStall>;
}

export interface StoreStall {
  /** What stalls: the whole database (every instance) or this instance's access to it. */
  readonly scope: 'database' | 'instance';
  /** What is held, in words (for the scenario's notes). */
  readonly how: string;
}
