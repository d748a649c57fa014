/** Per-query timing and fault injection shared by the store implementations. */
import { performance } from 'node:perf_hooks';
import { DomainError } from '../domain.ts';
import type { OpContext, QueryName } from './store.ts';

/** Milliseconds from an arbitrary origin; injected so tests can drive time. */
export type Clock = () => number;

export const DEFAULT_CLOCK: Clock = () => performance.now();

/** Runs one synchronous query and appends its duration to `ctx.timings`, also when it throws. */
export function timeSync<T>(ctx: OpContext, name: QueryName, clock: Clock, query: () => T): T {
  const start = clock();
  try {
    return query();
  } finally {
    ctx.timings.push({ name, durationMs: clock() - start });
  }
}

/** Runs one asynchronous query and appends its duration to `ctx.timings`, also when it rejects. */
export async function timeAsync<T>(ctx: OpContext, name: QueryName, clock: Clock, query: () => Promise<T>): Promise<T> {
  const start = clock();
  try {
    return await query();
  } finally {
    ctx.timings.push({ name, durationMs: clock() - start });
  }
}

/** Called right after the first write of a transaction: throws when the request asked for the fault. */
export function faultAfterFirstWrite(ctx: OpContext): void {
  if (ctx.failMidTransaction === true) {
    throw new DomainError(
      'injected_fault',
      'injected fault (x-fault: fail-mid-transaction): the transaction failed after its first write and was rolled back',
    );
  }
}

/** A positive safe integer, or `invalid_request` naming the field. */
export function assertPositiveInteger(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new DomainError('invalid_request', `${field} must be an integer greater than 0, got ${String(value)}`);
  }
}

/** Most change-log entries one `familyChangesSince` call returns; the caller polls again for the rest. */
export const CHANGE_LOG_PAGE = 5_000;

/** Parses an opaque change cursor (a non-negative integer sequence number). */
export function parseChangeCursor(cursor: string): number {
  if (!/^\d{1,15}$/.test(cursor)) {
    throw new DomainError('invalid_request', `change cursor "${cursor}" is not one this store issued; pass null to start at the end`);
  }
  return Number(cursor);
}

/** Family IDs in first-seen order, without repeats. */
export function distinctIds(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}
