import { describe, expect, it } from 'vitest';
import { chartNumber, formatBytes, formatChange, formatCount, formatDuration, formatPercent, formatRate, significant } from '../../src/report/format.ts';
import { dimensionFromName, metricKind } from '../../src/report/metric-kind.ts';

describe('formatting helpers: one precision rule per dimension', () => {
  it.each([
    [0, '0 ms'], [0.4123, '0.412 ms'], [12.345, '12.3 ms'], [999.4, '999 ms'], [1234, '1.23 s'], [119_000, '119 s'], [125_400, '2 min 5 s'],
  ])('duration %s ms -> %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it.each([[1234.5, '1,230/s'], [12.34, '12.3/s'], [0.5, '0.5/s']])('rate %s -> %s', (v, text) => expect(formatRate(v)).toBe(text));
  it.each([[0, '0%'], [1, '100%'], [0.1234, '12.3%'], [0.005, '0.5%'], [0.00012, '0.012%']])('percent %s -> %s', (v, text) => expect(formatPercent(v)).toBe(text));
  it.each([[512, '512 B'], [1536, '1.5 KiB'], [93_100_000, '88.8 MiB'], [8_254_152_704, '7.69 GiB']])('bytes %s -> %s', (v, text) => expect(formatBytes(v)).toBe(text));
  it.each([[12345, '12,345'], [0, '0'], [2.5, '2.5'], [1234.56, '1,230']])('count %s -> %s', (v, text) => expect(formatCount(v)).toBe(text));
  it.each([[0.123, '+12.3%'], [-0.05, '-5%'], [0, '0%'], [Infinity, '+∞']])('change %s -> %s', (v, text) => expect(formatChange(v)).toBe(text));

  it('keeps chart values exact enough to tell 1003 from 997 and has no digit grouping', () => {
    expect(chartNumber(1003)).toBe('1003');
    expect(chartNumber(92_400_123)).toBe('92400123');
    expect(chartNumber(0.123456789)).toBe('0.123457');
  });

  it('rounds to significant digits without float noise or exponents', () => {
    expect(significant(0.1 + 0.2)).toBe('0.3');
    expect(significant(1e-7)).toBe('0.0000001');
    expect(significant(-1234.5)).toBe('-1,230');
  });
});

describe('metric kind: dimension and direction in one place', () => {
  it.each([
    ['latency.p99', 'duration', 'lower-is-better'],
    ['query.user_lookup.p95', 'duration', 'lower-is-better'],
    ['staleness.max', 'duration', 'lower-is-better'],
    ['throughput', 'rate', 'higher-is-better'],
    ['errors.rate', 'ratio', 'lower-is-better'],
    ['cache.hit_ratio', 'ratio', 'higher-is-better'],
    ['hit_ratio.disagreement', 'ratio', 'lower-is-better'],
    ['scaling.efficiency', 'ratio', 'higher-is-better'],
    ['memory.growth_per_op', 'bytes', 'lower-is-better'],
    ['duplicates.ids', 'count', 'lower-is-better'],
    ['over_admissions', 'count', 'lower-is-better'],
    ['gc.pause.count', 'count', 'neutral'],
    ['created', 'count', 'neutral'],
    ['reads', 'count', 'neutral'],
  ])('%s is a %s, %s', (name, dimension, direction) => {
    expect(metricKind(name)).toEqual({ dimension, direction });
  });

  it('a declared dimension wins over the name', () => {
    expect(dimensionFromName('window')).toBe('count');
    expect(metricKind('window', { thresholds: [], metricDimensions: { window: 'duration' } }).dimension).toBe('duration');
  });
});
