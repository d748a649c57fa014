import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeEncodedByKey,
  mergeEncodedHistograms,
  mergeHistograms,
  type Histogram,
} from '../../src/measure/histogram.ts';
import { summarize, summarizeEncoded } from '../../src/measure/summary.ts';

const RUNS = { numRuns: 60 };
// Latencies from 1 µs to 100 s: spans many HDR buckets.
const micros = fc.integer({ min: 1, max: 100_000_000 });
const values = fc.array(micros, { minLength: 1, maxLength: 300 });

function histogramOf(list: readonly number[]): Histogram {
  const h = createLatencyHistogram();
  for (const v of list) h.recordValue(v);
  return h;
}

/** Nearest-rank percentile, the definition HDR histograms implement. */
function exactPercentile(sorted: readonly number[], percent: number): number {
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

describe('histogram merge', () => {
  it('is commutative: a+b and b+a have the same count and summary', () => {
    fc.assert(
      fc.property(values, values, (a, b) => {
        const ab = mergeHistograms([histogramOf(a), histogramOf(b)]);
        const ba = mergeHistograms([histogramOf(b), histogramOf(a)]);
        expect(ab.totalCount).toBe(a.length + b.length);
        expect(summarize(ab)).toEqual(summarize(ba));
      }),
      RUNS,
    );
  });

  it('is associative: (a+b)+c equals a+(b+c)', () => {
    fc.assert(
      fc.property(values, values, values, (a, b, c) => {
        const left = mergeHistograms([mergeHistograms([histogramOf(a), histogramOf(b)]), histogramOf(c)]);
        const right = mergeHistograms([histogramOf(a), mergeHistograms([histogramOf(b), histogramOf(c)])]);
        expect(summarize(left)).toEqual(summarize(right));
      }),
      RUNS,
    );
  });

  it('equals recording every value into one histogram', () => {
    fc.assert(
      fc.property(fc.array(values, { minLength: 1, maxLength: 5 }), (parts) => {
        const one = summarize(histogramOf(parts.flat()));
        expect(summarize(mergeHistograms(parts.map(histogramOf)))).toEqual(one);
        expect(summarizeEncoded(mergeEncodedHistograms(parts.map((part) => encodeHistogram(histogramOf(part)))))).toEqual(one);
      }),
      RUNS,
    );
  });

  it('merges maps of encoded histograms key by key', () => {
    const worker1 = { 'i-1': encodeHistogram(histogramOf([100, 200])), 'i-2': encodeHistogram(histogramOf([5000])) };
    const worker2 = { 'i-1': encodeHistogram(histogramOf([300])) };
    const merged = mergeEncodedByKey([worker1, worker2]);
    expect(Object.keys(merged).sort()).toEqual(['i-1', 'i-2']);
    expect(summarizeEncoded(merged['i-1'] ?? '')).toMatchObject({ count: 3, min: 0.1, max: 0.3 });
    expect(summarizeEncoded(merged['i-2'] ?? '')).toMatchObject({ count: 1, min: 5, max: 5.003 });
  });
});

describe('encode/decode', () => {
  it('round-trips every percentile, min, max and count', () => {
    fc.assert(
      fc.property(values, fc.double({ min: 0, max: 100, noNaN: true }), (list, percent) => {
        const original = histogramOf(list);
        const decoded = decodeHistogram(encodeHistogram(original));
        expect(decoded.totalCount).toBe(original.totalCount);
        expect(decoded.getValueAtPercentile(percent)).toBe(original.getValueAtPercentile(percent));
        expect(summarize(decoded)).toEqual(summarize(original));
      }),
      RUNS,
    );
  });
});

describe('summarize', () => {
  it('is null for an empty histogram', () => {
    expect(summarize(createLatencyHistogram())).toBeNull();
  });

  it('orders min <= p50 <= p75 <= p90 <= p95 <= p99 <= p999 <= max, min/max within 0.1% of the truth', () => {
    fc.assert(
      fc.property(values, (list) => {
        const s = summarize(histogramOf(list));
        if (s === null) throw new Error('a non-empty histogram must summarise');
        const ordered = [s.min, s.p50, s.p75, s.p90, s.p95, s.p99, s.p999, s.max];
        for (let i = 1; i < ordered.length; i++) expect(ordered[i]).toBeGreaterThanOrEqual(ordered[i - 1] ?? Number.NaN);
        expect(s.count).toBe(list.length);
        const [min, max] = [Math.min(...list) / 1000, Math.max(...list) / 1000];
        expect(s.min).toBeLessThanOrEqual(min);
        expect(s.min).toBeGreaterThanOrEqual(min * (1 - 1e-3));
        expect(s.max).toBeGreaterThanOrEqual(max);
        expect(s.max).toBeLessThanOrEqual(max * (1 + 1e-3));
      }),
      RUNS,
    );
  });

  it('matches exact percentiles and mean within 3 significant digits', () => {
    fc.assert(
      fc.property(values, (list) => {
        const s = summarize(histogramOf(list));
        if (s === null) throw new Error('a non-empty histogram must summarise');
        const sorted = [...list].sort((x, y) => x - y);
        for (const [key, percent] of [['p50', 50], ['p90', 90], ['p99', 99]] as const) {
          const exact = exactPercentile(sorted, percent) / 1000;
          expect(Math.abs(s[key] - exact)).toBeLessThanOrEqual(exact * 1e-3 + 1e-3);
        }
        const mean = list.reduce((a, b) => a + b, 0) / list.length / 1000;
        expect(Math.abs(s.mean - mean)).toBeLessThanOrEqual(mean * 1e-3 + 1e-3);
      }),
      RUNS,
    );
  });

  it('reports a known distribution exactly (1..1000 µs)', () => {
    const s = summarize(histogramOf(Array.from({ length: 1000 }, (_, i) => i + 1)));
    expect(s).toMatchObject({ count: 1000, min: 0.001, p50: 0.5, p90: 0.9, p99: 0.99, p999: 0.999, max: 1, mean: 0.501 });
  });
});
