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
    const caveat = mixed.caveats.find((c) => c.startsWith('engines differ (baseline gauntlet, current artillery local, gauntlet)'));
    expect(caveat).toContain("artillery's http.response_time, time to first byte, from the actual send");
    expect(caveat).toContain("gauntlet's whole response from the intended send time");
    expect(caveat).toContain('the same metric name measures different things');
    // Artillery on two platforms: the same meaning, another place the load came from (no word of gauntlet's latency).
    const engine = scenario.engine;
    const allOn = (platform: string): ReturnType<typeof mutableFixture> => {
      const run = mutableFixture('results');
      run.scenarios = run.scenarios.map((s) => ({ ...s, engine: { ...engine, platform } }));
      return run;
    };
    const platforms = compareRuns(allOn('local'), allOn('aws:lambda')).caveats.find((c) => c.startsWith('engines differ'));
    expect(platforms).toBe(
      "engines differ (baseline artillery local, current artillery aws:lambda): latency is artillery's http.response_time, time to first byte, from the actual send " +
        'in both, but the load came from elsewhere (another network path)',
    );
    expect(compareRuns(artillery, artillery).caveats.some((c) => c.startsWith('engines differ'))).toBe(false);
    expect(compareRuns(fixture('results'), fixture('noise')).caveats.some((c) => c.startsWith('engines differ'))).toBe(false);
  });
});
