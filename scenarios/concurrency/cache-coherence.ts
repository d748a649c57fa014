/**
 * Cache coherence: concurrent renames and reads of the same families through every instance and the
 * balancer. Once a write of version v is acknowledged, no read that starts later may return a
 * version below v, whichever instance answers it.
 */
import { summarize } from '../../src/measure/summary.ts';
import { encodeHistogram } from '../../src/measure/histogram.ts';
import type { Check, ScenarioDefinition, SeriesPoint } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { mapLimit } from '../../src/scenario/fixtures.ts';
import { describeViolations, judgeCoherence } from '../lib/coherence-oracle.ts';
import { COHERENCE_SERIES_INTERVAL_MS, TrafficLog, runCoherenceTraffic, sweep } from '../lib/coherence-traffic.ts';
import type { Origin, TrafficOptions, WatchedFamily } from '../lib/coherence-traffic.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';
import { cacheCoherenceTraffic } from '../lib/artillery-concurrency.ts';

interface CoherenceParams {
  readonly [key: string]: number;
  /** Instance processes of the embedded deployment (a balancer in front). */
  readonly instances: number;
  readonly families: number;
  /** Concurrent readers. */
  readonly readers: number;
  readonly durationMs: number;
  /** Upper bound on reads during the load phase. */
  readonly maxReads: number;
  /** Pause of each family's writer between two renames, so reads can be served from the cache in between. */
  readonly writePauseMs: number;
}

/** Violations quoted in a failed check's detail. */
const EVIDENCE = 5;

const definition: ScenarioDefinition<CoherenceParams> = {
  id: 'cache-coherence',
  group: 'concurrency',
  title: 'Cache coherence',
  objective: 'Once a rename is acknowledged, no read that starts later returns an older version, on any instance.',
  profiles: {
    smoke: { instances: 2, families: 4, readers: 8, durationMs: 1_500, maxReads: 3_000, writePauseMs: 20 },
    standard: { instances: 3, families: 8, readers: 16, durationMs: 6_000, maxReads: 60_000, writePauseMs: 50 },
    soak: { instances: 3, families: 32, readers: 24, durationMs: 60_000, maxReads: 2_000_000, writePauseMs: 50 },
  },
  metrics: [
    { name: 'violations', dimension: 'count', description: 'reads that returned a version below one acknowledged before they started' },
    { name: 'staleness.max', dimension: 'duration', description: 'longest time a stale version was served after the newer one was acknowledged (0 when coherent)' },
    { name: 'reads', dimension: 'count', description: 'successful reads judged (warm-up, load and final sweep)' },
    { name: 'writes', dimension: 'count', description: 'renames acknowledged' },
    { name: 'cache.hit_ratio', dimension: 'ratio', description: 'judged reads answered from the cache (x-cache: hit)' },
    ...latencyMetricSpecs('latency', 'read latency'),
    { name: 'errors.rate', dimension: 'ratio', description: 'reads and writes answered with an unexpected status or not at all' },
  ],
  thresholds: ['violations == 0', 'errors.rate < 1%', 'latency.p99 < 500ms'],
  describe: (p) =>
    `${p.families} families renamed continuously (one writer each, ${p.writePauseMs} ms apart) while ${p.readers} readers GET them ` +
    `through each of ${p.instances} instances and the balancer for ${p.durationMs / 1000} s (at most ${p.maxReads} reads)`,
  deployment: (p) => ({ instances: p.instances, service: { rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } } }),
  run,
  artillery: (p) => cacheCoherenceTraffic(p),
};
export default definition;

