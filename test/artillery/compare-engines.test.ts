import { describe, expect, it } from 'vitest';
import { compareRuns } from '../../src/report/compare.ts';
import { fixture, mutableFixture } from '../report/fixtures.ts';

describe('compare across engines', () => {
  it('says when the runs were measured by different engines, and not when they were not', () => {
    const artillery = mutableFixture('results');
    const scenario = artillery.scenarios[0];
    if (scenario === undefined) throw new Error('empty fixture');
    scenario.engine = {
      name: 'artillery',
      version: '2.0.21',
      platform: 'local',
      latency: { metric: 'http.response_time', measures: 'time to first byte, from the actual send', resolutionMs: 1, relativeError: 0.01, rawHistogram: false, correctedForCoordinatedOmission: false },
      unavailableMetrics: [],
    };
    const mixed = compareRuns(fixture('results'), artillery);
    expect(mixed.caveats.some((c) => c.startsWith('engines differ (baseline gauntlet, current artillery local, gauntlet)'))).toBe(true);
    expect(compareRuns(artillery, artillery).caveats.some((c) => c.startsWith('engines differ'))).toBe(false);
    expect(compareRuns(fixture('results'), fixture('noise')).caveats.some((c) => c.startsWith('engines differ'))).toBe(false);
  });
});
