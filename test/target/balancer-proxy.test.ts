import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createBalancer, NO_BACKEND_RETRY_AFTER_S } from '../../target/balancer/proxy.ts';
import type { Balancer, BalancerStats } from '../../target/balancer/proxy.ts';
import type { BalancerStrategy } from '../../target/config.ts';
import { deadBackendUrl, startTestBackend } from './helpers/deploy-backends.ts';
import type { TestBackend } from './helpers/deploy-backends.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(id: string, behaviour: Parameters<typeof startTestBackend>[1]): Promise<TestBackend> {
  const b = await startTestBackend(id, behaviour);
  cleanups.push(() => b.close());
  return b;
}

async function balancerOver(strategy: BalancerStrategy, backends: { instanceId: string; url: string }[]): Promise<{ url: string; balancer: Balancer }> {
  const balancer = createBalancer({ strategy, backends });
  await new Promise<void>((resolve) => balancer.server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    balancer.server.closeAllConnections();
    await new Promise<void>((resolve) => balancer.server.close(() => resolve()));
    await balancer.closePools();
  });
  const { port } = balancer.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, balancer };
}

async function send(url: string, method = 'GET', body?: string) {
  const res = await request(url, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('balancer proxy', () => {
  it('round-robin spreads requests evenly over the backends by x-instance-id', async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((id) => backend(id, { kind: 'ok' })));
    const { url } = await balancerOver('round-robin', backends);
    const seen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const res = await send(`${url}/families`, 'POST', '{"name":"x"}');
      const id = String(res.headers['x-instance-id']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    expect(Object.fromEntries(seen)).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('passes status, body and headers through unchanged and adds x-forwarded-for', async () => {
    const b = await backend('a', { kind: 'ok' });
    const { url } = await balancerOver('round-robin', [b]);
    const res = await send(`${url}/x?q=1`, 'POST', '{"name":"streamed"}');
    expect(res.status).toBe(201);
    expect(res.headers['x-cache']).toBe('miss');
    expect(res.headers['server-timing']).toBe('db-family-insert;dur=1.1');
    expect(res.headers['ratelimit-limit']).toBe('5');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(JSON.parse(res.text)).toEqual({ instance: 'a', echo: '{"name":"streamed"}', forwardedFor: '127.0.0.1' });
  });

  it('least-connections sends new requests to the idle backend while the other is slow', async () => {
    const slow = await backend('slow', { kind: 'ok', delayMs: 1_500 });
    const fast = await backend('fast', { kind: 'ok' });
    const { url } = await balancerOver('least-connections', [slow, fast]);
    const pending = send(`${url}/slow`); // ties go to index 0: the slow backend gets this one
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(String((await send(`${url}/quick`)).headers['x-instance-id']));
    expect(ids).toEqual(Array<string>(10).fill('fast'));
    expect((await pending).headers['x-instance-id']).toBe('slow');
  });

  it('round-robin, by contrast, keeps sending to the slow backend', async () => {
    const slow = await backend('slow', { kind: 'ok', delayMs: 300 });
    const fast = await backend('fast', { kind: 'ok' });
    const { url } = await balancerOver('round-robin', [slow, fast]);
    const ids = await Promise.all(Array.from({ length: 4 }, async () => String((await send(`${url}/q`)).headers['x-instance-id'])));
    expect(ids.filter((id) => id === 'slow')).toHaveLength(2);
  });

  it('answers 502 bad_gateway when the backend is dead', async () => {
    const { url } = await balancerOver('round-robin', [{ instanceId: 'gone', url: await deadBackendUrl() }]);
    const res = await send(`${url}/families`, 'POST', '{"name":"x"}');
    expect(res.status).toBe(502);
    const body = JSON.parse(res.text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('bad_gateway');
    expect(body.error.message).toMatch(/backend gone .*ECONNREFUSED/);
  });

  it('never retries a POST on another backend', async () => {
    const resetting = await backend('reset', { kind: 'reset' });
    const healthy = await backend('ok', { kind: 'ok' });
    const { url, balancer } = await balancerOver('round-robin', [resetting, healthy]);
    const first = await send(`${url}/families`, 'POST', '{"name":"x"}');
    expect(first.status).toBe(502);
    expect(JSON.parse(first.text)).toMatchObject({ error: { code: 'bad_gateway', backend: 'reset', cause: 'UND_ERR_SOCKET' } });
    expect(resetting.hits.get('POST')).toBe(1);
    expect(healthy.hits.get('POST')).toBeUndefined();
    // The reset ejected the backend: later POSTs go to the healthy one.
    const later: number[] = [];
    for (let i = 0; i < 4; i++) later.push((await send(`${url}/families`, 'POST', '{"name":"x"}')).status);
    expect(later).toEqual([201, 201, 201, 201]);
    const stats = JSON.parse((await send(`${url}/_balancer/stats`)).text) as BalancerStats;
    expect(stats.backends.map((b) => [b.instanceId, b.inFlight, b.active])).toEqual([['reset', 0, false], ['ok', 0, true]]);
    expect(stats.backends.reduce((sum, b) => sum + b.total, 0)).toBe(balancer.stats().backends.reduce((s, b) => s + b.total, 0));
    expect(stats.backends[0]?.errors).toBe(1);
  });

  it('retries a GET once on another backend when the connection fails', async () => {
    const resetting = await backend('reset', { kind: 'reset' });
    const healthy = await backend('ok', { kind: 'ok' });
    const { url } = await balancerOver('round-robin', [resetting, healthy]);
    const res = await send(`${url}/families/1`);
    expect(res.status).toBe(201);
    expect(res.headers['x-instance-id']).toBe('ok');
    expect(resetting.hits.get('GET')).toBe(1);
  });

  it('stops routing to a removed backend', async () => {
    const backends = await Promise.all(['a', 'b'].map((id) => backend(id, { kind: 'ok' })));
    const { url, balancer } = await balancerOver('round-robin', backends);
    expect(balancer.removeBackend('a')).toBe(true);
    expect(balancer.removeBackend('nope')).toBe(false);
    const ids = new Set<string>();
    for (let i = 0; i < 4; i++) ids.add(String((await send(url)).headers['x-instance-id']));
    expect([...ids]).toEqual(['b']);
  });

  it('answers 503 no_backend with Retry-After, as every 503 of the target, when no backend is left', async () => {
    const only = await backend('a', { kind: 'ok' });
    const { url, balancer } = await balancerOver('round-robin', [only]);
    expect(balancer.removeBackend('a')).toBe(true);
    const res = await send(`${url}/families`, 'POST', '{"name":"x"}');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'no_backend' } });
    expect(res.headers['retry-after']).toBe(String(NO_BACKEND_RETRY_AFTER_S));
  });
});
