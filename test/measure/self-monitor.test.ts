import { describe, expect, it } from 'vitest';
import { startSelfMonitor } from '../../src/measure/self-monitor.ts';

function makeGarbage(): number {
  let junk: number[][] = [];
  let total = 0;
  for (let i = 0; i < 300_000; i++) {
    junk.push(new Array<number>(8).fill(i));
    if (junk.length > 1000) {
      total += junk.length;
      junk = [];
    }
  }
  return total;
}

describe('startSelfMonitor', () => {
  it('reports memory, CPU, GC by kind, event-loop figures and FDs of this process', async () => {
    let t = 1000;
    const monitor = startSelfMonitor({ now: () => (t += 1) });
    try {
      expect(makeGarbage()).toBeGreaterThan(0);
      const until = performance.now() + 50;
      while (performance.now() < until); // block the loop so delay and utilisation register
      await new Promise((resolve) => setTimeout(resolve, 30));
      const s = monitor.sample();
      expect(s).toMatchObject({ source: 'self', atMs: 1001 });
      expect(s.rssBytes).toBeGreaterThan(s.heapUsedBytes ?? Number.POSITIVE_INFINITY);
      expect(s.heapUsedBytes).toBeLessThanOrEqual(s.heapTotalBytes ?? 0);
      expect(s.cpuUserSeconds).toBeGreaterThan(0);
      expect(s.gc.minor?.count).toBeGreaterThan(0);
      expect(s.gc.minor?.pauseMs).toBeGreaterThan(0);
      expect(s.eventLoopLagP99Ms).toBeGreaterThan(0);
      expect(s.eventLoopUtilization).toBeGreaterThan(0);
      expect(s.eventLoopUtilization).toBeLessThanOrEqual(1);
      expect(s.openFds).toBeGreaterThan(2);
    } finally {
      monitor.stop();
    }
  });

  it('stops once: later stops return the final sample, sampling afterwards is an error', () => {
    const monitor = startSelfMonitor();
    const final = monitor.stop();
    expect(monitor.stop()).toBe(final);
    expect(() => monitor.sample()).toThrow(/stopped/);
  });

  it('counts GC from its own start only', async () => {
    const first = startSelfMonitor();
    makeGarbage();
    await new Promise((resolve) => setImmediate(resolve));
    const firstFinal = first.stop();
    const second = startSelfMonitor();
    const secondStart = second.stop();
    expect(firstFinal.gc.minor?.count).toBeGreaterThan(0);
    expect(secondStart.gc).toEqual({});
  });
});
