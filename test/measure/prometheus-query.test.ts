import { describe, expect, it } from 'vitest';
import { parsePrometheusText, type PromSample } from '../../src/measure/prometheus/parse.ts';
import { histogramQuantile, selectSamples, singleValue, sumByLabel, sumValues } from '../../src/measure/prometheus/query.ts';

function samplesOf(text: string): PromSample[] {
  const result = parsePrometheusText(text);
  if (result.state !== 'parsed') throw new Error(result.reason);
  return result.exposition.samples;
}

const samples = samplesOf(`
# TYPE reqs counter
reqs_total{route="/a",code="200"} 10
reqs_total{route="/a",code="500"} 2
reqs_total{route="/b",code="200"} 5
reqs_total{route="/b"} 1
# TYPE lat histogram
lat_bucket{route="/a",le="0.1"} 10
lat_bucket{route="/a",le="0.5"} 30
lat_bucket{route="/a",le="1"} 40
lat_bucket{route="/a",le="+Inf"} 40
lat_bucket{route="/b",le="0.1"} 0
lat_bucket{route="/b",le="0.5"} 20
lat_bucket{route="/b",le="1"} 30
lat_bucket{route="/b",le="+Inf"} 40
lat_sum{route="/a"} 12
lat_count{route="/a"} 40
`);

describe('selection and aggregation', () => {
  it('matches exact, negated and RegExp label values; absent labels read as ""', () => {
    expect(selectSamples(samples, 'reqs_total', { route: '/a' })).toHaveLength(2);
    expect(sumValues(samples, 'reqs_total', { code: { not: '500' } })).toBe(16);
    expect(sumValues(samples, 'reqs_total', { code: /^5/ })).toBe(2);
    expect(sumValues(samples, 'reqs_total', { code: '' })).toBe(1);
  });

  it('sum is null, not 0, when nothing matches', () => {
    expect(sumValues(samples, 'nope_total')).toBeNull();
    expect(sumValues(samples, 'reqs_total', { route: '/zzz' })).toBeNull();
  });

  it('singleValue returns the one match, null for none, and refuses ambiguity', () => {
    expect(singleValue(samples, 'reqs_total', { route: '/b', code: '200' })).toBe(5);
    expect(singleValue(samples, 'nothing')).toBeNull();
    expect(() => singleValue(samples, 'reqs_total', { route: '/a' })).toThrow(/2 samples of reqs_total match.*add label matchers/);
  });

  it('sums by a label', () => {
    expect(sumByLabel(samples, 'reqs_total', 'route')).toEqual({ '/a': 12, '/b': 6 });
  });
});

describe('histogramQuantile', () => {
  it('interpolates inside the bucket, as PromQL histogram_quantile does', () => {
    // /a: rank 20 of 40 falls in (0.1, 0.5] which holds 20 (10..30): 0.1 + 0.4 * (10/20) = 0.3.
    expect(histogramQuantile(samples, 'lat', 0.5, { route: '/a' })).toBeCloseTo(0.3, 12);
    // First bucket starts at 0: rank 4 of 40 in (0, 0.1] holding 10 -> 0.04.
    expect(histogramQuantile(samples, 'lat', 0.1, { route: '/a' })).toBeCloseTo(0.04, 12);
  });

  it('sums buckets across matching series before computing', () => {
    // Both routes: buckets 10, 50, 70, 80; rank 40 in (0.1, 0.5] holding 40 -> 0.1 + 0.4 * 30/40 = 0.4.
    expect(histogramQuantile(samples, 'lat', 0.5)).toBeCloseTo(0.4, 12);
  });

  it('returns the highest finite bound when the rank falls in the +Inf bucket', () => {
    expect(histogramQuantile(samples, 'lat', 0.99, { route: '/b' })).toBe(1);
  });

  it('is null without observations and rejects quantiles outside [0, 1]', () => {
    expect(histogramQuantile(samples, 'missing', 0.5)).toBeNull();
    expect(histogramQuantile(samplesOf('h_bucket{le="1"} 0\nh_bucket{le="+Inf"} 0'), 'h', 0.5)).toBeNull();
    expect(() => histogramQuantile(samples, 'lat', 99)).toThrow(/0.99 for p99/);
  });

  it('refuses a histogram without a +Inf bucket', () => {
    expect(() => histogramQuantile(samplesOf('h_bucket{le="1"} 3'), 'h', 0.5)).toThrow(/\+Inf/);
  });

  it('repairs non-monotonic buckets from a torn scrape', () => {
    const torn = samplesOf('h_bucket{le="1"} 10\nh_bucket{le="2"} 8\nh_bucket{le="+Inf"} 10');
    expect(histogramQuantile(torn, 'h', 0.5)).toBeCloseTo(0.5, 12);
  });
});
