import { describe, expect, it } from 'vitest';
import { arrivalsBefore, intendedSendMs, scheduleTimes, validateSchedule } from '../../src/load/schedule.ts';

describe('arrival schedules', () => {
  it('spaces a constant rate exactly', () => {
    expect(scheduleTimes({ kind: 'constant', ratePerSec: 4 }, { durationMs: 1000 })).toEqual([0, 250, 500, 750]);
  });

  it('ends a duration before the slot that falls on it, and a count after exactly that many', () => {
    expect(scheduleTimes({ kind: 'constant', ratePerSec: 10 }, { durationMs: 300 })).toEqual([0, 100, 200]);
    expect(scheduleTimes({ kind: 'constant', ratePerSec: 10 }, { count: 5 })).toEqual([0, 100, 200, 300, 400]);
    expect(scheduleTimes({ kind: 'constant', ratePerSec: 10 }, { count: 50, durationMs: 250 })).toEqual([0, 100, 200]);
  });

  it('follows a linear ramp (10/s -> 30/s over 2 s: N(t) = 10t + 5t^2), then holds the final rate', () => {
    const ramp = { kind: 'ramp', fromPerSec: 10, toPerSec: 30, overMs: 2000 } as const;
    expect(intendedSendMs(ramp, 0)).toBe(0);
    expect(intendedSendMs(ramp, 15)).toBe(1000);
    expect(intendedSendMs(ramp, 40)).toBe(2000);
    expect(intendedSendMs(ramp, 70)).toBe(3000);
    expect(arrivalsBefore(ramp, 1000)).toBe(15);
    expect(arrivalsBefore(ramp, 3000)).toBe(70);
    const times = scheduleTimes(ramp, { durationMs: 2000 });
    expect(times).toHaveLength(40);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    // The rate rises, so every gap is shorter than the one before.
    gaps.slice(1).forEach((g, i) => expect(g).toBeLessThan(gaps[i] ?? 0));
  });

  it('ramps up from zero', () => {
    const ramp = { kind: 'ramp', fromPerSec: 0, toPerSec: 20, overMs: 1000 } as const;
    // N(t) = 10 t^2 up to 1 s (10 requests), then 20/s: request 30 is due at 2 s.
    expect(intendedSendMs(ramp, 10)).toBe(1000);
    expect(intendedSendMs(ramp, 30)).toBe(2000);
    expect(scheduleTimes(ramp, { durationMs: 1000 })).toHaveLength(10);
  });

  it('rejects runs that would never end or never send, saying what to give', () => {
    expect(() => validateSchedule({ kind: 'constant', ratePerSec: 10 }, {})).toThrow(/durationMs, count/);
    expect(() => validateSchedule({ kind: 'constant', ratePerSec: 0 }, { count: 1 })).toThrow(/ratePerSec/);
    expect(() => validateSchedule({ kind: 'ramp', fromPerSec: 5, toPerSec: 0, overMs: 10 }, { count: 1 })).toThrow(/toPerSec/);
    expect(() => validateSchedule({ kind: 'constant', ratePerSec: 1 }, { count: 1.5 })).toThrow(/count/);
  });
});
