/** The prepared statements of the SQLite store, typed by their parameters and rows. */
import type { Database } from 'better-sqlite3';
import type { FamilyRow, InvitationRow, MembershipRow, TransferRow, UserRow } from './sqlite-schema.ts';

const USER_COLUMNS = 'id, username, balance, created_at';
const FAMILY_COLUMNS = 'id, name, sbd_username, owner_id, balance, version, created_at';

/** Prepares every statement once per connection. */
export function prepareStatements(db: Database) {
  return {
    insertUser: db.prepare<[string, string, string, string]>(
      'INSERT INTO users (id, username, token_hash, balance, created_at) VALUES (?, ?, ?, 0, ?)',
    ),
    userByTokenHash: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE token_hash = ?`),
    userByUsername: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`),
    userById: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),

    countOwned: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM families WHERE owner_id = ?'),
    sbdNext: db.prepare<[string], { next_n: number }>('SELECT next_n FROM sbd_bases WHERE base = ?'),
    sbdTaken: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM families WHERE sbd_username = ?'),
    sbdSetNext: db.prepare<[string, number]>(
      'INSERT INTO sbd_bases (base, next_n) VALUES (?, ?) ON CONFLICT (base) DO UPDATE SET next_n = excluded.next_n',
    ),
    insertFamily: db.prepare<[string, string, string, string, number, string]>(
      'INSERT INTO families (id, name, sbd_username, owner_id, balance, version, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)',
    ),
    insertMembership: db.prepare<[string, string, string, string]>(
      'INSERT INTO memberships (family_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)',
    ),
    familyById: db.prepare<[string], FamilyRow>(`SELECT ${FAMILY_COLUMNS} FROM families WHERE id = ?`),
    membersOf: db.prepare<[string], MembershipRow>(
      'SELECT family_id, user_id, role FROM memberships WHERE family_id = ? ORDER BY rowid',
    ),
    membership: db.prepare<[string, string], MembershipRow>(
      'SELECT family_id, user_id, role FROM memberships WHERE family_id = ? AND user_id = ?',
    ),
    familiesOfUser: db.prepare<[string], FamilyRow>(
      `SELECT f.${FAMILY_COLUMNS.split(', ').join(', f.')} FROM memberships m JOIN families f ON f.id = m.family_id
       WHERE m.user_id = ? ORDER BY m.rowid`,
    ),
    membershipsOfFamiliesOfUser: db.prepare<[string], MembershipRow>(
      `SELECT family_id, user_id, role FROM memberships
       WHERE family_id IN (SELECT family_id FROM memberships WHERE user_id = ?) ORDER BY rowid`,
    ),
    renameFamily: db.prepare<{ id: string; name: string; expected: number | null }>(
      'UPDATE families SET name = :name, version = version + 1 WHERE id = :id AND (:expected IS NULL OR version = :expected)',
    ),
    bumpVersion: db.prepare<[string]>('UPDATE families SET version = version + 1 WHERE id = ?'),

    insertInvitation: db.prepare<[string, string, string, string, string, string]>(
      `INSERT INTO invitations (id, family_id, invitee_id, invited_by, role, status, created_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?)`,
    ),
    invitationById: db.prepare<[string], InvitationRow>(
      'SELECT id, family_id, invitee_id, invited_by, role, status, created_at FROM invitations WHERE id = ?',
    ),
    invitationsOf: db.prepare<[string], InvitationRow>(
      'SELECT id, family_id, invitee_id, invited_by, role, status, created_at FROM invitations WHERE family_id = ? ORDER BY rowid',
    ),
    closeInvitation: db.prepare<[string, string]>(
      "UPDATE invitations SET status = ? WHERE id = ? AND status = 'pending'",
    ),

    debitFamily: db.prepare<{ id: string; amount: number }>(
      'UPDATE families SET balance = balance - :amount, version = version + 1 WHERE id = :id AND balance >= :amount',
    ),
    creditUser: db.prepare<[number, string]>('UPDATE users SET balance = balance + ? WHERE id = ?'),
    insertTransfer: db.prepare<[string, string, string, number, string, string]>(
      'INSERT INTO transfers (id, family_id, to_user_id, amount, by_user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    ledgerOf: db.prepare<[string], TransferRow>(
      'SELECT id, family_id, to_user_id, amount, by_user_id, created_at FROM transfers WHERE family_id = ? ORDER BY rowid',
    ),

    hitRateLimit: db.prepare<[string, number], { hits: number }>(
      `INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1)
       ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits`,
    ),
    dropOldWindows: db.prepare<[string, number]>('DELETE FROM rate_limits WHERE key = ? AND window_start < ?'),

    appendChange: db.prepare<[string]>('INSERT INTO family_changes (family_id) VALUES (?)'),
    changesAfter: db.prepare<[number, number], { seq: number; family_id: string }>(
      'SELECT seq, family_id FROM family_changes WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    lastChange: db.prepare<[], { seq: number }>('SELECT coalesce(max(seq), 0) AS seq FROM family_changes'),
  };
}

export type SqliteStatements = ReturnType<typeof prepareStatements>;
