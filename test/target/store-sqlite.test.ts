/** SQLite-only behaviour: several processes on one WAL file, and a locked database answering store_unavailable. */
import { DEFAULT_SQLITE_SYNCHRONOUS } from '../../target/config.ts';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../target/domain.ts';
import { SqliteStore } from '../../target/store/sqlite-store.ts';
import type { WorkerJob, WorkerMessage } from './helpers/store-sqlite-worker.ts';

const WORKER = fileURLToPath(new URL('./helpers/store-sqlite-worker.ts', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDb(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gauntlet-sqlite-'));
  dirs.push(dir);
  return join(dir, 'shared.db');
}

function startWorker(job: WorkerJob): { child: ChildProcess; ready: Promise<void>; done: Promise<WorkerMessage & { type: 'done' }> } {
  const child = fork(WORKER, [], {
    execArgv: ['--import', 'tsx'], env: { ...process.env, STORE_WORKER_JOB: JSON.stringify(job) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`worker exited early with ${String(code)}`))));
  const next = (type: WorkerMessage['type']) => Promise.race([exited, new Promise<WorkerMessage>((resolve) => {
    const onMessage = (m: WorkerMessage) => { if (m.type === type) { child.off('message', onMessage); resolve(m); } };
    child.on('message', onMessage);
  })]);
  exited.catch(() => undefined); // observed through `next`; a clean exit after 'done' is expected
  return {
    child,
    ready: next('ready').then(() => undefined),
    done: next('done').then((m) => { if (m.type !== 'done') throw new Error('unexpected message'); return m; }),
  };
}

describe('sqlite store across processes', () => {
  it('two processes creating colliding families on one WAL file get unique sbd usernames, the exact limit, and no errors', async () => {
    const path = await tempDb();
    const setup = new SqliteStore({ path, busyTimeoutMs: 2_000, synchronous: DEFAULT_SQLITE_SYNCHRONOUS });
    await setup.init();
    const owners = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      setup.createUser({ username: `owner_${i}`, tokenHash: `h${i}` }, { timings: [] })));
    const greedy = await setup.createUser({ username: 'greedy', tokenHash: 'hg' }, { timings: [] });
    const namesFor = (i: number) => (i % 4 === 0 ? 'a 2' : i % 4 === 1 ? 'a' : 'Shared Name');
    const jobFor = (offset: number): WorkerJob => ({
      path, busyTimeoutMs: 2_000,
      creations: [
        ...Array.from({ length: 100 }, (_, i) => ({ ownerId: (owners[(i + offset) % 10] ?? greedy).id, name: namesFor(i), familyLimit: 100 })),
        ...Array.from({ length: 10 }, () => ({ ownerId: greedy.id, name: 'Greedy', familyLimit: 10 })),
      ],
    });
    const workers = [startWorker(jobFor(0)), startWorker(jobFor(5))];
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.send({ type: 'go' });
    const [a, b] = await Promise.all(workers.map((w) => w.done));
    const errors = [...(a?.errors ?? []), ...(b?.errors ?? [])];
    expect(errors.filter((e) => e !== 'family_limit')).toEqual([]);
    expect(errors).toHaveLength(10);

    const readBack = (await Promise.all([...owners, greedy].map((o) => setup.listFamiliesOf(o.id, { timings: [] })))).flat();
    expect(readBack).toHaveLength(210);
    expect(new Set(readBack.map((f) => f.id)).size).toBe(210);
    expect(new Set(readBack.map((f) => f.sbdUsername)).size).toBe(210);
    expect(readBack.filter((f) => f.ownerId === greedy.id)).toHaveLength(10);
    const reported = [...(a?.created ?? []), ...(b?.created ?? [])];
    expect(new Set(reported.map((f) => f.sbdUsername))).toEqual(new Set(readBack.map((f) => f.sbdUsername)));
    await setup.close();
  });

  it('a write that waits longer than busy_timeout for the lock is store_unavailable, and succeeds once released', async () => {
    const path = await tempDb();
    const store = new SqliteStore({ path, busyTimeoutMs: 50, synchronous: DEFAULT_SQLITE_SYNCHRONOUS });
    await store.init();
    const owner = await store.createUser({ username: 'owner', tokenHash: 'h' }, { timings: [] });
    const locker = new Database(path);
    locker.exec('BEGIN IMMEDIATE');
    const blocked = await store.createFamily({ ownerId: owner.id, name: 'x', familyLimit: 10, initialBalance: 1 }, { timings: [] })
      .then(() => 'resolved', (error: unknown) => (error instanceof DomainError ? error.code : String(error)));
    expect(blocked).toBe('store_unavailable');
    expect(await store.getFamily('any', { timings: [] })).toBeNull(); // WAL: reads are not blocked by the writer
    locker.exec('ROLLBACK');
    locker.close();
    expect((await store.createFamily({ ownerId: owner.id, name: 'x', familyLimit: 10, initialBalance: 1 }, { timings: [] })).sbdUsername)
      .toBe('family_x');
    expect(store.poolStats()).toEqual({ open: 1, checkedOut: 0, max: 1 });
    await store.close();
    expect(store.poolStats().open).toBe(0);
  });
});
