/** Reading a saved results.json back, checked enough that the report and compare can trust its shape. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { RESULTS_SCHEMA_VERSION } from '../results/schema.ts';
import type { RunResults } from '../results/schema.ts';

export type LoadOutcome = { readonly ok: true; readonly results: RunResults } | { readonly ok: false; readonly error: string };

// The fields renderers index without checking; the rest of the file is trusted as written by `run`.
const shape = z.looseObject({
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  tool: z.looseObject({ name: z.literal('gauntlet'), version: z.string() }),
  startedAt: z.string(),
  durationMs: z.number(),
  environment: z.looseObject({ cpu: z.looseObject({ logicalCores: z.number() }) }),
  summary: z.looseObject({ total: z.number() }),
  scenarios: z.array(
    z.looseObject({
      id: z.string(),
      status: z.enum(['passed', 'failed', 'errored', 'skipped']),
      metrics: z.record(z.string(), z.number()),
      histograms: z.record(z.string(), z.looseObject({ encoded: z.string() })),
      series: z.record(z.string(), z.array(z.looseObject({ x: z.number() }))),
    }),
  ),
});

/** Reads and checks `file`; the error says what is wrong and what to do. */
export async function loadResults(file: string): Promise<LoadOutcome> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, error: `${file} cannot be read: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `${file} is not JSON: ${(error as Error).message}` };
  }
  const parsed = shape.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` (${issue.path.join('.') || 'top level'}: ${issue.message})`;
    return { ok: false, error: `${file} is not a gauntlet results.json of schema version ${RESULTS_SCHEMA_VERSION}${where}; give the results.json a run wrote` };
  }
  return { ok: true, results: json as RunResults };
}
