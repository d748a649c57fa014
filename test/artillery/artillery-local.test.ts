/**
 * Artillery for real, on the local platform, against the reference service: the exported
 * family-creation flow creates exactly the families it should (read from the store), a service
 * that fails creations fails the run's thresholds, and the CLI's results work with report and compare.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireArtillery } from '../../src/artillery/locate-artillery.ts';
import { planArtilleryRun } from '../../src/artillery/plan-artillery.ts';
import { artilleryScenarioRunner } from '../../src/artillery/run-artillery-scenario.ts';
import { systemClock } from '../../src/clock.ts';
import type { RunResults, ScenarioResult } from '../../src/results/schema.ts';
import { openTargetSession } from '../../src/runner/target-session.ts';
import { loadCatalog } from '../../src/scenario/catalog.ts';
import type { ScenarioParams } from '../../src/scenario/definition.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import type { Store } from '../../target/store/store.ts';
import { runGauntlet } from '../helpers/run-cli.ts';
import { startServiceInTest, storeWith } from '../scenarios/helpers/scenario-harness.ts';

const ARTILLERY_RUN_TIMEOUT_MS = 90_000;
/** Enough racers that Artillery's weighted pick surely starts some (the smoke mix has 4 in 64). */
const PARAMS_OVERRIDE = { creators: 30, racers: 30 };

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'gauntlet-artillery-local-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

/** Runs family-creation (smoke, PARAMS_OVERRIDE) under the Artillery engine against `url`. */
async function runFamilyCreation(url: string, dir: string, thresholdArgs: readonly string[] = []): Promise<{ result: ScenarioResult; params: ScenarioParams; live: () => { requests: number; errors: number } }> {
  const artillery = planArtilleryRun({ catalog: await loadCatalog(), suite: 'all', scenarioIds: ['family-creation'], profile: 'smoke', thresholdArgs });
  const planned = artillery.plan[0];
  if (planned === undefined) throw new Error('nothing planned');
  const params = { ...planned.params, ...PARAMS_OVERRIDE };
  const run = artilleryScenarioRunner({ install: requireArtillery(), platform: { platform: 'local', count: undefined, region: undefined }, outDir: dir, unavailable: artillery.unavailable, droppedDefaults: artillery.droppedDefaults });
  const session = await openTargetSession({ kind: 'external', url });
  let live = (): { requests: number; errors: number } => ({ requests: -1, errors: -1 });
  const outcome = await run({ ...planned, params }, { session, profile: 'smoke', clock: systemClock, signal: new AbortController().signal, runTag: 'art', onPhase: () => undefined, onCounts: (read) => (live = read) });
  return { result: outcome.result, params, live };
}

function countOf(result: ScenarioResult, table: string, key: string, value: string): number {
  const row = result.tables[table]?.find((r) => r[key] === value);
  return Number(row?.count ?? 0);
}

function endpoint(result: ScenarioResult, name: string): string {
  return String(result.tables.endpoints?.find((r) => r.endpoint === name)?.codes ?? '');
}

