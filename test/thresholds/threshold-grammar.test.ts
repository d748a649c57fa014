import { describe, expect, it } from 'vitest';
import { bindThreshold, type MetricSpec } from '../../src/thresholds/bind.ts';
import { evaluateThreshold } from '../../src/thresholds/evaluate.ts';
import { parseThreshold } from '../../src/thresholds/parse.ts';

const METRICS: MetricSpec[] = [
  { name: 'latency.p95', dimension: 'duration', description: '95th percentile latency' },
  { name: 'errors.rate', dimension: 'ratio', description: 'failed requests / all' },
  { name: 'duplicates', dimension: 'count', description: 'duplicate IDs read back' },
  { name: 'throughput', dimension: 'rate', description: 'successful requests per second' },
  { name: 'memory.growth_per_op', dimension: 'bytes', description: 'heap growth per operation' },
];

function bind(source: string) {
  const parsed = parseThreshold(source);
  if (!parsed.ok) return parsed;
  return bindThreshold(parsed.threshold, METRICS, 'test-scenario');
}

describe('threshold grammar: accepted expressions give canonical values', () => {
  it.each([
    ['latency.p95 < 15ms', 'latency.p95', '<', 15],
    ['latency.p95<15ms', 'latency.p95', '<', 15],
    ['latency.p95 <= 0.25s', 'latency.p95', '<=', 250],
    ['latency.p95 < 800us', 'latency.p95', '<', 0.8],
    ['latency.p95 < 1e3ms', 'latency.p95', '<', 1000],
    ['errors.rate < 1%', 'errors.rate', '<', 0.01],
    ['errors.rate < 0.01', 'errors.rate', '<', 0.01],
    ['duplicates == 0', 'duplicates', '==', 0],
    ['duplicates != 3', 'duplicates', '!=', 3],
    ['throughput >= 500/s', 'throughput', '>=', 500],
    ['throughput > 600/min', 'throughput', '>', 10],
    ['memory.growth_per_op < 2KiB', 'memory.growth_per_op', '<', 2048],
    ['  latency.p95   <   15 ms  ', 'latency.p95', '<', 15],
  ] as const)('%s', (source, metric, op, value) => {
    const outcome = bind(source);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.threshold).toMatchObject({ metric, op });
    expect(outcome.threshold.value).toBeCloseTo(value, 9);
  });

  it('keeps a scenario prefix', () => {
    const parsed = parseThreshold('family-creation:latency.p99 < 20ms');
    expect(parsed.ok && parsed.threshold.scenarioId).toBe('family-creation');
    expect(parsed.ok && parsed.threshold.metric).toBe('latency.p99');
  });
});

describe('threshold grammar: rejected expressions say what is wrong', () => {
  it.each([
    ['', /empty expression/],
    ['latency.p95 15ms', /no comparison operator/],
    ['< 15ms', /no metric/],
    ['Latency.P95 < 15ms', /not a metric name/],
    ['latency.p(95) < 15ms', /not a metric name/],
    ['latency.p95 < NaN', /not a number/],
    ['latency.p95 < Infinity', /not a number/],
    ['latency.p95 < ms', /not a number/],
    ['latency.p95 < 15 parsecs', /unknown unit 'parsecs'/],
    ['latency.p95 < 1e999ms', /not a finite number/],
    ['latency.p95 < 15ms < 20ms', /unknown unit/],
    ['Bad_Id:latency.p95 < 15ms', /not a scenario id/],
    ['latency.p95 => 15ms', /'latency.p95 =' is not a metric name/],
  ] as const)('%j', (source, message) => {
    const outcome = parseThreshold(source);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatch(message);
  });

  it.each([
    ['latency.p101 < 15ms', /unknown metric 'latency.p101'.*measures: latency.p95/],
    ['p(NaN) < 1', /not a metric name/],
    ['latency.p95 < 15', /is a duration: give a unit \(us, ms, s\)/],
    ['latency.p95 < 15%', /unit '%' does not fit 'latency.p95'/],
    ['throughput >= 500', /is a rate: give a unit/],
    ['errors.rate < 1ms', /does not fit 'errors.rate', a ratio \(use %, no unit\)/],
    ['duplicates == 0ms', /does not fit 'duplicates'/],
  ] as const)('%j against the scenario metrics', (source, message) => {
    const outcome = bind(source);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatch(message);
  });
});

describe('threshold evaluation', () => {
  function bound(source: string) {
    const outcome = bind(source);
    if (!outcome.ok) throw new Error(outcome.error);
    return outcome.threshold;
  }

  it.each([
    ['latency.p95 < 15ms', 14.999, 'passed'],
    ['latency.p95 < 15ms', 15, 'failed'],
    ['latency.p95 <= 15ms', 15, 'passed'],
    ['throughput >= 500/s', 499.9, 'failed'],
    ['throughput > 500/s', 500.1, 'passed'],
    ['duplicates == 0', 0, 'passed'],
    ['duplicates == 0', 1, 'failed'],
    ['duplicates != 0', 0, 'failed'],
    ['errors.rate < 1%', 0.0099, 'passed'],
    ['errors.rate < 1%', 0.01, 'failed'],
  ] as const)('%s with actual %d -> %s', (source, actual, state) => {
    expect(evaluateThreshold(bound(source), actual)).toEqual({ state, actual });
  });

  it('a metric that was not measured is never a pass', () => {
    expect(evaluateThreshold(bound('duplicates == 0'), undefined)).toEqual({ state: 'not-measured' });
    expect(evaluateThreshold(bound('duplicates == 0'), Number.NaN)).toEqual({ state: 'not-measured' });
  });
});
