/**
 * Overload and back-pressure: the capacity of one instance is measured first (closed model); then an
 * open-model baseline below it, an arrival rate well above it, and the rate dropped back below it.
 * Under overload the service must shed the excess with 429/503 + Retry-After rather than queue it
 * without bound: the admitted requests keep a bounded latency, resident memory stays bounded, and
 * when the rate drops the service is back to its baseline.
 */
import type { RequestSpec } from '../../src/load/index.ts';
import type { ScenarioDefinition, ScenarioOutput, SeriesPoint } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import type { FamilyView, TestUser } from '../../src/scenario/fixtures.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import { judgeOverload, lastFailureMs, phaseSeries, summarizePhase, unclearAnswers } from '../lib/overload-oracle.ts';
import type { OverloadBounds, PhaseSummary } from '../lib/overload-oracle.ts';
import {
  belowCapacityConnections, OVERLOAD_CONNECTIONS, REQUEST_TIMEOUT_MS, RSS_SAMPLE_MS, runPhase, sampleRss,
} from '../lib/overload-phase.ts';
import type { PhasePlan, PhaseRun } from '../lib/overload-phase.ts';
import { DEFAULT_MAX_RECOVERY_MS } from '../lib/recovery-bound.ts';
import { judgedSaturationBounds } from '../lib/judged-lateness.ts';
import { overloadTraffic } from '../lib/artillery-reliability.ts';
import { DEFAULT_ADMISSION } from '../../target/config.ts';

/**
 * The overload's arrival rate: the most gauntlet is asked to send here (its open model does ~5,000/s
 * on this 2-core machine with the target beside it; past this its own lateness, not the target, would
 * be measured). A fixed rate rather than a multiple of the probe: on a disk-bound workload the short
 * probe can catch a slow moment of the disk and underestimate capacity severalfold.
 */
export const DEFAULT_OVERLOAD_RATE = 4_000;
/**
 * The workload: durable token transfers, two commits each (the rate-limit counter and the transfer),
 * every commit waiting for the disk as a production store would (the embedded target's default `off`
 * is for its speed elsewhere). Heavier than reads, and bound by the disk rather than the CPU, so one
 * instance's capacity stays well below what gauntlet can send however busy this machine's CPUs are.
 */
const WORKLOAD_SYNCHRONOUS = 'full';
/** Enough tokens that no family runs out during any profile (insufficient_funds would be a failure). */
const WORKLOAD_BALANCE = 1_000_000_000;
/** Below this multiple of capacity the run would not overload the service: it fails rather than pass vacuously. */
export const MIN_OVERLOAD_FACTOR = 1.5;
/**
 * Admitted requests under a standing overload answer within this (p99): 20x the service's lag target,
 * with room for a busy machine, and far below the seconds an unshed backlog reaches within a few
 * seconds of overload.
 */
export const DEFAULT_ADMITTED_P99_MS = 1_000;
/**
 * Resident memory under overload at most this far above its baseline peak: the overload's sockets
 * and a lag interval's backlog of small requests take a few MiB; a queue that keeps what it cannot
 * serve takes hundreds within seconds at thousands per second.
 */
export const DEFAULT_MAX_RSS_GROWTH_MIB = 64;
/** Recovery p99 may exceed the baseline's by this much (or by recoveryP99Factor x, whichever is larger). */
export const DEFAULT_RECOVERY_P99_SLACK_MS = 250;
/**
 * After the rate drop (or the last failure, if later) the requests the service admitted under overload
 * are still being answered for a turn or two of its loop; latency is judged from this long after.
 */
export const RECOVERY_DRAIN_GRACE_MS = 500;

export type OverloadParams = {
  /** Families (one owner each) the transfers are spread over. */
  readonly families: number;
  readonly probeConcurrency: number;
  /**
   * Shorter than the service's lag interval (1 s by default): a longer saturating probe would be shed,
   * and measure what the service refuses rather than what it serves.
   */
  readonly probeMs: number;
  /** The baseline and recovery rates, as a share of the measured capacity. */
  readonly belowFactor: number;
  /** Arrivals per second under overload; must be at least MIN_OVERLOAD_FACTOR x the measured capacity. */
  readonly overloadRate: number;
  readonly baselineMs: number;
  /**
   * The first part of the overload, not judged for admitted latency: the service queues a backlog for
   * up to its lag interval (1 s by default) by design, which is how it serves a burst.
   */
  readonly settleMs: number;
  readonly overloadMs: number;
  readonly recoveryMs: number;
} & OverloadBounds;

