/**
 * Memory readings of one target process for the memory-and-GC scenario: its /metrics (prom-client
 * default metrics), /proc when it is a local process, and a settle that brings the heap to its
 * live set before it is read — a forced full GC where the scenario started the process with the
 * hook below, otherwise the lowest heap seen over a bounded idle window.
 */
import { readFile } from 'node:fs/promises';
import { sleep } from '../../src/clock.ts';
import { crossCheckWithProc, sampleProc } from '../../src/measure/proc.ts';
import type { CrossCheck } from '../../src/measure/proc.ts';
import { processSampleFromMetrics } from '../../src/measure/process-sample.ts';
import type { GcKindStats, ProcessSample } from '../../src/measure/process-sample.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';

/** The signal the hook answers with a full GC; SIGUSR1 is Node's inspector, SIGUSR2 is free. */
export const FORCE_GC_SIGNAL = 'SIGUSR2';
/**
 * Node options that let the scenario force a full GC in an instance it started, adding nothing to
 * the target's code or API: `gc` exposed, and a preloaded handler that calls it on the signal.
 */
export const FORCE_GC_NODE_ARGS: readonly string[] = [
  '--expose-gc',
  `--import=data:text/javascript,process.on('${FORCE_GC_SIGNAL}',()=>{globalThis.gc()})`,
];

/** Bounds of the settle step. */
export const SETTLE_DEFAULTS = {
  /** Forced GC: how long to wait for the target's metrics to show the extra full GC. */
  forcedTimeoutMs: 3_000,
  pollMs: 25,
  /** Without a forced GC: the idle window over which the lowest heap is taken, and the spacing of its samples. */
  idleWindowMs: 2_000,
  idleSampleMs: 200,
} as const;

/** One process to read: its metrics URL and, for a local process, its pid. */
export interface MemoryWatched {
  readonly name: string;
  readonly url: string;
  readonly pid: number | null;
}

export interface MemoryReading {
  readonly sample: ProcessSample;
  /** /proc RSS and its agreement with the metrics' RSS; null without a local pid. */
  readonly procRssBytes: number | null;
  readonly rssCrossCheck: CrossCheck | null;
}

/** Scrapes the process's metrics (and /proc with a pid); throws with what to do when the heap is not exposed. */
export async function readMemory(ctx: ScenarioContext, w: MemoryWatched): Promise<MemoryReading> {
  const exposition = await ctx.scrape(w.url);
  const sample = processSampleFromMetrics(exposition, { atMs: ctx.clock.now() });
  if (sample.heapUsedBytes === null || sample.rssBytes === null) {
    throw new Error(`${w.url}/metrics has no nodejs_heap_size_used_bytes or process_resident_memory_bytes; expose prom-client's default metrics (collectDefaultMetrics) so memory can be read`);
  }
  if (w.pid === null) return { sample, procRssBytes: null, rssCrossCheck: null };
  const proc = await sampleProc(w.pid);
  if (proc.state === 'unavailable') throw new Error(`/proc of ${w.name} (pid ${w.pid}): ${proc.reason}`);
  const rssCrossCheck = crossCheckWithProc({ metrics: sample, proc: proc.sample }).find((c) => c.metric === 'rssBytes') ?? null;
  return { sample, procRssBytes: proc.sample.rssBytes, rssCrossCheck };
}

/** Full GCs (kind `major`) a sample has counted since the process started. */
export function majorGcCount(sample: ProcessSample): number {
  return sample.gc.major?.count ?? 0;
}

/** GC count and pause by kind between two cumulative samples. */
export function gcDelta(before: ProcessSample, after: ProcessSample): Record<string, GcKindStats> {
  const delta: Record<string, GcKindStats> = {};
  for (const [kind, now] of Object.entries(after.gc)) {
    const was = before.gc[kind] ?? { count: 0, pauseMs: 0 };
    delta[kind] = { count: now.count - was.count, pauseMs: now.pauseMs - was.pauseMs };
  }
  return delta;
}

export type SettleMethod = 'forced-gc' | 'idle-minimum';

/** Whether the process runs with the GC hook (read from its command line, so a process without it is never signalled). */
export async function hasGcHook(pid: number | null): Promise<boolean> {
  if (pid === null) return false;
  let cmdline: string;
  try {
    cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch (error) {
    throw new Error(`cannot read /proc/${pid}/cmdline (${(error as NodeJS.ErrnoException).code ?? 'unknown'}): the target instance has exited or this is not Linux`, { cause: error });
  }
  const args = cmdline.split('\0');
  return FORCE_GC_NODE_ARGS.every((a) => args.includes(a));
}

/**
 * Brings the heap to its live set and reads it. `forced-gc`: signals the hook and waits until the
 * metrics count one more full GC. `idle-minimum`: the lowest heap over an idle window (an upper bound of the live set).
 */
export async function settleAndRead(ctx: ScenarioContext, w: MemoryWatched, method: SettleMethod): Promise<MemoryReading> {
  if (method === 'forced-gc') {
    if (w.pid === null) throw new Error('scenario bug: a forced GC needs the pid of a local instance');
    const before = await readMemory(ctx, w);
    process.kill(w.pid, FORCE_GC_SIGNAL);
    const deadline = ctx.clock.now() + SETTLE_DEFAULTS.forcedTimeoutMs;
    while (ctx.clock.now() < deadline) {
      await sleep(ctx.clock, SETTLE_DEFAULTS.pollMs, ctx.signal);
      const now = await readMemory(ctx, w);
      if (majorGcCount(now.sample) > majorGcCount(before.sample)) return now;
    }
    throw new Error(`${w.name} (pid ${w.pid}) showed no full GC within ${SETTLE_DEFAULTS.forcedTimeoutMs} ms of ${FORCE_GC_SIGNAL}; check that its nodejs_gc_duration_seconds{kind="major"} is exposed`);
  }
  const samples = Math.max(1, Math.floor(SETTLE_DEFAULTS.idleWindowMs / SETTLE_DEFAULTS.idleSampleMs));
  let lowest = await readMemory(ctx, w);
  for (let i = 1; i < samples; i++) {
    await sleep(ctx.clock, SETTLE_DEFAULTS.idleSampleMs, ctx.signal);
    const now = await readMemory(ctx, w);
    if ((now.sample.heapUsedBytes ?? Infinity) < (lowest.sample.heapUsedBytes ?? Infinity)) lowest = now;
  }
  return lowest;
}
