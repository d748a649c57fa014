/** Everything a run or `gauntlet report` writes from results: report.md, JUnit XML, the step summary. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { redact } from '../results/redact.ts';
import type { RunResults } from '../results/schema.ts';
import { compareRuns } from './compare.ts';
import type { Comparison } from './compare.ts';
import { renderJUnit } from './junit.ts';
import { renderReport } from './render.ts';
import { appendStepSummary } from './step-summary.ts';
import { buildReportView } from './view-model.ts';

export interface ReportOutputsRequest {
  readonly results: RunResults;
  readonly reportFile: string;
  readonly templateDir?: string | undefined;
  readonly baseline?: { readonly results: RunResults; readonly tolerance: number } | undefined;
  readonly junitFile?: string | undefined;
  /** The environment to read GITHUB_STEP_SUMMARY from. */
  readonly env: NodeJS.ProcessEnv;
}

export interface ReportOutputs {
  readonly reportFile: string;
  readonly junitFile: string | null;
  readonly stepSummaryFile: string | null;
  readonly comparison: Comparison | null;
}

/** Renders and writes the report (and JUnit and step summary when asked), from results with their secrets redacted. */
export async function writeReportOutputs(req: ReportOutputsRequest): Promise<ReportOutputs> {
  // A saved results.json may predate redaction, or come from elsewhere: redact what is rendered, whatever its source.
  const results = redact(req.results);
  const comparison = req.baseline === undefined ? null : compareRuns(redact(req.baseline.results), results, req.baseline.tolerance);
  const view = buildReportView(results, comparison);
  await writeCreatingDir(req.reportFile, await renderReport(view, req.templateDir));
  if (req.junitFile !== undefined) await writeCreatingDir(req.junitFile, renderJUnit(results, comparison));
  const stepSummaryFile = await appendStepSummary(view, req.env, req.templateDir);
  return { reportFile: req.reportFile, junitFile: req.junitFile ?? null, stepSummaryFile, comparison };
}

/** Writes `text` to `file`, creating its directory first. */
export async function writeCreatingDir(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}
