/** Row -> domain mappers of the SQLite store. */
import type { Family, Invitation, Transfer, User } from '../domain.ts';
import type { FamilyRow, InvitationRow, MembershipRow, TransferRow, UserRow } from './sqlite-schema.ts';

export function toUser(row: UserRow | undefined): User | null {
  return row === undefined ? null : { id: row.id, username: row.username, balance: row.balance, createdAt: row.created_at };
}

export function toFamily(row: FamilyRow, memberships: readonly MembershipRow[]): Family {
  return {
    id: row.id, name: row.name, sbdUsername: row.sbd_username, ownerId: row.owner_id,
    admins: memberships.filter((m) => m.role === 'admin').map((m) => m.user_id),
    members: memberships.map((m) => m.user_id),
    balance: row.balance, version: row.version, createdAt: row.created_at,
  };
}

export function toInvitation(row: InvitationRow): Invitation {
  return {
    id: row.id, familyId: row.family_id, inviteeId: row.invitee_id, invitedBy: row.invited_by,
    role: row.role, status: row.status, createdAt: row.created_at,
  };
}

export function toTransfer(row: TransferRow): Transfer {
  return {
    id: row.id, familyId: row.family_id, from: row.family_id, to: row.to_user_id, amount: row.amount,
    byUserId: row.by_user_id, createdAt: row.created_at,
  };
}
