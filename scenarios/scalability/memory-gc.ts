/**
 * Memory usage and GC efficiency: B batches of K mixed operations against one instance; after each
 * batch its RSS, heap, GC pauses by kind and event-loop delay. Growth per operation is the slope of
 * the settled heap over cumulative operations, judged by its confidence interval, not a point estimate.
 */
import { sleep } from '../../src/clock.ts';
import type { LoadResult } from '../../src/load/index.ts';
import { DEFAULT_GROWTH_THRESHOLD_BYTES_PER_OP } from '../../src/measure/growth.ts';
import type { ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import { FORCE_GC_NODE_ARGS, hasGcHook, readMemory, settleAndRead } from '../lib/memory-sampling.ts';
import type { MemoryReading, MemoryWatched, SettleMethod } from '../lib/memory-sampling.ts';
import { memoryWorkload } from '../lib/memory-workload.ts';
import { MEMORY_METRIC_SPECS, reportMemory } from '../lib/memory-report.ts';
import type { BatchRecord } from '../lib/memory-report.ts';
import { memoryGcTraffic } from '../lib/artillery-scalability.ts';

/** Rate limit and family limit of the embedded target: far above anything this scenario sends. */
export const MEMORY_GC_SERVICE_LIMIT = 1_000_000;
/** Idle time after the last batch before the final settle, so in-flight work and timers finish. */
const DRAIN_PAUSE_MS = 300;
/**
 * Growth bounds of the short profiles. The reference target's settled heap still creeps after the
 * warm-up — 40-180 B/op here, decreasing as the run goes on — and a heap-snapshot diff shows it is
 * compiled code, deopt data and feedback vectors, no data objects: the JIT settling. These bounds
 * sit above that creep and far below a real leak (a 1 KiB retained object per request); the soak
 * profile, long enough for the JIT to settle, holds the library default.
 */
export const SMOKE_GROWTH_THRESHOLD_BYTES_PER_OP = 1024;
export const STANDARD_GROWTH_THRESHOLD_BYTES_PER_OP = 256;

export type MemoryGcParams = {
  readonly batches: number;
  readonly batchSize: number;
  /** Closed-model workers, each with one request in flight. */
  readonly concurrency: number;
  /** Operations before the baseline, so JIT compilation and caches have warmed up (a heap-snapshot diff showed compiled code growing over the first thousands). */
  readonly warmUpOperations: number;
  readonly owners: number;
  readonly invitees: number;
  /** The growth check passes when the 95% CI upper bound of the slope is below this (bytes per operation). */
  readonly growthThresholdBytesPerOp: number;
  /** Settled heap after the run may exceed the baseline by at most this fraction. */
  readonly settleTolerance: number;
};

const smoke: MemoryGcParams = {
  warmUpOperations: 1500,
  batches: 8,
  batchSize: 300,
  concurrency: 8,
  owners: 40,
  invitees: 20,
  growthThresholdBytesPerOp: SMOKE_GROWTH_THRESHOLD_BYTES_PER_OP,
  settleTolerance: 0.1,
};

const definition: ScenarioDefinition<MemoryGcParams> = {
  id: 'memory-gc',
  group: 'scalability',
  title: 'Memory usage and GC efficiency',
  objective: 'Thousands of mixed operations leave no sustained heap growth per operation, and memory returns near its baseline once the load is over.',
  profiles: {
    smoke,
    standard: { ...smoke, warmUpOperations: 2500, batches: 16, batchSize: 400, concurrency: 16, owners: 60, invitees: 40, growthThresholdBytesPerOp: STANDARD_GROWTH_THRESHOLD_BYTES_PER_OP },
    soak: { ...smoke, warmUpOperations: 10_000, batches: 40, batchSize: 2500, concurrency: 16, owners: 200, invitees: 200, growthThresholdBytesPerOp: DEFAULT_GROWTH_THRESHOLD_BYTES_PER_OP },
  },
  metrics: MEMORY_METRIC_SPECS,
  thresholds: ['errors.rate < 1%', 'latency.p99 < 2s'],
  describe: (p) =>
    `${p.warmUpOperations} warm-up operations, then ${p.batches} batches of ${p.batchSize} mixed operations (create family, read, list, rename, invite) by ${p.concurrency} closed-model workers; after each batch the heap is settled (forced full GC where the scenario started the instance) and read with RSS, GC pauses by kind and event-loop delay; growth per operation must stay below ${p.growthThresholdBytesPerOp} B (95% CI upper bound) and the settled heap within ${p.settleTolerance * 100}% of baseline.`,
  deployment: () => ({
    instances: 1,
    service: { familyLimit: MEMORY_GC_SERVICE_LIMIT, rateLimit: { limit: MEMORY_GC_SERVICE_LIMIT } },
    instanceNodeArgs: FORCE_GC_NODE_ARGS,
  }),
  run,
  artillery: memoryGcTraffic,
};

export default definition;

async function run(ctx: ScenarioContext, p: MemoryGcParams): Promise<ScenarioOutput> {
  ctx.phase('create users and families');
  const owners = await ctx.fixtures.createUsers(p.owners, 'memown');
  const families = await mapLimit(owners.length, FIXTURE_CONCURRENCY, (i) => {
    const owner = owners[i];
    if (owner === undefined) throw new Error(`scenario bug: no owner at index ${i}`);
    return ctx.fixtures.createFamily(owner, `memory family ${i}`);
  });
  const invitees = await ctx.fixtures.createUsers(p.invitees, 'meminv');
  const workload = memoryWorkload(owners, families, invitees, ctx.fixtures.username('mem'));

  const [instance, ...others] = ctx.target.instances;
  const watched: MemoryWatched =
    instance !== undefined && others.length === 0
      ? { name: instance.instanceId, url: instance.url, pid: instance.pid }
      : { name: 'target', url: ctx.target.url, pid: null };
  const method: SettleMethod = (await hasGcHook(watched.pid)) ? 'forced-gc' : 'idle-minimum';
  const batch = (offset: number, count: number): Promise<LoadResult> =>
    ctx.load.closed({ target: watched.url, concurrency: p.concurrency, end: { count }, request: (i) => workload.request(offset + i) });

  ctx.phase('warm-up batch');
  const warmUp = await batch(0, p.warmUpOperations);
  const baseline = await settleAndRead(ctx, watched, method);
  let previous: MemoryReading = baseline;
  const batches: BatchRecord[] = [];
  const runs: LoadResult[] = [];
  // Operations the service answered, not the ones planned: growth is per operation that ran.
  let cumulativeOperations = 0;
  for (let b = 1; b <= p.batches; b++) {
    ctx.phase(`batch ${b}/${p.batches}`);
    const result = await batch(p.warmUpOperations + (b - 1) * p.batchSize, p.batchSize);
    runs.push(result);
    cumulativeOperations += result.completed;
    const after = await readMemory(ctx, watched);
    // Per-batch points: the live set after a forced GC; without one, the heap as the batch left it (noisier).
    const settled = method === 'forced-gc' ? await settleAndRead(ctx, watched, method) : after;
    batches.push({ batch: b, cumulativeOperations, start: previous, after, settled });
    previous = settled;
  }

  ctx.phase('drain and settle');
  await sleep(ctx.clock, DRAIN_PAUSE_MS, ctx.signal);
  const final = await settleAndRead(ctx, watched, method);
  return reportMemory({ p, method, watched, baseline, final, batches, runs, warmUp, counts: workload.counts });
}
