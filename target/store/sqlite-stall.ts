/**
 * The SQLite store's waits on a locked database, and its fault injection (as mongo-stall.ts is the
 * MongoDB store's): operations retry a held write lock off the event loop; the stall holds it from a
 * second connection, as another process's long transaction would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { isLocked, toStoreError } from './sqlite-errors.ts';
import type { Clock } from './query-timing.ts';
import type { StoreStall } from './store.ts';

/**
 * Pause between attempts on a locked database: short, because the lock is usually held for well under a
 * millisecond per transaction and an attempt that happens to find it free is what ends a wait.
 */
const LOCK_RETRY_PAUSES_MS: readonly number[] = [1, 1, 1, 2, 2, 4];
const LOCK_RETRY_MAX_PAUSE_MS = 4;
/** The staller's own wait for the write lock (it queues behind the service's transactions). */
const STALL_ACQUIRE_WAIT_MS = 2_000;

/**
 * Runs `body`; while it fails on a locked database (SQLITE_BUSY before it changed anything: BEGIN
 * IMMEDIATE takes the lock first) retries it, pausing off the event loop, until the pauses add up
 * to `waitMs`. Pauses, not wall time: on an instance busy with a burst, the time its loop spends on
 * other requests between two attempts says nothing about the lock, and counting it would fail
 * writes the lock would have let through.
 */
export async function retryWhileLocked<T>(waitMs: number, busyTimeoutMs: number, body: () => T): Promise<T> {
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return body();
    } catch (error) {
      if (!isLocked(error) || waited >= waitMs) throw toStoreError(error, busyTimeoutMs, waitMs);
    }
    const pause = LOCK_RETRY_PAUSES_MS[Math.min(attempt, LOCK_RETRY_PAUSES_MS.length - 1)] ?? LOCK_RETRY_MAX_PAUSE_MS;
    waited += pause;
    await sleep(pause);
  }
}

/** A held write lock: `release()` ends it early (the store closing); it ends by itself after its `ms`. */
export interface HeldLock {
  readonly stall: StoreStall;
  release(): void;
}

/**
 * Opens a second connection with `open` and holds the write lock (BEGIN EXCLUSIVE) on it for `ms`,
 * resolving once it is held. `onReleased` is called once, when it ends either way.
 */
export async function holdWriteLock(open: () => Database.Database, ms: number, clock: Clock, onReleased: (held: HeldLock) => void): Promise<HeldLock> {
  const locker = open();
  const deadline = clock() + STALL_ACQUIRE_WAIT_MS;
  for (;;) {
    try {
      locker.exec('BEGIN EXCLUSIVE');
      break;
    } catch (error) {
      if (!isLocked(error) || clock() >= deadline) {
        locker.close();
        throw toStoreError(error, 0, STALL_ACQUIRE_WAIT_MS);
      }
    }
    await sleep(1);
  }
  let released = false;
  const held: HeldLock = {
    stall: { scope: 'database', how: `a second connection holds the SQLite write lock (BEGIN EXCLUSIVE) for ${ms} ms; WAL readers are not blocked` },
    release() {
      if (released) return;
      released = true;
      clearTimeout(timer);
      try {
        if (locker.inTransaction) locker.exec('ROLLBACK');
      } finally {
        locker.close();
        onReleased(held);
      }
    },
  };
  const timer = setTimeout(() => held.release(), ms);
  timer.unref();
  return held;
}
