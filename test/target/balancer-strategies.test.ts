import { describe, expect, it } from 'vitest';
import { LeastConnections, RoundRobin, createStrategy } from '../../target/balancer/strategy.ts';

function picks(strategy: { acquire(): number }, count: number): number[] {
  return Array.from({ length: count }, () => strategy.acquire());
}

describe('round-robin', () => {
  it('visits each backend in turn, regardless of what is in flight', () => {
    const rr = new RoundRobin(3);
    expect(picks(rr, 7)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect([rr.inFlight(0), rr.inFlight(1), rr.inFlight(2)]).toEqual([3, 2, 2]);
  });

  it('skips removed backends and returns -1 when none is left', () => {
    const rr = new RoundRobin(3);
    rr.remove(1);
    expect(picks(rr, 4)).toEqual([0, 2, 0, 2]);
    rr.remove(0);
    rr.remove(2);
    expect(rr.acquire()).toBe(-1);
  });
});

describe('least-connections', () => {
  it('breaks ties round-robin when all are idle', () => {
    const lc = new LeastConnections(3);
    const sequence: number[] = [];
    for (let i = 0; i < 6; i++) {
      const index = lc.acquire();
      sequence.push(index);
      lc.release(index);
    }
    expect(sequence).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('prefers the backend with the fewest in flight', () => {
    const lc = new LeastConnections(3);
    expect(picks(lc, 3)).toEqual([0, 1, 2]);
    lc.release(1);
    lc.release(2);
    // 0 has one in flight, 1 and 2 none: 1 and 2 alternate until they catch up with 0.
    expect(picks(lc, 2)).toEqual([1, 2]);
    expect(picks(lc, 3)).toEqual([0, 1, 2]);
    expect([lc.inFlight(0), lc.inFlight(1), lc.inFlight(2)]).toEqual([2, 2, 2]);
  });

  it('sends everything to the idle backend while the other stays busy', () => {
    const lc = new LeastConnections(2);
    expect(lc.acquire()).toBe(0); // a slow request that never finishes here
    for (let i = 0; i < 5; i++) {
      const index = lc.acquire();
      expect(index).toBe(1);
      lc.release(index);
    }
  });

  it('skips removed backends even when they are idle', () => {
    const lc = new LeastConnections(2);
    lc.remove(0);
    expect(picks(lc, 3)).toEqual([1, 1, 1]);
  });
});

describe('createStrategy', () => {
  it('rejects an empty backend list and unmatched releases', () => {
    expect(() => createStrategy('round-robin', 0)).toThrow(/at least one backend/);
    expect(() => createStrategy('least-connections', 2).release(0)).toThrow(/without a matching acquire/);
  });
});
