/** Metrics, checks, series and the per-batch table of the memory-and-GC scenario, from its readings. */
import { availableParallelism } from 'node:os';
import type { LoadResult } from '../../src/load/index.ts';
import { estimateGrowth } from '../../src/measure/growth.ts';
import type { GrowthEstimate } from '../../src/measure/growth.ts';
import { decodeHistogram, mergeEncodedHistograms } from '../../src/measure/histogram.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { Check, ScenarioOutput, SeriesPoint } from '../../src/scenario/definition.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import type { MetricSpec } from '../../src/thresholds/bind.ts';
import { gcDelta } from './memory-sampling.ts';
import type { MemoryReading, MemoryWatched, SettleMethod } from './memory-sampling.ts';
import type { MemoryOperation } from './memory-workload.ts';
import type { MemoryGcParams } from '../scalability/memory-gc.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';

const MIB = 1024 * 1024;
/** Batches quoted as evidence in a failed check. */
const EVIDENCE = 3;

export interface BatchRecord {
  readonly batch: number;
  /** Measured operations since the baseline (the warm-up excluded). */
  readonly cumulativeOperations: number;
  /** Reading the batch started from (the previous settle). */
  readonly start: MemoryReading;
  /** Right after the batch, before any settle. */
  readonly after: MemoryReading;
  /** After the settle (the same as `after` without a forced GC). */
  readonly settled: MemoryReading;
}

export const MEMORY_METRIC_SPECS: readonly MetricSpec[] = [
  { name: 'operations', dimension: 'count', description: 'measured operations (warm-up excluded)' },
  { name: 'memory.heap_used.baseline', dimension: 'bytes', description: 'settled heap after the warm-up batch' },
  { name: 'memory.heap_used.final', dimension: 'bytes', description: 'settled heap after the last batch and drain' },
  { name: 'memory.heap_used.max', dimension: 'bytes', description: 'largest heap right after a batch' },
  { name: 'memory.rss.max', dimension: 'bytes', description: 'largest RSS right after a batch' },
  { name: 'memory.settle_growth', dimension: 'ratio', description: '(final - baseline) / baseline settled heap' },
  { name: 'memory.growth_per_op', dimension: 'bytes', description: 'least-squares slope of settled heap over operations (bytes per operation)' },
  { name: 'memory.growth_per_op.ci_high', dimension: 'bytes', description: 'upper bound of the 95% confidence interval of that slope' },
  { name: 'gc.count', dimension: 'count', description: 'GC pauses during the batches (all kinds, forced GCs excluded)' },
  { name: 'gc.major_count', dimension: 'count', description: 'full (mark-compact) GCs during the batches, forced GCs excluded' },
  { name: 'gc.pause_total', dimension: 'duration', description: 'GC pause time during the batches' },
  { name: 'gc.pause_per_1k_ops', dimension: 'duration', description: 'GC pause time per thousand operations' },
  { name: 'eventloop.lag_p99_max', dimension: 'duration', description: 'worst per-batch p99 event-loop delay of the target' },
  ...latencyMetricSpecs('latency', 'the measured operations'),
  { name: 'throughput', dimension: 'rate', description: 'operations per second over the batches' },
  { name: 'errors.rate', dimension: 'ratio', description: 'operations that failed or answered other than 2xx' },
];

interface ReportInput {
  readonly p: MemoryGcParams;
  readonly method: SettleMethod;
  readonly watched: MemoryWatched;
  readonly baseline: MemoryReading;
  readonly final: MemoryReading;
  readonly batches: readonly BatchRecord[];
  readonly runs: readonly LoadResult[];
  readonly warmUp: LoadResult;
  readonly counts: Readonly<Record<MemoryOperation, number>>;
}

