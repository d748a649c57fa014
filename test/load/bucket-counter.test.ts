import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, recordMillis } from '../../src/measure/histogram.ts';
import { BucketCounter } from '../../src/load/bucket-counter.ts';

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 100];

describe('BucketCounter', () => {
  it('yields exactly the histogram that direct HDR recording yields', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 3_000_000, noNaN: true }), { minLength: 1, maxLength: 300 }), (millis) => {
        const direct = createLatencyHistogram();
        const viaCounter = createLatencyHistogram();
        const counter = new BucketCounter();
        for (const ms of millis) {
          recordMillis(direct, ms);
          counter.recordMillis(ms);
        }
        counter.flushInto(viaCounter);
        expect(viaCounter.totalCount).toBe(direct.totalCount);
        for (const p of PERCENTILES) expect(viaCounter.getValueAtPercentile(p)).toBe(direct.getValueAtPercentile(p));
        expect(viaCounter.mean).toBeCloseTo(direct.mean, 6);
        direct.destroy();
        viaCounter.destroy();
      }),
      { numRuns: 200 },
    );
  });

  it('records whole microseconds, 0 included, exactly as direct recording does (the lateness path)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000_000 })), { minLength: 1, maxLength: 300 }), (micros) => {
        const direct = createLatencyHistogram();
        const viaCounter = createLatencyHistogram();
        const counter = new BucketCounter();
        for (const us of micros) {
          direct.recordValue(us);
          counter.recordMicros(us);
        }
        counter.flushInto(viaCounter);
        expect(viaCounter.totalCount).toBe(direct.totalCount);
        for (const p of PERCENTILES) expect(viaCounter.getValueAtPercentile(p)).toBe(direct.getValueAtPercentile(p));
        direct.destroy();
        viaCounter.destroy();
      }),
      { numRuns: 200 },
    );
  });

  it('empties itself on flush', () => {
    const counter = new BucketCounter();
    counter.recordMillis(1.5);
    const h = createLatencyHistogram();
    counter.flushInto(h);
    counter.flushInto(h);
    expect(h.totalCount).toBe(1);
    expect(counter.total).toBe(0);
  });
});
