/**
 * `--target` to a host that is not a loopback name (LOOPBACK_HOSTS) is refused before any connection
 * is made, unless `--allow-remote`. An attempt must be detectable, and no traffic may leave the
 * machine: the "remote" host is 127.0.0.2, a loopback address on Linux that is deliberately not
 * in LOOPBACK_HOSTS, with a listener there counting connections.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK_HOSTS } from '../../src/config/defaults.ts';
import { EXIT_CODES } from '../../src/exit-codes.ts';
import { runGauntlet } from '../helpers/run-cli.ts';

const FIXTURES = new URL('../fixtures/dying-target-scenarios', import.meta.url).pathname;
const NOT_LISTED_LOOPBACK = '127.0.0.2';

let server: Server;
let connections = 0;
let target: string;
beforeAll(async () => {
  // Accepted and dropped at once: a gauntlet that got here would fail its reachability check (exit 3).
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, NOT_LISTED_LOOPBACK, resolve));
  target = `http://${NOT_LISTED_LOOPBACK}:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const run = (extra: string[]): ReturnType<typeof runGauntlet> =>
  runGauntlet(['run', '--scenarios-dir', FIXTURES, '--scenario', 'fixture-quick-load', '--profile', 'smoke', ...extra], { timeoutMs: 30_000 });

describe('--target to a non-loopback host', () => {
  it('the test host is one gauntlet treats as remote', () => {
    expect(LOOPBACK_HOSTS).not.toContain(NOT_LISTED_LOOPBACK);
  });

  it('is refused with exit 2 and a fix-it message, and no connection reaches the host', async () => {
    const before = connections;
    const result = await run(['--target', target]);
    expect(result.code, result.stderr).toBe(EXIT_CODES.badInput);
    expect(result.stderr).toMatch(/--target host '127\.0\.0\.2' is not a loopback address.*Pass --allow-remote/s);
    expect(connections - before).toBe(0);
  });

  it('with --allow-remote the same host is contacted: the listener does see an attempt', async () => {
    // The control for the test above: it proves a connection would have been counted.
    const before = connections;
    const result = await run(['--target', target, '--allow-remote']);
    expect(result.code, result.stderr).toBe(EXIT_CODES.target);
    expect(result.stderr).toMatch(/could not be reached/);
    expect(connections - before).toBeGreaterThan(0);
  });

  it('an unroutable private address is refused quickly, never tried (a connect there would hang to its timeout)', async () => {
    const t0 = performance.now();
    const result = await run(['--target', 'http://10.255.255.1:1']);
    expect(result.code, result.stderr).toBe(EXIT_CODES.badInput);
    expect(result.stderr).toMatch(/not a loopback address/);
    expect(result.stderr).not.toMatch(/could not be reached/);
    // Startup only: a reachability probe of a blackholed address would add its 5 s timeout.
    expect(performance.now() - t0).toBeLessThan(15_000);
  });
});