const heap = (r: MemoryReading): number => r.sample.heapUsedBytes ?? 0;
const rss = (r: MemoryReading): number => r.sample.rssBytes ?? 0;
const mib = (bytes: number): number => Math.round((bytes / MIB) * 100) / 100;
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The scenario's output from its readings. */
export function reportMemory(input: ReportInput): ScenarioOutput {
  const { p, method, baseline, final, batches, runs } = input;
  const growth = estimateGrowth(
    [{ cumulativeOperations: 0, memoryBytes: heap(baseline) }, ...batches.map((b) => ({ cumulativeOperations: b.cumulativeOperations, memoryBytes: heap(b.settled) }))],
    { thresholdBytesPerOp: p.growthThresholdBytesPerOp },
  );
  const perBatch = batches.map((b) => {
    const gc = gcDelta(b.start.sample, b.after.sample);
    const kinds = Object.values(gc);
    return { b, gc, count: kinds.reduce((s, k) => s + k.count, 0), pauseMs: kinds.reduce((s, k) => s + k.pauseMs, 0) };
  });
  const operations = batches.at(-1)?.cumulativeOperations ?? 0;
  const settleGrowth = heap(baseline) === 0 ? 0 : (heap(final) - heap(baseline)) / heap(baseline);
  const gcPause = perBatch.reduce((s, x) => s + x.pauseMs, 0);
  const rssDiffer = batches.flatMap((b) => [b.after, b.settled]).filter((r) => r.rssCrossCheck !== null && r.rssCrossCheck.state !== 'agrees');

  const completed = runs.reduce((s, r) => s + r.completed, 0);
  const ok = runs.reduce((s, r) => s + Object.entries(r.statusCounts).reduce((n, [status, c]) => n + (status.startsWith('2') ? c : 0), 0), 0);
  const failedStatuses = runs.flatMap((r) => Object.entries(r.statusCounts).filter(([status]) => !status.startsWith('2')));
  const encoded = runs.map((r) => r.latency.uncorrected).filter((e) => e !== null);
  const latency = encoded.length === 0 ? null : mergeEncodedHistograms(encoded);
  const summary = latency === null ? null : summarize(decodeHistogram(latency));
  const busyMs = runs.reduce((s, r) => s + r.durationMs, 0);

  const checks: Check[] = [growthBoundCheck(growth, p), slopeCheck(growth, batches), settleCheck(baseline, final, settleGrowth, p)];
  if (input.watched.pid !== null) {
    checks.push({
      name: 'RSS agrees between /metrics and /proc',
      expected: 0,
      actual: rssDiffer.length,
      passed: rssDiffer.length === 0,
      ...(rssDiffer.length > 0 ? { detail: rssDiffer.slice(0, EVIDENCE).map((r) => JSON.stringify(r.rssCrossCheck)).join('; ') } : {}),
    });
  }

  const series: SeriesPoint[] = perBatch.map(({ b, pauseMs }) => ({ x: b.batch, rss: rss(b.after), heap_used: heap(b.after), heap_settled: heap(b.settled), gc_pause_ms: round(pauseMs, 3) }));
  const estimated = growth.state === 'estimated' ? growth : null;
  return {
    metrics: {
      operations,
      'memory.heap_used.baseline': heap(baseline),
      'memory.heap_used.final': heap(final),
      'memory.heap_used.max': Math.max(0, ...batches.map((b) => heap(b.after))),
      'memory.rss.max': Math.max(0, ...batches.map((b) => rss(b.after))),
      'memory.settle_growth': settleGrowth,
      ...(estimated === null ? {} : { 'memory.growth_per_op': estimated.slopeBytesPerOp, 'memory.growth_per_op.ci_high': estimated.ci.high }),
      'gc.count': perBatch.reduce((s, x) => s + x.count, 0),
      'gc.major_count': perBatch.reduce((s, x) => s + (x.gc.major?.count ?? 0), 0),
      'gc.pause_total': gcPause,
      'gc.pause_per_1k_ops': operations === 0 ? 0 : (gcPause / operations) * 1000,
      'eventloop.lag_p99_max': Math.max(0, ...batches.map((b) => b.after.sample.eventLoopLagP99Ms ?? 0)),
      ...latencyMetricValues(summary, 'latency'),
      throughput: busyMs === 0 ? 0 : (completed / busyMs) * 1000,
      'errors.rate': completed === 0 ? 1 : (completed - ok) / completed,
    },
    checks,
    ...(latency === null ? {} : { histograms: { latency } }),
    series: { memory: series },
    loadRuns: [summarizeLoadRun('warm-up batch', input.warmUp), ...runs.map((r, i) => summarizeLoadRun(`batch ${i + 1}`, r))],
    tables: {
      batches: perBatch.map(({ b, gc, count, pauseMs }) => ({
        batch: b.batch,
        operations: b.cumulativeOperations,
        rssMiB: mib(rss(b.after)),
        procRssMiB: b.after.procRssBytes === null ? null : mib(b.after.procRssBytes),
        heapUsedMiB: mib(heap(b.after)),
        heapTotalMiB: mib(b.after.sample.heapTotalBytes ?? 0),
        heapSettledMiB: mib(heap(b.settled)),
        gcCount: count,
        gcPauseMs: round(pauseMs, 2),
        gcByKind: Object.entries(gc).filter(([, k]) => k.count > 0).map(([kind, k]) => `${kind} ${k.count} (${round(k.pauseMs, 2)} ms)`).join(', '),
        eventLoopLagP99Ms: b.after.sample.eventLoopLagP99Ms,
      })),
      operations: [Object.fromEntries(Object.entries(input.counts).map(([op, n]) => [op, n]))],
    },
    notes: [
      method === 'forced-gc'
        ? `Heap points are read after a full GC forced in ${input.watched.name} (pid ${String(input.watched.pid)}) through a preloaded signal handler started with --expose-gc: they are its live set. GC figures per batch exclude those forced GCs.`
        : 'No forced GC was possible (external or multi-instance target): per-batch heap is as each batch left it and the final one is the lowest over an idle window, so the slope carries GC timing noise and its interval is wider.',
      growth.state === 'estimated'
        ? `Growth ${round(growth.slopeBytesPerOp)} B/op, 95% CI [${round(growth.ci.low)}, ${round(growth.ci.high)}] over ${growth.points} points (baseline and ${batches.length} batches).`
        : `Growth not estimated: ${growth.reason}.`,
      'GC counts and pauses come from prom-client\'s nodejs_gc_duration_seconds, whose observer records only the first entry of each batch of GC notifications: read them as lower bounds.',
      `Failed operations by status: ${failedStatuses.length === 0 ? 'none' : failedStatuses.map(([s, n]) => `${s}: ${n}`).join(', ')}.`,
      `${availableParallelism()} cores: the target, gauntlet and anything else on this machine share them, so GC pause and event-loop figures include scheduling delay.`,
    ],
  };
}

