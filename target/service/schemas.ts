/** Request schemas: strict (unknown fields are refused), one per route that takes a body. */
import { z } from 'zod';
import { DomainError } from '../domain.ts';

/** 3-32 of `[a-z0-9_]`. */
export const USERNAME_PATTERN = /^[a-z0-9_]{3,32}$/;
/** Store IDs (UUIDs, ObjectId hex, ...): URL-safe and short; anything else is a bad request, not a lookup. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_FAMILY_NAME_LENGTH = 100;
/** Upper bound of `x-fault: delay-ms=N` and `POST /_faults/stall {ms}`. */
export const MAX_FAULT_MS = 30_000;

const username = z.string().regex(USERNAME_PATTERN, 'must be 3-32 characters of [a-z0-9_]');
const id = z.string().regex(ID_PATTERN, 'must be an ID (1-64 characters of [A-Za-z0-9_-])');
/** A UTF-16 code unit that is half of no pair: the store cannot encode it and would keep U+FFFD instead. */
const LONE_SURROGATE = /\p{Cs}/u;
// Ill-formed names were acknowledged as sent but stored altered (found by fuzzing).
const familyName = z.string().trim().min(1, 'must not be blank').max(MAX_FAMILY_NAME_LENGTH)
  .refine((name) => !LONE_SURROGATE.test(name), 'must be well-formed Unicode (a lone surrogate such as \\ud800 cannot be stored)');

export const createUserBody = z.strictObject({ username });
export const familyNameBody = z.strictObject({ name: familyName });
export const invitationBody = z.strictObject({ username, role: z.enum(['member', 'admin']) });
export const transferBody = z.strictObject({ to: id, amount: z.int().positive() });
export const stallBody = z.strictObject({ ms: z.int().min(0).max(MAX_FAULT_MS) });
/** Routes without a body accept none or `{}`. */
export const emptyBody = z.strictObject({}).optional();

/** A path parameter that must be an ID; `invalid_request` otherwise. */
export function parseId(raw: string | undefined, what: string): string {
  if (raw === undefined || !ID_PATTERN.test(raw)) {
    throw new DomainError('invalid_request', `${what} must be an ID (1-64 characters of [A-Za-z0-9_-])`);
  }
  return raw;
}

/** The version an `If-Match: "<version>"` header expects, `undefined` without one (or with `*`). */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*"(\d{1,15})"\s*$/.exec(header);
  if (match?.[1] === undefined) {
    throw new DomainError('invalid_request', `If-Match must be a quoted version such as "3" (got ${header})`);
  }
  return Number(match[1]);
}
