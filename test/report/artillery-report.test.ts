/**
 * A run measured by Artillery reads in the report as gauntlet's own runs do: its latency summaries in
 * the benchmarks (marked as Artillery's), its request counts in the correctness table, its send rate
 * said for what it is, and the engine described once, not once per scenario.
 */
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { renderReport } from '../../src/report/render.ts';
import { buildReportView } from '../../src/report/view-model.ts';
import { recommendations } from '../../src/report/recommendations.ts';
import type { RunResults } from '../../src/results/schema.ts';
import { artilleryRun } from '../fixtures/results/artillery-fixture.ts';
import { FIXTURE_DIR } from './fixtures.ts';
import type { Mutable } from './fixtures.ts';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const render = (r: RunResults | Mutable<RunResults>): Promise<string> => renderReport(buildReportView(r));
const TTFB_LABEL = 'Artillery http.response_time: time to first byte after the request was written (connection set-up excluded), 1 ms resolution, ~1% sketch error, not corrected for coordinated omission';

function section(report: string, heading: string): string {
  const start = report.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const next = report.indexOf('\n## ', start + heading.length + 2);
  return report.slice(start, next < 0 ? undefined : next);
}

function changedLines(a: string, b: string): string[] {
  const before = new Set(a.split('\n'));
  return b.split('\n').filter((l) => !before.has(l));
}

describe('report of an Artillery-engine run', () => {
  it('renders the fixture exactly as the checked-in report-artillery.md', async () => {
    const rendered = await render(artilleryRun());
    const file = `${FIXTURE_DIR}report-artillery.md`;
    if (UPDATE) await writeFile(file, rendered);
    expect(rendered).toBe(await readFile(file, 'utf8'));
  });

  it("shows Artillery's latency summaries as benchmark rows, marked as its time to first byte", async () => {
    const benchmarks = section(await render(artilleryRun()), '## Performance benchmarks');
    expect(benchmarks).not.toContain('No scenario of this run saved a latency histogram');
    expect(benchmarks).toContain(`| DB query performance | ${TTFB_LABEL} | 288 | 1 ms | 4 ms | 10.9 ms | 26 ms |`);
    expect(benchmarks).toContain(`| Load balancing | ${TTFB_LABEL} | 480 | 1 ms | 29.1 ms | 105 ms | 108 ms |`);
    expect(benchmarks).toContain('| Concurrent family creation | latency | 2,000 |');
  });

  it('traces the benchmark row and the correctness row to the engine metrics, and nothing else', async () => {
    const run = artilleryRun();
    const base = await render(run);
    const changed = structuredClone(run) as Mutable<RunResults>;
    const lb = changed.scenarios.find((s) => s.id === 'load-balancing');
    if (lb === undefined) throw new Error('fixture lost load-balancing');
    lb.metrics['latency.p99'] = 777;
    lb.metrics['http.requests'] = 500;
    lb.metrics['errors.rate'] = 0.04;
    const lines = changedLines(base, await render(changed));
    expect(lines).toContain(`| Load balancing | ${TTFB_LABEL} | 480 | 1 ms | 29.1 ms | 777 ms | 108 ms |`);
    expect(lines).toContain(
      '- Highest p99 http.response_time measured by Artillery: 777 ms in Load balancing (480 responses, p50 1 ms; 1 ms resolution, ~1% sketch error, not corrected for coordinated omission).',
    );
    // 4% of 500 requests failed: the count is derived from the rate and the requests sent.
    expect(lines).toContain('| ✅ | Load balancing | 0 / 0 | 500 | 20 | 4% | vusers.failed = 0 |');
    expect(lines.every((l) => l.includes('Load balancing') || l.includes('777') || l.includes('4%') || l.includes('500'))).toBe(true);
  });

  it("names Artillery's slowest p99 as its time to first byte, apart from gauntlet's latency finding", async () => {
    const findings = section(await render(artilleryRun()), '### Findings');
    expect(findings).toContain('- Highest p99 latency: 106 ms in Concurrent family creation (2,000 requests, p50 38.1 ms).');
    expect(findings).toContain(
      '- Highest p99 http.response_time measured by Artillery: 105 ms in Load balancing (480 responses, p50 1 ms; 1 ms resolution, ~1% sketch error, not corrected for coordinated omission).',
    );
  });

  it('counts requests sent and failed from Artillery for engine results', async () => {
    const correctness = section(await render(artilleryRun()), '### Correctness under load, every scenario');
    expect(correctness).toContain('| ✅ | DB query performance | 0 / 0 | 288 | 0 | 0% | vusers.failed = 0 |');
    expect(correctness).toContain('| ✅ | Load balancing | 0 / 0 | 480 | 0 | 0% | vusers.failed = 0 |');
    expect(correctness).not.toMatch(/\| (DB query performance|Load balancing) \| 0 \/ 0 \| — \|/);
  });

  it("never calls Artillery's send rate throughput: no throughput finding or alert from it, a finding saying what it is", async () => {
    const run = artilleryRun();
    const report = await render(run);
    expect(report).not.toMatch(/Highest throughput: 176/);
    expect(report).toContain('- Highest request rate Artillery offered: 176/s in Load balancing (http.request_rate: requests it sent per second, not a throughput the target was shown to sustain).');
    expect(recommendations(run).filter((r) => r.text.includes('http.request_rate'))).toEqual([]);
    // gauntlet's own throughput still drives its finding and its alert.
    expect(report).toContain('- Highest throughput: 412/s in Concurrent family creation.');
    expect(recommendations(run).some((r) => r.basis === 'scenarios[family-creation].metrics.throughput')).toBe(true);
  });

  it('describes each engine once, in the environment section, and keeps the scalability section free of per-scenario engine notes', async () => {
    const report = await render(artilleryRun());
    const engineRows = report.split('\n').filter((l) => l.startsWith('| Engine |'));
    expect(engineRows).toHaveLength(2);
    expect(engineRows[0]).toMatch(/^\| Engine \| Concurrent family creation: gauntlet's own generators/);
    expect(engineRows[1]).toMatch(/^\| Engine \| DB query performance, Load balancing: measured by Artillery 2\.0\.21 \(local\): latency is http\.response_time/);
    expect(report.match(/measured by Artillery 2\.0\.21/g)).toHaveLength(1);
    expect(report.match(/starts new virtual users per second/g)).toHaveLength(1);
    const scalability = section(report, '## Scalability and load distribution');
    expect(scalability).not.toMatch(/^- (DB query performance|Load balancing):/m);
  });

  it('adds no engine rows to a run gauntlet measured alone', async () => {
    const run = artilleryRun();
    const own = { ...run, scenarios: run.scenarios.filter((s) => s.engine === undefined) };
    expect(await render(own)).not.toContain('| Engine |');
  });
});
