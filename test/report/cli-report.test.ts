/** `gauntlet report` and `gauntlet compare` as a user runs them: files written and exit codes. */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResults } from '../../src/results/schema.ts';
import { histogramOf } from '../fixtures/results/fixture-builder.ts';
import { FIXTURE_DIR } from './fixtures.ts';
import { runGauntlet } from '../helpers/run-cli.ts';
import type { CliRun } from '../helpers/run-cli.ts';

/** The CLI with extra environment variables, bounded in time. */
function gauntlet(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<CliRun> {
  return runGauntlet(args, { env, timeoutMs });
}

let dir: string;
const fixtureFile = (name: string): string => join(FIXTURE_DIR, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gauntlet-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gauntlet report', () => {
  it('writes report.md beside the results, identical to the golden report, and appends the step summary', async () => {
    const run = join(dir, 'run');
    await mkdir(run);
    await copyFile(fixtureFile('results.json'), join(run, 'results.json'));
    const summary = join(dir, 'step-summary.md');
    await writeFile(summary, '# earlier step\n');
    const r = await gauntlet(['report', join(run, 'results.json'), '--junit', join(run, 'junit.xml')], { GITHUB_STEP_SUMMARY: summary });
    expect(r.stderr).toContain(`report: ${join(run, 'report.md')}`);
    expect(r.code).toBe(0);
    expect(await readFile(join(run, 'report.md'), 'utf8')).toBe(await readFile(fixtureFile('report.md'), 'utf8'));
    expect(await readFile(join(run, 'junit.xml'), 'utf8')).toContain('<testsuites name="gauntlet" tests="10" failures="2" errors="1" skipped="1"');
    const appended = await readFile(summary, 'utf8');
    expect(appended.startsWith('# earlier step\n## gauntlet — ❌ FAILED')).toBe(true);
    expect(appended).toContain('- ❌ **Load balancing** (`load-balancing`): check failed');
    expect(appended).not.toContain('## Test coverage');
  });

  it('uses a --template-dir that overrides one partial and keeps the built-in rest', async () => {
    const templates = join(dir, 'templates');
    await mkdir(join(templates, 'partials'), { recursive: true });
    await writeFile(join(templates, 'partials', 'environment.hbs'), '## Where\n\nOn {{environment.cpu}} with {{bytes environment.memoryBytes}}.\n');
    const out = join(dir, 'custom.md');
    const r = await gauntlet(['report', fixtureFile('results.json'), '--template-dir', templates, '--out', out]);
    expect(r.code).toBe(0);
    const report = await readFile(out, 'utf8');
    expect(report).toContain('## Where\n\nOn Intel Xeon Platinum 8375C with 7.69 GiB.');
    expect(report).not.toContain('## Test environment');
    expect(report).toContain('## Executive summary');
  });

  it('exits 2 for a file that is not a results.json', async () => {
    const r = await gauntlet(['report', new URL('../../package.json', import.meta.url).pathname, '--out', join(dir, 'x.md')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a gauntlet results.json');
  });
});

describe('gauntlet compare exit codes', () => {
  it('0 for pure noise', async () => {
    const r = await gauntlet(['compare', fixtureFile('results.json'), fixtureFile('noise.json')]);
    expect(r.stderr).toContain('no regression beyond 10%');
    expect(r.stdout).toContain('## Comparison with the baseline');
    expect(r.code).toBe(0);
  });

  it('1 for a regression, named on stdout', async () => {
    const r = await gauntlet(['compare', fixtureFile('results.json'), fixtureFile('regression.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('### ❌ Regressions (4)');
    expect(r.stdout).toContain('- **DB query performance** `throughput`: 241/s → 166/s (-31.1%)');
  });

  it('0 for the same regression under a wider tolerance', async () => {
    const r = await gauntlet(['compare', fixtureFile('results.json'), fixtureFile('regression.json'), '--regression-tolerance', '65%']);
    expect(r.code).toBe(0);
  });

  it.each([
    [['compare', 'missing-baseline.json', 'noise.json'], /baseline: .*missing-baseline.json cannot be read/],
    [['compare', 'results.json', 'noise.json', '--regression-tolerance', 'lots'], /not a tolerance/],
    [['compare', 'results.json'], /Not enough non-option arguments/],
  ])('2 for bad input: %j', async (args, message) => {
    const r = await gauntlet(args.map((a) => (a.endsWith('.json') ? fixtureFile(a) : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('run --baseline with a missing file is bad input (2) before anything starts', async () => {
    const r = await gauntlet(['run', '--baseline', join(dir, 'nope.json'), '--out', join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--baseline');
  });
});

describe('gauntlet run writes the report and judges against --baseline', () => {
  it('exits 1 when the run is far slower than its baseline, with the regression in report.md and JUnit', async () => {
    const first = join(dir, 'first');
    const scenarioArgs = ['--scenarios-dir', new URL('../fixtures/scenarios', import.meta.url).pathname, '--scenario', 'fixture-healthz', '--profile', 'smoke'];
    const a = await gauntlet(['run', ...scenarioArgs, '--out', first], {}, 60_000);
    expect(a.code).toBe(0);
    expect(await readFile(join(first, 'report.md'), 'utf8')).toContain('# Performance report — ✅ PASSED');
    // A baseline 100x faster than anything loopback HTTP can do: the real run must regress against it.
    const results = JSON.parse(await readFile(join(first, 'results.json'), 'utf8')) as RunResults;
    const fast = histogramOf(Array.from({ length: 400 }, (_, i) => 0.01 + (i % 7) * 0.001));
    const baseline = {
      ...results,
      scenarios: results.scenarios.map((s) => ({ ...s, histograms: { ...s.histograms, latency: fast }, metrics: { ...s.metrics, 'latency.p99': fast.summary?.p99 ?? 0 } })),
    };
    await writeFile(join(dir, 'fast-baseline.json'), JSON.stringify(baseline));
    const second = join(dir, 'second');
    const b = await gauntlet(['run', ...scenarioArgs, '--out', second, '--baseline', join(dir, 'fast-baseline.json'), '--junit', join(second, 'junit.xml')], {}, 60_000);
    expect(b.stderr).toContain('1 regression(s) against');
    expect(b.code).toBe(1);
    const report = await readFile(join(second, 'report.md'), 'utf8');
    expect(report).toContain('# Performance report — ❌ FAILED');
    expect(report).toContain('### ❌ Regressions (1)');
    expect(report).toMatch(/- \*\*Fixture: users and \/healthz\*\* `latency.p99`: 0.01\d* ms → /);
    expect(await readFile(join(second, 'junit.xml'), 'utf8')).toContain('<failure type="regression" message="regression: latency.p99');
  }, 120_000);
});
