/**
 * The db-stall scenario's oracles, as pure functions of what each request got and when it was due:
 * during the stall requests fail fast with a clear status (503 + Retry-After), and the service
 * recovers on its own afterwards. (The read-back of acknowledged writes is in ack-read-back.ts.)
 */
import { createLatencyHistogram, encodeHistogram, recordMillis } from '../../src/measure/histogram.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { LatencySummary } from '../../src/measure/summary.ts';
import type { Check, SeriesPoint } from '../../src/scenario/definition.ts';

/** Offending requests quoted per check. */
const EVIDENCE = 3;

/** One request of the run; times in ms from the run's start. */
export interface Observation {
  readonly index: number;
  readonly kind: 'read' | 'write';
  readonly intendedMs: number;
  readonly doneMs: number;
  /** 0 when no response came. */
  readonly status: number;
  readonly retryAfter: string | null;
  readonly error: string | null;
}

/** When the store was unavailable: from when the fault was asked for to when it surely ended. */
export interface StallWindow {
  readonly startMs: number;
  readonly endMs: number;
}

export interface StallBounds {
  /** p99 latency of failed requests, and of every request due during the stall, at most this (ms). */
  readonly failFastP99Ms: number;
  /** The last failure at most this long after the stall ended (ms). */
  readonly maxRecoveryMs: number;
  /** After recovery at least this much of the run must be left, every request of it a success (ms). */
  readonly minSteadyAfterMs: number;
}

export interface StallVerdict {
  readonly checks: Check[];
  readonly metrics: Record<string, number>;
  readonly histograms: Record<string, string>;
  readonly series: SeriesPoint[];
  readonly failed: LatencySummary | null;
  readonly duringStall: LatencySummary | null;
}

export const isSuccess = (o: Observation): boolean => o.status >= 200 && o.status < 300;
const latency = (o: Observation): number => o.doneMs - o.intendedMs;
const describe = (o: Observation): string =>
  `request ${o.index} (${o.kind}) due at ${(o.intendedMs / 1000).toFixed(2)} s: ${o.status === 0 ? `no response (${o.error ?? '?'})` : `${o.status}${o.retryAfter === null ? ' without Retry-After' : ` Retry-After ${o.retryAfter}`}`} after ${latency(o).toFixed(0)} ms`;

