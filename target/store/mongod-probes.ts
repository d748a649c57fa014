/** The real probes behind `selectStore`: find a mongod without downloading, fetch one (bounded), start a replica set. */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DryMongoBinary, MongoMemoryReplSet } from 'mongodb-memory-server';
import type { BinaryLookup, DownloadOutcome, RunningMongo, StoreProbes } from './select-store.ts';

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false; // not there or not executable: the caller reports what it searched
  }
}

/** MONGOMS_SYSTEM_BINARY, then `mongod` on PATH, then mongodb-memory-server's download cache; never downloads. */
export async function lookupMongod(env: NodeJS.ProcessEnv = process.env): Promise<BinaryLookup> {
  const system = env.MONGOMS_SYSTEM_BINARY ?? '';
  if (system !== '') {
    return (await executable(system))
      ? { found: true, path: system, source: 'MONGOMS_SYSTEM_BINARY' }
      : { found: false, searched: `MONGOMS_SYSTEM_BINARY=${system} (not an executable file)` };
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter((d) => d !== '')) {
    const candidate = join(dir, 'mongod');
    if (await executable(candidate)) return { found: true, path: candidate, source: 'PATH' };
  }
  const cached = await DryMongoBinary.locateBinary(await DryMongoBinary.generateOptions());
  if (cached !== undefined) return { found: true, path: cached, source: 'the mongodb-memory-server cache' };
  return { found: false, searched: 'MONGOMS_SYSTEM_BINARY (unset), mongod on PATH, the mongodb-memory-server cache' };
}

/**
 * Downloads mongod through mongodb-memory-server in a child process, killed (by its PID) after `timeoutMs`,
 * so a hanging download cannot outlive the decision.
 */
export function downloadMongod(timeoutMs: number): Promise<DownloadOutcome> {
  const mms = pathToFileURL(createRequire(import.meta.url).resolve('mongodb-memory-server')).href;
  const script = `const { MongoBinary } = await import(${JSON.stringify(mms)});
try { process.stdout.write(await MongoBinary.getPath()); }
catch (e) { process.stderr.write(String(e instanceof Error ? e.message : e).replace(/\\s+/g, ' ')); process.exitCode = 1; }`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // One attempt unless the user configured retries: an offline machine (ENOTFOUND) should not wait out backoffs.
      env: { ...process.env, MONGOMS_MAX_RETRIES: process.env.MONGOMS_MAX_RETRIES ?? '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ ok: false, reason: `the download did not finish within ${timeoutMs} ms` });
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `the download could not start: ${error.message}` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && out.trim() !== '') resolve({ ok: true, path: out.trim() });
      else resolve({ ok: false, reason: err.trim() === '' ? `the download exited with ${String(code)}` : shortDownloadError(err) });
    });
  });
}

/** A single-node replica set (transactions need one) on `binaryPath`, with its data in a temp directory. */
export async function startReplSet(binaryPath: string): Promise<RunningMongo> {
  const replSet = await MongoMemoryReplSet.create({
    binary: { systemBinary: binaryPath }, replSet: { count: 1, storageEngine: 'wiredTiger' },
  });
  return { uri: replSet.getUri(), stop: async () => { await replSet.stop({ doCleanup: true, force: true }); } };
}

/** The probes `selectStore` uses unless a test injects its own. */
export function defaultStoreProbes(env: NodeJS.ProcessEnv = process.env): StoreProbes {
  return {
    lookupMongod: () => lookupMongod(env),
    downloadMongod,
    startReplSet,
    makeTempDir: () => mkdtemp(join(tmpdir(), 'gauntlet-target-')),
    removeDir: (dir) => rm(dir, { recursive: true, force: true }),
  };
}

/** The gist of mongodb-memory-server's download error, e.g. `getaddrinfo ENOTFOUND <host>`, not the whole URL. */
export function shortDownloadError(stderr: string): string {
  const details = /Details: ([^\n]+)/.exec(stderr);
  const line = details?.[1] ?? stderr.trim().split('\n').pop() ?? stderr;
  return line.trim().slice(0, 200);
}
