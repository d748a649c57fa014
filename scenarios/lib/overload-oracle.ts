/**
 * The overload scenario's oracles, as pure functions of what each request got: under an arrival
 * rate above capacity the service sheds the excess (429/503 + Retry-After) instead of queueing it,
 * the requests it admits keep a bounded latency, its memory stays bounded, and once the rate drops
 * it is back to its baseline.
 */
import { createLatencyHistogram, encodeHistogram, recordMillis } from '../../src/measure/histogram.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { LatencySummary } from '../../src/measure/summary.ts';
import type { Check, SeriesPoint } from '../../src/scenario/definition.ts';

const MIB = 1024 * 1024;

/** One answer of a phase; times in ms from the phase's start, latency from the intended send time. */
export interface Answer {
  /** 0 when no response came. */
  readonly status: number;
  readonly intendedMs: number;
  readonly doneMs: number;
}

const latencyOf = (a: Answer): number => a.doneMs - a.intendedMs;

export interface PhaseSummary {
  readonly requests: number;
  readonly admitted: number;
  /** 429 and 503 answers: what the service refused to take on. */
  readonly shed: number;
  /** No response at all (timeouts, resets). */
  readonly failed: number;
  /** Any other answer (500s, 4xx). */
  readonly other: number;
  /** 2xx latency. */
  readonly admittedLatency: LatencySummary | null;
  readonly admittedHistogram: string | null;
}

export const isShed = (status: number): boolean => status === 429 || status === 503;

export function summarizePhase(answers: readonly Answer[]): PhaseSummary {
  const histogram = createLatencyHistogram();
  let admitted = 0;
  let shed = 0;
  let failed = 0;
  let other = 0;
  for (const a of answers) {
    if (a.status >= 200 && a.status < 300) {
      admitted++;
      recordMillis(histogram, latencyOf(a));
    } else if (isShed(a.status)) {
      shed++;
    } else if (a.status === 0) {
      failed++;
    } else {
      other++;
    }
  }
  const admittedLatency = summarize(histogram);
  const admittedHistogram = admittedLatency === null ? null : encodeHistogram(histogram);
  histogram.destroy();
  return { requests: answers.length, admitted, shed, failed, other, admittedLatency, admittedHistogram };
}

/** When the last request that was not a 2xx ended (ms from the phase's start); 0 when none failed. */
export function lastFailureMs(answers: readonly Answer[]): number {
  return answers.reduce((last, a) => (a.status >= 200 && a.status < 300 ? last : Math.max(last, a.doneMs)), 0);
}

// A type, not an interface: scenario parameters built on it need its implicit index signature.
export type OverloadBounds = {
  /** p99 of the latency of admitted (2xx) requests under overload, at most this (ms). */
  readonly admittedP99Ms: number;
  /** Resident memory under overload at most this far above its peak at baseline (MiB). */
  readonly maxRssGrowthMiB: number;
  /** After the rate dropped, the last failure at most this late (ms)... */
  readonly maxRecoveryMs: number;
  /** ...then at least this long without a failure (ms)... */
  readonly minSteadyAfterMs: number;
  /** ...with a p99 at most `recoveryP99Factor` x the baseline's, or the baseline's + `recoveryP99SlackMs`, whichever is larger. */
  readonly recoveryP99Factor: number;
  readonly recoveryP99SlackMs: number;
};

export interface MemoryPeaks {
  /** Highest RSS in the baseline phase and in the overload phase (bytes); null when no scrape answered. */
  readonly baselineBytes: number | null;
  readonly overloadBytes: number | null;
  readonly samples: number;
}

export interface RecoveryFigures {
  /** From the rate drop to the last failure (ms). */
  readonly recoveryMs: number;
  /** How much of the recovery phase was left after that and a drain grace (ms). */
  readonly steadyAfterMs: number;
  /** The requests due then. */
  readonly after: PhaseSummary;
}

