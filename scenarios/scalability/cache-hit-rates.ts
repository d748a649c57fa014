/**
 * Cache hit rates and eviction: a sequential scan over more families than the cache holds, repeated
 * reads of a hot set, a 70/30 hot/cold mix, and TTL expiry. Hit rates are counted twice — from each
 * response's `x-cache` and from the target's counters — and compared with an LRU+TTL model fed only
 * the capacity and TTL the target reports in /metrics.
 */
import { availableParallelism } from 'node:os';
import type { LoadResult, RequestSpec } from '../../src/load/index.ts';
import { mergeEncodedHistograms, decodeHistogram } from '../../src/measure/histogram.ts';
import { singleValue } from '../../src/measure/prometheus/query.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { Check, ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import { LruTtlModel } from '../lib/cachehit-model.ts';
import { cacheCounters, counterDelta, judgePhase, PhaseTap, runReadPhase } from '../lib/cachehit-phase.ts';
import type { CacheCounters, PhaseVerdict } from '../lib/cachehit-phase.ts';
import { planReads } from '../lib/cachehit-plan.ts';
import type { PlanShape } from '../lib/cachehit-plan.ts';
import { probeTtl, ttlMarginMs } from '../lib/cachehit-ttl.ts';
import { tappedPool } from '../lib/query-header-tap.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';
import { cacheHitRatesTraffic } from '../lib/artillery-scalability.ts';

/** Most families the scenario creates: a target reporting a huge cache gets a clear error, not an hour of fixtures. */
const MAX_FAMILIES = 50_000;

/** The read plan's shape (PlanShape) plus what the scenario asks of the target and how it reads. */
type Params = PlanShape & {
  readonly [key: string]: number;
  /** Capacity and TTL asked of the embedded target; the scenario uses what /metrics then reports. */
  readonly cacheEntries: number;
  readonly ttlMs: number;
  /** Reads in flight at once: low, so the target sees the reads in about the planned order. */
  readonly concurrency: number;
  /** Families per user: below the default family limit (10). */
  readonly familiesPerUser: number;
  /** Longest the TTL phase may wait; a target with a longer TTL fails the TTL check, saying so. */
  readonly maxTtlWaitMs: number;
};

const smoke: Params = {
  cacheEntries: 40, ttlMs: 2_000, scanFactor: 2, scanPasses: 2, hotFraction: 0.25, hotRounds: 20, mixedFactor: 5,
  mixedHotShare: 0.7, ttlFamilies: 4, concurrency: 4, familiesPerUser: 5, maxTtlWaitMs: 10_000,
};

const PHASE_METRICS = [['sequential', 'sequential scan over more families than the cache holds'], ['hot', 'repeated reads of a hot set smaller than the cache'], ['mixed', 'mixed hot/cold reads']] as const;

