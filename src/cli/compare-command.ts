/** `gauntlet compare <baseline.json> <current.json>`: the comparison as Markdown on stdout; exit 1 on a regression. */
import { redactText } from '../results/redact.ts';
import { EXIT_CODES, UsageError } from '../exit-codes.ts';
import { compareRuns } from '../report/compare.ts';
import { comparisonView } from '../report/comparison-view.ts';
import { renderJUnit } from '../report/junit.ts';
import { loadResults } from '../report/load-results.ts';
import { writeCreatingDir } from '../report/outputs.ts';
import { renderPartial } from '../report/render.ts';
import type { RunResults } from '../results/schema.ts';
import { parseTolerance } from './run-options.ts';

export interface CompareArgs {
  readonly baseline: string;
  readonly current: string;
  readonly regressionTolerance: string | undefined;
  readonly out: string | undefined;
  readonly junit: string | undefined;
  readonly templateDir: string | undefined;
}

/** 0 no regression beyond the tolerance, 1 a regression, 2 bad input. */
export async function compareCommand(args: CompareArgs): Promise<number> {
  const tolerance = parseTolerance(args.regressionTolerance, '--regression-tolerance');
  const baseline = await load(args.baseline, 'baseline');
  const current = await load(args.current, 'current');
  const comparison = compareRuns(baseline, current, tolerance);
  // Files written before redaction existed may still hold tokens: nothing leaves this command unredacted.
  const markdown = redactText(await renderPartial('comparison', comparisonView(comparison), args.templateDir));
  if (args.out === undefined) process.stdout.write(markdown);
  else await writeCreatingDir(args.out, markdown);
  if (args.junit !== undefined) await writeCreatingDir(args.junit, redactText(renderJUnit(current, comparison)));
  const n = comparison.regressionCount;
  process.stderr.write(
    `${n === 0 ? 'no regression' : `${n} regression(s)`} beyond ${Math.round(tolerance * 1000) / 10}% between ${args.baseline} and ${args.current}` +
      `${args.out === undefined ? '' : ` · comparison: ${args.out}`}\n`,
  );
  return n > 0 ? EXIT_CODES.failed : EXIT_CODES.ok;
}

async function load(file: string, role: string): Promise<RunResults> {
  const loaded = await loadResults(file);
  if (!loaded.ok) throw new UsageError(`${role}: ${loaded.error}`);
  return loaded.results;
}


