/** Bearer tokens: random, handed out once, stored only as their SHA-256. Tokens are never logged. */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { DomainError, type User } from '../domain.ts';
import type { OpContext, Store } from '../store/store.ts';

const TOKEN_BYTES = 32;
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]{1,512}=*)$/i;

/** A fresh token for a new user (256 random bits, base64url). */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** What the store keeps instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The user a request's `Authorization: Bearer <token>` belongs to; `unauthorized` otherwise. */
export async function authenticate(headers: IncomingHttpHeaders, store: Store, op: OpContext): Promise<User> {
  const header = headers.authorization;
  if (header === undefined) {
    throw new DomainError('unauthorized', 'send "Authorization: Bearer <token>" (POST /users hands out a token)');
  }
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) {
    throw new DomainError('unauthorized', 'the Authorization header must be "Bearer <token>"');
  }
  const user = await store.findUserByTokenHash(hashToken(token), op);
  if (user === null) {
    throw new DomainError('unauthorized', 'unknown token; create a user with POST /users to get one');
  }
  return user;
}
