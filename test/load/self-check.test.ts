import { describe, expect, it } from 'vitest';
import { judgeSaturation } from '../../src/load/self-check.ts';

describe('judgeSaturation', () => {
  const quiet = { achievedRate: 1000, targetRate: 1000, eventLoopDelayP99Ms: 11 };

  it('flags lateness past the bound that is also a real share of the latency it distorts', () => {
    const verdict = judgeSaturation({ ...quiet, latenessP99Ms: 6, latencyP99Ms: 8 });
    expect(verdict.saturated).toBe(true);
    expect(verdict.reasons[0]).toMatch(/p99 send lateness 6.00 ms > 5 ms and > 10% of the latency p99 8.00 ms/);
  });

  it('lets the same lateness pass when it is a sliver of a long latency p99 (the correction counts it)', () => {
    expect(judgeSaturation({ ...quiet, latenessP99Ms: 6, latencyP99Ms: 300 }).saturated).toBe(false);
  });

  it('flags an achieved rate under 97% of the asked one and a starved event loop, whatever the latency', () => {
    const verdict = judgeSaturation({ latenessP99Ms: 1, latencyP99Ms: 300, achievedRate: 900, targetRate: 1000, eventLoopDelayP99Ms: 80 });
    expect(verdict.reasons).toHaveLength(2);
    expect(verdict.reasons[0]).toMatch(/90.0% of the asked/);
    expect(verdict.reasons[1]).toMatch(/event-loop delay p99 70.0 ms > 50 ms/);
  });
});
