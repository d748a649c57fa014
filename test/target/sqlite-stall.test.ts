import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../target/store/sqlite-store.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function dbPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gauntlet-sqlite-stall-'));
  dirs.push(dir);
  return join(dir, 'target.db');
}

/** Whether another connection can take the write lock right now (no busy wait). */
function writeLockFree(path: string): boolean {
  const probe = new Database(path, { timeout: 0 });
  try {
    probe.exec('BEGIN IMMEDIATE');
    probe.exec('ROLLBACK');
    return true;
  } catch (error) {
    if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY')) return false;
    throw error;
  } finally {
    probe.close();
  }
}

describe('SQLite store stall', () => {
  it('holds the write lock for its time, and close() ends it at once (its release timer cancelled, its connection closed)', async () => {
    const path = await dbPath();
    const store = new SqliteStore({ path, busyTimeoutMs: 0, synchronous: 'off' });
    await store.init();
    expect(writeLockFree(path)).toBe(true);
    const stall = await store.stall(60_000);
    expect(stall.scope).toBe('database');
    expect(writeLockFree(path)).toBe(false);
    await store.close();
    // Without the cancel, the lock would be held (and the timer pending) for the rest of the minute.
    expect(writeLockFree(path)).toBe(true);
  });
});
