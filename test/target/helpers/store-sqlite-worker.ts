/** A child process with its own SqliteStore on a shared file: creates families when told to, reports the outcome. */
import { DEFAULT_SQLITE_SYNCHRONOUS } from '../../../target/config.ts';
import { DomainError } from '../../../target/domain.ts';
import { SqliteStore } from '../../../target/store/sqlite-store.ts';

export interface WorkerJob {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly creations: readonly { readonly ownerId: string; readonly name: string; readonly familyLimit: number }[];
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly created: readonly { id: string; sbdUsername: string }[]; readonly errors: readonly string[] };

const job = JSON.parse(process.env.STORE_WORKER_JOB ?? 'null') as WorkerJob | null;
if (job === null || process.send === undefined) throw new Error('run by store-sqlite.test.ts with STORE_WORKER_JOB and an IPC channel');
const send = process.send.bind(process);

const store = new SqliteStore({ path: job.path, busyTimeoutMs: job.busyTimeoutMs, synchronous: DEFAULT_SQLITE_SYNCHRONOUS });
await store.init();
process.once('message', () => {
  void (async () => {
    const results = await Promise.allSettled(job.creations.map((c) =>
      store.createFamily({ ...c, initialBalance: 1000 }, { timings: [] })));
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? [{ id: r.value.id, sbdUsername: r.value.sbdUsername }] : []));
    const errors = results.flatMap((r) => (r.status === 'rejected'
      ? [r.reason instanceof DomainError ? r.reason.code : String(r.reason)] : []));
    await store.close();
    const done: WorkerMessage = { type: 'done', created, errors };
    send(done, () => process.disconnect());
  })();
});
const ready: WorkerMessage = { type: 'ready' };
send(ready);
