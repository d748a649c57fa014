/** Document shapes, indexes and mappers of the MongoDB store. `_id`s are UUID strings, as in SQLite. */
import type { Db, IndexDescription } from 'mongodb';
import type { Family, Invitation, InvitationStatus, Role, Transfer, User } from '../domain.ts';

export interface UserDoc {
  _id: string;
  username: string;
  tokenHash: string;
  balance: number;
  /** Families this user owns: the counter the family limit is enforced on with a conditional `$inc`. */
  familiesOwned: number;
  createdAt: string;
}

export interface FamilyDoc {
  _id: string;
  name: string;
  sbdUsername: string;
  ownerId: string;
  admins: string[];
  members: string[];
  balance: number;
  version: number;
  createdAt: string;
}

export interface InvitationDoc {
  _id: string;
  familyId: string;
  inviteeId: string;
  invitedBy: string;
  role: Role;
  status: InvitationStatus;
  createdAt: string;
}

export interface TransferDoc {
  _id: string;
  familyId: string;
  to: string;
  amount: number;
  byUserId: string;
  /** The family's version this transfer produced: unique and increasing per family, so it orders the ledger. */
  familyVersion: number;
  createdAt: string;
}

export interface RateLimitDoc {
  /** `<key>@<windowStartMs>`. */
  _id: string;
  hits: number;
  /** The TTL index removes the window after this instant. */
  expiresAt: Date;
}

/** Lowest sbd suffix of a base not yet known to be taken (families are never deleted). */
export interface SbdBaseDoc {
  _id: string;
  next: number;
}

export interface CounterDoc {
  _id: string;
  seq: number;
}

export interface ChangeDoc {
  /** The change's sequence number, from the `familyChanges` counter. */
  _id: number;
  familyId: string;
}

export const CHANGE_COUNTER_ID = 'familyChanges';
export const SBD_INDEX = 'families_sbd_username';
export const USERNAME_INDEX = 'users_username';

export const INDEXES: Readonly<Record<string, IndexDescription[]>> = {
  users: [
    { key: { username: 1 }, name: USERNAME_INDEX, unique: true },
    { key: { tokenHash: 1 }, name: 'users_token_hash', unique: true },
  ],
  families: [
    { key: { sbdUsername: 1 }, name: SBD_INDEX, unique: true },
    { key: { members: 1 }, name: 'families_members' },
  ],
  invitations: [
    {
      key: { familyId: 1, inviteeId: 1 }, name: 'invitations_one_pending', unique: true,
      partialFilterExpression: { status: 'pending' },
    },
    { key: { familyId: 1, createdAt: 1, _id: 1 }, name: 'invitations_family' },
  ],
  transfers: [{ key: { familyId: 1, familyVersion: 1 }, name: 'transfers_family' }],
  rateLimits: [{ key: { expiresAt: 1 }, name: 'rate_limits_ttl', expireAfterSeconds: 0 }],
  sbdBases: [],
  counters: [],
  familyChanges: [],
};

/** The typed collections of one database. */
export function collections(db: Db) {
  return {
    users: db.collection<UserDoc>('users'),
    families: db.collection<FamilyDoc>('families'),
    invitations: db.collection<InvitationDoc>('invitations'),
    transfers: db.collection<TransferDoc>('transfers'),
    rateLimits: db.collection<RateLimitDoc>('rateLimits'),
    sbdBases: db.collection<SbdBaseDoc>('sbdBases'),
    counters: db.collection<CounterDoc>('counters'),
    familyChanges: db.collection<ChangeDoc>('familyChanges'),
  };
}

export type Collections = ReturnType<typeof collections>;

export function toUser(doc: UserDoc): User {
  return { id: doc._id, username: doc.username, balance: doc.balance, createdAt: doc.createdAt };
}

export function toFamily(doc: FamilyDoc): Family {
  return {
    id: doc._id, name: doc.name, sbdUsername: doc.sbdUsername, ownerId: doc.ownerId, admins: doc.admins,
    members: doc.members, balance: doc.balance, version: doc.version, createdAt: doc.createdAt,
  };
}

export function toInvitation(doc: InvitationDoc): Invitation {
  return {
    id: doc._id, familyId: doc.familyId, inviteeId: doc.inviteeId, invitedBy: doc.invitedBy, role: doc.role,
    status: doc.status, createdAt: doc.createdAt,
  };
}

export function toTransfer(doc: TransferDoc): Transfer {
  return {
    id: doc._id, familyId: doc.familyId, from: doc.familyId, to: doc.to, amount: doc.amount,
    byUserId: doc.byUserId, createdAt: doc.createdAt,
  };
}
