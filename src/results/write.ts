/** Where a run's files go, and writing them. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_REPORTS_DIR } from '../config/defaults.ts';
import { redact } from './redact.ts';
import type { RunResults } from './schema.ts';

export const RESULTS_FILE = 'results.json';

/** `reports/<UTC timestamp>/`, e.g. reports/2026-12-03T16-40-05Z. */
export function defaultOutDir(at: Date, root: string = DEFAULT_REPORTS_DIR): string {
  return path.join(root, at.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-'));
}

/** Writes results.json into `outDir` (created if needed), secrets redacted; returns its path. */
export async function writeResults(outDir: string, results: RunResults): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, RESULTS_FILE);
  await writeFile(file, `${JSON.stringify(redact(results), null, 2)}\n`);
  return file;
}