const definition: ScenarioDefinition<Params> = {
  id: 'cache-hit-rates',
  group: 'scalability',
  title: 'Cache hit rates and eviction',
  objective: 'The family cache hits as an LRU+TTL cache of its reported size and TTL should, and its x-cache headers and hit/miss counters tell the same story.',
  profiles: {
    smoke,
    standard: { ...smoke, cacheEntries: 300, ttlMs: 3_000, ttlFamilies: 8, concurrency: 8, maxTtlWaitMs: 40_000 },
    soak: { ...smoke, cacheEntries: 2_000, ttlMs: 10_000, hotRounds: 40, mixedFactor: 10, ttlFamilies: 16, concurrency: 8, maxTtlWaitMs: 120_000 },
  },
  metrics: [
    { name: 'cache.capacity', dimension: 'count', description: 'cache capacity the target reports (gauntlet_cache_max_entries)' },
    { name: 'cache.ttl', dimension: 'duration', description: 'cache TTL the target reports (gauntlet_cache_ttl_seconds)' },
    ...PHASE_METRICS.flatMap(([id, what]): ScenarioDefinition['metrics'] => [
      { name: `hit_rate.${id}`, dimension: 'ratio', description: `hit rate of the ${what}, from the target's counters` },
      { name: `hit_rate.${id}.expected`, dimension: 'ratio', description: `hit rate of the ${what} an LRU+TTL cache of the reported size and TTL gives` },
    ]),
    { name: 'hit_rate.disagreements', dimension: 'count', description: 'phases where x-cache headers and the hit/miss counters disagree' },
    { name: 'hit_rate.deviations', dimension: 'count', description: 'phases whose hits differ from the model beyond the tolerance' },
    { name: 'ttl.violations', dimension: 'count', description: 'TTL probes that did not hit right after a read or did not miss after the TTL' },
    { name: 'evictions.capacity', dimension: 'count', description: 'entries evicted for capacity during the phases' },
    { name: 'evictions.ttl', dimension: 'count', description: 'entries dropped as expired during the phases' },
    { name: 'evictions.invalidation', dimension: 'count', description: 'entries invalidated by writes during the phases (none expected: the phases only read)' },
    { name: 'reads', dimension: 'count', description: 'family reads answered' },
    { name: 'errors.rate', dimension: 'ratio', description: 'reads that failed or answered other than 200' },
    ...latencyMetricSpecs('latency', 'read latency (hits and misses together)'),
    { name: 'throughput', dimension: 'rate', description: 'reads per second over the three read phases' },
  ],
  thresholds: ['hit_rate.disagreements == 0', 'hit_rate.deviations == 0', 'ttl.violations == 0', 'errors.rate == 0', 'latency.p99 < 1s'],
  describe: (p) =>
    `on the target's cache (asked: ${p.cacheEntries} entries, ${p.ttlMs / 1000} s TTL): ${p.scanPasses} sequential passes over ${p.scanFactor}x its capacity, ` +
    `${p.hotRounds} rounds over a hot set of ${p.hotFraction * 100}% of it, ${p.mixedFactor}x its capacity of ${Math.round(p.mixedHotShare * 100)}/${Math.round((1 - p.mixedHotShare) * 100)} hot/cold reads, ` +
    `then ${p.ttlFamilies} families read, re-read, and read again after the TTL; ${p.concurrency} reads in flight`,
  deployment: (p) => ({ instances: 1, service: { rateLimit: { limit: RATE_LIMIT_NEVER_REACHED }, cache: { maxEntries: p.cacheEntries, ttlMs: p.ttlMs } } }),
  run,
  artillery: (p) => cacheHitRatesTraffic(p),
};
export default definition;

