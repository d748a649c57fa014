import { describe, expect, it } from 'vitest';
import { DEFAULT_STORE_BREAKER } from '../../target/config.ts';
import { DomainError } from '../../target/domain.ts';
import { CircuitBreaker } from '../../target/service/circuit-breaker.ts';
import { StoreUnavailableError, guardStore, storeRetryAfterSeconds } from '../../target/service/guarded-store.ts';
import type { Store } from '../../target/store/store.ts';

const CONFIG = { enabled: true, failureThreshold: 3, coolDownMs: 1_000 };

function clock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures and refuses for the cool-down, saying how long is left', () => {
    const c = clock();
    const breaker = new CircuitBreaker(CONFIG, c.now);
    for (let i = 0; i < 2; i++) {
      expect(breaker.admit()).toEqual({ admitted: true, probe: false });
      breaker.failed(false);
    }
    expect(breaker.state).toBe('closed');
    breaker.failed(false);
    expect(breaker.state).toBe('open');
    expect(breaker.timesOpened).toBe(1);
    c.advance(400);
    expect(breaker.admit()).toEqual({ admitted: false, retryAfterMs: 600 });
  });

  it('a success between failures resets the count: contention is not a stall', () => {
    const breaker = new CircuitBreaker(CONFIG, clock().now);
    for (let i = 0; i < 10; i++) {
      breaker.failed(false);
      breaker.failed(false);
      breaker.succeeded(false);
    }
    expect(breaker.state).toBe('closed');
  });

  it('after the cool-down lets exactly one probe through; its success closes the circuit', () => {
    const c = clock();
    const breaker = new CircuitBreaker(CONFIG, c.now);
    for (let i = 0; i < 3; i++) breaker.failed(false);
    c.advance(1_000);
    expect(breaker.admit()).toEqual({ admitted: true, probe: true });
    expect(breaker.state).toBe('half-open');
    expect(breaker.admit()).toEqual({ admitted: false, retryAfterMs: 1_000 });
    breaker.succeeded(true);
    expect(breaker.state).toBe('closed');
    expect(breaker.admit()).toEqual({ admitted: true, probe: false });
  });

  it('a failed probe opens the circuit for another full cool-down', () => {
    const c = clock();
    const breaker = new CircuitBreaker(CONFIG, c.now);
    for (let i = 0; i < 3; i++) breaker.failed(false);
    c.advance(1_500);
    expect(breaker.admit()).toMatchObject({ admitted: true, probe: true });
    c.advance(250);
    breaker.failed(true);
    expect(breaker.state).toBe('open');
    expect(breaker.timesOpened).toBe(2);
    c.advance(999);
    expect(breaker.admit()).toEqual({ admitted: false, retryAfterMs: 1 });
    c.advance(1);
    expect(breaker.admit()).toMatchObject({ admitted: true, probe: true });
  });

  it('an abandoned probe frees the probe slot without deciding anything', () => {
    const c = clock();
    const breaker = new CircuitBreaker(CONFIG, c.now);
    for (let i = 0; i < 3; i++) breaker.failed(false);
    c.advance(1_000);
    expect(breaker.admit()).toMatchObject({ probe: true });
    breaker.abandoned(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.admit()).toMatchObject({ admitted: true, probe: true });
  });

  it('disabled: always admits, never opens', () => {
    const breaker = new CircuitBreaker({ ...CONFIG, enabled: false }, clock().now);
    for (let i = 0; i < 10; i++) breaker.failed(false);
    expect(breaker.state).toBe('closed');
    expect(breaker.admit()).toEqual({ admitted: true, probe: false });
  });

  it('refuses a config that cannot work', () => {
    expect(() => new CircuitBreaker({ ...CONFIG, failureThreshold: 0 }, clock().now)).toThrow(/failureThreshold must be an integer >= 1/);
    expect(() => new CircuitBreaker({ ...CONFIG, coolDownMs: 0 }, clock().now)).toThrow(/coolDownMs must be > 0/);
  });
});

describe('guardStore', () => {
  const unavailable = (): Promise<never> => Promise.reject(new DomainError('store_unavailable', 'locked'));

  function storeWhere(overrides: Partial<Store>): Store {
    return { kind: 'sqlite', ...overrides } as Store;
  }

  it('refuses writes at once once the write circuit opened, and keeps serving reads', async () => {
    const c = clock();
    let writes = 0;
    const inner = storeWhere({
      transfer: () => {
        writes += 1;
        return unavailable();
      },
      getFamily: () => Promise.resolve(null),
    });
    const { store, state } = guardStore(inner, DEFAULT_STORE_BREAKER, c.now);
    const transfer = (): Promise<unknown> => store.transfer({ familyId: 'f', toUserId: 'u', amount: 1, byUserId: 'u' }, { timings: [] });
    for (let i = 0; i < DEFAULT_STORE_BREAKER.failureThreshold; i++) await expect(transfer()).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(state('write')).toBe('open');
    c.advance(300);
    const refused = await transfer().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as StoreUnavailableError).retryAfterMs).toBe(DEFAULT_STORE_BREAKER.coolDownMs - 300);
    expect(writes).toBe(DEFAULT_STORE_BREAKER.failureThreshold); // the refused one never reached the store
    expect(state('read')).toBe('closed');
    await expect(store.getFamily('f', { timings: [] })).resolves.toBeNull();
  });

  it('a domain refusal (404, 409) counts as the store answering', async () => {
    const c = clock();
    let fail = true;
    const inner = storeWhere({ getFamily: () => (fail ? unavailable() : Promise.reject(new DomainError('not_found', 'no'))) });
    const { store, state } = guardStore(inner, DEFAULT_STORE_BREAKER, c.now);
    for (let i = 0; i < 3; i++) await store.getFamily('f', { timings: [] }).catch(() => null);
    expect(state('read')).toBe('open');
    fail = false;
    c.advance(DEFAULT_STORE_BREAKER.coolDownMs);
    await expect(store.getFamily('f', { timings: [] })).rejects.toMatchObject({ code: 'not_found' });
    expect(state('read')).toBe('closed');
  });

  it('Retry-After: whole seconds, at least 1, only for store_unavailable', () => {
    expect(storeRetryAfterSeconds(new StoreUnavailableError('x', 1), 1_000)).toBe(1);
    expect(storeRetryAfterSeconds(new StoreUnavailableError('x', 1_001), 1_000)).toBe(2);
    expect(storeRetryAfterSeconds(new DomainError('store_unavailable', 'x'), 3_000)).toBe(3);
    expect(storeRetryAfterSeconds(new DomainError('not_found', 'x'), 3_000)).toBeNull();
    expect(storeRetryAfterSeconds(new Error('x'), 3_000)).toBeNull();
  });
});
