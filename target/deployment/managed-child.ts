/** One child process of a deployment: forked with tsx, ready over IPC, stopped politely then firmly. */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { ChildToParent, ParentToChild } from './protocol.ts';
import { TargetStartError } from './errors.ts';
import { TailBuffer } from './stderr-tail.ts';

/** Resolved from here, not from the caller's working directory, so the deployment starts from anywhere. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** How long each step of a stop waits before the next, firmer one. */
export interface StopTiming {
  /** After the shutdown message, before SIGTERM. */
  readonly graceMs: number;
  /** After SIGTERM, before SIGKILL. */
  readonly killAfterMs: number;
}

export interface ChildSpec {
  /** Names the child in errors: `instance i1`, `balancer`. */
  readonly name: string;
  readonly file: string;
  readonly env: Readonly<Record<string, string>>;
  readonly readyTimeoutMs: number;
  /** Extra Node.js options for the child, e.g. `--max-old-space-size=64`. */
  readonly nodeArgs?: readonly string[];
  /** Receives the child's stderr as it comes (it is always kept for error messages too). */
  readonly onStderr?: (chunk: string) => void;
}

/** A child that reported ready. */
export interface ManagedChild {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Settles when the process has exited, whatever the cause. */
  readonly exited: Promise<ChildExit>;
  stderrTail(): string;
  /** Sends a message; false when the IPC channel is already closed. */
  send(message: ParentToChild): boolean;
  /** Waits for the next message matching `predicate`, or null after `timeoutMs` or on exit. */
  nextMessage<T extends ChildToParent>(predicate: (m: ChildToParent) => m is T, timeoutMs: number): Promise<T | null>;
  /** Shutdown message, SIGTERM after `graceMs`, SIGKILL after `killAfterMs` more; resolves on exit. */
  stop(timing: StopTiming): Promise<ChildExit>;
  /** Sends `signal` and waits for the exit (SIGKILL follows after `killAfterMs` if it does not come). */
  kill(signal: NodeJS.Signals, killAfterMs: number): Promise<ChildExit>;
}

function describeExit(exit: ChildExit): string {
  return exit.signal === null ? `exit code ${exit.code ?? 'unknown'}` : `signal ${exit.signal}`;
}

function isReady(m: ChildToParent): m is Extract<ChildToParent, { type: 'ready' }> {
  return m.type === 'ready';
}

/** A child that never became ready has no requests to finish: SIGKILL follows SIGTERM after this. */
const NOT_READY_KILL_AFTER_MS = 1_000;

/** Forks `spec.file` and resolves once it reports ready; rejects with TargetStartError otherwise (and leaves no process behind). */
export async function startChild(spec: ChildSpec): Promise<ManagedChild> {
  const tail = new TailBuffer();
  const child: ChildProcess = fork(spec.file, [], {
    execArgv: ['--import', TSX_LOADER, ...(spec.nodeArgs ?? [])],
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group: a terminal's Ctrl-C reaches only the parent, which then stops children in order.
    detached: true,
  });
  const pid = child.pid;
  // Spawn failures and sends on a closing channel arrive as 'error'; unhandled, they would crash the parent.
  const spawnError = new Promise<Error>((resolve) => {
    child.on('error', (error) => {
      tail.push(`\n[deployment] ${spec.name}: ${error.message}\n`);
      resolve(error);
    });
  });
  const onOutput = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    tail.push(text);
    spec.onStderr?.(text);
  };
  child.stderr?.on('data', onOutput);
  child.stdout?.on('data', onOutput);
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const messages: ((m: ChildToParent) => void)[] = [];
  child.on('message', (m: ChildToParent) => {
    for (const listener of [...messages]) listener(m);
  });

  const nextMessage = <T extends ChildToParent>(predicate: (m: ChildToParent) => m is T, timeoutMs: number): Promise<T | null> =>
    new Promise((resolve) => {
      const done = (value: T | null): void => {
        clearTimeout(timer);
        messages.splice(messages.indexOf(listener), 1);
        resolve(value);
      };
      const listener = (m: ChildToParent): void => {
        if (predicate(m)) done(m);
        else if (m.type === 'fatal') tail.push(`\n${m.message}\n`);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      messages.push(listener);
      void exited.then(() => {
        if (messages.includes(listener)) done(null);
      });
    });

  const kill = async (signal: NodeJS.Signals, killAfterMs: number): Promise<ChildExit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  };

  if (pid === undefined) {
    const error = await spawnError;
    throw new TargetStartError(`${spec.name} could not be started: ${error.message}`, tail.text());
  }
  const ready = await nextMessage(isReady, spec.readyTimeoutMs);
  if (ready === null) {
    const stillRunning = child.exitCode === null && child.signalCode === null;
    if (stillRunning) await kill('SIGTERM', NOT_READY_KILL_AFTER_MS);
    const exit = await exited;
    const what = stillRunning ? `was not ready within ${spec.readyTimeoutMs} ms (stopped it)` : `exited before it was ready (${describeExit(exit)})`;
    throw new TargetStartError(`${spec.name} (pid ${pid}) ${what}; see its output below, or raise the ready timeout on a slow machine`, tail.text());
  }

  return {
    name: spec.name,
    pid,
    port: ready.port,
    exited,
    stderrTail: () => tail.text(),
    send: (message) => child.connected && child.send(message),
    nextMessage,
    kill,
    async stop(timing) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      if (child.connected) child.send({ type: 'shutdown' } satisfies ParentToChild);
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGTERM'), timing.graceMs);
      const killTimer = setTimeout(() => child.kill('SIGKILL'), timing.graceMs + timing.killAfterMs);
      const exit = await exited;
      clearTimeout(timer);
      clearTimeout(killTimer);
      return exit;
    },
  };
}
