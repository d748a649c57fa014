/**
 * Every figure in the report comes from a field of the results: change one field, and the report
 * changes where that field is shown, and only the figures derived from it change.
 */
import { describe, expect, it } from 'vitest';
import type { RunResults } from '../../src/results/schema.ts';
import { formatValue } from '../../src/report/format.ts';
import { metricKind } from '../../src/report/metric-kind.ts';
import { renderReport } from '../../src/report/render.ts';
import { buildReportView } from '../../src/report/view-model.ts';
import { fixture, mutableFixture } from './fixtures.ts';
import type { Mutable } from './fixtures.ts';

const render = (r: RunResults | Mutable<RunResults>): Promise<string> => renderReport(buildReportView(r));

/** The lines of `b` that are not in `a` (a multiset difference, good enough for a report). */
function changedLines(a: string, b: string): string[] {
  const before = new Set(a.split('\n'));
  return b.split('\n').filter((l) => !before.has(l));
}

function scenario(r: Mutable<RunResults>, id: string): Mutable<RunResults>['scenarios'][number] {
  const s = r.scenarios.find((x) => x.id === id);
  if (s === undefined) throw new Error(`fixture has no scenario ${id}`);
  return s;
}

describe('traceability of the report to results.json', () => {
  it('a histogram p99 shows in the latency tables, the chart, the findings and the derived recommendations, nowhere else', async () => {
    const base = await render(fixture('results'));
    const r = mutableFixture('results');
    const summary = scenario(r, 'family-creation').histograms.latency?.summary;
    if (summary == null) throw new Error('fixture lost its histogram');
    summary.p99 = 987.6;
    const changed = changedLines(base, await render(r));
    expect(changed.some((l) => l.startsWith('| latency | 2,000 |') && l.includes('| 988 ms |'))).toBe(true);
    expect(changed.some((l) => l.startsWith('| Concurrent family creation | latency | 2,000 |') && l.includes('988 ms'))).toBe(true);
    expect(changed.some((l) => l.startsWith('    bar [') && l.includes(', 987.6, '))).toBe(true);
    expect(changed).toContain('- Highest p99 latency: 988 ms in Concurrent family creation (2,000 requests, p50 38.1 ms).');
    expect(changed.some((l) => l.includes('p99 exceeds 1.48 s (1.5x the measured 988 ms)'))).toBe(true);
    expect(changed.some((l) => l.startsWith('- **Latency.** Concurrent family creation: p99 (988 ms) is 26x the median (38.1 ms)'))).toBe(true);
    expect(changed).toHaveLength(6);
  });

  it('a metric value shows in its scenario table and nowhere it is not derived', async () => {
    const base = await render(fixture('results'));
    const r = mutableFixture('results');
    scenario(r, 'memory-gc').metrics['memory.after_drain'] = 123_456_789;
    const changed = changedLines(base, await render(r));
    expect(changed).toEqual(['| memory.after_drain | 118 MiB |', '| Memory usage and GC efficiency | memory.after_drain | 118 MiB |']);
  });

  it('every metric of every scenario appears, formatted by its dimension, in that scenario section', async () => {
    const results = fixture('results');
    const report = await render(results);
    for (const s of results.scenarios) {
      const section = report.slice(report.indexOf(`<a id="${s.id}"></a>`), report.indexOf('<a id=', report.indexOf(`<a id="${s.id}"></a>`) + 1));
      for (const [name, value] of Object.entries(s.metrics)) {
        expect(section).toContain(`| ${name} | ${formatValue(value, metricKind(name, s).dimension)} |`);
      }
    }
  });

  it('the environment section reads results.environment and results.target', async () => {
    const base = await render(fixture('results'));
    const r = mutableFixture('results');
    r.environment.cpu.brand = 'EPYC 7B13';
    r.environment.cpu.logicalCores = 8;
    const changed = changedLines(base, await render(r));
    expect(changed).toContain('| CPU | Intel EPYC 7B13 @ 2.9 GHz |');
    expect(changed).toContain('| Cores | 1 physical, 8 logical |');
    expect(changed.some((l) => l.startsWith('This machine has 8 logical cores'))).toBe(true);
    expect(changed.some((l) => l.includes('on a machine with 8 logical cores'))).toBe(true);
  });

  it('a failed check turns up in the failures list, the check table and the reliability table', async () => {
    const r = mutableFixture('results');
    const s = scenario(r, 'cache-coherence');
    const check = s.checks[0];
    if (check === undefined) throw new Error('fixture lost its check');
    check.passed = false;
    check.actual = 2;
    s.status = 'failed';
    s.reasons = ['check failed: no read older than an acknowledged write (expected 0, got 2)'];
    const report = await render(r);
    expect(report).toContain('- ❌ **Cache coherence** (`cache-coherence`): check failed: no read older than an acknowledged write (expected 0, got 2)');
    expect(report).toContain('| ❌ | no read older than an acknowledged write | 0 | 2 | — |');
    expect(report).toContain('| ❌ | Cache coherence | 1 / 2 |');
    expect(report).toContain('### ❌ Cache coherence (`cache-coherence`)');
  });

  it('recommendations fire only on measured pressure: no evictions, no cache advice', async () => {
    const base = await render(fixture('results'));
    expect(base).toContain('**Cache sizing.** Cache hit rates and eviction: the cache evicted 1,480 entries while its hit ratio was 31%');
    const r = mutableFixture('results');
    scenario(r, 'cache-hit-rates').metrics['cache.evictions'] = 0;
    scenario(r, 'db-query-performance').metrics['pool.waiting.max'] = 0;
    const report = await render(r);
    expect(report).not.toContain('**Cache sizing.**');
    expect(report).not.toContain('**Pool sizing.**');
  });

  it('alert thresholds come only from scenarios that passed and measured latency', async () => {
    const r = mutableFixture('results');
    scenario(r, 'horizontal-scaling').status = 'failed';
    const report = await render(r);
    expect(report).not.toContain('Horizontal scaling: alert when p95');
    expect(report).toContain('Cache coherence: alert when p95 latency exceeds 5.82 ms (1.5x the measured p95 of 3.88 ms)');
  });
});
