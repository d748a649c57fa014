/** selectStore's decision logic on injected probes, and the real mongod lookup on a fake PATH. */
import { access, chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lookupMongod, shortDownloadError } from '../../target/store/mongod-probes.ts';
import { openStore } from '../../target/store/open-store.ts';
import { DEFAULT_SERVICE_CONFIG } from '../../target/config.ts';
import { StoreSelectionError, selectStore } from '../../target/store/select-store.ts';
import type { BinaryLookup, DownloadOutcome, StoreProbes } from '../../target/store/select-store.ts';

interface FakeWorld {
  lookup?: BinaryLookup;
  download?: DownloadOutcome;
  startFails?: string;
}

function fakeProbes(world: FakeWorld) {
  const calls: string[] = [];
  let dirs = 0;
  const probes: StoreProbes = {
    lookupMongod: () => { calls.push('lookup'); return Promise.resolve(world.lookup ?? { found: false, searched: 'nowhere' }); },
    downloadMongod: (timeoutMs) => {
      calls.push(`download ${timeoutMs}`);
      return Promise.resolve(world.download ?? { ok: false, reason: 'offline' });
    },
    startReplSet: (path) => {
      calls.push(`start ${path}`);
      if (world.startFails !== undefined) return Promise.reject(new Error(world.startFails));
      return Promise.resolve({ uri: 'mongodb://127.0.0.1:1234/?replicaSet=rs', stop: () => { calls.push('stop mongod'); return Promise.resolve(); } });
    },
    makeTempDir: () => { dirs += 1; calls.push('mkdtemp'); return Promise.resolve(`/tmp/fake-${dirs}`); },
    removeDir: (dir) => { calls.push(`rm ${dir}`); return Promise.resolve(); },
  };
  return { probes, calls };
}

const FOUND: BinaryLookup = { found: true, path: '/opt/mongod', source: 'PATH' };

describe('selectStore', () => {
  it('--store sqlite: a fresh temp file, no mongod probing, stop removes the directory once', async () => {
    const { probes, calls } = fakeProbes({ lookup: FOUND });
    const a = await selectStore({ choice: 'sqlite', mongoUri: 'mongodb://x', env: {} }, probes);
    const b = await selectStore({ choice: 'sqlite', env: {} }, probes);
    expect(a.spec).toEqual({ kind: 'sqlite', path: '/tmp/fake-1/target.db' });
    expect(b.spec).toEqual({ kind: 'sqlite', path: '/tmp/fake-2/target.db' });
    expect(a.reason).toBe('store: SQLite at /tmp/fake-1/target.db (--store sqlite)');
    await a.stop();
    await a.stop();
    expect(calls).toEqual(['mkdtemp', 'mkdtemp', 'rm /tmp/fake-1']);
  });

  it('auto with a URI uses it (option before MONGODB_URI) with a unique database, credentials hidden', async () => {
    const { probes, calls } = fakeProbes({});
    const a = await selectStore({ choice: 'auto', mongoUri: 'mongodb://u:secret@db:27017/?replicaSet=rs', env: { MONGODB_URI: 'mongodb://env' } }, probes);
    const b = await selectStore({ choice: 'auto', env: { MONGODB_URI: 'mongodb://env' } }, probes);
    expect(a.spec).toMatchObject({ kind: 'mongo', uri: 'mongodb://u:secret@db:27017/?replicaSet=rs' });
    expect(a.reason).toContain('mongodb://***@db:27017');
    expect(a.reason).toContain('--mongo-uri');
    expect(a.reason).not.toContain('secret');
    expect(b.spec).toMatchObject({ kind: 'mongo', uri: 'mongodb://env' });
    expect(b.reason).toContain('MONGODB_URI');
    const names = [a.spec, b.spec].map((s) => (s.kind === 'mongo' ? s.dbName : ''));
    expect(names[0]).toMatch(/^gauntlet_[0-9a-f]{16}$/);
    expect(names[0]).not.toBe(names[1]);
    expect(calls).toEqual([]);
  });

  it('auto with a mongod binary found starts a replica set on it and stop() stops it', async () => {
    const { probes, calls } = fakeProbes({ lookup: FOUND });
    const s = await selectStore({ choice: 'auto', env: {} }, probes);
    expect(s.spec).toMatchObject({ kind: 'mongo', uri: 'mongodb://127.0.0.1:1234/?replicaSet=rs' });
    expect(s.reason).toContain('/opt/mongod (found via PATH)');
    await s.stop();
    expect(calls).toEqual(['lookup', 'start /opt/mongod', 'stop mongod']);
  });

  it('auto downloads (bounded) when nothing is found, and uses the download', async () => {
    const { probes, calls } = fakeProbes({ download: { ok: true, path: '/cache/mongod' } });
    const s = await selectStore({ choice: 'auto', env: {}, downloadTimeoutMs: 1234 }, probes);
    expect(s.spec.kind).toBe('mongo');
    expect(s.reason).toContain('/cache/mongod (downloaded)');
    expect(calls).toEqual(['lookup', 'download 1234', 'start /cache/mongod']);
  });

  it('auto falls back to SQLite saying why when no mongod is found or downloadable', async () => {
    const { probes, calls } = fakeProbes({ lookup: { found: false, searched: 'PATH' }, download: { ok: false, reason: 'ENOTFOUND' } });
    const s = await selectStore({ choice: 'auto', env: {} }, probes);
    expect(s.spec).toEqual({ kind: 'sqlite', path: '/tmp/fake-1/target.db' });
    expect(s.reason).toBe('store: no mongod binary found (searched PATH) and none could be downloaded (ENOTFOUND): using SQLite at /tmp/fake-1/target.db');
    expect(calls).toEqual(['lookup', 'download 20000', 'mkdtemp']);
  });

  it('auto without downloads does not try one; a mongod that fails to start falls back with its error', async () => {
    const off = fakeProbes({});
    const s = await selectStore({ choice: 'auto', env: {}, allowDownload: false }, off.probes);
    expect(s.reason).toContain('downloading is off: using SQLite');
    expect(off.calls).toEqual(['lookup', 'mkdtemp']);
    const broken = fakeProbes({ lookup: FOUND, startFails: 'exit code 62' });
    expect((await selectStore({ choice: 'auto', env: {} }, broken.probes)).reason)
      .toContain('mongod at /opt/mongod (found via PATH) failed to start: exit code 62: using SQLite at');
  });

  it('--store mongo never switches silently: an error that says what to set', async () => {
    const none = fakeProbes({});
    const error = await selectStore({ choice: 'mongo', env: { MONGODB_URI: '  ' } }, none.probes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreSelectionError);
    expect(String(error)).toMatch(/MONGODB_URI.*MONGOMS_SYSTEM_BINARY.*--store sqlite/);
    expect(none.calls).not.toContain('mkdtemp');
    const broken = fakeProbes({ lookup: FOUND, startFails: 'boom' });
    await expect(selectStore({ choice: 'mongo', env: {} }, broken.probes)).rejects.toThrow(/failed to start: boom.*MONGODB_URI/);
    const given = fakeProbes({});
    expect((await selectStore({ choice: 'mongo', mongoUri: 'mongodb://h', env: {} }, given.probes)).spec.kind).toBe('mongo');
  });
});

