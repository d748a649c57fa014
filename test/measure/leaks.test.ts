import { describe, expect, it } from 'vitest';
import { checkLeaks, DEFAULT_LEAK_TOLERANCE, waitForDrain, type ResourceSnapshot } from '../../src/measure/leaks.ts';

const snap = (phase: ResourceSnapshot['phase'], resources: Record<string, number>): ResourceSnapshot => ({ phase, atMs: 0, resources });

describe('checkLeaks', () => {
  it('gives a verdict per resource with the numbers', () => {
    const report = checkLeaks(
      snap('baseline', { sockets: 0, fds: 20, poolOpen: 2 }),
      snap('after-drain', { sockets: 0, fds: 23, poolOpen: 1 }),
      snap('under-load', { sockets: 8, fds: 40, poolOpen: 10 }),
    );
    expect(DEFAULT_LEAK_TOLERANCE).toBe(0);
    expect(report).toEqual({
      allReturned: false,
      verdicts: [
        { resource: 'fds', baseline: 20, underLoad: 40, afterDrain: 23, tolerance: 0, state: 'leaked', leaked: 3 },
        { resource: 'poolOpen', baseline: 2, underLoad: 10, afterDrain: 1, tolerance: 0, state: 'returned-to-baseline' },
        { resource: 'sockets', baseline: 0, underLoad: 8, afterDrain: 0, tolerance: 0, state: 'returned-to-baseline' },
      ],
    });
  });

  it('applies per-resource tolerance, then the default tolerance', () => {
    const baseline = snap('baseline', { fds: 20, handles: 5 });
    const after = snap('after-drain', { fds: 22, handles: 6 });
    const report = checkLeaks(baseline, after, null, { tolerance: { fds: 2 }, defaultTolerance: 1 });
    expect(report.allReturned).toBe(true);
    expect(checkLeaks(baseline, after, null, { tolerance: { fds: 1 } }).verdicts[0]).toMatchObject({ state: 'leaked', leaked: 2, tolerance: 1 });
  });

  it('never passes a resource missing from a snapshot', () => {
    const report = checkLeaks(snap('baseline', { a: 1 }), snap('after-drain', { b: 1 }));
    expect(report.allReturned).toBe(false);
    expect(report.verdicts).toEqual([
      { resource: 'a', state: 'missing', missingFrom: 'after-drain' },
      { resource: 'b', state: 'missing', missingFrom: 'baseline' },
    ]);
  });
});

describe('waitForDrain', () => {
  it('polls until resources return, on a fake clock', async () => {
    let t = 0;
    const readings = [5, 3, 1, 0, 0];
    let calls = 0;
    const take = () => Promise.resolve({ sockets: readings[calls++] ?? 0 });
    const result = await waitForDrain(take, snap('baseline', { sockets: 0 }), {
      now: () => t,
      sleep: (ms) => Promise.resolve((t += ms)),
      pollMs: 100,
      timeoutMs: 1000,
    });
    expect(calls).toBe(4);
    expect(result).toEqual({ phase: 'after-drain', atMs: 300, resources: { sockets: 0 } });
  });

  it('gives up after timeoutMs with the last reading', async () => {
    let t = 0;
    let calls = 0;
    const take = () => {
      calls++;
      return Promise.resolve({ sockets: 7 });
    };
    const result = await waitForDrain(take, snap('baseline', { sockets: 0 }), {
      now: () => t,
      sleep: (ms) => Promise.resolve((t += ms)),
      pollMs: 100,
      timeoutMs: 450,
    });
    expect(result.resources.sockets).toBe(7);
    expect(calls).toBe(5); // at t = 0, 100, 200, 300, 400; a sixth (t = 500) would pass the 450 ms deadline
    expect(result.atMs).toBe(400);
  });
});
