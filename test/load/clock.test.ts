import { describe, expect, it } from 'vitest';
import { FakeClock, sleep, systemClock } from '../../src/clock.ts';

describe('FakeClock', () => {
  it('fires due timers in time order, each at its own time, including timers set while advancing', () => {
    const clock = new FakeClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 50);
    clock.advance(30);
    expect(fired).toEqual(['a@110', 'c@115', 'b@120']);
    expect(clock.now()).toBe(130);
    expect(clock.pendingTimers).toBe(1);
  });

  it('keeps insertion order for timers due at the same time, and skips cancelled ones', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(1), 10);
    const t = clock.setTimeout(() => fired.push(2), 10);
    clock.setTimeout(() => fired.push(3), 10);
    t.cancel();
    clock.advance(10);
    expect(fired).toEqual([1, 3]);
  });

  it('refuses to spin forever on a timer that reschedules itself at zero delay', () => {
    const clock = new FakeClock();
    const again = (): void => void clock.setTimeout(again, 0);
    again();
    expect(() => clock.advance(1, 100)).toThrow(/zero delay/);
  });

  it('drives sleep, and sleep rejects on abort without firing', async () => {
    const clock = new FakeClock();
    const done = sleep(clock, 50);
    clock.advance(50);
    await expect(done).resolves.toBeUndefined();
    const controller = new AbortController();
    const cancelled = sleep(clock, 50, controller.signal);
    controller.abort(new Error('no more'));
    await expect(cancelled).rejects.toThrow('no more');
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('systemClock', () => {
  it('is monotonic with sub-millisecond precision', () => {
    const a = systemClock.now();
    const b = systemClock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Number.isInteger(a) && Number.isInteger(b)).toBe(false);
  });
});