function growthBoundCheck(growth: GrowthEstimate, p: MemoryGcParams): Check {
  const name = 'heap growth per operation below threshold (95% CI upper bound)';
  const expected = `< ${p.growthThresholdBytesPerOp} B/op`;
  if (growth.state !== 'estimated') return { name, expected, actual: 'not estimated', passed: false, detail: growth.reason };
  const passed = growth.ci.high < p.growthThresholdBytesPerOp;
  return {
    name,
    expected,
    actual: `${round(growth.ci.high)} B/op`,
    passed,
    ...(passed ? {} : { detail: `slope ${round(growth.slopeBytesPerOp)} B/op, 95% CI [${round(growth.ci.low)}, ${round(growth.ci.high)}]; intercept ${mib(growth.interceptBytes)} MiB` }),
  };
}

function slopeCheck(growth: GrowthEstimate, batches: readonly BatchRecord[]): Check {
  const name = 'no sustained upward slope of the settled heap';
  if (growth.state !== 'estimated') return { name, expected: 'no-sustained-growth', actual: 'not estimated', passed: false, detail: growth.reason };
  const passed = growth.verdict === 'no-sustained-growth';
  const last = batches.slice(-EVIDENCE);
  return {
    name,
    expected: 'no-sustained-growth',
    actual: growth.verdict,
    passed,
    ...(passed ? {} : { detail: `CI [${round(growth.ci.low)}, ${round(growth.ci.high)}] B/op lies above 0; last batches: ${last.map((b) => `#${b.batch} ${mib(heap(b.settled))} MiB after ${b.cumulativeOperations} ops`).join(', ')}` }),
  };
}

function settleCheck(baseline: MemoryReading, final: MemoryReading, growth: number, p: MemoryGcParams): Check {
  const passed = growth <= p.settleTolerance;
  return {
    name: 'settled heap returns near baseline',
    expected: `<= +${round(p.settleTolerance * 100)}%`,
    actual: `${growth >= 0 ? '+' : ''}${round(growth * 100)}%`,
    passed,
    ...(passed ? {} : { detail: `baseline ${mib(heap(baseline))} MiB, after drain and settle ${mib(heap(final))} MiB (RSS ${mib(rss(baseline))} -> ${mib(rss(final))} MiB)` }),
  };
}
