/**
 * Database stall and recovery: steady open-model load of transfers and reads; meanwhile the store
 * becomes unavailable for a while (`POST /_faults/db-stall`: SQLite's write lock held by a second
 * connection, or MongoDB's pool checked out). During the stall requests must fail fast with a clear
 * status (503 + Retry-After), not hang; afterwards every acknowledged transfer must be in its
 * ledger, and the service must be back to answering everything without a restart.
 */
import { intendedSendMs } from '../../src/load/index.ts';
import type { ArrivalSchedule, RequestSpec } from '../../src/load/index.ts';
import { sumValues } from '../../src/measure/prometheus/query.ts';
import type { Check, ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import type { FamilyView, TestUser } from '../../src/scenario/fixtures.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import { summarizeEncoded } from '../../src/measure/summary.ts';
import { readBackCheck, readBackTransfers } from '../lib/ack-read-back.ts';
import type { AckedWrite } from '../lib/ack-read-back.ts';
import { TappedRequests } from '../lib/answer-tap.ts';
import { startStall } from '../lib/stall-fault.ts';
import type { StartedStall } from '../lib/stall-fault.ts';
import { isSuccess, judgeStall } from '../lib/stall-oracle.ts';
import type { Observation } from '../lib/stall-oracle.ts';
import { dbStallTraffic } from '../lib/artillery-reliability.ts';
import { DEFAULT_MAX_RECOVERY_MS } from '../lib/recovery-bound.ts';
import { judgedSaturationBounds } from '../lib/judged-lateness.ts';
import { DEFAULT_STORE_WAIT_MS } from '../../target/config.ts';

/** Golden-ratio spacing: a deterministic, evenly mixed sequence of reads and writes over request indexes. */
const MIX_STEP = 0.6180339887;
/** Room over the service's own waits in the fail-fast bound, for a loaded machine. */
const FAIL_FAST_ROOM_MS = 250;
/**
 * Failed requests must answer within this (p99): until the breaker opens, a transfer waits out the
 * store twice (its rate-limit counter's commit, then its own; DEFAULT_STORE_WAIT_MS each), plus room
 * for a loaded machine; far below the seconds a request queued behind a blocked event loop takes.
 */
export const DEFAULT_FAIL_FAST_P99_MS = 2 * DEFAULT_STORE_WAIT_MS + FAIL_FAST_ROOM_MS;
/** The generator may be late by a fifth of that room (judged-lateness.ts) before its run counts as saturated. */
const STALL_SATURATION_BOUNDS = judgedSaturationBounds(FAIL_FAST_ROOM_MS);
/** Requests in flight per connection stay 1; enough sockets that a slow answer never queues the next in gauntlet. */
const CONNECTIONS = 64;
/** Per-request timeout: a request queued behind a blocked instance must still be measured, not cut off early. */
const REQUEST_TIMEOUT_MS = 15_000;

export type StallParams = {
  readonly instances: number;
  readonly families: number;
  readonly ratePerSec: number;
  /** Share of requests that are transfers (writes); the rest read a family. */
  readonly writeFraction: number;
  readonly beforeMs: number;
  readonly stallMs: number;
  readonly afterMs: number;
  readonly failFastP99Ms: number;
  readonly maxRecoveryMs: number;
  /** After recovery at least this much of the run, without a failure. */
  readonly minSteadyAfterMs: number;
};

const smoke: StallParams = {
  instances: 1,
  families: 16,
  ratePerSec: 200,
  writeFraction: 0.5,
  beforeMs: 500,
  stallMs: 1_500,
  afterMs: 3_000,
  failFastP99Ms: DEFAULT_FAIL_FAST_P99_MS,
  maxRecoveryMs: DEFAULT_MAX_RECOVERY_MS,
  minSteadyAfterMs: 500,
};

const definition: ScenarioDefinition<StallParams> = {
  id: 'db-stall',
  group: 'reliability',
  title: 'Database stall and recovery',
  objective: 'While the store is unavailable requests fail fast with 503 and Retry-After instead of hanging, no acknowledged write is lost, and the service recovers on its own.',
  profiles: {
    smoke,
    standard: { ...smoke, instances: 2, families: 40, ratePerSec: 400, beforeMs: 3_000, stallMs: 5_000, afterMs: 8_000, minSteadyAfterMs: 3_000 },
    soak: { ...smoke, instances: 2, families: 80, ratePerSec: 400, beforeMs: 10_000, stallMs: 30_000, afterMs: 60_000, minSteadyAfterMs: 30_000 },
  },
  metrics: [
    { name: 'requests', dimension: 'count', description: 'requests answered or failed over the run' },
    { name: 'stall.ms', dimension: 'duration', description: 'how long the store was stalled (asked of the fault)' },
    { name: 'failed.count', dimension: 'count', description: 'requests that did not get a 2xx' },
    ...latencyMetricSpecs('failed.latency', 'failed requests, from their intended send time', ['p50', 'p99', 'max']),
    { name: 'stall.latency.p99', dimension: 'duration', description: '99th percentile of every request due during the stall' },
    { name: 'refusals.unclear', dimension: 'count', description: 'failures other than a 503 with Retry-After (timeouts, resets, 500s)' },
    { name: 'recovery.ms', dimension: 'duration', description: 'from the end of the stall to the last failed request' },
    { name: 'stall.writes.success_rate', dimension: 'ratio', description: 'writes due during the stall that succeeded' },
    { name: 'stall.reads.success_rate', dimension: 'ratio', description: 'reads due during the stall that succeeded' },
    { name: 'after.success_rate', dimension: 'ratio', description: 'requests due after recovery that succeeded' },
    { name: 'writes.acked', dimension: 'count', description: 'transfers the service acknowledged (2xx)' },
    { name: 'writes.lost', dimension: 'count', description: 'acknowledged transfers missing from the ledger read back afterwards' },
    ...latencyMetricSpecs('latency', 'every response of the run, from its intended send time'),
  ],
  thresholds: ['writes.lost == 0', 'refusals.unclear == 0', `failed.latency.p99 < ${DEFAULT_FAIL_FAST_P99_MS}ms`, `recovery.ms < ${DEFAULT_MAX_RECOVERY_MS / 1000}s`, 'after.success_rate >= 99%'],
  describe: (p) =>
    `${p.ratePerSec}/s open-model load (${Math.round(p.writeFraction * 100)}% transfers, the rest family reads) over ${p.families} families on ${p.instances} instance(s) for ${(p.beforeMs + p.stallMs + p.afterMs) / 1000} s; after ${p.beforeMs / 1000} s the store stalls for ${p.stallMs / 1000} s (POST /_faults/db-stall); then every acknowledged transfer is read back.`,
  deployment: (p) => ({ instances: p.instances, faults: true, service: { rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } } }),
  run,
  artillery: dbStallTraffic,
};

