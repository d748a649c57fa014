/** `gauntlet run`: plan (all input checked first), execute, write results.json, exit code. */
import { readFileSync } from 'node:fs';
import { systemClock } from '../clock.ts';
import { captureEnvironment } from '../measure/environment.ts';
import { defaultOutDir, writeResults } from '../results/write.ts';
import { planRun } from '../runner/plan.ts';
import { executeRun } from '../runner/run.ts';
import { loadFullCatalog } from '../scenario/catalog.ts';
import { ProgressReporter } from './progress.ts';
import { resolveRunOptions } from './run-options.ts';
import type { RawRunArgs } from './run-options.ts';

const TOOL_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function runCommand(args: RawRunArgs): Promise<number> {
  const options = await resolveRunOptions(args);
  const plan = planRun({
    catalog: await loadFullCatalog(args.scenariosDir),
    suite: options.suite,
    scenarioIds: options.scenarioIds,
    profile: options.profile,
    ...(options.thresholdFile === undefined ? {} : { thresholdFile: options.thresholdFile }),
    thresholdArgs: options.thresholdArgs,
  });

  const interrupt = new AbortController();
  const onSignal = (): void => {
    if (interrupt.signal.aborted) return;
    process.stderr.write('\ngauntlet: interrupted; finishing cleanly and writing what was measured (Ctrl-C again does not hurry it)\n');
    interrupt.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = new ProgressReporter({ isTTY: process.stderr.isTTY, write: (t) => process.stderr.write(t) });
  const startedAt = new Date();
  try {
    const results = await executeRun({
      plan,
      mode: options.mode,
      profile: options.profile,
      selection: { suite: options.suite, scenarios: plan.map((p) => p.definition.id) },
      toolVersion: TOOL_VERSION,
      signal: interrupt.signal,
      clock: systemClock,
      wallClock: () => new Date(),
      environment: () => captureEnvironment(),
      onEvent: progress.onEvent,
    });
    progress.close();
    const file = await writeResults(options.outDir ?? defaultOutDir(startedAt), results);
    const s = results.summary;
    process.stderr.write(
      `${s.passed} passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped · results: ${file}` +
        `${results.interrupted === null ? '' : `\n${results.interrupted}`}\n`,
    );
    if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return results.exitCode;
  } finally {
    progress.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
