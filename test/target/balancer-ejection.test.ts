import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createBalancer } from '../../target/balancer/proxy.ts';
import type { BalancerBehaviour, BalancerStats } from '../../target/balancer/proxy.ts';
import { RoundRobin } from '../../target/balancer/strategy.ts';
import { startTestBackend } from './helpers/deploy-backends.ts';
import type { BackendBehaviour, TestBackend } from './helpers/deploy-backends.ts';

/** Short, so re-admission is quick here; the product's default is BALANCER_PROBE_INTERVAL_MS. */
const PROBE_MS = 40;
/** Bound on waiting for the probe to re-admit a backend: many intervals, for a loaded machine. */
const READMIT_WAIT_MS = 5_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(id: string, behaviour: BackendBehaviour, port = 0): Promise<TestBackend> {
  const b = await startTestBackend(id, behaviour, port);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await b.close();
  };
  cleanups.push(close);
  return { ...b, close };
}

async function balancerOver(backends: readonly TestBackend[], behaviour: BalancerBehaviour = {}): Promise<string> {
  const balancer = createBalancer({ strategy: 'round-robin', backends: backends.map((b) => ({ instanceId: b.instanceId, url: b.url })) }, { probeIntervalMs: PROBE_MS, ...behaviour });
  await new Promise<void>((resolve) => balancer.server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    balancer.server.closeAllConnections();
    await new Promise<void>((resolve) => balancer.server.close(() => resolve()));
    await balancer.closePools();
  });
  return `http://127.0.0.1:${(balancer.server.address() as AddressInfo).port}`;
}

async function post(url: string): Promise<{ status: number; instance: string; body: unknown }> {
  const res = await request(`${url}/families`, { method: 'POST', body: '{"name":"x"}', headers: { 'content-type': 'application/json' } });
  const text = await res.body.text();
  return { status: res.statusCode, instance: String(res.headers['x-instance-id'] ?? '-'), body: JSON.parse(text) as unknown };
}

async function stats(url: string): Promise<BalancerStats> {
  const res = await request(`${url}/_balancer/stats`);
  return (await res.body.json()) as BalancerStats;
}

function portOf(b: TestBackend): number {
  return Number(new URL(b.url).port);
}

describe('balancer ejection and re-admission', () => {
  it('ejects a backend whose connection is refused at once, and re-admits it when /healthz answers again', async () => {
    const a = await backend('a', { kind: 'ok' });
    const b = await backend('b', { kind: 'ok' });
    const url = await balancerOver([a, b]);
    expect([(await post(url)).instance, (await post(url)).instance]).toEqual(['a', 'b']);
    await a.close();

    const first = await post(url);
    expect(first.status).toBe(502);
    expect(first.body).toMatchObject({ error: { code: 'bad_gateway', backend: 'a', cause: 'ECONNREFUSED' } });
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push((await post(url)).instance);
    expect(after).toEqual(Array<string>(6).fill('b'));
    const down = (await stats(url)).backends[0];
    expect(down).toMatchObject({ instanceId: 'a', active: false, ejected: true, ejections: 1, readmissions: 0, errors: 1 });
    const sentWhileDown = down?.total;

    // Back on the same port: the probe sees /healthz answer and puts it back.
    const again = await backend('a', { kind: 'ok' }, portOf(a));
    const deadline = Date.now() + READMIT_WAIT_MS;
    while (!((await stats(url)).backends[0]?.active ?? false) && Date.now() < deadline) await new Promise((r) => setTimeout(r, PROBE_MS));
    const back = (await stats(url)).backends[0];
    expect(back).toMatchObject({ active: true, ejected: false, ejections: 1, readmissions: 1 });
    // Probes are not requests: nothing was routed to it while it was out.
    expect(back?.total).toBe(sentWhileDown);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await post(url)).instance);
    expect([...seen].sort()).toEqual(['a', 'b']);
    expect(again.hits.get('POST')).toBe(2);
    expect(a.hits.get('POST')).toBe(1);
  });

  it('stays ejected while the backend keeps failing its probe', async () => {
    const resetting = await backend('reset', { kind: 'reset' });
    const healthy = await backend('ok', { kind: 'ok' });
    const url = await balancerOver([resetting, healthy]);
    expect((await post(url)).status).toBe(502);
    await new Promise((r) => setTimeout(r, PROBE_MS * 5));
    const s = (await stats(url)).backends[0];
    expect(s).toMatchObject({ active: false, ejected: true, readmissions: 0 });
    // The probe asked (GET /healthz), and was reset each time.
    expect(resetting.hits.get('GET')).toBeGreaterThanOrEqual(2);
    expect(resetting.hits.get('POST')).toBe(1);
  });

  it('with the neverEject fault keeps sending to a dead backend', async () => {
    const a = await backend('a', { kind: 'ok' });
    const b = await backend('b', { kind: 'ok' });
    const url = await balancerOver([a, b], { faults: { neverEject: true } });
    await a.close();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(url)).status);
    expect(statuses).toEqual([502, 201, 502, 201, 502, 201]);
    expect((await stats(url)).backends[0]).toMatchObject({ active: true, ejections: 0, errors: 3 });
  });

  it('with the retryAfterSend fault delivers a POST twice when the first backend dropped it after reading it', async () => {
    const resetting = await backend('reset', { kind: 'reset' });
    const healthy = await backend('ok', { kind: 'ok' });
    const url = await balancerOver([resetting, healthy], { faults: { retryAfterSend: true } });
    const res = await post(url);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ instance: 'ok', echo: '{"name":"x"}' });
    expect(resetting.hits.get('POST')).toBe(1);
    expect(healthy.hits.get('POST')).toBe(1);
  });
});

describe('strategy ejection', () => {
  it('skips ejected backends, re-admits them, and routes to ejected ones only when nothing else is left', () => {
    const rr = new RoundRobin(3);
    rr.eject(1);
    expect([rr.acquire(), rr.acquire(), rr.acquire()]).toEqual([0, 2, 0]);
    expect([rr.isActive(1), rr.isEjected(1)]).toEqual([false, true]);
    rr.readmit(1);
    expect([rr.acquire(), rr.acquire(), rr.acquire()]).toEqual([1, 2, 0]);
    rr.eject(0);
    rr.eject(1);
    rr.remove(2);
    // Panic routing: every backend left is ejected, so they are tried anyway; a removed one never is.
    expect([rr.acquire(), rr.acquire(), rr.acquire()]).toEqual([1, 0, 1]);
    expect(rr.isEjected(2)).toBe(false);
    rr.remove(0);
    rr.remove(1);
    expect(rr.acquire()).toBe(-1);
  });
});
