// The instance process: ready over IPC, serves, and exits 0 on shutdown, SIGTERM or a vanished parent; bad options exit 2.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_CONFIG } from '../../target/config.ts';
import type { InstanceOptions } from '../../target/deployment/protocol.ts';
import { tempDb, TestClient, type TempDb } from './helpers/service-harness.ts';
import { forkInstance, type ForkedInstance } from './helpers/service-process.ts';

/** A forked instance compiles with tsx first; a busy 2-core machine needs a few seconds. */
const EXIT_TIMEOUT_MS = 15_000;

let db: TempDb;
const forked: ForkedInstance[] = [];

beforeAll(async () => {
  db = await tempDb();
});

afterAll(async () => {
  for (const instance of forked) instance.kill();
  await Promise.all(forked.map((instance) => instance.exited));
  await db.remove();
});

function start(instanceId: string): ForkedInstance {
  const options: InstanceOptions = { instanceId, port: 0, store: { kind: 'sqlite', path: db.path }, service: DEFAULT_SERVICE_CONFIG };
  const instance = forkInstance(JSON.stringify(options));
  forked.push(instance);
  return instance;
}

async function readyPort(instance: ForkedInstance): Promise<number> {
  const message = await instance.firstMessage;
  if (message.type !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(message)}: ${instance.output()}`);
  return message.port;
}

function withinTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${EXIT_TIMEOUT_MS} ms`)), EXIT_TIMEOUT_MS).unref()),
  ]);
}

describe('instance-main', () => {
  it('reports ready with its port, serves, and exits 0 on the shutdown message, also with an idle keep-alive connection', async () => {
    const instance = start('proc-1');
    const port = await readyPort(instance);
    const client = new TestClient(`http://127.0.0.1:${port}`);
    try {
      const health = await client.call('GET', '/healthz');
      expect(health.body).toEqual({ status: 'ok', instance: 'proc-1', store: 'sqlite' });
      // The client's keep-alive socket stays open: shutdown must close it rather than wait for it.
      const asked = performance.now();
      instance.child.send({ type: 'shutdown' });
      expect(await withinTimeout(instance.exited, 'shutdown')).toEqual({ code: 0, signal: null });
      // Under Node's 5 s keep-alive timeout: the idle socket was closed, not waited out.
      expect(performance.now() - asked).toBeLessThan(4_000);
    } finally {
      await client.close();
    }
  });

  it('exits 0 on SIGTERM and when the parent disconnects (no orphans)', async () => {
    const byTerm = start('proc-term');
    const byDisconnect = start('proc-orphan');
    await Promise.all([readyPort(byTerm), readyPort(byDisconnect)]);
    byTerm.child.kill('SIGTERM');
    byDisconnect.child.disconnect();
    expect(await withinTimeout(byTerm.exited, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await withinTimeout(byDisconnect.exited, 'disconnect')).toEqual({ code: 0, signal: null });
  });

  it.each([
    ['not JSON', '{oops'],
    ['a wrong port', JSON.stringify({ instanceId: 'x', port: 70_000, store: { kind: 'sqlite', path: '/tmp/x.sqlite' }, service: DEFAULT_SERVICE_CONFIG })],
    ['an unknown store', JSON.stringify({ instanceId: 'x', port: 0, store: { kind: 'redis' }, service: DEFAULT_SERVICE_CONFIG })],
  ])('with %s as options it reports fatal and exits 2', async (_what, raw) => {
    const instance = forkInstance(raw);
    forked.push(instance);
    const message = await instance.firstMessage;
    expect(message.type).toBe('fatal');
    expect(await withinTimeout(instance.exited, 'fatal exit')).toEqual({ code: 2, signal: null });
  });
});
