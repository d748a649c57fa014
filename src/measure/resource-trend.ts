/**
 * Whether a process's memory and open file descriptors climb over a run: the slope of each against
 * time (per minute), pooled within segments (a scenario, a lifetime of the target's processes), with
 * a t-based confidence interval. A long run that holds steady is "flat"; warm-up is not a leak, so
 * a slope below a bound is flat too — never a before/after difference, which GC timing can fake.
 */
import { fitPooledSlope } from './slope.ts';
import type { XY } from './slope.ts';

export type TrendProcess = 'gauntlet' | 'target';
export type TrendResource = 'rss' | 'fds';

/** Two-sided confidence level of the slope intervals. */
export const TREND_CONFIDENCE = 0.95;
/**
 * Slopes below these are flat whatever the interval says: 1 MiB/min is 60 MiB an hour, well above
 * JIT and allocator settling in a 10-minute soak and well below any leak worth a report; half an FD
 * a minute is a leaked socket every other minute.
 */
export const TREND_FLAT_BOUNDS_PER_MINUTE: Readonly<Record<TrendResource, number>> = { rss: 1024 * 1024, fds: 0.5 };

/** One reading of one process (or of a deployment's processes summed), in one `segment`. */
export interface ResourceSample {
  readonly process: TrendProcess;
  /** Seconds since the run started. */
  readonly atSec: number;
  /** Changes with the scenario and with the process (set) behind the reading: a restart is a new segment. */
  readonly segment: string;
  readonly rssBytes: number;
  readonly openFds: number;
}

export interface ResourceTrend {
  readonly process: TrendProcess;
  readonly resource: TrendResource;
  readonly samples: number;
  readonly segments: number;
  /** Null when there were too few samples (see `reason`). */
  readonly slopePerMinute: number | null;
  readonly ci: { readonly low: number; readonly high: number } | null;
  readonly flatBoundPerMinute: number;
  /** `flat`: the interval includes 0 or the slope is below the bound. */
  readonly verdict: 'flat' | 'growing' | 'insufficient-data';
  readonly reason?: string;
}

/** The slope of every process x resource in `samples`, in a stable order. */
export function judgeResourceTrends(
  samples: readonly ResourceSample[],
  bounds: Readonly<Record<TrendResource, number>> = TREND_FLAT_BOUNDS_PER_MINUTE,
  confidence: number = TREND_CONFIDENCE,
): ResourceTrend[] {
  const trends: ResourceTrend[] = [];
  for (const process of ['gauntlet', 'target'] as const) {
    const own = samples.filter((s) => s.process === process);
    if (own.length === 0) continue;
    for (const resource of ['rss', 'fds'] as const) trends.push(judgeOne(process, resource, own, bounds[resource], confidence));
  }
  return trends;
}

function judgeOne(process: TrendProcess, resource: TrendResource, samples: readonly ResourceSample[], bound: number, confidence: number): ResourceTrend {
  const bySegment = new Map<string, XY[]>();
  for (const s of samples) {
    const points = bySegment.get(s.segment) ?? [];
    points.push({ x: s.atSec / 60, y: resource === 'rss' ? s.rssBytes : s.openFds });
    bySegment.set(s.segment, points);
  }
  const fit = fitPooledSlope([...bySegment.values()], confidence);
  const base = { process, resource, samples: samples.length, flatBoundPerMinute: bound };
  if (fit.state === 'insufficient-data') {
    return { ...base, segments: bySegment.size, slopePerMinute: null, ci: null, verdict: 'insufficient-data', reason: fit.reason };
  }
  const flat = fit.ci.low <= 0 || fit.slope < bound;
  return { ...base, segments: fit.segments, slopePerMinute: fit.slope, ci: fit.ci, verdict: flat ? 'flat' : 'growing' };
}

/** The trends that fail a run: the growing ones, where the run's profile enforces them. */
export function failingTrends(resources: { readonly enforced: boolean; readonly trends: readonly ResourceTrend[] }): ResourceTrend[] {
  return resources.enforced ? resources.trends.filter((t) => t.verdict === 'growing') : [];
}
