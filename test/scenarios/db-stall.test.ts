import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import dbStall from '../../scenarios/reliability/db-stall.ts';
import type { StallParams } from '../../scenarios/reliability/db-stall.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import { DEFAULT_ADMISSION, DEFAULT_STORE_BREAKER } from '../../target/config.ts';
import type { ServiceOverrides } from '../../target/deployment/options.ts';
import { DomainError } from '../../target/domain.ts';
import type { Store } from '../../target/store/store.ts';
import { findCheck, runScenarioOn, startServiceInTest, storeWith } from './helpers/scenario-harness.ts';

const scenario = dbStall as unknown as ScenarioDefinition;
/**
 * Shorter than smoke where a test only needs the stall to bite: a short stall, and only as much of
 * the run after it as the failing check needs (a recovery that never comes shows within 1.5 s).
 */
const SMALL: Partial<StallParams> = { families: 8, ratePerSec: 150, beforeMs: 300, stallMs: 1_000, afterMs: 1_500 };

/** db-stall against the embedded deployment with `service` laid over what the scenario asks for. */
function withService(service: ServiceOverrides): ScenarioDefinition {
  const base = dbStall;
  return {
    ...scenario,
    deployment: (p) => {
      const needs = base.deployment?.(p as StallParams) ?? {};
      return { ...needs, service: { ...needs.service, ...service } };
    },
  };
}

describe('db-stall scenario', () => {
  it('passes at the smoke profile on the embedded deployment: fast 503s with Retry-After, nothing lost, recovery', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons, JSON.stringify({ reasons: result.reasons, checks: result.checks, loadRuns: result.loadRuns })).toEqual([]);
    expect(result.status).toBe('passed');
    const m = result.metrics;
    expect(m['failed.count']).toBeGreaterThan(0);
    expect(m['refusals.unclear']).toBe(0);
    expect(m['writes.lost']).toBe(0);
    expect(m['writes.acked']).toBeGreaterThan(0);
    // SQLite in WAL: a held write lock never blocks readers.
    expect(m['stall.reads.success_rate']).toBe(1);
    expect(m['stall.writes.success_rate']).toBeLessThan(0.5);
    expect(m['after.success_rate']).toBe(1);
    expect(m['failed.latency.p99']).toBeLessThanOrEqual(m['failed.latency.max'] ?? 0);
    expect(result.tables.instances?.[0]).toMatchObject({ writeCircuitAfter: 'closed', readCircuitAfter: 'closed' });
  }, 40_000);

  it('catches a service that waits out the lock on its event loop (long busy timeout, no breaker): requests hang', async () => {
    const hanging = withService({
      dbBusyTimeoutMs: 2_000,
      storeWaitMs: 0,
      storeBreaker: { ...DEFAULT_STORE_BREAKER, enabled: false },
      admission: DEFAULT_ADMISSION,
    });
    // The smoke profile's stall: writes block the loop for the busy timeout, long enough for seconds of queueing.
    const result = await runScenarioOn(hanging, { profile: 'smoke', params: { ...SMALL, stallMs: 1_500, afterMs: 1_000 } });
    expect(result.status).toBe('failed');
    const failFast = findCheck(result, 'during the stall, failed requests fail fast');
    expect(failFast.passed, JSON.stringify(failFast)).toBe(false);
    expect(findCheck(result, 'during the stall, no request hangs').passed).toBe(false);
    // Every write blocks the instance for the whole busy timeout: the stall's requests wait seconds.
    expect(result.metrics['stall.latency.p99']).toBeGreaterThan(1_000);
  }, 40_000);

  it('catches a service whose breaker never closes again: no recovery', async () => {
    const stuck = withService({ storeBreaker: { ...DEFAULT_STORE_BREAKER, coolDownMs: 60_000 } });
    const result = await runScenarioOn(stuck, { profile: 'smoke', params: SMALL });
    expect(result.status).toBe('failed');
    const recovery = findCheck(result, 'the service recovers without a restart');
    expect(recovery.passed, JSON.stringify(recovery)).toBe(false);
    expect(recovery.detail).toMatch(/last failure: request \d+ \(write\)/);
    // It still failed fast, with the right status: only recovery is missing.
    expect(findCheck(result, 'every refusal is a 503 with Retry-After').passed).toBe(true);
  }, 40_000);

  it('catches a service that answers a stalled store with 500 and no Retry-After: refusals are unclear', async () => {
    // The store's "unavailable" turned into an unexpected failure, as a service without a mapping for it would answer.
    const opaque = <T>(op: () => Promise<T>): Promise<T> =>
      op().catch((error: unknown) => {
        throw error instanceof DomainError && error.code === 'store_unavailable' ? new Error(`store failed: ${error.message}`) : error;
      });
    const service = await startServiceInTest({
      config: { faults: true, rateLimit: { limit: 1_000_000, windowMs: 60_000 } },
      wrap: (inner: Store) =>
        storeWith(inner, {
          hitRateLimit: (input, op) => opaque(() => inner.hitRateLimit(input, op)),
          transfer: (input, op) => opaque(() => inner.transfer(input, op)),
        }),
    });
    try {
      const result = await runScenarioOn(scenario, { profile: 'smoke', params: { ...SMALL, afterMs: 1_000 }, mode: { kind: 'external', url: service.url } });
      expect(result.status).toBe('failed');
      const clear = findCheck(result, 'every refusal is a 503 with Retry-After');
      expect(clear.passed, JSON.stringify(clear)).toBe(false);
      expect(clear.detail).toMatch(/: 500 without Retry-After/);
      expect(result.metrics['refusals.unclear']).toBeGreaterThan(0);
    } finally {
      await service.close();
    }
  }, 40_000);

  it('catches a store that acknowledges a transfer and then loses it', async () => {
    let calls = 0;
    const service = await startServiceInTest({
      config: { faults: true, rateLimit: { limit: 1_000_000, windowMs: 60_000 } },
      wrap: (inner: Store) =>
        storeWith(inner, {
          async transfer(input, op) {
            calls += 1;
            // Every fifth transfer is answered as committed but never written.
            if (calls % 5 === 0) {
              return { id: randomUUID(), familyId: input.familyId, from: input.familyId, to: input.toUserId, amount: input.amount, byUserId: input.byUserId, createdAt: new Date().toISOString() };
            }
            return inner.transfer(input, op);
          },
        }),
    });
    try {
      // Losing acknowledged transfers needs no long stall: a short one, then the read-back.
      const result = await runScenarioOn(scenario, { profile: 'smoke', params: { ...SMALL, stallMs: 500, afterMs: 1_000 }, mode: { kind: 'external', url: service.url } });
      expect(result.status).toBe('failed');
      const readBack = findCheck(result, 'every acknowledged write is read back');
      expect(readBack.passed).toBe(false);
      expect(readBack.detail).toMatch(/transfer [0-9a-f-]{36} not in the ledger of family/);
      expect(result.metrics['writes.lost']).toBeGreaterThan(0);
      expect(result.metrics['writes.lost']).toBeLessThanOrEqual(Math.ceil((result.metrics['writes.acked'] ?? 0) / 5));
    } finally {
      await service.close();
    }
  }, 40_000);
});
