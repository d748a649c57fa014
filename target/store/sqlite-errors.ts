/** How the SQLite store tells a locked or closed database, and the errors it turns them into. */
import Database from 'better-sqlite3';
import { DomainError } from '../domain.ts';

export function isLocked(error: unknown): error is InstanceType<typeof Database.SqliteError> {
  return error instanceof Database.SqliteError && /^SQLITE_(BUSY|LOCKED)/.test(error.code);
}

export function isConstraint(error: unknown, kind: 'UNIQUE' | 'PRIMARYKEY' | 'FOREIGNKEY'): boolean {
  return error instanceof Database.SqliteError && error.code === `SQLITE_CONSTRAINT_${kind}`;
}

export function closedError(): DomainError {
  return new DomainError('store_unavailable', 'the SQLite store is closed (or init() was not awaited)');
}

/** A lock that outlasted the store wait becomes `store_unavailable` (the service answers 503 + Retry-After). */
export function toStoreError(error: unknown, busyTimeoutMs: number, waitMs: number): Error {
  if (isLocked(error)) {
    const code = error.code;
    return new DomainError('store_unavailable',
      `the database stayed locked for longer than the store wait (${waitMs} ms, busy timeout ${busyTimeoutMs} ms, ${code}); retry, or raise storeWaitMs`);
  }
  if (error instanceof TypeError && /database connection is not open/.test(error.message)) return closedError();
  return error instanceof Error ? error : new Error(`SQLite store failed: ${String(error)}`);
}
