/** Child processes of the benchmark: started with tsx, reaped always, each bounded in time. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const helper = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** Runs a helper and resolves with the first line it prints (or rejects after `timeoutMs`). */
export function firstLine(file: string, args: string[], timeoutMs: number): { child: ChildProcess; line: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', helper(file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} printed nothing within ${timeoutMs} ms; killed it`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${code ?? signal}) before printing a result`));
    });
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
  return { child, line };
}

/** Stops a child and waits for it to exit (SIGKILL after 5 s). */
export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs a helper to completion and returns its one JSON line. */
export async function runToCompletion(file: string, args: string[], timeoutMs: number): Promise<string> {
  const { child, line } = firstLine(file, args, timeoutMs);
  try {
    return await line;
  } finally {
    await stop(child);
  }
}