export default definition;

const isWrite = (index: number, writeFraction: number): boolean => (index * MIX_STEP) % 1 < writeFraction;

async function run(ctx: ScenarioContext, p: StallParams): Promise<ScenarioOutput> {
  ctx.phase('create users and families');
  const owners = await ctx.fixtures.createUsers(p.families, 'stall');
  const families = await mapLimit(owners.length, FIXTURE_CONCURRENCY, (i) => ctx.fixtures.createFamily(owners[i] ?? missing(i), `stall family ${i}`));
  const ownerOf = new Map<string, TestUser>(families.map((f, i) => [f.id, owners[i] ?? missing(i)]));

  const tracked = new TappedRequests();
  const request = (index: number): RequestSpec => tracked.track(index, specFor(index, families, owners, p.writeFraction));
  const transport = tracked.transport(ctx.target.url, { connections: CONNECTIONS, timeoutMs: REQUEST_TIMEOUT_MS }, {
    headers: ['retry-after'],
    keepBody: (index, status) => status >= 200 && status < 300 && isWrite(index, p.writeFraction),
    now: () => ctx.clock.now(),
  });

  ctx.phase(`load, stall after ${p.beforeMs / 1000} s`);
  const durationMs = p.beforeMs + p.stallMs + p.afterMs;
  const schedule: ArrivalSchedule = { kind: 'constant', ratePerSec: p.ratePerSec };
  const originMs = ctx.clock.now();
  const fault: { started: Promise<StartedStall | Error> | null } = { started: null };
  const timer = ctx.clock.setTimeout(() => {
    ctx.phase(`store stalled for ${p.stallMs / 1000} s`);
    // Settled into a value at once: a failed fault request must not go unhandled while the load runs.
    fault.started = startStall(ctx, p.stallMs, originMs).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  }, p.beforeMs);
  let result;
  try {
    result = await ctx.load.open({
      target: transport,
      schedule,
      end: { durationMs },
      request,
      timeoutMs: REQUEST_TIMEOUT_MS,
      drainTimeoutMs: REQUEST_TIMEOUT_MS,
      saturationBounds: STALL_SATURATION_BOUNDS,
    });
  } finally {
    timer.cancel();
    await transport.close();
  }
  const stall = fault.started === null ? null : await fault.started;
  if (stall === null) throw new Error(`the load ended before the stall was due (${p.beforeMs} ms): the run was cut short`);
  if (stall instanceof Error) throw stall;

  const observations: Observation[] = [...tracked.answers.entries()]
    .map(([index, a]) => ({
      index,
      kind: isWrite(index, p.writeFraction) ? ('write' as const) : ('read' as const),
      intendedMs: intendedSendMs(schedule, index),
      doneMs: a.doneMs - originMs,
      status: a.status,
      retryAfter: a.headers['retry-after'] ?? null,
      error: a.error,
    }))
    .sort((a, b) => a.intendedMs - b.intendedMs);
  const window = { startMs: stall.sentMs, endMs: stall.answeredMs + p.stallMs };
  const verdict = judgeStall(observations, window, p, durationMs);

  ctx.phase('read back acknowledged transfers');
  const acked: AckedWrite[] = observations
    .filter((o) => o.kind === 'write' && isSuccess(o))
    .map((o) => ({ index: o.index, familyId: familyFor(o.index, families).id, transferId: transferIdOf(tracked.answers.get(o.index)?.body) }));
  const readBack = await readBackTransfers(ctx, acked, ownerOf);
  const instances = await circuitTable(ctx);

  const corrected = result.latency.corrected;
  const checks: Check[] = [...verdict.checks, readBackCheck(readBack)];
  return {
    metrics: {
      ...verdict.metrics,
      'stall.ms': p.stallMs,
      'writes.acked': readBack.acknowledged,
      'writes.lost': readBack.lost.length,
      ...latencyMetricValues(corrected === null ? null : summarizeEncoded(corrected), 'latency'),
    },
    checks,
    histograms: { ...verdict.histograms, ...(corrected === null ? {} : { latency: corrected }) },
    series: { 'success and p99 by due time (250 ms buckets)': verdict.series },
    loadRuns: [summarizeLoadRun(`open load through the stall (${stall.store})`, result)],
    tables: {
      phases: [
        { phase: 'before', fromS: 0, toS: round(window.startMs / 1000) },
        { phase: 'stall', fromS: round(window.startMs / 1000), toS: round(window.endMs / 1000) },
        { phase: 'after', fromS: round(window.endMs / 1000), toS: durationMs / 1000 },
      ],
      instances,
    },
    notes: [
      `The fault: ${stall.how} (scope: ${stall.scope}, asked of ${stall.instances} instance(s)). The stall window runs from when the fault was asked for to when it surely ended (its answer + ${p.stallMs} ms), so it slightly over-covers the stall.`,
      'Latency is measured from each request\'s intended send time (open model): a request queued behind a blocked instance counts its whole wait.',
      `A failure is any answer other than 2xx, or none; fail fast means their p99 stays within ${p.failFastP99Ms} ms, and every one is a 503 with Retry-After. Recovery is the time from the end of the stall to the last failure; after it every request must succeed.`,
      ...(stall.scope === 'database'
        ? ['On SQLite (WAL) readers are never blocked by a held write lock, so reads keep succeeding during the stall; only writes (transfers and their rate-limit counters) are refused.']
        : []),
    ],
  };
}

