import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compareRuns } from '../../src/report/compare.ts';
import { renderReport } from '../../src/report/render.ts';
import { buildReportView } from '../../src/report/view-model.ts';
import { fixture, FIXTURE_DIR } from './fixtures.ts';

/** UPDATE_GOLDEN=1 rewrites the golden files from the current renderer; review the diff before committing. */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

async function matchesGolden(name: string, rendered: string): Promise<void> {
  const file = `${FIXTURE_DIR}${name}`;
  if (UPDATE) await writeFile(file, rendered);
  expect(rendered).toBe(await readFile(file, 'utf8'));
}

describe('golden report.md', () => {
  it('renders the fixture results.json exactly as the checked-in report.md', async () => {
    await matchesGolden('report.md', await renderReport(buildReportView(fixture('results'))));
  });

  it('renders a run compared with its baseline exactly as report-vs-baseline.md', async () => {
    const comparison = compareRuns(fixture('results'), fixture('regression'));
    await matchesGolden('report-vs-baseline.md', await renderReport(buildReportView(fixture('regression'), comparison)));
  });

  it('has every section of the performance report, in order', async () => {
    const report = await renderReport(buildReportView(fixture('results')));
    const headings = report.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3));
    expect(headings).toEqual([
      'Executive summary',
      'Test coverage',
      'Detailed results',
      'Performance benchmarks',
      'Scalability and load distribution',
      'Reliability under load',
      'Recommendations',
      'Test environment',
    ]);
  });

  it('shows failures at the top, before any detail', async () => {
    const report = await renderReport(buildReportView(fixture('results')));
    const failures = report.indexOf('### Failures');
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(report.indexOf('## Test coverage'));
    expect(report.slice(failures, report.indexOf('### Findings'))).toContain('❌ **Rate-limit accuracy** (`rate-limiting`): check failed: exactly limit admitted');
    expect(report).toContain('💥 **Transaction safety**');
  });

  it('draws Mermaid xychart-beta blocks with one data value per x label', async () => {
    const report = await renderReport(buildReportView(fixture('results')));
    const blocks = [...report.matchAll(/```mermaid\nxychart-beta\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    for (const block of blocks) {
      const labels = /x-axis "[^"]*" \[(.*)\]/.exec(block)?.[1]?.split(', ') ?? [];
      const values = /(?:bar|line) \[(.*)\]/.exec(block)?.[1]?.split(', ') ?? [];
      expect(labels.length).toBeGreaterThan(0);
      expect(values).toHaveLength(labels.length);
      for (const v of values) expect(Number.isFinite(Number(v))).toBe(true);
    }
    expect(blocks.some((b) => b.includes('over batch (batches)'))).toBe(true);
    expect(blocks.some((b) => b.includes('requests per node'))).toBe(true);
  });
});
