import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLeaks, waitForDrain, type LeakReport, type ResourceSnapshot } from '../../src/measure/leaks.ts';
import { sampleProc } from '../../src/measure/proc.ts';
import { spawnTarget } from './fixtures/spawn-target.ts';

const REQUESTS = 20;
const LEAK_EVERY = 4; // the leaky target keeps 20 / 4 = 5 upstream sockets open for ever

/** A TCP "database" the target borrows connections from; counts what is open on its side. */
let upstream: Server;
const upstreamSockets = new Set<Socket>();

beforeAll(async () => {
  upstream = createServer((socket) => {
    upstreamSockets.add(socket);
    socket.on('close', () => upstreamSockets.delete(socket));
    socket.on('error', () => socket.destroy()); // a reset from a killed target is expected here
    socket.resume();
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of upstreamSockets) socket.destroy();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

/** Baseline, load through an undici Pool, drain; returns the leak report. */
async function runAgainst(leakEvery: number): Promise<LeakReport> {
  const target = await spawnTarget({ UPSTREAM_PORT: String((upstream.address() as AddressInfo).port), LEAK_EVERY: String(leakEvery) });
  const pool = new Pool(target.base, { connections: 4 });
  try {
    const take = async (): Promise<Record<string, number>> => {
      const proc = await sampleProc(target.pid);
      if (proc.state !== 'sampled') throw new Error(proc.reason);
      return { targetFds: proc.sample.openFds, upstreamConnections: upstreamSockets.size, clientSockets: pool.stats.connected };
    };
    const baseline: ResourceSnapshot = { phase: 'baseline', atMs: performance.now(), resources: await take() };
    await Promise.all(
      Array.from({ length: REQUESTS }, async () => {
        const response = await pool.request({ method: 'GET', path: '/work' });
        await response.body.text();
        expect(response.statusCode).toBe(200);
      }),
    );
    const underLoad: ResourceSnapshot = { phase: 'under-load', atMs: performance.now(), resources: await take() };
    await pool.close();
    const afterDrain = await waitForDrain(take, baseline, { timeoutMs: 3000, pollMs: 50 });
    return checkLeaks(baseline, afterDrain, underLoad);
  } finally {
    if (!pool.closed) await pool.destroy();
    await target.stop();
  }
}

describe('leak tracking against a real target process', () => {
  it('reports a target that never closes some upstream sockets as leaking exactly those', async () => {
    const report = await runAgainst(LEAK_EVERY);
    const leaked = REQUESTS / LEAK_EVERY;
    expect(report.allReturned).toBe(false);
    const byName = Object.fromEntries(report.verdicts.map((v) => [v.resource, v]));
    expect(byName.upstreamConnections).toMatchObject({ state: 'leaked', leaked, afterDrain: leaked });
    expect(byName.targetFds).toMatchObject({ state: 'leaked', leaked });
    expect(byName.clientSockets).toMatchObject({ state: 'returned-to-baseline', baseline: 0, afterDrain: 0 });
    expect(byName.clientSockets).toMatchObject({ underLoad: expect.any(Number) as unknown });
  });

  it('reports a clean target as returned to baseline', async () => {
    const report = await runAgainst(0);
    expect(report.verdicts.map((v) => [v.resource, v.state])).toEqual([
      ['clientSockets', 'returned-to-baseline'],
      ['targetFds', 'returned-to-baseline'],
      ['upstreamConnections', 'returned-to-baseline'],
    ]);
    expect(report.allReturned).toBe(true);
  });
});
