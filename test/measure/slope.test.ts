import { describe, expect, it } from 'vitest';
import { fitPooledSlope } from '../../src/measure/slope.ts';
import type { XY } from '../../src/measure/slope.ts';
import { mulberry32 } from '../../src/report/noise-stats.ts';

const line = (xs: readonly number[], slope: number, intercept: number): XY[] => xs.map((x) => ({ x, y: intercept + slope * x }));

function estimated(fit: ReturnType<typeof fitPooledSlope>): Extract<typeof fit, { state: 'estimated' }> {
  if (fit.state !== 'estimated') throw new Error(`expected an estimate, got: ${fit.reason}`);
  return fit;
}

describe('fitPooledSlope', () => {
  it('recovers an exact slope from one series, with a zero-width interval', () => {
    const fit = estimated(fitPooledSlope([line([0, 1, 2, 3, 4], 2.5, 10)], 0.95));
    expect(fit.slope).toBeCloseTo(2.5, 12);
    expect(fit.intercept).toBeCloseTo(10, 12);
    expect(fit.ci.high - fit.ci.low).toBeCloseTo(0, 9);
    expect(fit.degreesOfFreedom).toBe(3);
  });

  it('reads the slope within each segment: a restart to a higher baseline is not growth', () => {
    // Flat within each lifetime, but the second starts 100 higher: pooled as one series it would climb.
    const fit = estimated(fitPooledSlope([line([0, 1, 2, 3], 0, 50), line([4, 5, 6, 7], 0, 150)], 0.95));
    expect(fit.slope).toBeCloseTo(0, 12);
    expect(fit.segments).toBe(2);
    expect(fit.degreesOfFreedom).toBe(8 - 2 - 1);
    const naive = estimated(fitPooledSlope([[...line([0, 1, 2, 3], 0, 50), ...line([4, 5, 6, 7], 0, 150)]], 0.95));
    expect(naive.slope).toBeGreaterThan(10);
  });

  it('pools a common slope over segments with different intercepts', () => {
    const fit = estimated(fitPooledSlope([line([0, 1, 2], 3, 0), line([10, 11, 12, 13], 3, -500)], 0.95));
    expect(fit.slope).toBeCloseTo(3, 12);
  });

  it('says why when there is too little to fit', () => {
    expect(fitPooledSlope([], 0.95).state).toBe('insufficient-data');
    expect(fitPooledSlope([line([0, 1], 1, 0)], 0.95).state).toBe('insufficient-data');
    expect(fitPooledSlope([[{ x: 1, y: 1 }, { x: 1, y: 2 }, { x: 1, y: 3 }]], 0.95).state).toBe('insufficient-data');
    // One-point segments carry no slope information and are left out.
    expect(estimated(fitPooledSlope([line([0, 1, 2], 1, 0), [{ x: 9, y: 99 }]], 0.95)).points).toBe(3);
  });

  it('its 95% interval covers the true slope about 95% of the time under noise', () => {
    const random = mulberry32(7);
    const normal = (): number => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
    const trials = 2000;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const segs = [0, 1].map((s) => Array.from({ length: 6 }, (_, i) => ({ x: s * 10 + i, y: s * 40 + 0.7 * (s * 10 + i) + normal() })));
      const fit = estimated(fitPooledSlope(segs, 0.95));
      if (fit.ci.low <= 0.7 && 0.7 <= fit.ci.high) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.93);
    expect(covered / trials).toBeLessThan(0.97);
  });
});
