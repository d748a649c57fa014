/**
 * Recommendations derived from the measurements, never boilerplate: each rule fires only when a
 * scenario measured the figure it quotes, and each names the results fields it read.
 */
import type { RunResults, ScenarioResult } from '../results/schema.ts';
import { formatCount, formatDuration, formatPercent, formatRate, formatValue } from './format.ts';
import { metricKind } from './metric-kind.ts';
import { throughputs, withLatency } from './findings.ts';

/** Alert on latency this many times the percentile a passing scenario measured: room for normal variation. */
export const ALERT_LATENCY_FACTOR = 1.5;
/** Alert when throughput drops below this fraction of the measured rate. */
export const ALERT_THROUGHPUT_FACTOR = 0.5;
/** A p99 this many times the p50 points at queueing rather than work. */
export const TAIL_RATIO_CONCERN = 10;
/** Scaling efficiency below this is worth explaining. */
export const SCALING_EFFICIENCY_CONCERN = 0.7;

export interface Recommendation {
  readonly topic: string;
  readonly text: string;
  /** The results fields it reads. */
  readonly basis: string;
}

/** Every recommendation the run's measurements support, in a stable order. */
export function recommendations(results: RunResults): Recommendation[] {
  const measured = results.scenarios.filter((s) => s.status === 'passed' || s.status === 'failed');
  return [
    ...latencyAlerts(measured),
    ...throughputAlerts(measured),
    ...tailLatency(measured),
    ...poolPressure(measured),
    ...cachePressure(measured),
    ...scaling(measured, results.environment.cpu.logicalCores),
    ...generatorLimits(measured),
  ];
}

function latencyAlerts(scenarios: readonly ScenarioResult[]): Recommendation[] {
  return withLatency(scenarios.filter((s) => s.status === 'passed')).map((s) => ({
    topic: 'Alerting',
    text:
      `${s.title}: alert when p95 latency exceeds ${formatDuration(s.p95 * ALERT_LATENCY_FACTOR)} ` +
      `(${ALERT_LATENCY_FACTOR}x the measured p95 of ${formatDuration(s.p95)}) or p99 exceeds ${formatDuration(s.p99 * ALERT_LATENCY_FACTOR)} ` +
      `(${ALERT_LATENCY_FACTOR}x the measured ${formatDuration(s.p99)}).`,
    basis: `scenarios[${s.id}].histograms.latency.summary.p95, .p99`,
  }));
}

function throughputAlerts(scenarios: readonly ScenarioResult[]): Recommendation[] {
  return throughputs(scenarios.filter((s) => s.status === 'passed')).map((t) => ({
    topic: 'Alerting',
    text: `${t.title}: alert when ${t.metric} falls below ${formatRate(t.value * ALERT_THROUGHPUT_FACTOR)} (${ALERT_THROUGHPUT_FACTOR}x the measured ${formatRate(t.value)}).`,
    basis: `scenarios[${t.id}].metrics.${t.metric}`,
  }));
}

function tailLatency(scenarios: readonly ScenarioResult[]): Recommendation[] {
  return withLatency(scenarios)
    .filter((s) => s.p50 > 0 && s.p99 / s.p50 >= TAIL_RATIO_CONCERN)
    .map((s) => ({
      topic: 'Latency',
      text:
        `${s.title}: p99 (${formatDuration(s.p99)}) is ${formatCount(Math.round(s.p99 / s.p50))}x the median (${formatDuration(s.p50)}): ` +
        'requests wait behind each other (a lock, a pool, a single writer); look at where they queue before adding capacity.',
      basis: `scenarios[${s.id}].histograms.latency.summary.p50, .p99`,
    }));
}

/** Pool pressure: a metric naming pool waits, queueing or timeouts that is above zero. */
function poolPressure(scenarios: readonly ScenarioResult[]): Recommendation[] {
  return scenarios.flatMap((s) =>
    Object.entries(s.metrics)
      .filter(([name, value]) => /pool/i.test(name) && /wait|pending|queue|timeout|exhaust/i.test(name) && value > 0)
      .map(([name, value]) => {
        const size = Object.entries(s.metrics).find(([n]) => /pool/i.test(n) && /size|max$/i.test(n) && !/wait|pending|queue/i.test(n));
        return {
          topic: 'Pool sizing',
          text:
            `${s.title}: ${name} reached ${formatValue(value, metricKind(name, s).dimension)}` +
            `${size === undefined ? '' : ` with ${size[0]} = ${formatCount(size[1])}`}: requests waited for a connection; ` +
            'size the pool for the concurrency measured here, or cap concurrency in front of it.',
          basis: `scenarios[${s.id}].metrics.${name}${size === undefined ? '' : `, .${size[0]}`}`,
        };
      }),
  );
}

/** Cache pressure: evictions measured alongside a hit ratio below one half. */
function cachePressure(scenarios: readonly ScenarioResult[]): Recommendation[] {
  return scenarios.flatMap((s) => {
    const evictions = Object.entries(s.metrics).find(([n, v]) => /evict/i.test(n) && v > 0);
    const hit = Object.entries(s.metrics).find(([n]) => /hit/i.test(n) && metricKind(n, s).dimension === 'ratio');
    if (evictions === undefined || hit === undefined || hit[1] >= 0.5) return [];
    return [{
      topic: 'Cache sizing',
      text:
        `${s.title}: the cache evicted ${formatCount(evictions[1])} entries while its hit ratio was ${formatPercent(hit[1])}: ` +
        'if production traffic has a working set like this one, raise the cache size (or the TTL) until evictions stop dominating.',
      basis: `scenarios[${s.id}].metrics.${evictions[0]}, .${hit[0]}`,
    }];
  });
}

function scaling(scenarios: readonly ScenarioResult[], cores: number): Recommendation[] {
  return scenarios.flatMap((s) =>
    Object.entries(s.metrics)
      .filter(([name, value]) => /efficiency/i.test(name) && value < SCALING_EFFICIENCY_CONCERN)
      .map(([name, value]) => ({
        topic: 'Capacity',
        text:
          `${s.title}: ${name} is ${formatPercent(value)} on a machine with ${cores} logical cores: ` +
          'instances beyond the core count share CPU, so plan capacity from per-core throughput, not from instance count.',
        basis: `scenarios[${s.id}].metrics.${name}, environment.cpu.logicalCores`,
      })),
  );
}

function generatorLimits(scenarios: readonly ScenarioResult[]): Recommendation[] {
  return scenarios.flatMap((s) =>
    s.loadRuns
      .filter((r) => r.saturated)
      .map((r) => ({
        topic: 'Measurement',
        text: `${s.title}: the generator fell behind in '${r.label}' (${r.saturationReasons.join('; ')}): rerun at a lower rate or on a machine with more cores before trusting its figures.`,
        basis: `scenarios[${s.id}].loadRuns[${r.label}].saturated`,
      })),
  );
}
