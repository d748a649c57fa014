import { describe, expect, it } from 'vitest';
import { IntervalRecorder, mergeSeries, type LatencySeries } from '../../src/measure/series.ts';

function fakeClock(start = 0): { now: () => number; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (ms) => (t = ms) };
}

const view = (series: LatencySeries) => series.points.map(({ histogram: _h, ...rest }) => rest);

describe('IntervalRecorder', () => {
  it('buckets completions by the injected clock, fills gaps, counts errors apart', () => {
    const clock = fakeClock(10_000);
    const recorder = new IntervalRecorder({ intervalMs: 1000, now: clock.now });
    clock.set(10_010);
    recorder.recordLatency(2);
    clock.set(10_500);
    recorder.recordLatency(4);
    clock.set(11_999);
    recorder.recordLatency(8);
    clock.set(13_200);
    recorder.recordError();
    const series = recorder.series();
    expect(series.intervalMs).toBe(1000);
    expect(view(series)).toEqual([
      // 4000 µs and 8000 µs sit in HDR buckets 2 µs and 4 µs wide: the upper edges are reported.
      { startMs: 0, count: 2, errors: 0, p50: 2, p99: 4.001, max: 4.001 },
      { startMs: 1000, count: 1, errors: 0, p50: 8.003, p99: 8.003, max: 8.003 },
      { startMs: 2000, count: 0, errors: 0, p50: null, p99: null, max: null },
      { startMs: 3000, count: 0, errors: 1, p50: null, p99: null, max: null },
    ]);
  });

  it('refuses a record in an already sealed interval', () => {
    const recorder = new IntervalRecorder({ intervalMs: 100, originMs: 0, now: () => 0 });
    recorder.recordLatency(1, 250);
    expect(() => recorder.recordLatency(1, 150)).toThrow(/already sealed/);
  });

  it('merges per-worker series into the series of all records', () => {
    const all = new IntervalRecorder({ intervalMs: 1000, originMs: 0, now: () => 0 });
    const workers = [0, 1, 2].map(() => new IntervalRecorder({ intervalMs: 1000, originMs: 0, now: () => 0 }));
    for (let i = 0; i < 90; i++) {
      const at = i * 40;
      const latency = 1 + ((i * 7) % 13);
      const worker = workers[i % 3];
      if (!worker) throw new Error('three workers');
      if (i % 10 === 0) {
        worker.recordError(at);
        all.recordError(at);
      } else {
        worker.recordLatency(latency, at);
        all.recordLatency(latency, at);
      }
    }
    const merged = mergeSeries(workers.map((w) => w.series()));
    expect(view(merged)).toEqual(view(all.series()));
    expect(merged.points.reduce((s, p) => s + p.count + p.errors, 0)).toBe(90);
  });

  it('refuses to merge series of different interval widths', () => {
    const a = new IntervalRecorder({ intervalMs: 1000, originMs: 0, now: () => 0 }).series();
    const b = new IntervalRecorder({ intervalMs: 500, originMs: 0, now: () => 0 }).series();
    expect(() => mergeSeries([a, b])).toThrow(/one interval/);
  });
});