async function run(ctx: ScenarioContext, p: Params): Promise<ScenarioOutput> {
  // One instance's cache: the model is of one cache, so every read and scrape goes to the same instance.
  const origin = ctx.target.instances[0]?.url ?? ctx.target.url;
  ctx.phase('cache configuration');
  const config = await ctx.scrape(origin);
  const capacity = required(singleValue(config.samples, 'gauntlet_cache_max_entries'), 'gauntlet_cache_max_entries');
  const ttlMs = required(singleValue(config.samples, 'gauntlet_cache_ttl_seconds'), 'gauntlet_cache_ttl_seconds') * 1000;
  const plan = planReads(capacity, p);
  if (plan.families > MAX_FAMILIES) {
    throw new Error(`the target's cache holds ${capacity} families, so this scenario would create ${plan.families} (> ${MAX_FAMILIES}); start the target with a smaller cache`);
  }

  ctx.phase(`create ${plan.families} families`);
  const users = await ctx.fixtures.createUsers(Math.ceil(plan.families / p.familiesPerUser), 'cache');
  const owner = (i: number): (typeof users)[number] => users[Math.floor(i / p.familiesPerUser)] ?? failIndex(i);
  const families = await mapLimit(plan.families, FIXTURE_CONCURRENCY, (i) => ctx.fixtures.createFamily(owner(i), `cache family ${i}`));
  const specs: RequestSpec[] = families.map((f, i) => ({ method: 'GET', path: `/families/${f.id}`, headers: { authorization: `Bearer ${owner(i).token}` } }));

  const tap = new PhaseTap();
  const concurrency = Math.max(1, Math.min(p.concurrency, Math.floor(plan.hot.length / 2)));
  const transport = tappedPool(origin, { connections: concurrency, pipelining: 1 }, ['x-cache'], tap);
  const counters = async (): Promise<CacheCounters> => cacheCounters([await ctx.scrape(origin)]);
  const model = new LruTtlModel(capacity, ttlMs);
  const verdicts: PhaseVerdict[] = [];
  const problems: string[] = [];
  const runs: { label: string; result: LoadResult }[] = [];
  const expectedRates: Record<string, number> = {};
  try {
    for (const [id, label, keys] of [['sequential', 'sequential', plan.sequential], ['hot', 'hot set', plan.hotReads], ['mixed', 'mixed hot/cold', plan.mixed]] as const) {
      ctx.phase(label);
      const phase = await runReadPhase(ctx, { transport, tap, counters }, keys, specs, concurrency);
      const judged = judgePhase(label, phase.tally, phase.delta, model.replay(phase.sent));
      verdicts.push(judged.verdict);
      problems.push(...judged.problems);
      runs.push({ label, result: phase.result });
      expectedRates[id] = judged.verdict.expectedRate ?? 0;
    }
  } finally {
    await (ctx.signal.aborted ? transport.destroy() : transport.close());
  }

  ctx.phase('TTL expiry');
  const ttlTally = tap.begin();
  const ttlRan = ttlMs + ttlMarginMs(ttlMs) <= p.maxTtlWaitMs;
  const before = await counters();
  const probes = ttlRan ? await probeTtl(ctx, origin, plan.ttl.map((i) => ({ familyId: families[i]?.id ?? failIndex(i), token: owner(i).token })), ttlMs, ttlTally) : [];
  const ttlJudged = judgePhase('TTL expiry', ttlTally, counterDelta(before, await counters()), null);
  verdicts.push(ttlJudged.verdict);
  problems.push(...ttlJudged.problems);

  const disagreements = verdicts.filter((v) => !v.headerAgrees);
  const deviations = verdicts.filter((v) => !v.asExpected);
  const ttlFailed = probes.filter((o) => !o.passed);
  const ttlEvicted = ttlJudged.verdict.evictedTtl;
  const reads = verdicts.reduce((s, v) => s + v.reads, 0);
  const failed = runs.reduce((s, r) => s + r.result.sent - (r.result.statusCounts['200'] ?? 0), 0) + ttlTally.notOk + ttlTally.unanswered;
  const sent = runs.reduce((s, r) => s + r.result.sent, 0) + ttlTally.answered + ttlTally.unanswered;
  const encoded = runs.map((r) => r.result.latency.uncorrected).filter((e): e is string => e !== null);
  const latencyHistogram = encoded.length === 0 ? null : mergeEncodedHistograms(encoded);
  const latency = latencyHistogram === null ? null : summarize(decodeHistogram(latencyHistogram));
  const loadMs = runs.reduce((s, r) => s + r.result.durationMs, 0);
  const total = (pick: (v: PhaseVerdict) => number): number => verdicts.reduce((s, v) => s + pick(v), 0);
  const rateOf = (label: string): number => verdicts.find((v) => v.phase === label)?.hitRate ?? 0;

  const checks: Check[] = [
    {
      name: 'x-cache agrees with gauntlet_cache_hits_total / misses_total',
      expected: 'same hits and misses in every phase',
      actual: disagreements.length === 0 ? `${verdicts.length} phases agree` : `${disagreements.length} phases disagree`,
      passed: disagreements.length === 0,
      ...(disagreements.length === 0 ? {} : { detail: problems.filter((pr) => disagreements.some((d) => pr.startsWith(`${d.phase}: x-cache`))).join(' | ') }),
    },
    {
      name: 'hit rates match an LRU+TTL cache of the reported capacity and TTL',
      expected: verdicts.filter((v) => v.expectedRate !== null).map((v) => `${v.phase} ${v.expectedRate}`).join(', '),
      actual: verdicts.filter((v) => v.expectedRate !== null).map((v) => `${v.phase} ${v.hitRate}`).join(', '),
      passed: deviations.length === 0,
      ...(deviations.length === 0 ? {} : { detail: problems.filter((pr) => pr.includes('model expects')).join(' | ') }),
    },
    {
      name: 'TTL: hit right after a read, miss once the TTL has passed',
      expected: `${plan.ttl.length} probes: hit, then miss`,
      actual: ttlRan ? `${probes.length - ttlFailed.length} of ${probes.length}` : 'not run',
      passed: ttlRan && probes.length > 0 && ttlFailed.length === 0,
      ...(!ttlRan
        ? { detail: `the target's TTL is ${ttlMs / 1000} s: waiting it out exceeds maxTtlWaitMs (${p.maxTtlWaitMs / 1000} s); start the target with a shorter TTL or raise maxTtlWaitMs` }
        : ttlFailed.length === 0
          ? {}
          : { detail: ttlFailed.slice(0, 3).map((o) => `family ${o.familyId}: ${o.reads.join(', ')} (third read ${Math.round(o.waitedMs)} ms after the first was answered; TTL ${ttlMs} ms)`).join(' | ') }),
    },
    {
      name: 'TTL expiries counted as evictions{reason="ttl"}',
      expected: `>= ${ttlRan ? probes.length : 0}`,
      actual: ttlEvicted,
      passed: ttlRan && ttlEvicted >= probes.length,
      ...(ttlRan && ttlEvicted >= probes.length ? {} : { detail: `${probes.length} entries outlived the TTL, gauntlet_cache_evictions_total{reason="ttl"} rose by ${ttlEvicted}` }),
    },
    {
      name: 'every read answered 200',
      expected: sent,
      actual: sent - failed,
      passed: failed === 0 && sent > 0,
      ...(failed === 0 ? {} : { detail: `${failed} of ${sent} failed: ${failureEvidence(runs, ttlTally.evidence)}` }),
    },
  ];

  return {
    metrics: {
      'cache.capacity': capacity,
      'cache.ttl': ttlMs,
      'hit_rate.sequential': rateOf('sequential'),
      'hit_rate.hot': rateOf('hot set'),
      'hit_rate.mixed': rateOf('mixed hot/cold'),
      ...Object.fromEntries(Object.entries(expectedRates).map(([id, r]) => [`hit_rate.${id}.expected`, r])),
      'hit_rate.disagreements': disagreements.length,
      'hit_rate.deviations': deviations.length,
      'ttl.violations': ttlRan ? ttlFailed.length : plan.ttl.length,
      'evictions.capacity': total((v) => v.evictedCapacity),
      'evictions.ttl': total((v) => v.evictedTtl),
      'evictions.invalidation': total((v) => v.evictedInvalidation),
      reads,
      'errors.rate': sent === 0 ? 0 : failed / sent,
      ...latencyMetricValues(latency, 'latency'),
      ...(loadMs > 0 ? { throughput: runs.reduce((s, r) => s + r.result.completed, 0) / (loadMs / 1000) } : {}),
    },
    checks,
    ...(latencyHistogram === null ? {} : { histograms: { latency: latencyHistogram } }),
    loadRuns: runs.map((r) => summarizeLoadRun(r.label, r.result)),
    tables: {
      phases: verdicts.map((v) => ({ ...v, verdict: v.headerAgrees && v.asExpected ? 'ok' : 'FAIL' })),
      ttl: probes.map((o) => ({ familyId: o.familyId, reads: o.reads.join(', '), waitedMs: Math.round(o.waitedMs), passed: o.passed })),
    },
    notes: [
      `capacity ${capacity} and TTL ${ttlMs / 1000} s as the target reports them (asked for ${p.cacheEntries} and ${p.ttlMs / 1000} s where the target is embedded)`,
      'expected hits come from replaying the reads, in the order and at the times they were sent, through an LRU cache with that capacity and TTL (hits do not renew the TTL); a scan over 2x capacity gives 0, a hot set that fits gives about 1 - hot/reads',
      `all reads and scrapes go to one instance (${origin}): the model is of one cache; behind a balancer each instance has its own`,
      'x-cache and the counters count the same reads (the counter moves before the answer is sent, and each phase is scraped after its last answer); they may differ only by reads whose answer never arrived, or by other clients reading the same instance meanwhile',
      `${concurrency} reads in flight: the target may see neighbouring reads swapped, hence a tolerance of a few reads per phase`,
      `this machine has ${availableParallelism()} cores shared by generator and target: read latency here includes queueing for them`,
    ],
  };
}

/** Non-200 statuses and transport errors of the load runs, then the TTL phase's evidence. */
function failureEvidence(runs: readonly { label: string; result: LoadResult }[], ttlEvidence: readonly string[]): string {
  const lines = runs.flatMap(({ label, result }) => {
    const statuses = Object.entries(result.statusCounts).filter(([s]) => s !== '200');
    const errors = Object.values(result.errorSamples);
    return statuses.length === 0 && errors.length === 0 ? [] : [`${label}: statuses ${JSON.stringify(Object.fromEntries(statuses))}${errors.length > 0 ? `, errors ${errors.join('; ')}` : ''}`];
  });
  return [...lines, ...ttlEvidence.map((e) => `TTL expiry: ${e}`)].join(' | ');
}

function required(value: number | null, metric: string): number {
  if (value === null) throw new Error(`the target exposes no ${metric}: the cache scenario reads the cache's size and TTL from it (see target/service/metrics.ts)`);
  return value;
}

function failIndex(i: number): never {
  throw new Error(`cache-hit-rates: no family ${i}`);
}
