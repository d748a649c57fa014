/**
 * The instance-failure scenario's metrics, their declarations, and the tables and series of its
 * result, from the timeline figures and the write verdict.
 */
import { encodeHistogram } from '../../src/measure/histogram.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { LoadRunSummary, ScenarioOutput, SeriesPoint } from '../../src/scenario/definition.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';
import type { LatencyStat } from '../../src/scenario/latency-metrics.ts';
import type { MetricSpec } from '../../src/thresholds/bind.ts';
import { classifyAnswer } from './failover-answers.ts';
import type { CapturedAnswer } from './failover-capture.ts';
import type { WriteVerdict } from './failover-oracle.ts';
import { PHASES } from './failover-timeline.ts';
import type { FaultTimes, StatsSample, TimelineFigures } from './failover-timeline.ts';

const PHASE_STATS: readonly LatencyStat[] = ['p50', 'p99'];
/** Width of one bucket of the answers series. */
export const SERIES_BUCKET_MS = 500;

export const FAILOVER_METRICS: readonly MetricSpec[] = [
  { name: 'dead_routing.ms', dimension: 'duration', description: 'from the kill to the last answer naming the dead instance as the failed backend (client side)' },
  { name: 'dead_routing.balancer_ms', dimension: 'duration', description: "from the kill to the last stats sample in which the balancer's count of requests sent to the dead instance grew" },
  { name: 'ejection.ms', dimension: 'duration', description: 'from the kill to the first stats sample showing the dead instance out of rotation' },
  { name: 'restart.ms', dimension: 'duration', description: 'from asking for the restart to the instance reporting ready (process start)' },
  { name: 'recovery.ms', dimension: 'duration', description: 'from the restarted instance being ready to its first answer through the balancer (or the last error after, if later)' },
  { name: 'outage.errors', dimension: 'count', description: 'requests failed while the instance was down (by the time they ended)' },
  { name: 'outage.errors.502', dimension: 'count', description: 'of those, 502 answers (the balancer: a backend failed)' },
  { name: 'outage.errors.503', dimension: 'count', description: 'of those, 503 answers (no backend left, or the store unavailable)' },
  { name: 'outage.errors.transport', dimension: 'count', description: 'of those, requests without an answer (refused, reset, timeout, ...)' },
  { name: 'outage.error_rate', dimension: 'ratio', description: 'failed requests over all requests that ended while the instance was down' },
  { name: 'before.errors', dimension: 'count', description: 'requests failed before the kill' },
  { name: 'after.errors', dimension: 'count', description: 'requests failed after the restarted instance was ready' },
  { name: 'writes.acked', dimension: 'count', description: 'writes answered 2xx' },
  { name: 'writes.in_doubt', dimension: 'count', description: 'writes that may have reached the instance before it died (reset after sending)' },
  { name: 'writes.in_doubt_applied', dimension: 'count', description: 'of those, the ones the read-back shows applied' },
  { name: 'acked.lost', dimension: 'count', description: 'acknowledged writes not read back' },
  { name: 'duplicates', dimension: 'count', description: 'client keys applied twice, or refused as already applied when sent once' },
  { name: 'refused.visible', dimension: 'count', description: 'writes read back that no backend received, the service refused, or nobody sent' },
  { name: 'conservation.violations', dimension: 'count', description: 'accounts whose balance disagrees with the ledger, plus 1 if the total changed' },
  ...PHASES.flatMap((phase) => latencyMetricSpecs(`latency.${phase}`, `2xx latency (not held) of requests due ${phase === 'outage' ? 'while the instance was down' : `${phase} the outage`}`, PHASE_STATS)),
];

export interface FailoverReportInput {
  readonly figures: TimelineFigures;
  readonly verdict: WriteVerdict;
  readonly times: FaultTimes & { readonly startAt: number; readonly restartAt: number | null };
  readonly answers: readonly CapturedAnswer[];
  readonly samples: readonly StatsSample[];
  readonly deadId: string;
  readonly loadRun: LoadRunSummary;
  readonly notes: readonly string[];
}

