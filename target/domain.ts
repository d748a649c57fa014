/** Domain model of the reference family service: plain data shared by the stores and the HTTP layer. */

export type Role = 'member' | 'admin';
export type InvitationStatus = 'pending' | 'accepted' | 'declined';

export interface User {
  readonly id: string;
  readonly username: string;
  /** Tokens credited to this user by family transfers. */
  readonly balance: number;
  readonly createdAt: string;
}

export interface Family {
  readonly id: string;
  readonly name: string;
  /** `family_<slug(name)>`, suffixed `_2`, `_3`, ... when taken; unique across all families. */
  readonly sbdUsername: string;
  readonly ownerId: string;
  /** User IDs with the admin role (the owner is one). */
  readonly admins: readonly string[];
  /** User IDs of every member, admins included. */
  readonly members: readonly string[];
  /** Balance of the family's SBD token account. */
  readonly balance: number;
  /** Starts at 1; every change to the family document adds 1. */
  readonly version: number;
  readonly createdAt: string;
}

export interface Invitation {
  readonly id: string;
  readonly familyId: string;
  readonly inviteeId: string;
  readonly invitedBy: string;
  readonly role: Role;
  readonly status: InvitationStatus;
  readonly createdAt: string;
}

/** A committed token transfer; the ledger of a family is the list of its transfers. */
export interface Transfer {
  readonly id: string;
  readonly familyId: string;
  /** The family account debited (its family ID). */
  readonly from: string;
  /** The member credited (a user ID). */
  readonly to: string;
  readonly amount: number;
  /** The admin who ordered it. */
  readonly byUserId: string;
  readonly createdAt: string;
}

/** Every failure the domain can name; the HTTP layer maps each code to one status. */
export const DOMAIN_ERRORS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  username_taken: 409,
  family_limit: 409,
  already_member: 409,
  invitation_pending: 409,
  invitation_closed: 409,
  insufficient_funds: 409,
  not_a_member: 409,
  version_mismatch: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  injected_fault: 500,
  store_unavailable: 503,
  overloaded: 503,
} as const;

export type DomainErrorCode = keyof typeof DOMAIN_ERRORS;

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return DOMAIN_ERRORS[this.code];
  }
}

/** Lower-case, `[a-z0-9_]` only, runs of anything else folded to one `_`, trimmed, at most 40 chars. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40)
    .replace(/_+$/g, '');
  return slug === '' ? 'family' : slug;
}

/** The sbd username for a family name and the n-th claimant of it (n = 1 has no suffix). */
export function sbdUsernameFor(name: string, n: number): string {
  const base = `family_${slugify(name)}`;
  return n <= 1 ? base : `${base}_${n}`;
}
