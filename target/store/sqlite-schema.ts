/** DDL of the SQLite store. Unique indexes and foreign keys are the backstop for every invariant. */

export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id         TEXT PRIMARY KEY,
  username   TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  balance    INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
  created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS families (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  sbd_username TEXT NOT NULL UNIQUE,
  owner_id     TEXT NOT NULL REFERENCES users(id),
  balance      INTEGER NOT NULL CHECK (balance >= 0),
  version      INTEGER NOT NULL,
  created_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS families_owner ON families(owner_id);

-- Lowest suffix n of a sbd base not yet known to be taken: every n below it is taken, and families
-- are never deleted, so allocation starts here instead of probing from 1 (keeps creation O(1)).
CREATE TABLE IF NOT EXISTS sbd_bases (
  base   TEXT PRIMARY KEY,
  next_n INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS memberships (
  family_id TEXT NOT NULL REFERENCES families(id),
  user_id   TEXT NOT NULL REFERENCES users(id),
  role      TEXT NOT NULL CHECK (role IN ('member', 'admin')),
  joined_at TEXT NOT NULL,
  PRIMARY KEY (family_id, user_id)
);
CREATE INDEX IF NOT EXISTS memberships_user ON memberships(user_id);

CREATE TABLE IF NOT EXISTS invitations (
  id         TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL REFERENCES families(id),
  invitee_id TEXT NOT NULL REFERENCES users(id),
  invited_by TEXT NOT NULL REFERENCES users(id),
  role       TEXT NOT NULL CHECK (role IN ('member', 'admin')),
  status     TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS invitations_one_pending
  ON invitations(family_id, invitee_id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS invitations_family ON invitations(family_id);

CREATE TABLE IF NOT EXISTS transfers (
  id          TEXT PRIMARY KEY,
  family_id   TEXT NOT NULL REFERENCES families(id),
  to_user_id  TEXT NOT NULL REFERENCES users(id),
  amount      INTEGER NOT NULL CHECK (amount > 0),
  by_user_id  TEXT NOT NULL REFERENCES users(id),
  created_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transfers_family ON transfers(family_id);

CREATE TABLE IF NOT EXISTS rate_limits (
  key          TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  hits         INTEGER NOT NULL,
  PRIMARY KEY (key, window_start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS family_changes (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  family_id TEXT NOT NULL
);
`;

export interface UserRow {
  readonly id: string;
  readonly username: string;
  readonly balance: number;
  readonly created_at: string;
}

export interface FamilyRow {
  readonly id: string;
  readonly name: string;
  readonly sbd_username: string;
  readonly owner_id: string;
  readonly balance: number;
  readonly version: number;
  readonly created_at: string;
}

export interface MembershipRow {
  readonly family_id: string;
  readonly user_id: string;
  readonly role: 'member' | 'admin';
}

export interface InvitationRow {
  readonly id: string;
  readonly family_id: string;
  readonly invitee_id: string;
  readonly invited_by: string;
  readonly role: 'member' | 'admin';
  readonly status: 'pending' | 'accepted' | 'declined';
  readonly created_at: string;
}

export interface TransferRow {
  readonly id: string;
  readonly family_id: string;
  readonly to_user_id: string;
  readonly amount: number;
  readonly by_user_id: string;
  readonly created_at: string;
}