export interface OverloadInput {
  readonly baseline: PhaseSummary;
  /** The standing overload (after the settle): what admitted latency is judged on. */
  readonly overload: PhaseSummary;
  /** The whole overload, settle included: what shedding is judged on (a timeout in the settle is as unclear as one later). */
  readonly overloadWhole: PhaseSummary;
  /** Refusals over the whole overload without a Retry-After header. */
  readonly shedWithoutRetryAfter: number;
  readonly recovery: RecoveryFigures;
  readonly memory: MemoryPeaks;
  readonly bounds: OverloadBounds;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ms = (x: number | undefined): string => (x === undefined ? '?' : `${x.toFixed(0)} ms`);

/** Answers over the whole overload that were neither a 2xx nor a refusal with Retry-After. */
export function unclearAnswers(whole: PhaseSummary, shedWithoutRetryAfter: number): number {
  return shedWithoutRetryAfter + whole.failed + whole.other;
}

/** The four checks of the scenario. */
export function judgeOverload({ baseline, overload, overloadWhole: whole, shedWithoutRetryAfter, recovery, memory, bounds }: OverloadInput): Check[] {
  const unclear = unclearAnswers(whole, shedWithoutRetryAfter);
  const admittedP99 = overload.admittedLatency?.p99;
  const growth = memory.baselineBytes === null || memory.overloadBytes === null ? null : memory.overloadBytes - memory.baselineBytes;
  const baseP99 = baseline.admittedLatency?.p99;
  const recoveryP99 = recovery.after.admittedLatency?.p99;
  const recoveryP99Bound = baseP99 === undefined ? null : Math.max(baseP99 * bounds.recoveryP99Factor, baseP99 + bounds.recoveryP99SlackMs);
  const recovered = recovery.recoveryMs <= bounds.maxRecoveryMs && recovery.steadyAfterMs >= bounds.minSteadyAfterMs;
  return [
    {
      name: 'under overload the service sheds the excess with 429/503 and Retry-After (no timeout, reset or other status)',
      expected: '> 0 refused, every one with Retry-After, nothing else failing',
      actual: `${whole.shed} refused of ${whole.requests} (${pct(whole.requests === 0 ? 0 : whole.shed / whole.requests)}), ${shedWithoutRetryAfter} without Retry-After, ${whole.failed} without an answer, ${whole.other} other`,
      passed: whole.shed > 0 && unclear === 0,
      ...(whole.shed === 0
        ? { detail: `nothing was refused: the service queued all ${whole.requests} requests (p99 of the admitted after the settle: ${ms(admittedP99)})` }
        : unclear > 0 ? { detail: `${unclear} answers were neither a 2xx nor a refusal with Retry-After` } : {}),
    },
    {
      name: 'latency of admitted requests stays bounded under overload (p99 of 2xx)',
      expected: `<= ${bounds.admittedP99Ms} ms`,
      actual: admittedP99 === undefined ? 'nothing admitted' : ms(admittedP99),
      passed: admittedP99 !== undefined && admittedP99 <= bounds.admittedP99Ms,
      ...(admittedP99 === undefined ? { detail: 'no request got a 2xx under overload: refusing everything is not serving' } : {}),
    },
    {
      name: 'resident memory stays bounded under overload (peak over the baseline peak)',
      expected: `<= ${bounds.maxRssGrowthMiB} MiB`,
      actual: growth === null ? 'not measured' : `${(growth / MIB).toFixed(1)} MiB`,
      passed: growth !== null && growth <= bounds.maxRssGrowthMiB * MIB,
      ...(growth === null ? { detail: `no RSS reading in ${memory.baselineBytes === null ? 'the baseline' : 'the overload'} phase (${memory.samples} scrapes answered): expose process_resident_memory_bytes` } : {}),
    },
    {
      name: 'when the rate drops the service is back to normal (time to the last failure, then p99 near the baseline once drained)',
      expected: `last failure <= ${bounds.maxRecoveryMs} ms after the drop, then >= ${bounds.minSteadyAfterMs} ms with p99 <= ${recoveryP99Bound === null ? '?' : ms(recoveryP99Bound)}`,
      actual: `${ms(recovery.recoveryMs)}, then ${ms(Math.max(0, recovery.steadyAfterMs))} with p99 ${ms(recoveryP99)} (baseline ${ms(baseP99)})`,
      passed: recovered && recoveryP99 !== undefined && recoveryP99Bound !== null && recoveryP99 <= recoveryP99Bound,
    },
  ];
}

/** Width of one point of the phase series. */
export const SERIES_BUCKET_MS = 250;

/** Offered, admitted and refused per second, and the p99 of the admitted, per 250 ms of due time; `offsetMs` places the phase on the run's time axis. */
export function phaseSeries(answers: readonly Answer[], offsetMs: number): SeriesPoint[] {
  const buckets = new Map<number, Answer[]>();
  for (const a of answers) {
    const key = Math.floor(a.intendedMs / SERIES_BUCKET_MS);
    const list = buckets.get(key);
    if (list === undefined) buckets.set(key, [a]);
    else list.push(a);
  }
  const perSecond = 1000 / SERIES_BUCKET_MS;
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([key, list]) => {
    const admitted = list.filter((a) => a.status >= 200 && a.status < 300).map(latencyOf).sort((x, y) => x - y);
    return {
      x: Math.round(offsetMs + key * SERIES_BUCKET_MS) / 1000,
      offered_per_s: list.length * perSecond,
      admitted_per_s: admitted.length * perSecond,
      refused_per_s: list.filter((a) => isShed(a.status)).length * perSecond,
      admitted_p99_ms: Math.round(admitted[Math.min(admitted.length - 1, Math.floor(0.99 * admitted.length))] ?? 0),
    };
  });
}
