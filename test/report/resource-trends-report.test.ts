import { describe, expect, it } from 'vitest';
import { judgeResourceTrends } from '../../src/measure/resource-trend.ts';
import { renderJUnit } from '../../src/report/junit.ts';
import { renderReport } from '../../src/report/render.ts';
import { buildReportView } from '../../src/report/view-model.ts';
import type { RunResults } from '../../src/results/schema.ts';
import { fixture } from './fixtures.ts';

/** The fixture run with its target samples climbing 6 MiB a minute, in a profile that enforces trends or not. */
function leakingRun(enforced: boolean): RunResults {
  const r = fixture('results');
  const resources = r.resources;
  if (resources === undefined) throw new Error('the fixture lost its resource samples');
  const samples = resources.samples.map((s) => (s.process === 'target' ? { ...s, segment: 'one', rssBytes: 100e6 + s.atSec * 100 * 1024, openFds: 40 } : s));
  return { ...r, resources: { ...resources, enforced, samples, trends: judgeResourceTrends(samples) } };
}

describe('resource trends in the report', () => {
  it('a growing target in a soak is a failure at the top of the report, with its rate', async () => {
    const report = await renderReport(buildReportView(leakingRun(true)));
    const failures = report.slice(report.indexOf('### Failures'), report.indexOf('### Findings'));
    expect(failures).toContain('**target (all its processes) RSS** (`run`): grew +5.86 MiB/min over the run');
    expect(report).toContain('| ❌ | target (all its processes) | RSS | +5.86 MiB/min |');
    expect(report).toContain('In this profile a growing trend fails the run.');
  });

  it('the same trend in a short profile is a warning, not a failure', async () => {
    const report = await renderReport(buildReportView(leakingRun(false)));
    expect(report).not.toContain('(`run`): grew');
    expect(report).toContain('| ⚠️ | target (all its processes) | RSS | +5.86 MiB/min |');
    expect(report).toContain('only `--profile soak` enforces them');
  });

  it('JUnit gets a failing resources testcase for the growing trend, only where trends are enforced', () => {
    const xml = renderJUnit(leakingRun(true));
    expect(xml).toMatch(/<testsuite name="resources" tests="4" failures="1"/);
    expect(xml).toMatch(/<testcase classname="gauntlet.resources" name="target rss over the run"[^>]*>\n\s*<failure type="trend"/);
    expect(renderJUnit(leakingRun(false))).not.toContain('name="resources"');
  });

  it('results written before resources were sampled render without the section', async () => {
    const { resources: _dropped, ...older } = fixture('results');
    const report = await renderReport(buildReportView(older));
    expect(report).not.toContain('Memory and open FDs over the run');
  });
});
