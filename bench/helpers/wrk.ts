/** wrk, when installed: run it against the server and read req/s and its CPU time from the OS. */
import { execFileSync, spawn } from 'node:child_process';

export function wrkPath(): string | null {
  try {
    const out = execFileSync('which', ['wrk'], { encoding: 'utf8' }).trim();
    return out.length > 0 ? out : null;
  } catch (error) {
    // `which` exits 1 when the program is not on PATH: that is the answer, not a failure.
    if ((error as { status?: number }).status === 1) return null;
    throw error;
  }
}

export interface WrkReport {
  responses: number;
  elapsedMs: number;
  cpuUs: number;
}

/** Runs wrk with one thread (its CPU then compares with a single-threaded Node generator). */
export function runWrk(path: string, url: string, connections: number, durationSec: number): Promise<WrkReport> {
  return new Promise((resolve, reject) => {
    // bash's `times` prints the CPU time of its finished children (wrk) on its last line.
    const script = `"${path}" -t1 -c${connections} -d${durationSec}s ${url} && times`;
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (durationSec + 15) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const requests = /(\d+) requests in ([\d.]+)(m?s)/.exec(out);
      const times = out.trim().split('\n').at(-1)?.match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
      if (code !== 0 || requests === null || times === null || times === undefined) {
        reject(new Error(`wrk failed (exit ${code}); output:\n${out}`));
        return;
      }
      const secs = Number(requests[2]) * (requests[3] === 'ms' ? 0.001 : 1);
      const cpuSec = Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]);
      resolve({ responses: Number(requests[1]), elapsedMs: secs * 1000, cpuUs: cpuSec * 1e6 });
    });
  });
}
