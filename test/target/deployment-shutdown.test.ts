import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { isAlive, waitForLine } from './helpers/deploy-process.ts';

const TARGET_BIN = fileURLToPath(new URL('../../bin/target.js', import.meta.url));

function runTarget(args: string[]) {
  const child = spawn(process.execPath, [TARGET_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return { child, exited, stderr: () => stderr };
}

describe('target CLI', () => {
  it('leaves no child process behind after SIGTERM (exit 0)', async () => {
    const target = runTarget(['--instances', '2', '--port', '0', '--store', 'sqlite']);
    try {
      const line = await waitForLine(target.child.stdout, /^target ready at /, 60_000);
      const url = /at (http:\/\/\S+)/.exec(line)?.[1] ?? '';
      const pids = [...line.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      expect(pids).toHaveLength(3); // two instances and the balancer
      expect(pids.every(isAlive)).toBe(true);
      expect((await request(`${url}/healthz`)).statusCode).toBe(200);

      target.child.kill('SIGTERM');
      expect(await target.exited).toBe(0);
      // At once, not eventually: the CLI must have awaited every child's exit. (Instances also exit when the
      // parent's IPC channel closes, so waiting here would pass even if the CLI left them running.)
      expect(pids.filter(isAlive)).toEqual([]);
    } finally {
      target.child.kill('SIGKILL');
    }
    // Three tsx processes start while the parallel group loads both cores: as long as waitForLine allows.
  }, 90_000);

  it('exits 2 with a message on bad flags, before starting anything', async () => {
    for (const args of [['--instances', 'two'], ['--rate-limit', '5 per minute'], ['--lb', 'random'], ['--no-such-flag']]) {
      const target = runTarget(args);
      const code = await Promise.race([target.exited, new Promise((resolve) => setTimeout(resolve, 10_000, 'still running'))]);
      target.child.kill('SIGKILL');
      expect(code, args.join(' ')).toBe(2);
      expect(target.stderr()).toMatch(/--help/);
    }
  });

  it('exits 3 when the target cannot start (its port is taken)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const target = runTarget(['--instances', '1', '--port', String((taken.address() as AddressInfo).port), '--store', 'sqlite']);
    try {
      expect(await target.exited).toBe(3);
      expect(target.stderr()).toMatch(/instance i1 \(pid \d+\) exited before it was ready[\s\S]*EADDRINUSE/);
    } finally {
      target.child.kill('SIGKILL');
      taken.close();
    }
  });

  it('--help lists the defaults from config.ts', async () => {
    const target = runTarget(['--help']);
    let out = '';
    target.child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    expect(await target.exited).toBe(0);
    expect(out).toMatch(/--rate-limit .*\[default: "5\/60s"\]/);
    expect(out).toMatch(/--family-limit .*\[default: 10\]/);
  });
});