describe('Artillery on the local platform', () => {
  it('the exported family-creation flows create exactly the families they should, read from the store', async () => {
    const familyLimit = 3;
    let created = 0;
    // Held briefly, so creations that reach the store together overlap: a racer's parallel step must.
    const holdMs = 30;
    const inFlight = new Map<string, number>();
    let mostInFlightForOneOwner = 0;
    const service = await startServiceInTest({
      config: { familyLimit, rateLimit: { limit: RATE_LIMIT_NEVER_REACHED, windowMs: 60_000 } },
      wrap: (inner: Store) =>
        storeWith(inner, {
          createFamily: async (input, ctx) => {
            const now = (inFlight.get(input.ownerId) ?? 0) + 1;
            inFlight.set(input.ownerId, now);
            mostInFlightForOneOwner = Math.max(mostInFlightForOneOwner, now);
            try {
              await new Promise((resolve) => setTimeout(resolve, holdMs));
              const family = await inner.createFamily(input, ctx);
              created += 1;
              return family;
            } finally {
              inFlight.set(input.ownerId, (inFlight.get(input.ownerId) ?? 1) - 1);
            }
          },
        }),
    });
    try {
      const started = Date.now();
      const { result, params, live } = await runFamilyCreation(service.url, join(out, 'good'));
      const creators = countOf(result, 'flows', 'flow', 'creator');
      const racers = countOf(result, 'flows', 'flow', 'racer');
      const attempts = Number(params.raceAttempts);
      const headroom = Number(params.raceHeadroom);
      expect(result.reasons).toEqual([]);
      expect(result.status).toBe('passed');
      expect(creators + racers).toBe(PARAMS_OVERRIDE.creators + PARAMS_OVERRIDE.racers);
      expect(racers).toBeGreaterThan(0);
      // Every creator created one family; every racer exactly up to the limit, however its race went.
      expect(created).toBe(creators + racers * familyLimit);
      // The races were races: one owner's creations were at the store at the same time.
      expect(mostInFlightForOneOwner).toBeGreaterThanOrEqual(2);
      // Captures worked: each creator read its own new family back with its own token.
      expect(endpoint(result, 'GET /families/:id')).toBe(`200: ${creators}`);
      // The limit held in every race: one creation each up to the limit, the rest 409 family_limit.
      expect(endpoint(result, 'POST /families (race)')).toBe(`201: ${racers * headroom}, 409: ${racers * (attempts - headroom)}`);
      expect(result.metrics['errors.rate']).toBe(0);
      // The progress line's counts, read from Artillery's console, end at the report's total.
      expect(live()).toEqual({ requests: result.metrics['http.requests'], errors: 0 });
      expect(result.metrics['http.requests']).toBe(creators * 3 + racers * (1 + (familyLimit - headroom) + attempts + 1));
      const p99 = result.metrics['latency.p99'] ?? NaN;
      expect(p99).toBeGreaterThanOrEqual(result.metrics['latency.p50'] ?? Infinity);
      expect(p99).toBeLessThanOrEqual(result.metrics['latency.max'] ?? -Infinity);
      // The whole exchange (connect and download too) takes at least as long as its first byte.
      expect(result.metrics['latency.total.max']).toBeGreaterThanOrEqual((result.metrics['latency.max'] ?? Infinity) - 1);
      expect(result.engine?.name).toBe('artillery');
      process.stdout.write(`artillery local family-creation: ${String(result.metrics['http.requests'])} requests, p99 ${String(p99)} ms, ${String(Date.now() - started)} ms\n`);
    } finally {
      await service.close();
    }
  }, ARTILLERY_RUN_TIMEOUT_MS);

  it('a service that fails some creations and holds the others fails the errors.rate and latency thresholds', async () => {
    const holdMs = 300;
    let calls = 0;
    const service = await startServiceInTest({
      config: { familyLimit: 3, rateLimit: { limit: RATE_LIMIT_NEVER_REACHED, windowMs: 60_000 } },
      wrap: (inner: Store) =>
        storeWith(inner, {
          createFamily: (input, ctx) => {
            calls += 1;
            if (calls % 3 === 0) return Promise.reject(new Error('broken store: every third creation fails'));
            return new Promise((resolve) => setTimeout(resolve, holdMs)).then(() => inner.createFamily(input, ctx));
          },
        }),
    });
    try {
      const { result } = await runFamilyCreation(service.url, join(out, 'broken'), [`family-creation:latency.p99 < ${holdMs - 50}ms`]);
      expect(result.status).toBe('failed');
      expect(result.metrics['errors.rate']).toBeGreaterThan(0);
      expect(result.reasons.some((r) => r.startsWith('threshold failed: errors.rate == 0'))).toBe(true);
      // Time to first byte includes the store's hold: Artillery's latency is the service's.
      expect(result.metrics['latency.p99']).toBeGreaterThanOrEqual(holdMs);
      expect(result.reasons.some((r) => r.startsWith(`threshold failed: family-creation:latency.p99 < ${holdMs - 50}ms`))).toBe(true);
      expect(countOf(result, 'codes', 'status', '500')).toBeGreaterThan(0);
    } finally {
      await service.close();
    }
  }, ARTILLERY_RUN_TIMEOUT_MS);

  it('gauntlet run --engine artillery against the embedded target: results that report and compare read', async () => {
    const dir = join(out, 'cli');
    const run = await runGauntlet(['run', '--engine', 'artillery', '--scenario', 'family-creation', '--profile', 'smoke', '--store', 'sqlite', '--out', dir], { timeoutMs: ARTILLERY_RUN_TIMEOUT_MS });
    expect(run.stderr).toContain('1 passed, 0 failed');
    expect(run.code).toBe(0);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunResults;
    const scenario = results.scenarios[0];
    expect(scenario?.engine).toMatchObject({ name: 'artillery', platform: 'local', latency: { metric: 'http.response_time', rawHistogram: false } });
    expect(scenario?.histograms).toEqual({});
    expect(scenario?.thresholds.map((t) => [t.source, t.state])).toEqual([['errors.rate == 0', 'passed'], ['latency.p99 < 5s', 'passed']]);
    expect(scenario?.notes.join('\n')).toContain('unavailable under Artillery');
    expect(await readFile(join(dir, 'report.md'), 'utf8')).toContain('measured by Artillery');

    const report = await runGauntlet(['report', join(dir, 'results.json'), '--out', join(dir, 'again.md')]);
    expect(report.code).toBe(0);
    const compare = await runGauntlet(['compare', join(dir, 'results.json'), join(dir, 'results.json')]);
    expect(compare.code).toBe(0);
    expect(compare.stdout).toContain('latency.p99');
  }, ARTILLERY_RUN_TIMEOUT_MS);
});
