/** The `gauntlet` command line: run | list | report | compare | target | export-artillery. Parses, validates, delegates; exit codes from exit-codes.ts. */
import yargs from 'yargs';
import { DEFAULT_STORE_CHOICE } from '../../target/config.ts';
import type { StoreChoice } from '../../target/config.ts';
import { DEFAULT_PROFILE, DEFAULT_REPORTS_DIR, DEFAULT_SUITE, PROFILES, SUITES } from '../config/defaults.ts';
import { EXIT_CODES, TargetUnavailableError, UsageError } from '../exit-codes.ts';
import { DEFAULT_REGRESSION_TOLERANCE } from '../report/compare.ts';
import { compareCommand } from './compare-command.ts';
import { listCommand } from './list-command.ts';
import { reportCommand } from './report-command.ts';
import { runCommand } from './run-command.ts';
import { exportArtilleryCommand } from './export-artillery-command.ts';
import { ARTILLERY_PLATFORMS, DEFAULT_ARTILLERY_PLATFORM } from '../artillery/platform-args.ts';
import { DEFAULT_EXPORT_TARGET } from '../artillery/target-hint.ts';
import { DEFAULT_ENGINE, ENGINES } from './run-options.ts';
import { redactText } from '../results/redact.ts';

const STORE_CHOICES: readonly StoreChoice[] = ['auto', 'mongo', 'sqlite'];

