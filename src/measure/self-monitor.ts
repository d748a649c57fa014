/**
 * Resource monitor for gauntlet's own process: memory, CPU, GC by kind (PerformanceObserver),
 * event-loop delay (monitorEventLoopDelay) and utilisation. Started and stopped explicitly; stop()
 * disconnects everything it started.
 */
import { readdirSync } from 'node:fs';
import {
  constants,
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type NodeGCPerformanceDetail,
  type PerformanceEntry,
} from 'node:perf_hooks';
import type { GcKindStats, ProcessSample } from './process-sample.ts';

/** Sampling resolution of the event-loop delay histogram: 10 ms, Node's default. */
export const SELF_MONITOR_LOOP_RESOLUTION_MS = 10;

/** GC kind names as prom-client labels them, so self and target samples read alike. */
const GC_KINDS: ReadonlyMap<number, string> = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

export interface SelfMonitorOptions {
  now?: () => number;
  loopResolutionMs?: number;
}

export interface SelfMonitor {
  /** A sample now; GC and event-loop figures cover the time since start. */
  sample(): ProcessSample;
  /** Stops observers and returns the final sample; later calls return that same sample. */
  stop(): ProcessSample;
}

function countOpenFds(): number | null {
  if (process.platform !== 'linux') return null;
  // readdir holds one descriptor of its own on /proc/self/fd while listing it.
  return readdirSync('/proc/self/fd').length - 1;
}

/** Starts monitoring this process. */
export function startSelfMonitor(options: SelfMonitorOptions = {}): SelfMonitor {
  const now = options.now ?? (() => performance.now());
  const gc: Record<string, GcKindStats> = {};
  const accumulate = (entries: readonly PerformanceEntry[]): void => {
    for (const entry of entries) {
      // @types/node 20 omits `detail` on gc entries; Node sets it to { kind, flags } since v16.
      const detail = (entry as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail;
      const kind = GC_KINDS.get(detail?.kind ?? -1) ?? `kind-${String(detail?.kind)}`;
      const stats = (gc[kind] ??= { count: 0, pauseMs: 0 });
      stats.count++;
      stats.pauseMs += entry.duration;
    }
  };
  const observer = new PerformanceObserver((list) => accumulate(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const resolutionMs = options.loopResolutionMs ?? SELF_MONITOR_LOOP_RESOLUTION_MS;
  const loopDelay = monitorEventLoopDelay({ resolution: resolutionMs });
  loopDelay.enable();
  const startUtilization = performance.eventLoopUtilization();
  let final: ProcessSample | null = null;

  const sample = (): ProcessSample => {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const loopSampled = loopDelay.count > 0;
    return {
      source: 'self',
      atMs: now(),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      cpuUserSeconds: cpu.user / 1e6,
      cpuSystemSeconds: cpu.system / 1e6,
      gc: Object.fromEntries(Object.entries(gc).map(([kind, stats]) => [kind, { ...stats }])),
      // The monitor's timer fires every `resolution` ms and reports that period too: only the excess is delay.
      eventLoopLagP99Ms: loopSampled ? Math.max(0, loopDelay.percentile(99) / 1e6 - resolutionMs) : null,
      eventLoopLagMeanMs: loopSampled ? Math.max(0, loopDelay.mean / 1e6 - resolutionMs) : null,
      eventLoopUtilization: performance.eventLoopUtilization(startUtilization).utilization,
      openFds: countOpenFds(),
      // Active libuv resources (handles, requests and timers), the public successor of _getActiveHandles.
      activeHandles: process.getActiveResourcesInfo().length,
    };
  };

  return {
    sample() {
      if (final) throw new Error('self monitor is stopped; start a new one with startSelfMonitor()');
      return sample();
    },
    stop() {
      if (final) return final;
      // Deliver GC entries still buffered in the observer before disconnecting it.
      accumulate(observer.takeRecords());
      final = sample();
      observer.disconnect();
      loopDelay.disable();
      return final;
    },
  };
}
