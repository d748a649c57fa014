/** Opens fresh stores of each implementation for the contract suite. */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { MongoMemoryReplSet } from 'mongodb-memory-server';
import { DEFAULT_SERVICE_CONFIG } from '../../../target/config.ts';
import type { ServiceConfig } from '../../../target/config.ts';
import { openStore } from '../../../target/store/open-store.ts';
import type { Store } from '../../../target/store/store.ts';

export interface StoreHarness {
  readonly kind: 'sqlite' | 'mongo';
  /** Why this implementation cannot run here, or null when it can. */
  readonly skipReason: string | null;
  /** A store on a fresh, empty database. */
  open(config?: Partial<ServiceConfig>): Promise<Store>;
  /** Closes every store opened and removes their databases. */
  cleanup(): Promise<void>;
  /** Stops anything the harness started (a mongod). */
  dispose(): Promise<void>;
}

export function sqliteHarness(): StoreHarness {
  const dirs: string[] = [];
  const stores: Store[] = [];
  return {
    kind: 'sqlite',
    skipReason: null,
    async open(config = {}) {
      const dir = await mkdtemp(join(tmpdir(), 'gauntlet-store-'));
      dirs.push(dir);
      const store = await openStore({ kind: 'sqlite', path: join(dir, 'target.db') }, { ...DEFAULT_SERVICE_CONFIG, ...config });
      stores.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
    dispose: () => Promise.resolve(),
  };
}

/** MongoDB from MONGODB_URI, or a single-node replica set on MONGOMS_SYSTEM_BINARY; skipped (with the reason) otherwise. */
export function mongoHarness(env: NodeJS.ProcessEnv = process.env): StoreHarness {
  const givenUri = env.MONGODB_URI ?? '';
  const binary = env.MONGOMS_SYSTEM_BINARY ?? '';
  const skipReason = givenUri === '' && binary === ''
    ? 'no MongoDB here: set MONGODB_URI (a replica set) or MONGOMS_SYSTEM_BINARY (a mongod binary) to run it'
    : null;
  let replSet: MongoMemoryReplSet | null = null;
  const stores: Store[] = [];
  const dbNames: string[] = [];
  let uri = givenUri;
  return {
    kind: 'mongo',
    skipReason,
    async open(config = {}) {
      if (uri === '') {
        replSet = await MongoMemoryReplSet.create({ binary: { systemBinary: binary }, replSet: { count: 1, storageEngine: 'wiredTiger' } });
        uri = replSet.getUri();
      }
      const dbName = `gauntlet_test_${randomUUID().replaceAll('-', '')}`;
      dbNames.push(dbName);
      const store = await openStore({ kind: 'mongo', uri, dbName }, { ...DEFAULT_SERVICE_CONFIG, ...config });
      stores.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      if (dbNames.length === 0) return;
      const client = await MongoClient.connect(uri);
      try {
        for (const name of dbNames.splice(0)) await client.db(name).dropDatabase();
      } finally {
        await client.close();
      }
    },
    async dispose() {
      await replSet?.stop({ doCleanup: true, force: true });
      replSet = null;
    },
  };
}