/** Judges the stall and the recovery from every observation of the run (`runEndMs`: the last due time). */
export function judgeStall(observations: readonly Observation[], window: StallWindow, bounds: StallBounds, runEndMs: number): StallVerdict {
  const failures = observations.filter((o) => !isSuccess(o));
  const during = observations.filter((o) => o.intendedMs >= window.startMs && o.intendedMs <= window.endMs);
  const histograms: Record<string, string> = {};
  const failed = latencyOf(failures, 'failed.latency', histograms);
  const duringStall = latencyOf(during, 'stall.latency', histograms);

  const unclear = failures.filter((o) => o.status !== 503 || o.retryAfter === null);
  const slowFailures = failures.filter((o) => latency(o) > bounds.failFastP99Ms).sort((a, b) => latency(b) - latency(a));
  const slowDuring = during.filter((o) => latency(o) > bounds.failFastP99Ms).sort((a, b) => latency(b) - latency(a));
  const lastFailure = failures.reduce<Observation | null>((last, o) => (last === null || o.doneMs > last.doneMs ? o : last), null);
  const recoveryMs = lastFailure === null ? 0 : Math.max(0, lastFailure.doneMs - window.endMs);
  const steadyAfterMs = runEndMs - (window.endMs + recoveryMs);
  const writesDuring = during.filter((o) => o.kind === 'write');
  const readsDuring = during.filter((o) => o.kind === 'read');
  const share = (list: readonly Observation[]): number => (list.length === 0 ? 1 : list.filter(isSuccess).length / list.length);

  const checks: Check[] = [
    {
      name: 'during the stall, failed requests fail fast (p99 of their latency)',
      expected: `>= 1 failure, p99 <= ${bounds.failFastP99Ms} ms`,
      actual: failed === null ? 'no request failed' : `${failures.length} failures, p99 ${failed.p99.toFixed(0)} ms`,
      passed: failed !== null && failed.p99 <= bounds.failFastP99Ms,
      ...(failed === null
        ? { detail: `no request failed while the store was stalled: either the fault had no effect or the service queued every request until the store came back (p99 of requests due during the stall: ${duringStall?.p99.toFixed(0) ?? '?'} ms)` }
        : slowFailures.length > 0 ? { detail: slowFailures.slice(0, EVIDENCE).map(describe).join('; ') } : {}),
    },
    {
      name: 'during the stall, no request hangs (p99 of every request due then)',
      expected: `p99 <= ${bounds.failFastP99Ms} ms`,
      actual: duringStall === null ? 'no request was due during the stall' : `p99 ${duringStall.p99.toFixed(0)} ms of ${during.length}`,
      passed: duringStall !== null && duringStall.p99 <= bounds.failFastP99Ms,
      ...(slowDuring.length > 0 ? { detail: slowDuring.slice(0, EVIDENCE).map(describe).join('; ') } : {}),
    },
    {
      name: 'every refusal is a 503 with Retry-After (no timeout, reset or other status)',
      expected: 0,
      actual: unclear.length,
      passed: unclear.length === 0,
      ...(unclear.length > 0 ? { detail: unclear.slice(0, EVIDENCE).map(describe).join('; ') } : {}),
    },
    {
      name: 'the service recovers without a restart (time from the end of the stall to the last failure)',
      expected: `<= ${bounds.maxRecoveryMs} ms, then >= ${bounds.minSteadyAfterMs} ms without a failure`,
      actual: `${recoveryMs.toFixed(0)} ms, then ${Math.max(0, steadyAfterMs).toFixed(0)} ms`,
      passed: recoveryMs <= bounds.maxRecoveryMs && steadyAfterMs >= bounds.minSteadyAfterMs,
      ...(lastFailure !== null && (recoveryMs > bounds.maxRecoveryMs || steadyAfterMs < bounds.minSteadyAfterMs)
        ? { detail: `last failure: ${describe(lastFailure)}; the stall ended by ${(window.endMs / 1000).toFixed(2)} s, the run at ${(runEndMs / 1000).toFixed(2)} s` }
        : {}),
    },
  ];

  return {
    checks,
    failed,
    duringStall,
    histograms,
    series: successSeries(observations),
    metrics: {
      requests: observations.length,
      'failed.count': failures.length,
      ...(failed === null ? {} : { 'failed.latency.p50': failed.p50, 'failed.latency.p99': failed.p99, 'failed.latency.max': failed.max }),
      ...(duringStall === null ? {} : { 'stall.latency.p99': duringStall.p99 }),
      'refusals.unclear': unclear.length,
      'recovery.ms': recoveryMs,
      'stall.writes.success_rate': share(writesDuring),
      'stall.reads.success_rate': share(readsDuring),
      'after.success_rate': share(observations.filter((o) => o.intendedMs > window.endMs + recoveryMs)),
    },
  };
}

/** Summary of the requests' latencies; the histogram goes into `histograms` under `name` when there was one. */
function latencyOf(list: readonly Observation[], name: string, histograms: Record<string, string>): LatencySummary | null {
  const histogram = createLatencyHistogram();
  for (const o of list) recordMillis(histogram, latency(o));
  const summary = summarize(histogram);
  if (summary !== null) histograms[name] = encodeHistogram(histogram);
  histogram.destroy();
  return summary;
}

/** Success share and p99 per 250 ms of due time: the stall and the recovery as a chart. */
export const SERIES_BUCKET_MS = 250;

function successSeries(observations: readonly Observation[]): SeriesPoint[] {
  const buckets = new Map<number, Observation[]>();
  for (const o of observations) {
    const key = Math.floor(o.intendedMs / SERIES_BUCKET_MS);
    const list = buckets.get(key) ?? [];
    list.push(o);
    buckets.set(key, list);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([key, list]) => {
      const latencies = list.map(latency).sort((a, b) => a - b);
      return {
        x: (key * SERIES_BUCKET_MS) / 1000,
        success: list.filter(isSuccess).length / list.length,
        p99_ms: latencies[Math.min(latencies.length - 1, Math.floor(0.99 * latencies.length))] ?? 0,
      };
    });
}