const smoke: OverloadParams = {
  families: 32,
  probeConcurrency: 256,
  probeMs: 800,
  belowFactor: 0.5,
  overloadRate: DEFAULT_OVERLOAD_RATE,
  baselineMs: 1_500,
  settleMs: 1_500,
  overloadMs: 2_000,
  recoveryMs: 3_000,
  admittedP99Ms: DEFAULT_ADMITTED_P99_MS,
  maxRssGrowthMiB: DEFAULT_MAX_RSS_GROWTH_MIB,
  maxRecoveryMs: DEFAULT_MAX_RECOVERY_MS,
  minSteadyAfterMs: 500,
  recoveryP99Factor: 3,
  recoveryP99SlackMs: DEFAULT_RECOVERY_P99_SLACK_MS,
};

const definition: ScenarioDefinition<OverloadParams> = {
  id: 'overload',
  group: 'reliability',
  title: 'Overload and back-pressure',
  objective: 'Above capacity the service sheds the excess with 429/503 and Retry-After instead of queueing it: admitted requests keep a bounded latency, memory stays bounded, and it is back to normal when the rate drops.',
  profiles: {
    smoke,
    standard: { ...smoke, baselineMs: 4_000, settleMs: 2_000, overloadMs: 12_000, recoveryMs: 7_000, minSteadyAfterMs: 3_000 },
    soak: { ...smoke, baselineMs: 30_000, settleMs: 2_000, overloadMs: 240_000, recoveryMs: 60_000, minSteadyAfterMs: 30_000 },
  },
  metrics: [
    { name: 'capacity', dimension: 'rate', description: 'transfers per second one instance completed in the closed-model probe' },
    { name: 'overload.rate', dimension: 'rate', description: 'arrival rate offered under overload' },
    { name: 'overload.factor', dimension: 'count', description: 'overload rate over capacity' },
    { name: 'overload.shed_rate', dimension: 'ratio', description: 'requests under overload refused with 429/503' },
    { name: 'overload.unclear', dimension: 'count', description: 'answers over the whole overload (the settle included) that were neither 2xx nor a refusal with Retry-After' },
    { name: 'overload.goodput', dimension: 'rate', description: '2xx per second under overload' },
    ...latencyMetricSpecs('overload.admitted.latency', 'admitted (2xx) requests under a standing overload (after the settle), from their intended send time'),
    { name: 'overload.admitted.latency.all_p99', dimension: 'duration', description: '99th percentile of admitted requests over the whole overload, settle included' },
    ...latencyMetricSpecs('baseline.latency', 'the baseline (2xx)'),
    { name: 'recovery.ms', dimension: 'duration', description: 'from the rate drop to the last failed request (the overload\'s drain included)' },
    { name: 'overload.drain_ms', dimension: 'duration', description: 'from the rate drop to the overload\'s last answer' },
    ...latencyMetricSpecs('recovery.latency', 'requests due from 0.5 s after the last failure once the rate dropped (2xx)'),
    { name: 'recovery.success_rate', dimension: 'ratio', description: 'requests after the rate dropped that got a 2xx (the recovery included)' },
    { name: 'rss.baseline_peak', dimension: 'bytes', description: 'highest resident memory of the instance at baseline' },
    { name: 'rss.overload_peak', dimension: 'bytes', description: 'highest resident memory of the instance under overload, its drain included' },
    { name: 'rss.growth', dimension: 'bytes', description: 'overload peak over baseline peak' },
  ],
  thresholds: [
    'overload.unclear == 0',
    'overload.shed_rate > 0%',
    `overload.admitted.latency.p99 < ${DEFAULT_ADMITTED_P99_MS}ms`,
    `rss.growth < ${DEFAULT_MAX_RSS_GROWTH_MIB}MiB`,
    `recovery.ms < ${DEFAULT_MAX_RECOVERY_MS / 1000}s`,
  ],
  describe: (p) =>
    `One instance's capacity for durable token transfers (SQLite synchronous=FULL) over ${p.families} families measured with ${p.probeConcurrency} closed-model workers for ${p.probeMs / 1000} s; then open-model load at ${p.belowFactor}x capacity for ${p.baselineMs / 1000} s, ${p.overloadRate}/s for ${(p.settleMs + p.overloadMs) / 1000} s (latency judged after the first ${p.settleMs / 1000} s), and ${p.belowFactor}x for ${p.recoveryMs / 1000} s, over ${OVERLOAD_CONNECTIONS} connections under overload; resident memory scraped every ${RSS_SAMPLE_MS} ms.`,
  deployment: () => ({ instances: 1, service: { sqliteSynchronous: WORKLOAD_SYNCHRONOUS, initialBalance: WORKLOAD_BALANCE, rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } } }),
  run,
  artillery: (p) => overloadTraffic(p, MIN_OVERLOAD_FACTOR),
};

