/** `gauntlet report <results.json>`: re-renders a saved run's report.md (custom templates allowed). */
import path from 'node:path';
import { EXIT_CODES, UsageError } from '../exit-codes.ts';
import { loadResults } from '../report/load-results.ts';
import { writeReportOutputs } from '../report/outputs.ts';
import { REPORT_FILE } from '../report/render.ts';
import type { RunResults } from '../results/schema.ts';
import { parseTolerance } from './run-options.ts';

export interface ReportArgs {
  readonly results: string;
  readonly out: string | undefined;
  readonly templateDir: string | undefined;
  readonly baseline: string | undefined;
  readonly regressionTolerance: string | undefined;
  readonly junit: string | undefined;
}

/** Writes report.md beside the results (or to --out); 0 when written, 2 on bad input. */
export async function reportCommand(args: ReportArgs): Promise<number> {
  const loaded = await loadResults(args.results);
  if (!loaded.ok) throw new UsageError(loaded.error);
  const baseline = await loadBaseline(args);
  const outputs = await writeReportOutputs({
    results: loaded.results,
    reportFile: args.out ?? path.join(path.dirname(args.results), REPORT_FILE),
    templateDir: args.templateDir,
    baseline,
    junitFile: args.junit,
    env: process.env,
  });
  process.stderr.write(`report: ${outputs.reportFile}${outputs.junitFile === null ? '' : ` · junit: ${outputs.junitFile}`}\n`);
  return EXIT_CODES.ok;
}

async function loadBaseline(args: ReportArgs): Promise<{ results: RunResults; tolerance: number } | undefined> {
  if (args.baseline === undefined) return undefined;
  const tolerance = parseTolerance(args.regressionTolerance, '--regression-tolerance');
  const loaded = await loadResults(args.baseline);
  if (!loaded.ok) throw new UsageError(`--baseline ${loaded.error}`);
  return { results: loaded.results, tolerance };
}
