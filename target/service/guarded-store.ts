/**
 * The store as the service uses it: every operation passes a circuit breaker, one for reads and one
 * for writes, so a stalled store makes requests fail fast (503 + Retry-After) instead of each one
 * waiting it out. Two circuits because a stall often hits only one side: SQLite's held write lock
 * leaves WAL readers running, and a service that kept answering reads should not refuse them.
 */
import type { StoreBreakerConfig } from '../config.ts';
import { DomainError } from '../domain.ts';
import type { Store } from '../store/store.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import type { BreakerState } from './circuit-breaker.ts';

export type StoreAccess = 'read' | 'write';

/** `store_unavailable` with when to come back; the HTTP layer turns it into `Retry-After`. */
export class StoreUnavailableError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super('store_unavailable', message);
  }
}

export interface GuardedStore {
  readonly store: Store;
  readonly state: (access: StoreAccess) => BreakerState;
  readonly timesOpened: (access: StoreAccess) => number;
}

/** `inner` behind one breaker per access kind. */
export function guardStore(inner: Store, config: StoreBreakerConfig, now: () => number): GuardedStore {
  const breakers: Record<StoreAccess, CircuitBreaker> = {
    read: new CircuitBreaker(config, now),
    write: new CircuitBreaker(config, now),
  };
  const guard = async <T>(access: StoreAccess, operation: () => Promise<T>): Promise<T> => {
    const breaker = breakers[access];
    const admission = breaker.admit();
    if (!admission.admitted) {
      throw new StoreUnavailableError(
        `the store's ${access}s failed repeatedly and are paused (circuit open); retry after ${Math.ceil(admission.retryAfterMs / 1000)} s`,
        admission.retryAfterMs,
      );
    }
    try {
      const result = await operation();
      breaker.succeeded(admission.probe);
      return result;
    } catch (error) {
      if (!(error instanceof DomainError)) breaker.abandoned(admission.probe);
      else if (error.code === 'store_unavailable') breaker.failed(admission.probe);
      else if (error.code === 'injected_fault') breaker.abandoned(admission.probe);
      else breaker.succeeded(admission.probe);
      if (error instanceof DomainError && error.code === 'store_unavailable' && !(error instanceof StoreUnavailableError)) {
        throw new StoreUnavailableError(error.message, config.coolDownMs);
      }
      throw error;
    }
  };
  const read = <T>(operation: () => Promise<T>): Promise<T> => guard('read', operation);
  const write = <T>(operation: () => Promise<T>): Promise<T> => guard('write', operation);

  const store: Store = {
    kind: inner.kind,
    init: () => inner.init(),
    close: () => inner.close(),
    poolStats: () => inner.poolStats(),
    createUser: (input, ctx) => write(() => inner.createUser(input, ctx)),
    findUserByTokenHash: (hash, ctx) => read(() => inner.findUserByTokenHash(hash, ctx)),
    findUserByUsername: (name, ctx) => read(() => inner.findUserByUsername(name, ctx)),
    createFamily: (input, ctx) => write(() => inner.createFamily(input, ctx)),
    getFamily: (id, ctx) => read(() => inner.getFamily(id, ctx)),
    listFamiliesOf: (userId, ctx) => read(() => inner.listFamiliesOf(userId, ctx)),
    renameFamily: (input, ctx) => write(() => inner.renameFamily(input, ctx)),
    createInvitation: (input, ctx) => write(() => inner.createInvitation(input, ctx)),
    getInvitation: (id, ctx) => read(() => inner.getInvitation(id, ctx)),
    answerInvitation: (input, ctx) => write(() => inner.answerInvitation(input, ctx)),
    listInvitations: (familyId, ctx) => read(() => inner.listInvitations(familyId, ctx)),
    transfer: (input, ctx) => write(() => inner.transfer(input, ctx)),
    listLedger: (familyId, ctx) => read(() => inner.listLedger(familyId, ctx)),
    hitRateLimit: (input, ctx) => write(() => inner.hitRateLimit(input, ctx)),
    familyChangesSince: (cursor, ctx) => read(() => inner.familyChangesSince(cursor, ctx)),
  };
  // The fault itself must reach the store whatever the circuits say.
  const stall = inner.stall?.bind(inner);
  return {
    store: stall === undefined ? store : { ...store, stall },
    state: (access) => breakers[access].state,
    timesOpened: (access) => breakers[access].timesOpened,
  };
}

/** `Retry-After` (whole seconds, at least 1) for a `store_unavailable` error; null for any other. */
export function storeRetryAfterSeconds(error: unknown, fallbackMs: number): number | null {
  if (!(error instanceof DomainError) || error.code !== 'store_unavailable') return null;
  const ms = error instanceof StoreUnavailableError ? error.retryAfterMs : fallbackMs;
  return Math.max(1, Math.ceil(ms / 1000));
}
