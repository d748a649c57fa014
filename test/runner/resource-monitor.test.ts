import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../src/clock.ts';
import type { ProcOutcome } from '../../src/measure/proc.ts';
import { failingTrends } from '../../src/measure/resource-trend.ts';
import { startResourceMonitor } from '../../src/runner/resource-monitor.ts';

/** A sampler over made-up processes: RSS grows by `leak` bytes per reading of each pid. */
function fakeSampler(leak: Readonly<Record<number, number>>, gone: Set<number>): { sample: (pid: number) => Promise<ProcOutcome>; reads: number[] } {
  const reads: number[] = [];
  const count = new Map<number, number>();
  return {
    reads,
    sample(pid) {
      reads.push(pid);
      if (gone.has(pid)) return Promise.resolve({ state: 'unavailable', pid, reason: 'gone' });
      const n = (count.get(pid) ?? 0) + 1;
      count.set(pid, n);
      const sample = { pid, atMs: 0, rssBytes: 50e6 + n * (leak[pid] ?? 0), openFds: 20, cpuUserSeconds: 0, cpuSystemSeconds: 0, threads: 7 };
      return Promise.resolve({ state: 'sampled', sample });
    },
  };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('resource monitor', () => {
  it('samples gauntlet and the summed target every interval, a new segment when the target processes change', async () => {
    const clock = new FakeClock();
    const gone = new Set<number>();
    const { sample } = fakeSampler({}, gone);
    let pids = [10, 11];
    const monitor = startResourceMonitor({ clock, enforced: false, targetPids: () => pids, intervalMs: 1000, selfPid: 1, sample });
    for (let i = 0; i < 4; i++) {
      await flush();
      clock.advance(1000);
    }
    pids = [12, 13, 14];
    for (let i = 0; i < 3; i++) {
      await flush();
      clock.advance(1000);
    }
    await flush();
    const trends = await monitor.stop();
    const target = trends.samples.filter((s) => s.process === 'target');
    expect(trends.samples.filter((s) => s.process === 'gauntlet').length).toBe(target.length);
    expect(new Set(target.map((s) => s.segment))).toEqual(new Set(['0:10,11', '0:12,13,14']));
    expect(target.find((s) => s.segment === '0:10,11')?.rssBytes).toBe(100e6 + 2 * 0);
    expect(target.find((s) => s.segment === '0:12,13,14')?.openFds).toBe(60);
    expect(target.map((s) => s.atSec)).toEqual([...target.map((s) => s.atSec)].sort((a, b) => a - b));
    expect(clock.pendingTimers).toBe(0);
  });

  it('skips a target reading while one of its processes is gone, rather than record a partial sum', async () => {
    const clock = new FakeClock();
    const gone = new Set([11]);
    const { sample } = fakeSampler({}, gone);
    const monitor = startResourceMonitor({ clock, enforced: false, targetPids: () => [10, 11], intervalMs: 1000, selfPid: 1, sample });
    await flush();
    clock.advance(1000);
    await flush();
    const trends = await monitor.stop();
    expect(trends.samples.every((s) => s.process === 'gauntlet')).toBe(true);
  });

  it('starts new segments at each scenario, and takes no samples during a fault scenario', async () => {
    const clock = new FakeClock();
    const { sample } = fakeSampler({}, new Set());
    const monitor = startResourceMonitor({ clock, enforced: true, targetPids: () => [10], intervalMs: 1000, selfPid: 1, sample });
    const tick = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        await flush();
        clock.advance(1000);
      }
      await flush();
    };
    monitor.scenarioStarted(true);
    await tick(2);
    monitor.scenarioStarted(false);
    await tick(5);
    monitor.scenarioStarted(true);
    await tick(2);
    const trends = await monitor.stop();
    const target = trends.samples.filter((s) => s.process === 'target');
    expect(target.some((s) => s.atSec > 2.5 && s.atSec < 6.5)).toBe(false);
    expect(new Set(target.map((s) => s.segment))).toEqual(new Set(['1:10', '3:10']));
    expect(new Set(trends.samples.filter((s) => s.process === 'gauntlet').map((s) => s.segment))).toEqual(new Set(['1:1', '3:1']));
    expect(trends.confidence).toBe(0.95);
  });

  it('notes that an external target is not sampled', async () => {
    const { sample } = fakeSampler({}, new Set());
    const trends = await startResourceMonitor({ clock: new FakeClock(), enforced: true, targetPids: () => null, selfPid: 1, sample }).stop();
    expect(trends.unavailable.join('\n')).toMatch(/external target is not sampled/);
    expect(trends.trends.every((t) => t.process === 'gauntlet')).toBe(true);
  });

  it('catches a real process that leaks memory and descriptors', async () => {
    // 4 MiB and one open FD more every 100 ms: 2.4 GiB/min, far past any bound, for ~2.5 s.
    const leaker = spawn(
      process.execPath,
      ['-e', "const fs=require('fs');const keep=[];const t=setInterval(()=>{keep.push(Buffer.alloc(4*1024*1024,1));keep.push(fs.openSync(process.execPath,'r'))},100);setTimeout(()=>{clearInterval(t)},20000);process.stdout.write('up\\n');setInterval(()=>{},1000)"],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(leaker.stdout, 'data');
      const pid = leaker.pid ?? -1;
      const monitor = startResourceMonitor({ clock: systemClock, enforced: true, targetPids: () => [pid], intervalMs: 100 });
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const trends = await monitor.stop();
      const failing = failingTrends(trends).map((t) => `${t.process} ${t.resource}`);
      expect(failing).toContain('target rss');
      expect(failing).toContain('target fds');
    } finally {
      leaker.kill('SIGKILL');
    }
  });
});