export function failoverOutput(input: FailoverReportInput, checks: ScenarioOutput['checks']): ScenarioOutput {
  const { figures: f, verdict: v, times } = input;
  const outageTallies = f.tallies.filter((t) => t.phase === 'outage');
  const sumWhere = (pred: (label: string) => boolean): number => outageTallies.filter((t) => pred(t.label)).reduce((s, t) => s + t.count, 0);
  const metrics: Record<string, number> = {
    'dead_routing.ms': f.deadRoutingMs,
    'outage.errors': f.errors.outage,
    'outage.errors.502': sumWhere((l) => l === '502'),
    'outage.errors.503': sumWhere((l) => l === '503'),
    'outage.errors.transport': sumWhere((l) => !/^\d/.test(l)),
    'outage.error_rate': f.requests.outage === 0 ? 0 : f.errors.outage / f.requests.outage,
    'before.errors': f.errors.before,
    'after.errors': f.errors.after,
    'writes.acked': v.rows.reduce((s, r) => s + r.acked, 0),
    'writes.in_doubt': v.rows.reduce((s, r) => s + r.inDoubt, 0),
    'writes.in_doubt_applied': v.rows.reduce((s, r) => s + r.inDoubtApplied, 0),
    'acked.lost': v.lost,
    duplicates: v.duplicates,
    'refused.visible': v.refusedVisible,
    'conservation.violations': v.conservationViolations,
  };
  if (f.deadRoutingBalancerMs !== null) metrics['dead_routing.balancer_ms'] = f.deadRoutingBalancerMs;
  if (f.ejectionMs !== null) metrics['ejection.ms'] = f.ejectionMs;
  if (f.recoveryMs !== null) metrics['recovery.ms'] = f.recoveryMs;
  if (times.readyAt !== null && times.restartAt !== null) metrics['restart.ms'] = times.readyAt - times.restartAt;
  const summaries = Object.fromEntries(PHASES.map((p) => [p, summarize(f.latency[p])] as const));
  for (const p of PHASES) Object.assign(metrics, latencyMetricValues(summaries[p] ?? null, `latency.${p}`, PHASE_STATS));

  const since = (t: number | null): number | null => (t === null ? null : Math.round(t - times.startAt));
  return {
    metrics,
    checks,
    histograms: Object.fromEntries(PHASES.filter((p) => f.latency[p].totalCount > 0).map((p) => [`latency.${p}`, encodeHistogram(f.latency[p])])),
    series: { answers: answerSeries(input), balancer: balancerSeries(input) },
    loadRuns: [input.loadRun],
    tables: {
      events: [
        { event: `${input.deadId} killed (SIGKILL)`, atMs: since(times.killAt) },
        { event: 'last answer naming it as the failed backend', atMs: f.deadRoutingMs === 0 ? null : since(times.killAt + f.deadRoutingMs) },
        { event: 'first stats sample with it out of rotation', atMs: f.ejectionMs === null ? null : since(times.killAt + f.ejectionMs) },
        { event: 'restart asked', atMs: since(times.restartAt) },
        { event: 'restarted instance ready', atMs: since(times.readyAt) },
        { event: 'served through the balancer again', atMs: f.recoveryMs === null || times.readyAt === null ? null : since(times.readyAt + f.recoveryMs) },
        { event: 'load ended', atMs: since(times.endAt) },
      ],
      phases: PHASES.map((p) => ({
        phase: p,
        requests: f.requests[p],
        errors: f.errors[p],
        p50Ms: summaries[p]?.p50 ?? null,
        p99Ms: summaries[p]?.p99 ?? null,
      })),
      errors: f.tallies.map((t) => ({ phase: t.phase, kind: t.label, detail: t.detail, count: t.count })),
      writes: v.rows.map((r) => ({ ...r })),
    },
    notes: input.notes,
  };
}

/** Answers per bucket by the time they ended: 2xx, failures, failures naming the dead instance, 2xx from the restarted one. */
function answerSeries(input: FailoverReportInput): SeriesPoint[] {
  const buckets = new Map<number, { ok: number; errors: number; to_dead: number; restarted: number }>();
  for (const a of input.answers) {
    const b = Math.floor((a.doneAt - input.times.startAt) / SERIES_BUCKET_MS);
    const row = buckets.get(b) ?? { ok: 0, errors: 0, to_dead: 0, restarted: 0 };
    buckets.set(b, row);
    const c = classifyAnswer(a);
    if (c.ok) {
      row.ok += 1;
      if (a.instance === input.deadId && input.times.readyAt !== null && a.doneAt >= input.times.readyAt) row.restarted += 1;
    } else {
      row.errors += 1;
      if (c.backend === input.deadId) row.to_dead += 1;
    }
  }
  return [...buckets.entries()].sort(([x], [y]) => x - y).map(([b, row]) => ({ x: (b * SERIES_BUCKET_MS) / 1000, ...row }));
}

/** The dead instance's figures in each stats sample. */
function balancerSeries(input: FailoverReportInput): SeriesPoint[] {
  return input.samples.flatMap((s) => {
    const b = s.backends.find((x) => x.instanceId === input.deadId);
    if (b === undefined) return [];
    return [{ x: Math.round(s.at - input.times.startAt) / 1000, dead_total: b.total, dead_errors: b.errors, dead_in_rotation: b.active ? 1 : 0 }];
  });
}
