/** Process checks for deployment tests: liveness by PID, children from /proc, and waiting for a line of output. */
import { readdirSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';

/** True while a process with this PID exists (zombies included: they are not reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** PIDs whose parent is `parentPid`, from /proc (Linux). */
export function childPidsOf(parentPid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') continue; // exited while listing
      throw error;
    }
    // Field 4 is the parent PID; the command name in field 2 may contain spaces, so split after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === parentPid) pids.push(Number(entry));
  }
  return pids;
}

/** Resolves with the first line of `stream` matching `pattern`; rejects after `timeoutMs` with everything seen so far. */
export function waitForLine(stream: Readable, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output so far:\n${seen}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const line = seen.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(line);
      }
    };
    stream.on('data', onData);
  });
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}