describe('lookupMongod (real file system, never downloads)', () => {
  const dirs: string[] = [];
  afterEach(async () => { await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))); });

  it('finds an executable mongod on PATH, honours MONGOMS_SYSTEM_BINARY, and says what it searched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gauntlet-path-'));
    dirs.push(dir);
    const fake = join(dir, 'mongod');
    await writeFile(fake, '#!/bin/sh\n');
    await chmod(fake, 0o755);
    expect(await lookupMongod({ PATH: `/nonexistent:${dir}` })).toEqual({ found: true, path: fake, source: 'PATH' });
    expect(await lookupMongod({ PATH: dir, MONGOMS_SYSTEM_BINARY: fake })).toEqual({ found: true, path: fake, source: 'MONGOMS_SYSTEM_BINARY' });
    expect(await lookupMongod({ PATH: dir, MONGOMS_SYSTEM_BINARY: join(dir, 'missing') }))
      .toEqual({ found: false, searched: `MONGOMS_SYSTEM_BINARY=${join(dir, 'missing')} (not an executable file)` });
    await chmod(fake, 0o644);
    const none = await lookupMongod({ PATH: dir });
    // A machine with a cached download legitimately finds that one instead.
    expect(none.found ? none.source : 'not found').toMatch(/^(not found|the mongodb-memory-server cache)$/);
  });
});

describe('selectStore with the real probes', () => {
  it('--store sqlite gives a fresh, openable file in a new temp directory that stop() removes', async () => {
    const a = await selectStore({ choice: 'sqlite', env: {} });
    const b = await selectStore({ choice: 'sqlite', env: {} });
    if (a.spec.kind !== 'sqlite' || b.spec.kind !== 'sqlite') throw new Error('expected SQLite specs');
    expect(a.spec.path).not.toBe(b.spec.path);
    const store = await openStore(a.spec, DEFAULT_SERVICE_CONFIG);
    expect(await store.findUserByUsername('nobody', { timings: [] })).toBeNull();
    await store.close();
    await Promise.all([a.stop(), b.stop()]);
    await expect(access(a.spec.path)).rejects.toThrow(/ENOENT/);
  });
});

describe('shortDownloadError', () => {
  it('keeps the gist of a failed mongod download, not the whole message', () => {
    const stderr = 'Error: Download failed for url "https://example.invalid/mongodb.tgz", Details: getaddrinfo ENOTFOUND example.invalid\n    at x';
    expect(shortDownloadError(stderr)).toBe('getaddrinfo ENOTFOUND example.invalid');
    expect(shortDownloadError('something else broke\nlast line')).toBe('last line');
  });
});
