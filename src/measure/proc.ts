/**
 * Linux `/proc/<pid>` readings of a local process (RSS, open FDs, CPU time), and a cross-check
 * of those against what the process reports about itself through its metrics.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { ProcessSample } from './process-sample.ts';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat. 100 on every mainstream Linux architecture. */
export const PROC_CLOCK_TICKS_PER_SECOND = 100;

export interface ProcSample {
  pid: number;
  atMs: number;
  rssBytes: number;
  openFds: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  threads: number;
}

export type ProcOutcome = { state: 'sampled'; sample: ProcSample } | { state: 'unavailable'; pid: number; reason: string };

export interface ProcOptions {
  procRoot?: string;
  clockTicksPerSecond?: number;
  now?: () => number;
}

/** Parses the VmRSS line of /proc/<pid>/status into bytes. */
export function parseStatusRss(status: string): number | null {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match?.[1] === undefined ? null : Number(match[1]) * 1024;
}

/** Parses utime, stime (ticks) and num_threads from /proc/<pid>/stat. */
export function parseStat(stat: string): { utimeTicks: number; stimeTicks: number; threads: number } | null {
  // The command name (field 2) is in parentheses and may itself contain spaces and ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  // After the name, fields[0] is field 3 (state): utime is field 14, stime 15, num_threads 20.
  const [utime, stime, threads] = [fields[11], fields[12], fields[17]].map(Number);
  if (utime === undefined || stime === undefined || threads === undefined || [utime, stime, threads].some(Number.isNaN)) return null;
  return { utimeTicks: utime, stimeTicks: stime, threads };
}

/** Samples /proc/<pid>; `unavailable` (with why) when the process is gone or this is not Linux. */
export async function sampleProc(pid: number, options: ProcOptions = {}): Promise<ProcOutcome> {
  const root = `${options.procRoot ?? '/proc'}/${String(pid)}`;
  const ticks = options.clockTicksPerSecond ?? PROC_CLOCK_TICKS_PER_SECOND;
  const atMs = (options.now ?? (() => performance.now()))();
  let status: string, stat: string, fds: string[];
  try {
    [status, stat, fds] = await Promise.all([readFile(`${root}/status`, 'utf8'), readFile(`${root}/stat`, 'utf8'), readdir(`${root}/fd`)]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return { state: 'unavailable', pid, reason: `cannot read ${root} (${code}): the process has exited, belongs to another user, or this is not Linux` };
  }
  const rssBytes = parseStatusRss(status);
  const parsed = parseStat(stat);
  if (rssBytes === null || parsed === null) return { state: 'unavailable', pid, reason: `${root}/status or stat has an unexpected layout` };
  return {
    state: 'sampled',
    sample: {
      pid,
      atMs,
      rssBytes,
      openFds: fds.length,
      cpuUserSeconds: parsed.utimeTicks / ticks,
      cpuSystemSeconds: parsed.stimeTicks / ticks,
      threads: parsed.threads,
    },
  };
}

/** How far two readings may differ and still agree: within `absolute` or `relative` of the /proc value. */
export interface Tolerance {
  absolute: number;
  relative: number;
}

/**
 * Default cross-check tolerances. The two readings are not simultaneous: RSS moves between them,
 * the scrape's own socket is an FD, and /proc CPU time has 10 ms ticks (CPU is compared as a delta).
 */
export const DEFAULT_CROSS_CHECK_TOLERANCES = {
  rssBytes: { absolute: 4 * 1024 * 1024, relative: 0.1 },
  openFds: { absolute: 3, relative: 0 },
  cpuSeconds: { absolute: 0.1, relative: 0.1 },
} as const satisfies Record<string, Tolerance>;

export type CrossCheckMetric = keyof typeof DEFAULT_CROSS_CHECK_TOLERANCES;

export type CrossCheck =
  | { metric: CrossCheckMetric; state: 'agrees' | 'differs'; fromMetrics: number; fromProc: number; difference: number; tolerance: Tolerance }
  | { metric: CrossCheckMetric; state: 'missing-from-metrics' };

/** A metrics-based sample and a /proc sample taken back to back. */
export interface PairedSamples {
  metrics: ProcessSample;
  proc: ProcSample;
}

export interface CrossCheckOptions {
  /**
   * An earlier pair: CPU is then compared as the time used between the two pairs. Without it CPU
   * is not compared, because prom-client counts CPU from when it started collecting, /proc from exec.
   */
  previous?: PairedSamples;
  tolerances?: Readonly<Record<CrossCheckMetric, Tolerance>>;
}

const totalCpu = (sample: ProcessSample): number | null =>
  sample.cpuUserSeconds === null || sample.cpuSystemSeconds === null ? null : sample.cpuUserSeconds + sample.cpuSystemSeconds;

/** Compares what the process reports through its metrics with /proc, metric by metric. */
export function crossCheckWithProc(current: PairedSamples, options: CrossCheckOptions = {}): CrossCheck[] {
  const tolerances = options.tolerances ?? DEFAULT_CROSS_CHECK_TOLERANCES;
  const { metrics, proc } = current;
  const pairs: [CrossCheckMetric, number | null, number][] = [
    ['rssBytes', metrics.rssBytes, proc.rssBytes],
    ['openFds', metrics.openFds, proc.openFds],
  ];
  const previous = options.previous;
  if (previous) {
    const now = totalCpu(metrics);
    const before = totalCpu(previous.metrics);
    const procCpu = (p: ProcSample): number => p.cpuUserSeconds + p.cpuSystemSeconds;
    pairs.push(['cpuSeconds', now === null || before === null ? null : now - before, procCpu(proc) - procCpu(previous.proc)]);
  }
  return pairs.map(([metric, fromMetrics, fromProc]): CrossCheck => {
    if (fromMetrics === null) return { metric, state: 'missing-from-metrics' };
    const tolerance = tolerances[metric];
    const difference = fromMetrics - fromProc;
    const allowed = Math.max(tolerance.absolute, tolerance.relative * Math.abs(fromProc));
    return { metric, state: Math.abs(difference) <= allowed ? 'agrees' : 'differs', fromMetrics, fromProc, difference, tolerance };
  });
}
