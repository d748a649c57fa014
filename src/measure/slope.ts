/**
 * Least-squares slope shared by several series ("segments") that each have their own intercept:
 * the within-segment (fixed-effects) estimator. One segment is plain simple regression. Segments
 * are how a slope survives restarts: a target process replaced mid-run starts a new segment, so its
 * fresh baseline is never read as a drop or a climb.
 */
import { studentTQuantile } from './student-t.ts';

export interface XY {
  readonly x: number;
  readonly y: number;
}

export type SlopeFit =
  | { readonly state: 'insufficient-data'; readonly points: number; readonly reason: string }
  | {
      readonly state: 'estimated';
      readonly points: number;
      readonly segments: number;
      readonly slope: number;
      /** Intercept of the first segment (the only one for simple regression). */
      readonly intercept: number;
      readonly standardError: number;
      readonly degreesOfFreedom: number;
      readonly confidence: number;
      readonly ci: { readonly low: number; readonly high: number };
    };

/** Fits y = a_s + slope * x over every segment s; needs two more points than segments used. */
export function fitPooledSlope(segments: readonly (readonly XY[])[], confidence: number): SlopeFit {
  const used = segments.filter((s) => s.length >= 2);
  const points = used.reduce((n, s) => n + s.length, 0);
  const degreesOfFreedom = points - used.length - 1;
  if (used.length === 0 || degreesOfFreedom < 1) {
    return { state: 'insufficient-data', points, reason: `need at least ${String(used.length + 2)} samples over ${String(Math.max(1, used.length))} series for a slope and its error, got ${String(points)}` };
  }
  let sxx = 0;
  let sxy = 0;
  const means = used.map((s) => ({ x: mean(s.map((p) => p.x)), y: mean(s.map((p) => p.y)) }));
  used.forEach((s, i) => {
    const m = means[i] ?? { x: 0, y: 0 };
    for (const p of s) {
      sxx += (p.x - m.x) ** 2;
      sxy += (p.x - m.x) * (p.y - m.y);
    }
  });
  if (sxx === 0) return { state: 'insufficient-data', points, reason: 'every sample has the same x; sample at different times or amounts of work' };
  const slope = sxy / sxx;
  let sse = 0;
  used.forEach((s, i) => {
    const m = means[i] ?? { x: 0, y: 0 };
    for (const p of s) sse += (p.y - (m.y + slope * (p.x - m.x))) ** 2;
  });
  const standardError = Math.sqrt(sse / degreesOfFreedom / sxx);
  const halfWidth = studentTQuantile(1 - (1 - confidence) / 2, degreesOfFreedom) * standardError;
  const first = means[0] ?? { x: 0, y: 0 };
  return {
    state: 'estimated',
    points,
    segments: used.length,
    slope,
    intercept: first.y - slope * first.x,
    standardError,
    degreesOfFreedom,
    confidence,
    ci: { low: slope - halfWidth, high: slope + halfWidth },
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}
