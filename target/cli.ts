/** `npm run target`: starts the reference service deployment, prints one ready line, stops every child on SIGINT/SIGTERM. */
import { startDeployment } from './deployment/deployment.ts';
import type { Deployment } from './deployment/deployment.ts';
import { TargetStartError } from './deployment/errors.ts';
import { parseTargetArgs } from './deployment/target-args.ts';

/** Exit codes shared with the gauntlet CLI (ARCHITECTURE.md). */
const EXIT_OK = 0;
const EXIT_BAD_INPUT = 2;
const EXIT_TARGET = 3;

/** The one line printed when the deployment is ready; tests read the URL and PIDs from it. */
export function readyLine(d: Deployment): string {
  const instances = d.instances.map((i) => `${i.instanceId} pid ${i.pid}`).join(', ');
  const balancer = d.balancer === null ? '' : `, balancer ${d.balancer.strategy} pid ${d.balancer.pid}`;
  const count = `${d.instances.length} instance${d.instances.length === 1 ? '' : 's'}`;
  return `target ready at ${d.url} · ${count} (${instances})${balancer} · ${d.store.reason}`;
}

function prefixLines(name: string, chunk: string): string {
  return chunk.replace(/^(?=.)/gm, `[${name}] `);
}

/** Runs the target CLI on `argv` (flags only) and resolves with the exit code once everything is stopped. */
export async function runTargetCli(argv: readonly string[]): Promise<number> {
  const parsed = await parseTargetArgs(argv);
  if (parsed.kind === 'exit') return EXIT_OK;
  if (parsed.kind === 'invalid') {
    process.stderr.write(`${parsed.message}\nRun \`npm run target -- --help\` for the flags.\n`);
    return EXIT_BAD_INPUT;
  }

  // An object, not a `let`: the compiler cannot see the signal handler change it between awaits.
  const state = { signalled: false };
  let deployment: Deployment | null = null;
  const exitWhenStopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (state.signalled) return;
      state.signalled = true;
      process.stderr.write(`target: ${signal}, stopping every process\n`);
      // Before ready, the start below sees `state.signalled` and stops what it started.
      if (deployment !== null) void deployment.stop().then(() => resolve(EXIT_OK));
      else resolve(EXIT_OK);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  try {
    deployment = await startDeployment({
      ...parsed.options,
      onChildOutput: (name, chunk) => process.stderr.write(prefixLines(name, chunk)),
    });
  } catch (error) {
    if (error instanceof RangeError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_BAD_INPUT;
    }
    const message = error instanceof TargetStartError ? error.message : `the target could not be started: ${String(error)}`;
    process.stderr.write(`${message}\n`);
    return EXIT_TARGET;
  }
  if (state.signalled) {
    await deployment.stop();
    return EXIT_OK;
  }
  process.stdout.write(`${readyLine(deployment)}\n`);

  const running = deployment;
  const died = running.died.then(async (death) => {
    process.stderr.write(`target: ${death.child} (pid ${death.pid}) died unexpectedly; stopping the rest\n${death.stderrTail}\n`);
    await running.stop();
    return EXIT_TARGET;
  });
  return Promise.race([exitWhenStopped, died]);
}

