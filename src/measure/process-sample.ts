/**
 * One shape for a process's resource figures, whether read from a target's prom-client default
 * metrics or from gauntlet's own process. Null means "not exposed", never zero.
 */
import type { PromExposition } from './prometheus/parse.ts';
import { singleValue, sumByLabel, type LabelMatchers } from './prometheus/query.ts';

export interface GcKindStats {
  count: number;
  pauseMs: number;
}

export interface ProcessSample {
  source: 'prometheus' | 'self';
  atMs: number;
  rssBytes: number | null;
  heapUsedBytes: number | null;
  heapTotalBytes: number | null;
  externalBytes: number | null;
  cpuUserSeconds: number | null;
  cpuSystemSeconds: number | null;
  /** Cumulative GC count and pause time by kind (minor, major, incremental, weakcb). */
  gc: Record<string, GcKindStats>;
  eventLoopLagP99Ms: number | null;
  eventLoopLagMeanMs: number | null;
  /** Fraction 0..1 of time the event loop was busy, when exposed. */
  eventLoopUtilization: number | null;
  openFds: number | null;
  activeHandles: number | null;
}

/** The prom-client default metric names read here (prom-client 15, no prefix). */
export const PROM_CLIENT_METRICS = {
  rss: 'process_resident_memory_bytes',
  heapUsed: 'nodejs_heap_size_used_bytes',
  heapTotal: 'nodejs_heap_size_total_bytes',
  external: 'nodejs_external_memory_bytes',
  cpuUser: 'process_cpu_user_seconds_total',
  cpuSystem: 'process_cpu_system_seconds_total',
  gcDuration: 'nodejs_gc_duration_seconds',
  lagP99: 'nodejs_eventloop_lag_p99_seconds',
  lagMean: 'nodejs_eventloop_lag_mean_seconds',
  utilization: 'nodejs_eventloop_utilization',
  openFds: 'process_open_fds',
  activeHandles: 'nodejs_active_handles_total',
} as const;

export interface FromMetricsOptions {
  atMs: number;
  /** Narrows every metric (e.g. `{ instance: 'i-2' }` when default labels tell instances apart). */
  matchers?: LabelMatchers;
  /** Metric name prefix given to prom-client's collectDefaultMetrics. */
  prefix?: string;
}

const secondsToMs = (seconds: number | null): number | null => (seconds === null ? null : seconds * 1000);

/** Reads a ProcessSample from a scrape of prom-client default metrics. */
export function processSampleFromMetrics(exposition: PromExposition, options: FromMetricsOptions): ProcessSample {
  const matchers = options.matchers ?? {};
  const prefix = options.prefix ?? '';
  const value = (name: string): number | null => {
    const found = singleValue(exposition.samples, prefix + name, matchers);
    // prom-client reports NaN until it has a measurement (event-loop percentiles right after start).
    return found === null || Number.isNaN(found) ? null : found;
  };
  const gcName = prefix + PROM_CLIENT_METRICS.gcDuration;
  const counts = sumByLabel(exposition.samples, `${gcName}_count`, 'kind', matchers);
  const sums = sumByLabel(exposition.samples, `${gcName}_sum`, 'kind', matchers);
  const gc: Record<string, GcKindStats> = {};
  for (const [kind, count] of Object.entries(counts)) gc[kind] = { count, pauseMs: (sums[kind] ?? 0) * 1000 };
  return {
    source: 'prometheus',
    atMs: options.atMs,
    rssBytes: value(PROM_CLIENT_METRICS.rss),
    heapUsedBytes: value(PROM_CLIENT_METRICS.heapUsed),
    heapTotalBytes: value(PROM_CLIENT_METRICS.heapTotal),
    externalBytes: value(PROM_CLIENT_METRICS.external),
    cpuUserSeconds: value(PROM_CLIENT_METRICS.cpuUser),
    cpuSystemSeconds: value(PROM_CLIENT_METRICS.cpuSystem),
    gc,
    eventLoopLagP99Ms: secondsToMs(value(PROM_CLIENT_METRICS.lagP99)),
    eventLoopLagMeanMs: secondsToMs(value(PROM_CLIENT_METRICS.lagMean)),
    eventLoopUtilization: value(PROM_CLIENT_METRICS.utilization),
    openFds: value(PROM_CLIENT_METRICS.openFds),
    activeHandles: value(PROM_CLIENT_METRICS.activeHandles),
  };
}