function specFor(index: number, families: readonly FamilyView[], owners: readonly TestUser[], writeFraction: number): RequestSpec {
  const i = index % families.length;
  const family = families[i] ?? missing(i);
  const owner = owners[i] ?? missing(i);
  const auth = { authorization: `Bearer ${owner.token}` };
  // A new object per request: the answer tap finds the request's index by identity.
  if (!isWrite(index, writeFraction)) return { method: 'GET', path: `/families/${family.id}`, headers: auth };
  return {
    method: 'POST',
    path: `/families/${family.id}/transfers`,
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ to: owner.id, amount: 1 }),
  };
}

function familyFor(index: number, families: readonly FamilyView[]): FamilyView {
  return families[index % families.length] ?? missing(index);
}

function transferIdOf(body: unknown): string | null {
  return typeof body === 'object' && body !== null && typeof (body as { id?: unknown }).id === 'string' ? (body as { id: string }).id : null;
}

/** Each instance's store circuits and 503s after the run, from its /metrics (none for an external target). */
async function circuitTable(ctx: ScenarioContext): Promise<Record<string, string | number | null>[]> {
  const states = ['closed', 'half-open', 'open'];
  return Promise.all(ctx.target.instances.map(async (instance) => {
    const exposition = await ctx.scrape(instance.url).catch(() => null);
    const state = (access: string): string | null => {
      const value = exposition === null ? null : sumValues(exposition.samples, 'gauntlet_store_circuit_state', { access });
      return value === null ? null : (states[value] ?? String(value));
    };
    return {
      instance: instance.instanceId,
      writeCircuitAfter: state('write'),
      readCircuitAfter: state('read'),
      answered503: exposition === null ? null : sumValues(exposition.samples, 'gauntlet_http_requests_total', { status: '503' }),
    };
  }));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function missing(i: number): never {
  throw new Error(`scenario bug: no fixture at index ${i}`);
}
