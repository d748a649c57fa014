import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startDeployment } from '../../target/deployment/deployment.ts';
import type { ChildDeath, Deployment } from '../../target/deployment/deployment.ts';
import { TargetStartError } from '../../target/deployment/errors.ts';
import { call, createUser, testAgent } from './helpers/deploy-client.ts';
import { childPidsOf, eventually, isAlive } from './helpers/deploy-process.ts';

const running: Deployment[] = [];
afterAll(async () => {
  await Promise.all(running.map((d) => d.stop()));
  await testAgent.close();
});

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

describe('deployment lifecycle', () => {
  it('rejects with TargetStartError naming the balancer and its stderr when its port is taken, leaving no child', async () => {
    const { port, server } = await occupiedPort();
    try {
      const failure = await startDeployment({ instances: 2, port, store: 'sqlite' }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TargetStartError);
      expect((failure as TargetStartError).message).toMatch(/balancer \(pid \d+\) exited before it was ready/);
      expect((failure as TargetStartError).stderrTail).toMatch(/EADDRINUSE/);
      expect(await eventually(() => childPidsOf(process.pid).length === 0, 5_000)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('rejects bad options before starting anything', async () => {
    await expect(startDeployment({ instances: 0 })).rejects.toThrow(/instances must be an integer from 1/);
    await expect(startDeployment({ store: 'sqlite', mongoUri: 'mongodb://127.0.0.1' })).rejects.toThrow(/drop the URI/);
  });

  it('reports an instance that dies after ready, but not one it was asked to kill', async () => {
    const d = await startDeployment({ instances: 2, store: 'sqlite' });
    running.push(d);
    const exits: ChildDeath[] = [];
    d.onChildExit((death) => exits.push(death));
    const [first, second] = d.instances;
    if (first === undefined || second === undefined) throw new Error('expected two instances');

    await d.killInstance(first.instanceId);
    expect(isAlive(first.pid)).toBe(false);
    // The balancer retries an idempotent GET on the surviving instance.
    for (let i = 0; i < 4; i++) expect((await call(d.url, 'GET', '/healthz')).status).toBe(200);

    process.kill(second.pid, 'SIGKILL');
    const death = await d.died;
    expect(death).toMatchObject({ instanceId: second.instanceId, pid: second.pid, expected: false, exit: { signal: 'SIGKILL' } });
    expect(exits.map((e) => [e.instanceId, e.expected])).toEqual([[first.instanceId, true], [second.instanceId, false]]);
    await d.stop();
    expect(isAlive(d.balancer?.pid ?? 0)).toBe(false);
  });

  it('restartInstance brings a killed instance back on its port and data; the balancer routes to it again', async () => {
    const d = await startDeployment({ instances: 2, store: 'sqlite' });
    running.push(d);
    const exits: ChildDeath[] = [];
    d.onChildExit((death) => exits.push(death));
    const user = await createUser(d.url, 'phoenix');
    const created = await call(d.url, 'POST', '/families', { token: user.token, body: { name: 'Before the crash' } });
    expect(created.status).toBe(201);
    const [first] = d.instances;
    if (first === undefined) throw new Error('expected an instance');
    await expect(d.restartInstance(first.instanceId)).rejects.toThrow(/neither stopped nor killed; stopInstance or killInstance it first/);

    await d.killInstance(first.instanceId);
    // Two restarts at once start one child (a second on the same port could not listen): both get it.
    const [back, again] = await Promise.all([d.restartInstance(first.instanceId), d.restartInstance(first.instanceId)]);
    expect(again).toEqual(back);
    expect(back.url).toBe(first.url);
    expect(back.pid).not.toBe(first.pid);
    expect(isAlive(back.pid)).toBe(true);
    expect(d.instances[0]).toEqual(back);
    const direct = await call(back.url, 'GET', `/families/${(created.body as { id: string }).id}`, { token: user.token });
    expect(direct.status).toBe(200);
    // The balancer ejected it when its connections failed; the probe re-admits it within a few intervals.
    const served = new Set<string>();
    for (const deadline = Date.now() + 5_000; !served.has(first.instanceId) && Date.now() < deadline; ) {
      served.add((await call(d.url, 'GET', '/healthz')).instance);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect([...served]).toContain(first.instanceId);
    expect(exits.map((e) => [e.instanceId, e.expected])).toEqual([[first.instanceId, true]]);

    // The new child is watched as any other: its unexpected death is reported.
    process.kill(back.pid, 'SIGKILL');
    expect(await d.died).toMatchObject({ instanceId: first.instanceId, pid: back.pid, expected: false });
    await d.stop();
  });

  it('stopInstance takes an instance out of rotation; restart keeps the data on the same URL', async () => {
    const d = await startDeployment({ instances: 2, store: 'sqlite' });
    running.push(d);
    const user = await createUser(d.url, 'survivor');
    const created = await call(d.url, 'POST', '/families', { token: user.token, body: { name: 'Kept' } });
    expect(created.status).toBe(201);

    await d.stopInstance('i1');
    const after = await Promise.all(Array.from({ length: 6 }, () => call(d.url, 'POST', '/users', { body: { username: `u_${Math.random().toString(36).slice(2, 10)}` } })));
    expect(after.map((r) => [r.status, r.instance])).toEqual(Array(6).fill([201, 'i2']));

    const restarted = await d.restart({ instances: 1, service: { familyLimit: 3 } });
    running.push(restarted);
    expect(restarted.url).toBe(d.url);
    expect(restarted.balancer).toBeNull();
    expect(restarted.options.service.familyLimit).toBe(3);
    expect(restarted.storeSpec).toEqual(d.storeSpec);
    const readBack = await call(restarted.url, 'GET', `/families/${(created.body as { id: string }).id}`, { token: user.token });
    expect(readBack.status).toBe(200);
    expect(d.instances.every((i) => !isAlive(i.pid))).toBe(true);
    await expect(d.restart()).rejects.toThrow(/stopped or was restarted/);
  });
});
