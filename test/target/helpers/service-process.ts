/** Forks target/instance-main.ts as a deployment would, and tracks its messages and exit. */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { INSTANCE_OPTIONS_ENV, type ChildToParent } from '../../../target/deployment/protocol.ts';

const INSTANCE_MAIN = fileURLToPath(new URL('../../../target/instance-main.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ForkedInstance {
  readonly child: ChildProcess;
  /** The first message the child sends. */
  readonly firstMessage: Promise<ChildToParent>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Output, for failure messages. */
  output(): string;
  /** SIGKILLs the child if it is still running (test cleanup). */
  kill(): void;
}

/** Forks an instance with `rawOptions` as its GAUNTLET_INSTANCE_OPTIONS (a string, so tests can send bad JSON). */
export function forkInstance(rawOptions: string): ForkedInstance {
  let output = '';
  const child = fork(INSTANCE_MAIN, [], {
    execArgv: ['--import', TSX_LOADER],
    env: { ...process.env, [INSTANCE_OPTIONS_ENV]: rawOptions },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const firstMessage = new Promise<ChildToParent>((resolve, reject) => {
    child.once('message', (message: ChildToParent) => resolve(message));
    void exited.then(({ code, signal }) => reject(new Error(`instance exited (${code ?? signal ?? '?'}) before any message:\n${output}`)));
  });
  // The rejection above is expected whenever a test only waits for the exit.
  firstMessage.catch(() => undefined);
  return {
    child,
    firstMessage,
    exited,
    output: () => output,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
