/**
 * The load-balancing workload and what one run of it showed per node. Pointed at any URL, so a
 * test can put a deliberately skewed proxy in front of in-process services and judge it the same way.
 */
import type { LoadResult, RequestFactory, RequestSpec } from '../../src/load/index.ts';
import type { RequestRecords } from '../../src/load/records.ts';
import { balance } from '../../src/measure/balance.ts';
import type { BalanceStats } from '../../src/measure/balance.ts';
import { createLatencyHistogram, decodeHistogram, recordMillis } from '../../src/measure/histogram.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { LoadRunSummary } from '../../src/scenario/definition.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';

export type WorkloadKind = 'uniform' | 'skewed';

export interface BalanceWorkload {
  readonly kind: WorkloadKind;
  /** Share of requests made slow in the skewed workload (0 for uniform). */
  readonly slowFraction: number;
  /** How long a slow request is held by the service (`x-fault: delay-ms=N`). */
  readonly slowDelayMs: number;
}

export interface ReadTarget {
  readonly familyId: string;
  readonly token: string;
}

/** Whether request `index` is slow: a fixed hash of the index, so both strategies get the same slow requests. */
export function isSlow(index: number, workload: BalanceWorkload): boolean {
  if (workload.kind === 'uniform' || workload.slowFraction <= 0) return false;
  // A 32-bit integer hash (lowbias32): spreads consecutive indices evenly over [0, 2^32).
  let x = index >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return (x >>> 0) / 2 ** 32 < workload.slowFraction;
}

/** GET /families/:id round the targets; slow ones carry `x-fault: delay-ms=N` (the service must have faults on). */
export function balanceRequests(targets: readonly ReadTarget[], workload: BalanceWorkload): RequestFactory {
  if (targets.length === 0) throw new Error('the balancing workload needs at least one family to read');
  const fast: RequestSpec[] = targets.map((t) => ({ method: 'GET', path: `/families/${t.familyId}`, headers: { authorization: `Bearer ${t.token}` } }));
  const slow: RequestSpec[] = targets.map((t) => ({
    method: 'GET',
    path: `/families/${t.familyId}`,
    headers: { authorization: `Bearer ${t.token}`, 'x-fault': `delay-ms=${workload.slowDelayMs}` },
  }));
  return (index) => {
    const spec = (isSlow(index, workload) ? slow : fast)[index % targets.length];
    if (spec === undefined) throw new Error(`no request spec for ${index}`);
    return spec;
  };
}

export interface NodeFigures {
  readonly node: string;
  readonly count: number;
  readonly share: number;
  readonly slow: number;
  /** Responses per second over the run. */
  readonly throughput: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** What one (strategy, workload) run showed. */
export interface CellMeasurement {
  readonly strategy: string;
  readonly workload: WorkloadKind;
  readonly nodes: readonly NodeFigures[];
  readonly stats: BalanceStats;
  /** Share of requests that reached a node while a slow request was in flight there; null without slow requests. */
  readonly busyLandingShare: number | null;
  readonly p99Ms: number | null;
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly instanceCounts: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly sent: number;
  readonly summary: LoadRunSummary;
  readonly encodedLatency: string | null;
}

/** Per-node figures of a run (kept records required); `expectedNodes` appear even when they got nothing. */
export function analyzeCell(
  strategy: string,
  workload: BalanceWorkload,
  result: LoadResult,
  ratePerSec: number,
  expectedNodes: readonly string[],
): CellMeasurement {
  const records = result.records;
  if (records === null) throw new Error('analyzeCell needs the run\'s per-request records (keepRecords: true)');
  const indexOf = (intendedMs: number): number => Math.round((intendedMs * ratePerSec) / 1000);
  const seconds = Math.max(result.durationMs, 1) / 1000;
  const byNode = perNode(records, (i) => isSlow(indexOf(records.intendedMs[i] ?? 0), workload));
  const names = [...new Set([...expectedNodes, ...byNode.keys()])].sort();
  const total = names.reduce((s, n) => s + (result.instanceCounts[n] ?? 0), 0);
  const nodes: NodeFigures[] = names.map((node) => {
    const rows = byNode.get(node);
    const h = createLatencyHistogram();
    for (const l of rows?.latencies ?? []) recordMillis(h, l);
    const s = summarize(h);
    h.destroy();
    const count = result.instanceCounts[node] ?? 0;
    return { node, count, share: total === 0 ? 0 : count / total, slow: rows?.slowCount ?? 0, throughput: count / seconds, p50Ms: s?.p50 ?? null, p99Ms: s?.p99 ?? null };
  });
  const overall = result.latency.corrected === null ? null : (summarize(decodeHistogram(result.latency.corrected))?.p99 ?? null);
  return {
    strategy,
    workload: workload.kind,
    nodes,
    stats: balance(nodes.map((n) => n.count)),
    busyLandingShare: workload.kind === 'uniform' ? null : busyShare(byNode),
    p99Ms: overall,
    statusCounts: result.statusCounts,
    instanceCounts: result.instanceCounts,
    errors: result.errors,
    sent: result.sent,
    summary: summarizeLoadRun(`${strategy} ${workload.kind}`, result),
    encodedLatency: result.latency.corrected,
  };
}

interface NodeRows {
  /** [sent, done) of every request answered by the node, and whether it was slow. */
  readonly intervals: { start: number; end: number; slow: boolean }[];
  readonly latencies: number[];
  slowCount: number;
}

function perNode(records: RequestRecords, slowAt: (i: number) => boolean): Map<string, NodeRows> {
  const byNode = new Map<string, NodeRows>();
  for (let i = 0; i < records.count; i++) {
    const node = records.instances[records.instance[i] ?? -1];
    if (node === undefined) continue;
    const intended = records.intendedMs[i] ?? 0;
    const sent = records.sentMs[i] ?? Number.NaN;
    const done = records.doneMs[i] ?? 0;
    const rows = byNode.get(node) ?? { intervals: [], latencies: [], slowCount: 0 };
    byNode.set(node, rows);
    const slow = slowAt(i);
    if (slow) rows.slowCount++;
    rows.intervals.push({ start: Number.isNaN(sent) ? intended : sent, end: done, slow });
    rows.latencies.push(done - intended);
  }
  return byNode;
}

/** Of all requests answered, the share that started while another, slow, request was in flight on the same node. */
function busyShare(byNode: ReadonlyMap<string, NodeRows>): number {
  let landed = 0;
  let onBusy = 0;
  for (const rows of byNode.values()) {
    const slow = rows.intervals.filter((r) => r.slow);
    for (const r of rows.intervals) {
      landed++;
      if (slow.some((s) => s !== r && s.start < r.start && r.start < s.end)) onBusy++;
    }
  }
  return landed === 0 ? 0 : onBusy / landed;
}


/** One open-model run of `count` requests at `rate` against `url`, keeping per-request records. */
export type RunCellLoad = (url: string, rate: number, count: number, request: RequestFactory) => Promise<LoadResult>;

export interface CellPlan {
  readonly strategy: string;
  readonly workload: BalanceWorkload;
  readonly requests: number;
  readonly ratePerSec: number;
  readonly targets: readonly ReadTarget[];
  readonly expectedNodes: readonly string[];
}

/** Runs one (strategy, workload) cell against `url` and analyses it per node. */
export async function measureCell(url: string, plan: CellPlan, runLoad: RunCellLoad): Promise<CellMeasurement> {
  const result = await runLoad(url, plan.ratePerSec, plan.requests, balanceRequests(plan.targets, plan.workload));
  return analyzeCell(plan.strategy, plan.workload, result, plan.ratePerSec, plan.expectedNodes);
}
