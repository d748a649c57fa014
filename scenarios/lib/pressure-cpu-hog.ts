/**
 * CPU contention beside the target: child processes that spin on the CPU until a deadline they
 * carry themselves (so they stop even if gauntlet dies), and are killed by PID when stopped.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { sampleProc } from '../../src/measure/proc.ts';

/** Extra life a hog gets beyond the asked duration before its own deadline ends it. */
export const HOG_DEADLINE_SLACK_MS = 5_000;
/** How long a killed hog may take to exit before stop() gives up waiting and says so. */
export const HOG_EXIT_TIMEOUT_MS = 2_000;

export interface CpuHogs {
  readonly pids: readonly number[];
  /** Kills every hog by PID (SIGKILL) and waits for it to exit; returns the CPU seconds they used. */
  stop(): Promise<{ cpuSeconds: number }>;
}

/** The hog's program: a bounded busy loop (checks the clock every million iterations). */
const hogSource = (deadlineMs: number): string =>
  `let x=0;while(Date.now()<${deadlineMs}){for(let i=0;i<1e6;i++)x+=i;}process.exit(x===-1?1:0);`;

/** Starts `count` CPU hogs that run at most `maxDurationMs` (+ slack) unless stopped first. */
export function startCpuHogs(count: number, maxDurationMs: number): CpuHogs {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`cpu hogs must be a positive integer, got ${count}`);
  const deadline = Date.now() + maxDurationMs + HOG_DEADLINE_SLACK_MS;
  const children: ChildProcess[] = [];
  const failures: string[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ['-e', hogSource(deadline)], { stdio: 'ignore' });
    // Without a listener a spawn failure would be an uncaught 'error' event; it is reported by stop().
    child.on('error', (error) => failures.push(error.message));
    if (child.pid === undefined) {
      for (const started of children) started.kill('SIGKILL');
      throw new Error('could not spawn a CPU hog process (no pid); check that node can be executed here');
    }
    children.push(child);
  }
  const pids = children.map((c) => c.pid ?? -1);
  return {
    pids,
    async stop() {
      const cpu = await Promise.all(
        pids.map(async (pid) => {
          const s = await sampleProc(pid);
          return s.state === 'sampled' ? s.sample.cpuUserSeconds + s.sample.cpuSystemSeconds : 0;
        }),
      );
      await Promise.all(children.map((child) => killAndWait(child)));
      if (failures.length > 0) throw new Error(`CPU hog process failed: ${failures.join('; ')}`);
      return { cpuSeconds: cpu.reduce((a, b) => a + b, 0) };
    },
  };
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), HOG_EXIT_TIMEOUT_MS);
  });
  const outcome = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') throw new Error(`CPU hog pid ${String(child.pid)} did not exit within ${HOG_EXIT_TIMEOUT_MS} ms of SIGKILL; kill it by that PID`);
}
