/**
 * One of the traffic-only exports run for real by Artillery on the local platform: transaction
 * safety's flows (a member invited and accepted, then rounds of racing transfers, some with
 * x-fault: fail-mid-transaction) do at the store what they say — and a service whose clean transfers
 * fail makes the run fail.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireArtillery } from '../../src/artillery/locate-artillery.ts';
import { planArtilleryRun } from '../../src/artillery/plan-artillery.ts';
import { artilleryScenarioRunner } from '../../src/artillery/run-artillery-scenario.ts';
import { systemClock } from '../../src/clock.ts';
import type { ScenarioResult } from '../../src/results/schema.ts';
import { openTargetSession } from '../../src/runner/target-session.ts';
import { loadCatalog } from '../../src/scenario/catalog.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import type { Store } from '../../target/store/store.ts';
import { startServiceInTest, storeWith } from '../scenarios/helpers/scenario-harness.ts';

const ARTILLERY_RUN_TIMEOUT_MS = 90_000;
/** The smoke profile: 3 families, 10 transfers each at once, half of them faulted. */
const FAMILIES = 3;
const CLEAN_PER_FAMILY = 5;
const FAULTED_PER_FAMILY = 5;
const HOLD_MS = 20;

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'gauntlet-artillery-transfers-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

async function runTransactionSafety(url: string, dir: string): Promise<ScenarioResult> {
  const artillery = planArtilleryRun({ catalog: await loadCatalog(), suite: 'all', scenarioIds: ['transaction-safety'], profile: 'smoke', thresholdArgs: [] });
  const planned = artillery.plan[0];
  if (planned === undefined) throw new Error('nothing planned');
  const run = artilleryScenarioRunner({ install: requireArtillery(), platform: { platform: 'local', count: undefined, region: undefined }, outDir: dir, unavailable: artillery.unavailable, droppedDefaults: artillery.droppedDefaults });
  const session = await openTargetSession({ kind: 'external', url });
  const outcome = await run(planned, { session, profile: 'smoke', clock: systemClock, signal: new AbortController().signal, runTag: 'art', onPhase: () => undefined });
  return outcome.result;
}

function endpointCodes(result: ScenarioResult, name: string): string {
  return String(result.tables.endpoints?.find((r) => r.endpoint === name)?.codes ?? '');
}

describe('Artillery runs the transaction-safety export', () => {
  it('invites and admits a member per family, commits exactly the clean transfers and nothing of the faulted ones, read from the store', async () => {
    const families: string[] = [];
    let members = 0;
    const committed: { familyId: string; amount: number }[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const service = await startServiceInTest({
      config: { faults: true, rateLimit: { limit: RATE_LIMIT_NEVER_REACHED, windowMs: 60_000 } },
      wrap: (inner: Store) =>
        storeWith(inner, {
          createFamily: async (input, ctx) => {
            const family = await inner.createFamily(input, ctx);
            families.push(family.id);
            return family;
          },
          answerInvitation: async (input, ctx) => {
            const answered = await inner.answerInvitation(input, ctx);
            if (answered.status === 'accepted') members += 1;
            return answered;
          },
          transfer: async (input, ctx) => {
            mostInFlight = Math.max(mostInFlight, ++inFlight);
            try {
              // Held briefly (the SQLite store answers within one turn), so transfers that arrive together overlap here.
              await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
              const done = await inner.transfer(input, ctx);
              committed.push({ familyId: input.familyId, amount: input.amount });
              return done;
            } finally {
              inFlight -= 1;
            }
          },
        }),
    });
    try {
      const started = Date.now();
      const result = await runTransactionSafety(service.url, join(out, 'good'));
      expect(result.reasons).toEqual([]);
      expect(result.status).toBe('passed');
      expect(families).toHaveLength(FAMILIES);
      expect(members).toBe(FAMILIES);
      // Only clean transfers (amount 1) committed, CLEAN_PER_FAMILY per family; every faulted one (amount 2) was rolled back.
      expect(committed.filter((t) => t.amount !== 1)).toEqual([]);
      for (const id of families) expect(committed.filter((t) => t.familyId === id)).toHaveLength(CLEAN_PER_FAMILY);
      // The store agrees: each ledger holds exactly the clean transfers.
      const ctx = { timings: [] };
      for (const id of families) {
        const ledger = await service.store.listLedger(id, ctx);
        expect(ledger.map((e) => e.amount)).toEqual(Array.from({ length: CLEAN_PER_FAMILY }, () => 1));
      }
      expect(endpointCodes(result, 'POST /families/:id/transfers')).toBe(`201: ${FAMILIES * CLEAN_PER_FAMILY}`);
      expect(endpointCodes(result, 'POST /families/:id/transfers (faulted)')).toBe(`500: ${FAMILIES * FAULTED_PER_FAMILY}`);
      expect(endpointCodes(result, 'POST /invitations/:id/accept')).toBe(`200: ${FAMILIES}`);
      // A round's transfers raced: more than one was at the store at once.
      expect(mostInFlight).toBeGreaterThanOrEqual(2);
      expect(result.metrics['errors.rate']).toBe(0);
      process.stdout.write(`artillery local transaction-safety: ${String(result.metrics['http.requests'])} requests, ${String(committed.length)} transfers committed, p99 ${String(result.metrics['latency.p99'])} ms, ${String(Date.now() - started)} ms\n`);
    } finally {
      await service.close();
    }
  }, ARTILLERY_RUN_TIMEOUT_MS);

  it('a service whose clean transfers fail fails the run (errors.rate), so the flows\' expectations can fail', async () => {
    const service = await startServiceInTest({
      config: { faults: true, rateLimit: { limit: RATE_LIMIT_NEVER_REACHED, windowMs: 60_000 } },
      wrap: (inner: Store) => storeWith(inner, { transfer: () => Promise.reject(new Error('broken store: transfers fail')) }),
    });
    try {
      const result = await runTransactionSafety(service.url, join(out, 'broken'));
      expect(result.status).toBe('failed');
      expect(result.metrics['errors.rate']).toBeGreaterThan(0);
      expect(result.reasons.some((r) => r.startsWith('threshold failed: errors.rate == 0'))).toBe(true);
      expect(endpointCodes(result, 'POST /families/:id/transfers')).toBe(`500: ${FAMILIES * CLEAN_PER_FAMILY}`);
    } finally {
      await service.close();
    }
  }, ARTILLERY_RUN_TIMEOUT_MS);
});