async function run(ctx: ScenarioContext, p: CoherenceParams): Promise<Awaited<ReturnType<ScenarioDefinition['run']>>> {
  ctx.phase('fixtures');
  const owners = await ctx.fixtures.createUsers(p.families, 'coh');
  const t0 = ctx.clock.now();
  const log = new TrafficLog(t0);
  const initialVersions = new Map<string, number>();
  const families: WatchedFamily[] = await mapLimit(owners.length, owners.length, async (i) => {
    const owner = owners[i];
    if (owner === undefined) throw new Error(`no owner ${i}`);
    const family = await ctx.fixtures.createFamily(owner, `coherence ${i}`);
    // Creation is the first acknowledged write: version 1 from now on.
    log.acks.push({ familyId: family.id, version: family.version, tAck: ctx.clock.now() });
    initialVersions.set(family.id, family.version);
    return { id: family.id, token: owner.token };
  });

  const origins = originsOf(ctx);
  const options: TrafficOptions = {
    http: ctx.http, clock: ctx.clock, signal: ctx.signal, families, origins,
    readers: p.readers, durationMs: p.durationMs, maxReads: p.maxReads, writePauseMs: p.writePauseMs,
  };
  ctx.phase('warm-up');
  await sweep(log, options);
  ctx.phase('renames and reads');
  await runCoherenceTraffic(log, options, initialVersions);
  ctx.phase('final sweep');
  await sweep(log, options);

  const verdict = judgeCoherence(log.acks, log.reads);
  const writes = log.acks.length - families.length;
  const judged = log.hits + log.misses;
  const hitRatio = judged === 0 ? 0 : log.hits / judged;
  const attempts = log.reads.length + log.readErrors + writes + log.writeErrors;
  const latency = summarize(log.readLatency);
  const checks: Check[] = [
    {
      name: 'no read older than an acknowledged write',
      expected: 0,
      actual: verdict.violations.length,
      passed: verdict.violations.length === 0,
      ...(verdict.violations.length === 0 ? {} : { detail: describeViolations(verdict.violations, EVIDENCE) }),
    },
    {
      name: 'cache exercised (hit ratio > 0)',
      expected: '> 0',
      actual: round(hitRatio),
      passed: log.hits > 0,
      ...(log.hits > 0 ? {} : { detail: `${log.hits} hits, ${log.misses} misses, ${log.reads.length - judged} reads without an x-cache header: a service that never caches is trivially coherent` }),
    },
    {
      name: 'renames acknowledged',
      expected: '> 0',
      actual: writes,
      passed: writes > 0,
      ...(writes > 0 ? {} : { detail: `no rename was acknowledged; ${log.errorSamples.join(' | ')}` }),
    },
  ];

  return {
    metrics: {
      violations: verdict.violations.length,
      'staleness.max': verdict.stalenessMaxMs,
      reads: log.reads.length,
      writes,
      'cache.hit_ratio': hitRatio,
      ...latencyMetricValues(latency, 'latency'),
      'errors.rate': attempts === 0 ? 0 : (log.readErrors + log.writeErrors) / attempts,
    },
    checks,
    histograms: { latency: encodeHistogram(log.readLatency) },
    series: { traffic: seriesOf(log) },
    tables: {
      origins: [...log.perOrigin].map(([via, s]) => ({
        via, reads: s.reads, hits: s.hits, misses: s.misses, violations: verdict.violations.filter((v) => v.via === via).length,
      })),
    },
    notes: [
      `reads went through ${origins.map((o) => o.via).join(', ')}; times are taken in the harness (request sent, response received), so a violation means the harness had the acknowledgement before it sent the read`,
      ...(origins.length < 2 ? ['only one way into the service is known (an external target does not list its instances): cross-instance staleness shows only when the balancer spreads the reads'] : []),
      ...(log.errorSamples.length === 0 ? [] : [`unexpected answers (first ${log.errorSamples.length}): ${log.errorSamples.join(' | ')}`]),
    ],
  };
}

/** Every instance directly, and the balancer (or the single URL of an external target). */
function originsOf(ctx: ScenarioContext): Origin[] {
  const { target } = ctx;
  const direct = target.instances.map((i) => ({ via: i.instanceId, url: i.url }));
  if (target.balancer !== null) return [...direct, { via: 'balancer', url: target.balancer.url }];
  return direct.length > 0 ? direct : [{ via: 'target', url: target.url }];
}

function seriesOf(log: TrafficLog): SeriesPoint[] {
  return [...log.buckets]
    .sort(([a], [b]) => a - b)
    .map(([key, b]) => ({
      x: (key * COHERENCE_SERIES_INTERVAL_MS) / 1000,
      reads: b.reads,
      writes: b.writes,
      hitRatio: b.reads === 0 ? 0 : round(b.hits / b.reads),
    }));
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