/** Runs the CLI on `argv` (without node and script) and resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'target') {
    const { runTargetCli } = await import('../../target/cli.ts');
    return runTargetCli(argv.slice(1));
  }
  let exitCode: number = EXIT_CODES.ok;
  const parser = yargs([...argv])
    .scriptName('gauntlet')
    .usage('$0 <command> [options]\n\nLoad tests that check a service stays correct under load.')
    .command(
      'run',
      'Run scenarios against the embedded reference service (default) or --target, write results.json',
      (y) =>
        y
          .option('suite', { choices: SUITES, default: DEFAULT_SUITE, describe: 'Scenario group to run' })
          .option('scenario', { type: 'string', array: true, default: [] as string[], describe: 'Scenario id to run (repeatable; overrides --suite)' })
          .option('profile', { choices: PROFILES, default: DEFAULT_PROFILE, describe: 'smoke (seconds), standard, or soak (long)' })
          .option('target', { type: 'string', describe: 'URL of your own deployment instead of the embedded one (loopback only unless --allow-remote)' })
          .option('allow-remote', { type: 'boolean', default: false, describe: 'Allow a --target that is not a loopback address' })
          .option('out', { type: 'string', describe: `Directory for results.json (default ${DEFAULT_REPORTS_DIR}/<timestamp>/)` })
          .option('thresholds', { type: 'string', describe: 'JSON file: {"scenario-id": ["latency.p95 < 15ms", ...]}' })
          .option('threshold', { type: 'string', array: true, default: [] as string[], describe: "Threshold override 'scenario-id:metric op value' (repeatable)" })
          .option('json', { type: 'boolean', default: false, describe: 'Print results.json to stdout as well' })
          .option('store', { choices: STORE_CHOICES, default: DEFAULT_STORE_CHOICE, describe: 'Store of the embedded target' })
          .option('mongo-uri', { type: 'string', describe: 'MongoDB URI for the embedded target (default: $MONGODB_URI)' })
          .option('scenarios-dir', { type: 'string', describe: 'Also load your own scenario modules from DIR/<group>/*.ts' })
          .option('baseline', { type: 'string', describe: 'A saved results.json to compare with; a regression beyond the tolerance fails the run (exit 1)' })
          .option('regression-tolerance', { type: 'string', describe: `How much worse a metric may get before a significant change is a regression (default ${DEFAULT_REGRESSION_TOLERANCE * 100}%)` })
          .option('junit', { type: 'string', describe: 'Also write JUnit XML to FILE (a testcase per scenario)' })
          .option('engine', { choices: ENGINES, default: DEFAULT_ENGINE, describe: "Who generates the load: gauntlet's own engine, or Artillery running the scenario's exported traffic (scenarios that export; thresholds only on metrics Artillery gives)" })
          .option('artillery-platform', { choices: ARTILLERY_PLATFORMS, describe: `With --engine artillery: where Artillery runs (default ${DEFAULT_ARTILLERY_PLATFORM}; cloud platforms need a --target their workers can reach)` })
          .option('count', { type: 'number', describe: 'With a cloud --artillery-platform: load-generating workers' })
          .option('region', { type: 'string', describe: 'With a cloud --artillery-platform: the region to run in' }),
      async (args) => {
        exitCode = await runCommand({
          suite: args.suite,
          scenario: args.scenario,
          profile: args.profile,
          target: args.target,
          allowRemote: args.allowRemote,
          out: args.out,
          thresholds: args.thresholds,
          threshold: args.threshold,
          json: args.json,
          store: args.store,
          mongoUri: args.mongoUri,
          scenariosDir: args.scenariosDir,
          baseline: args.baseline,
          junit: args.junit,
          regressionTolerance: args.regressionTolerance,
          engine: args.engine,
          artilleryPlatform: args.artilleryPlatform,
          count: args.count,
          region: args.region,
        });
      },
    )
    .command(
      'export-artillery',
      "Write a scenario's traffic as an Artillery script (script.json + processor.cjs) to --out; only the traffic exports, not the checks",
      (y) =>
        y
          .option('scenario', { type: 'string', demandOption: true, describe: 'The scenario to export (`gauntlet list` says which export to Artillery; your own with --scenarios-dir)' })
          .option('profile', { choices: PROFILES, default: DEFAULT_PROFILE, describe: 'Whose rates and durations to export' })
          .option('out', { type: 'string', demandOption: true, describe: 'Directory for script.json and processor.cjs' })
          .option('target', { type: 'string', describe: `Base URL the script sends to (default ${DEFAULT_EXPORT_TARGET})` })
          .option('scenarios-dir', { type: 'string', describe: 'Also load your own scenario modules from DIR/<group>/*.ts' }),
      async (args) => {
        exitCode = await exportArtilleryCommand({ scenario: args.scenario, profile: args.profile, out: args.out, target: args.target, scenariosDir: args.scenariosDir });
      },
    )
    .command(
      'report <results>',
      'Re-render report.md from a saved results.json (beside it, or --out)',
      (y) =>
        y
          .positional('results', { type: 'string', demandOption: true, describe: 'A results.json written by gauntlet run' })
          .option('out', { type: 'string', describe: 'Where to write the report (default: report.md beside the results)' })
          .option('template-dir', { type: 'string', describe: 'Your templates: report.md.hbs and/or partials/*.hbs override the built-in ones' })
          .option('baseline', { type: 'string', describe: 'A results.json to compare with; adds the comparison section' })
          .option('regression-tolerance', { type: 'string', describe: `Tolerance of the comparison (default ${DEFAULT_REGRESSION_TOLERANCE * 100}%)` })
          .option('junit', { type: 'string', describe: 'Also write JUnit XML to FILE' }),
      async (args) => {
        exitCode = await reportCommand({
          results: args.results,
          out: args.out,
          templateDir: args.templateDir,
          baseline: args.baseline,
          regressionTolerance: args.regressionTolerance,
          junit: args.junit,
        });
      },
    )
    .command(
      'compare <baseline> <current>',
      'Compare two results.json per scenario and metric; exit 1 on a regression beyond the tolerance',
      (y) =>
        y
          .positional('baseline', { type: 'string', demandOption: true, describe: 'The reference results.json' })
          .positional('current', { type: 'string', demandOption: true, describe: 'The results.json to judge' })
          .option('regression-tolerance', { type: 'string', describe: `How much worse a metric may get before a significant change is a regression (default ${DEFAULT_REGRESSION_TOLERANCE * 100}%)` })
          .option('out', { type: 'string', describe: 'Write the Markdown comparison to FILE instead of stdout' })
          .option('junit', { type: 'string', describe: 'Also write JUnit XML with a failure per regression' })
          .option('template-dir', { type: 'string', describe: 'Your templates (partials/comparison.hbs overrides the built-in one)' }),
      async (args) => {
        exitCode = await compareCommand({
          baseline: args.baseline,
          current: args.current,
          regressionTolerance: args.regressionTolerance,
          out: args.out,
          junit: args.junit,
          templateDir: args.templateDir,
        });
      },
    )
    .command(
      'list',
      'List the scenarios with their metrics and default thresholds',
      (y) =>
        y
          .option('json', { type: 'boolean', default: false, describe: 'Print as JSON' })
          .option('scenarios-dir', { type: 'string', describe: 'Also list your own scenario modules from DIR/<group>/*.ts' }),
      async (args) => {
        exitCode = await listCommand(args.json, args.scenariosDir);
      },
    )
    // Listed for --help; main() hands `target ...` to the target's own CLI before yargs sees it.
    .command('target', 'Start the reference family service (`gauntlet target --help` for its flags)')
    .demandCommand(1, 'Name a command: run, list, report, compare, target or export-artillery')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .exitProcess(false)
    .fail((message, error) => {
      throw error instanceof Error ? error : new UsageError(`${message}\nRun \`gauntlet --help\` for usage.`);
    });
  try {
    await parser.parseAsync();
    return exitCode;
  } catch (error) {
    if (error instanceof UsageError || error instanceof TargetUnavailableError) {
      process.stderr.write(`gauntlet: ${redactText(error.message)}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
