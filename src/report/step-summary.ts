/**
 * The GitHub Actions job summary: when GITHUB_STEP_SUMMARY names a file, the executive summary,
 * the failures and any regressions are appended to it (GitHub renders it on the run's page).
 */
import { appendFile } from 'node:fs/promises';
import { renderPartial } from './render.ts';
import type { ReportView } from './view-model.ts';

export const STEP_SUMMARY_ENV = 'GITHUB_STEP_SUMMARY';

/** The Markdown appended to the step summary: the `step-summary` template. */
export async function renderStepSummary(view: ReportView, templateDir?: string): Promise<string> {
  return renderPartial('step-summary', view, templateDir);
}

/** Appends the step summary when `env` names a summary file; returns the file written, or null. */
export async function appendStepSummary(view: ReportView, env: NodeJS.ProcessEnv, templateDir?: string): Promise<string | null> {
  const file = env[STEP_SUMMARY_ENV];
  if (file === undefined || file === '') return null;
  await appendFile(file, `${await renderStepSummary(view, templateDir)}\n`);
  return file;
}
