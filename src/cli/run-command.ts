/** `gauntlet run`: plan (all input checked first), execute, write results.json and report.md (JUnit, step summary, baseline comparison when asked), exit code. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES } from '../exit-codes.ts';
import { systemClock } from '../clock.ts';
import { captureEnvironment } from '../measure/environment.ts';
import { writeReportOutputs } from '../report/outputs.ts';
import { REPORT_FILE } from '../report/render.ts';
import { redact, redactText } from '../results/redact.ts';
import { defaultOutDir, writeResults } from '../results/write.ts';
import { planRun } from '../runner/plan.ts';
import { executeRun } from '../runner/run.ts';
import { loadFullCatalog } from '../scenario/catalog.ts';
import { artilleryScenarioRunner } from '../artillery/run-artillery-scenario.ts';
import { requireArtillery } from '../artillery/locate-artillery.ts';
import type { ArtilleryResolver } from '../artillery/locate-artillery.ts';
import { planArtilleryRun } from '../artillery/plan-artillery.ts';
import type { PlanRequest } from '../runner/plan.ts';
import type { RunRequest } from '../runner/run.ts';
import { ProgressReporter } from './progress.ts';
import { resolveRunOptions } from './run-options.ts';
import type { RawRunArgs } from './run-options.ts';

const TOOL_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface RunCommandDeps {
  /** Finds the Artillery CLI for `--engine artillery` (a test presents a machine without it). */
  readonly resolveArtillery?: ArtilleryResolver;
}

export async function runCommand(args: RawRunArgs, deps: RunCommandDeps = {}): Promise<number> {
  const options = await resolveRunOptions(args);
  const request: PlanRequest = {
    catalog: await loadFullCatalog(args.scenariosDir),
    suite: options.suite,
    scenarioIds: options.scenarioIds,
    profile: options.profile,
    ...(options.thresholdFile === undefined ? {} : { thresholdFile: options.thresholdFile }),
    thresholdArgs: options.thresholdArgs,
  };
  const startedAt = new Date();
  const outDir = options.outDir ?? defaultOutDir(startedAt);
  let plan: RunRequest['plan'];
  let runScenario: RunRequest['runScenario'];
  if (options.engine.kind === 'artillery') {
    const artillery = planArtilleryRun(request);
    const install = requireArtillery(deps.resolveArtillery);
    plan = artillery.plan;
    runScenario = artilleryScenarioRunner({ install, platform: options.engine.platform, outDir, unavailable: artillery.unavailable, droppedDefaults: artillery.droppedDefaults });
  } else {
    plan = planRun(request);
  }

  const interrupt = new AbortController();
  const onSignal = (): void => {
    if (interrupt.signal.aborted) return;
    process.stderr.write('\ngauntlet: interrupted; finishing cleanly and writing what was measured (Ctrl-C again does not hurry it)\n');
    interrupt.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A scenario that leaves a promise rejected without a handler must not kill the run (and with it the
  // target's clean shutdown and the results measured so far); the runner records it against the scenario.
  const onStray = (reason: unknown): void => {
    process.stderr.write(redactText(`gauntlet: unhandled promise rejection: ${reason instanceof Error ? reason.message : String(reason)}\n`));
  };
  process.on('unhandledRejection', onStray);
  // Progress lines quote scenario reasons, which may quote a target's answer: redacted like results.
  const progress = new ProgressReporter({ isTTY: process.stderr.isTTY, write: (t) => process.stderr.write(redactText(t)) });
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
      ...(runScenario === undefined ? {} : { runScenario }),
    });
    progress.close();
    const file = await writeResults(outDir, results);
    const outputs = await writeReportOutputs({
      results,
      reportFile: path.join(path.dirname(file), REPORT_FILE),
      baseline: options.baseline,
      junitFile: options.junitFile,
      env: process.env,
    });
    const s = results.summary;
    const regressions = outputs.comparison?.regressionCount ?? 0;
    process.stderr.write(
      `${s.passed} passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped · results: ${file} · report: ${outputs.reportFile}` +
        (outputs.junitFile === null ? '' : ` · junit: ${outputs.junitFile}`) +
        (outputs.comparison === null ? '' : `\n${regressions} regression(s) against ${options.baseline?.file ?? 'the baseline'} beyond ${Math.round(outputs.comparison.tolerance * 1000) / 10}% (see the report)`) +
        `${results.interrupted === null ? '' : `\n${results.interrupted}`}\n`,
    );
    if (options.json) process.stdout.write(`${JSON.stringify(redact(results), null, 2)}\n`);
    // A regression fails a run that otherwise passed; a worse exit code (3: target) is kept.
    return results.exitCode === EXIT_CODES.ok && regressions > 0 ? EXIT_CODES.failed : results.exitCode;
  } finally {
    progress.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('unhandledRejection', onStray);
  }
}