export default definition;

async function run(ctx: ScenarioContext, p: OverloadParams): Promise<ScenarioOutput> {
  ctx.phase('create users and families');
  const owners = await ctx.fixtures.createUsers(p.families, 'overload');
  const families = await mapLimit(owners.length, FIXTURE_CONCURRENCY, (i) => ctx.fixtures.createFamily(owners[i] ?? missing(i), `overload family ${i}`));
  const request = transfers(families, owners);
  const url = ctx.target.instances[0]?.url ?? ctx.target.url;

  ctx.phase('capacity probe');
  const probe = await ctx.load.closed({ target: url, concurrency: p.probeConcurrency, end: { durationMs: p.probeMs }, request, timeoutMs: REQUEST_TIMEOUT_MS });
  const probeOk = Object.entries(probe.statusCounts).reduce((n, [status, count]) => (status.startsWith('2') ? n + count : n), 0);
  const capacity = (probeOk * 1000) / Math.max(1, probe.durationMs);
  if (capacity <= 0) throw new Error(`the capacity probe got no 2xx in ${p.probeMs} ms (${JSON.stringify(probe.statusCounts)}): the target does not serve POST /families/:id/transfers`);
  const belowRate = Math.max(1, Math.round(capacity * p.belowFactor));
  const overloadRate = p.overloadRate;

  const t0 = ctx.clock.now();
  const sampler = sampleRss(ctx, url, t0, Math.ceil((p.baselineMs + p.settleMs + p.overloadMs + p.recoveryMs + 4 * REQUEST_TIMEOUT_MS) / RSS_SAMPLE_MS));
  // The finest latency margin any check judges is the recovery p99's slack over the baseline.
  const saturationBounds = judgedSaturationBounds(Math.min(p.recoveryP99SlackMs, p.admittedP99Ms));
  const below = (durationMs: number, onStarted: (atMs: number) => void): PhasePlan => ({
    rate: belowRate, durationMs, request, connections: belowCapacityConnections(belowRate), saturationBounds, onStarted,
  });
  // Times from t0, each phase's start taken once its sockets are open (when its schedule starts).
  const marks = { baselineStart: 0, baselineEnd: 0, overloadStart: 0, overloadEnd: 0, recoveryStart: 0 };
  const at = (now: number): number => now - t0;
  const opened: PhaseRun[] = [];
  const phase = async (plan: PhasePlan): Promise<PhaseRun> => {
    const ran = await runPhase(ctx, url, plan);
    opened.push(ran);
    return ran;
  };
  let baseline: PhaseRun;
  let overload: PhaseRun;
  let recovery: PhaseRun;
  try {
    ctx.phase(`baseline at ${belowRate}/s`);
    baseline = await phase(below(p.baselineMs, (now) => (marks.baselineStart = at(now))));
    marks.baselineEnd = at(ctx.clock.now());
    await baseline.close();
    ctx.phase(`overload at ${overloadRate}/s`);
    overload = await phase({
      rate: overloadRate, durationMs: p.settleMs + p.overloadMs, request, connections: OVERLOAD_CONNECTIONS, saturationBounds,
      onStarted: (now) => {
        marks.overloadStart = at(now);
        // The rate drops when the overload's schedule ends.
        marks.overloadEnd = marks.overloadStart + p.settleMs + p.overloadMs;
      },
    });
    // The recovery load starts once the overload's last answer is in (its drain) and its sockets are
    // closed, so neither gauntlet's bookkeeping of one run nor the teardown of 1,024 sockets (which an
    // idle timeout would otherwise bring on mid-recovery, at both ends) delays the other's sends or
    // answers. Recovery time counts from the drop, all of that included.
    await overload.close();
    ctx.phase(`recovery at ${belowRate}/s`);
    recovery = await phase(below(p.recoveryMs, (now) => (marks.recoveryStart = at(now))));
  } finally {
    // Also on an abort (Ctrl-C, the time limit) or a failed phase: no socket and no sampler outlives the run.
    await Promise.allSettled([sampler.stop(), ...opened.map((r) => r.close())]);
  }
  const rss = sampler.readings.samples;

  const overloadAnswers = overload.answers();
  const recoveryAnswers = recovery.answers();
  const steady = summarizePhase(overloadAnswers.filter((a) => a.intendedMs >= p.settleMs));
  const whole = summarizePhase(overloadAnswers);
  const baselineAnswers = baseline.answers();
  const base = summarizePhase(baselineAnswers);
  const overloadMs = p.settleMs + p.overloadMs;
  const drainMs = Math.max(0, overloadAnswers.reduce((last, a) => Math.max(last, a.doneMs), overloadMs) - overloadMs);
  const lastFailure = lastFailureMs(recoveryAnswers);
  const recoveryMs = Math.max(0, marks.recoveryStart - marks.overloadEnd) + lastFailure;
  const judgedFrom = lastFailure + RECOVERY_DRAIN_GRACE_MS;
  const after = summarizePhase(recoveryAnswers.filter((a) => a.intendedMs > judgedFrom));
  const recoveryFigures = { recoveryMs, steadyAfterMs: p.recoveryMs - judgedFrom, after };
  const recoveryAll = summarizePhase(recoveryAnswers);
  const peak = (from: number, to: number): number | null => {
    const inPhase = rss.filter((s) => s.atMs >= from && s.atMs <= to).map((s) => s.bytes);
    return inPhase.length === 0 ? null : Math.max(...inPhase);
  };
  // The overload's memory is judged until its last answer (its drain): a queue that keeps what it cannot serve peaks there.
  const memory = { baselineBytes: peak(0, marks.baselineEnd), overloadBytes: peak(marks.overloadStart, marks.recoveryStart), samples: rss.length };
  const checks = judgeOverload({
    baseline: base, overload: steady, overloadWhole: whole, shedWithoutRetryAfter: overload.shedWithoutRetryAfter, recovery: recoveryFigures, memory, bounds: p,
  });
  const factorCheck = {
    name: 'the offered rate overloads the service',
    expected: `>= ${MIN_OVERLOAD_FACTOR}x capacity`,
    actual: `${(overloadRate / capacity).toFixed(2)}x (${overloadRate}/s over ${capacity.toFixed(0)}/s)`,
    passed: overloadRate >= MIN_OVERLOAD_FACTOR * capacity,
    ...(overloadRate < MIN_OVERLOAD_FACTOR * capacity
      ? { detail: `the instance serves ${capacity.toFixed(0)}/s, too close to the ${overloadRate}/s gauntlet sends to overload it; raise overloadRate if this machine can send more, run gauntlet from a second machine, or give the target heavier requests` }
      : {}),
  };

  const overloadSeconds = Math.max(0.001, (p.settleMs + p.overloadMs) / 1000);
  return {
    metrics: {
      capacity,
      'overload.rate': overloadRate,
      'overload.factor': overloadRate / capacity,
      'overload.shed_rate': steady.requests === 0 ? 0 : steady.shed / steady.requests,
      'overload.unclear': unclearAnswers(whole, overload.shedWithoutRetryAfter),
      'overload.goodput': whole.admitted / overloadSeconds,
      ...latencyMetricValues(steady.admittedLatency, 'overload.admitted.latency'),
      ...(whole.admittedLatency === null ? {} : { 'overload.admitted.latency.all_p99': whole.admittedLatency.p99 }),
      ...latencyMetricValues(base.admittedLatency, 'baseline.latency'),
      ...latencyMetricValues(after.admittedLatency, 'recovery.latency'),
      'recovery.ms': recoveryMs,
      'overload.drain_ms': drainMs,
      'recovery.success_rate': recoveryAll.requests === 0 ? 0 : recoveryAll.admitted / recoveryAll.requests,
      ...(memory.baselineBytes === null ? {} : { 'rss.baseline_peak': memory.baselineBytes }),
      ...(memory.overloadBytes === null ? {} : { 'rss.overload_peak': memory.overloadBytes }),
      ...(memory.baselineBytes === null || memory.overloadBytes === null ? {} : { 'rss.growth': memory.overloadBytes - memory.baselineBytes }),
    },
    checks: [factorCheck, ...checks],
    histograms: Object.fromEntries(
      ([['baseline.admitted', base], ['overload.admitted', steady], ['recovery.admitted', after]] as const)
        .flatMap(([name, s]) => (s.admittedHistogram === null ? [] : [[name, s.admittedHistogram]])),
    ),
    series: {
      'offered, admitted and refused per second, admitted p99, by due time (250 ms buckets)': [
        ...phaseSeries(baselineAnswers, marks.baselineStart),
        ...phaseSeries(overloadAnswers, marks.overloadStart),
        ...phaseSeries(recoveryAnswers, marks.recoveryStart),
      ],
      'resident memory (MiB) by time': rss.map((s): SeriesPoint => ({ x: Math.round(s.atMs) / 1000, rss_mib: Math.round((s.bytes / (1024 * 1024)) * 10) / 10 })),
    },
    loadRuns: [
      summarizeLoadRun('capacity probe (closed)', probe),
      summarizeLoadRun(`baseline at ${belowRate}/s`, baseline.result),
      summarizeLoadRun(`overload at ${overloadRate}/s`, overload.result),
      summarizeLoadRun(`recovery at ${belowRate}/s`, recovery.result),
    ],
    tables: {
      phases: [
        phaseRow('baseline', belowRate, base),
        phaseRow(`overload (first ${p.settleMs / 1000} s)`, overloadRate, summarizePhase(overloadAnswers.filter((a) => a.intendedMs < p.settleMs))),
        phaseRow('overload (standing)', overloadRate, steady),
        phaseRow('recovery (all)', belowRate, recoveryAll),
        phaseRow(`recovery (from ${RECOVERY_DRAIN_GRACE_MS} ms after the last failure)`, belowRate, after),
      ],
    },
    notes: [
      `Capacity ${capacity.toFixed(0)} transfers/s (SQLite synchronous=${WORKLOAD_SYNCHRONOUS}: each commit waits for the disk): what one instance completed for ${p.probeConcurrency} closed-model workers. The overload, ${overloadRate}/s, is ${(overloadRate / capacity).toFixed(1)}x that; gauntlet is not asked for more, where it would measure itself.`,
      'A stall of the disk (another process\'s I/O) blocks the instance\'s event loop, better-sqlite3 being synchronous: no admission control answers while it lasts, and requests that wait it out count in the admitted latency. The latency series shows when.',
      `Admitted latency is judged after the first ${p.settleMs / 1000} s of the overload: the service tolerates a backlog for its lag interval by design (a barrier burst is served, not shed); the whole-overload p99 is overload.admitted.latency.all_p99.`,
      'Latency from each request\'s intended send time (open model): time queued anywhere, in gauntlet\'s pool or at the service, counts.',
      `The overload is sent over ${OVERLOAD_CONNECTIONS} connections, as many clients would: with fewer, requests would queue in gauntlet's pool, out of the service's sight, and the latency measured would be gauntlet's queue.`,
      `What the shedding tests is the service's event-loop lag signal (the loop saturated by arrivals): with one request per connection, at most ${OVERLOAD_CONNECTIONS} are in flight, which never passes the reference service's default in-flight limit (${DEFAULT_ADMISSION.maxInFlight}); that limit is for waits off the loop (a slow store) and is not exercised here.`,
      ...(sampler.readings.failed > 0 ? [`${sampler.readings.failed} of ${sampler.readings.failed + rss.length} scrapes of resident memory failed (skipped; the peaks are of the ${rss.length} that answered).`] : []),
    ],
  };
}

/** One token from each family to its owner, round-robin over the families. */
function transfers(families: readonly FamilyView[], owners: readonly TestUser[]): (index: number) => RequestSpec {
  const specs = families.map((family, i): RequestSpec => {
    const owner = owners[i] ?? missing(i);
    return {
      method: 'POST',
      path: `/families/${family.id}/transfers`,
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: owner.id, amount: 1 }),
    };
  });
  return (index) => specs[index % specs.length] ?? missing(index);
}

function phaseRow(name: string, rate: number, s: PhaseSummary): Record<string, string | number | null> {
  return {
    phase: name,
    ratePerSec: rate,
    requests: s.requests,
    admitted: s.admitted,
    shed: s.shed,
    noAnswer: s.failed,
    other: s.other,
    admittedP50Ms: s.admittedLatency?.p50 ?? null,
    admittedP99Ms: s.admittedLatency?.p99 ?? null,
  };
}

function missing(i: number): never {
  throw new Error(`scenario bug: no fixture at index ${i}`);
}
