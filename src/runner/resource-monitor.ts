/**
 * Samples gauntlet's own process and the embedded target's processes (/proc RSS and open FDs) every
 * few seconds for the whole run, for the resource-trend verdicts (src/measure/resource-trend.ts).
 * An external target is not sampled: gauntlet reads /proc only of processes it started.
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { Profile } from '../config/defaults.ts';
import { sampleProc } from '../measure/proc.ts';
import type { ProcOutcome } from '../measure/proc.ts';
import { judgeResourceTrends, TREND_CONFIDENCE, TREND_FLAT_BOUNDS_PER_MINUTE } from '../measure/resource-trend.ts';
import type { ResourceSample } from '../measure/resource-trend.ts';
import type { ResourceTrends } from '../results/schema.ts';
import type { ScenarioGroup } from '../scenario/definition.ts';

/** Time between two samples: coarse, so neighbouring samples are not one GC cycle apart. */
export const RESOURCE_SAMPLE_INTERVAL_MS = 2_000;
/** Profiles long enough for a growing trend to fail the run; in shorter ones warm-up dominates, so trends only inform. */
export const RESOURCE_TREND_ENFORCED_PROFILES: readonly Profile[] = ['soak'];
/** Groups whose scenarios kill, stall or overload the target on purpose: their spikes are not trends, so they are not sampled. */
export const RESOURCE_TREND_UNSAMPLED_GROUPS: readonly ScenarioGroup[] = ['reliability'];

export interface ResourceMonitorOptions {
  readonly clock: Clock;
  /** The target's process IDs now; null when the target is not gauntlet's own (external). */
  readonly targetPids: () => readonly number[] | null;
  readonly enforced: boolean;
  readonly intervalMs?: number;
  readonly selfPid?: number;
  readonly sample?: (pid: number) => Promise<ProcOutcome>;
}

export interface ResourceMonitor {
  /**
   * A scenario starts: samples from here on form new segments, so the slope is read within each
   * scenario's steady work, never from one scenario's workload being heavier than the last one's.
   * `sampled: false` stops sampling for a scenario that kills, stalls or overloads the target on
   * purpose, whose spikes are the point, not a trend.
   */
  scenarioStarted(sampled: boolean): void;
  /** Takes a last sample, stops, and judges the trends. */
  stop(): Promise<ResourceTrends>;
}

export function startResourceMonitor(options: ResourceMonitorOptions): ResourceMonitor {
  const intervalMs = options.intervalMs ?? RESOURCE_SAMPLE_INTERVAL_MS;
  const sample = options.sample ?? ((pid: number) => sampleProc(pid));
  const selfPid = options.selfPid ?? process.pid;
  const t0 = options.clock.now();
  const samples: ResourceSample[] = [];
  const unavailable = new Set<string>();
  let timer: TimerHandle | null = null;
  let stopped = false;
  let paused = false;
  /** Counts scenarios started: part of every segment key. */
  let epoch = 0;
  let inFlight: Promise<void> = Promise.resolve();

  // A function, not the variable: a pause may begin while /proc is read, and that reading belongs to the fault.
  const isPaused = (): boolean => paused;
  const takeSample = async (): Promise<void> => {
    if (isPaused()) return;
    const atSec = (options.clock.now() - t0) / 1000;
    const self = await sample(selfPid);
    if (isPaused()) return;
    if (self.state === 'sampled') samples.push({ process: 'gauntlet', atSec, segment: `${String(epoch)}:${String(selfPid)}`, rssBytes: self.sample.rssBytes, openFds: self.sample.openFds });
    else unavailable.add(`gauntlet: ${self.reason}`);
    const pids = options.targetPids();
    if (pids === null || pids.length === 0) return;
    const outcomes = await Promise.all(pids.map(sample));
    if (isPaused()) return;
    // A process between restarts (or killed on purpose) gives no reading; a partial sum would look like a drop.
    if (outcomes.some((o) => o.state !== 'sampled')) return;
    let rssBytes = 0;
    let openFds = 0;
    for (const o of outcomes) {
      if (o.state !== 'sampled') continue;
      rssBytes += o.sample.rssBytes;
      openFds += o.sample.openFds;
    }
    samples.push({ process: 'target', atSec, segment: `${String(epoch)}:${[...pids].sort((a, b) => a - b).join(',')}`, rssBytes, openFds });
  };
  const tick = (): void => {
    if (stopped) return;
    inFlight = takeSample().finally(() => {
      if (!stopped) timer = options.clock.setTimeout(tick, intervalMs);
    });
  };
  tick();

  return {
    scenarioStarted(sampled) {
      paused = !sampled;
      epoch += 1;
    },
    async stop() {
      stopped = true;
      paused = false;
      timer?.cancel();
      await inFlight;
      await takeSample();
      if (options.targetPids() === null) unavailable.add('target: an external target is not sampled (gauntlet reads /proc only of the processes it started)');
      return { intervalMs, enforced: options.enforced, confidence: TREND_CONFIDENCE, samples, trends: judgeResourceTrends(samples, TREND_FLAT_BOUNDS_PER_MINUTE, TREND_CONFIDENCE), unavailable: [...unavailable] };
    },
  };
}
