/** Resolves `--store auto|mongo|sqlite` into a concrete StoreSpec, saying why in one line; never a silent switch. */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { StoreChoice, StoreSpec } from '../config.ts';
import { defaultStoreProbes } from './mongod-probes.ts';

export type BinaryLookup =
  | { readonly found: true; readonly path: string; readonly source: string }
  | { readonly found: false; readonly searched: string };

export type DownloadOutcome = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

export interface RunningMongo {
  readonly uri: string;
  stop(): Promise<void>;
}

/** The side effects of selection, injected so the decision logic is tested without binaries or network. */
export interface StoreProbes {
  lookupMongod(): Promise<BinaryLookup>;
  downloadMongod(timeoutMs: number): Promise<DownloadOutcome>;
  startReplSet(binaryPath: string): Promise<RunningMongo>;
  makeTempDir(): Promise<string>;
  removeDir(dir: string): Promise<void>;
}

export interface StoreSelectionRequest {
  readonly choice: StoreChoice;
  /** `--mongo-uri`; when absent or empty, `MONGODB_URI` from `env` is used. */
  readonly mongoUri?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Try to download mongod when none is found (default true). */
  readonly allowDownload?: boolean;
  readonly downloadTimeoutMs?: number;
}

export interface SelectedStore {
  readonly spec: StoreSpec;
  /** One line for a human: which store, and why. */
  readonly reason: string;
  /** Stops what selection started (a mongod) and removes a temp SQLite directory. Idempotent. */
  stop(): Promise<void>;
}

/** `--store mongo` that cannot be satisfied; the message says what to set. */
export class StoreSelectionError extends Error {
  override readonly name = 'StoreSelectionError';
}

/** How long `auto`/`mongo` wait for a mongod download before giving up on it. */
export const DEFAULT_MONGOD_DOWNLOAD_TIMEOUT_MS = 20_000;
/** File name of the SQLite database inside its fresh temp directory. */
export const SQLITE_FILE_NAME = 'target.db';

/** Each call names a fresh database: a new temp file, or a unique MongoDB database name. */
export async function selectStore(request: StoreSelectionRequest, probes?: StoreProbes): Promise<SelectedStore> {
  const env = request.env ?? process.env;
  const p = probes ?? defaultStoreProbes(env);
  const dbName = `gauntlet_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const fromOption = nonEmpty(request.mongoUri);
  const uri = fromOption ?? nonEmpty(env.MONGODB_URI);

  if (request.choice === 'sqlite') return sqlite(p, '--store sqlite');
  if (uri !== undefined) {
    const source = fromOption !== undefined ? '--mongo-uri' : 'MONGODB_URI';
    return {
      spec: { kind: 'mongo', uri, dbName },
      reason: `store: MongoDB at ${redact(uri)} (from ${source}), database ${dbName}`,
      stop: () => Promise.resolve(),
    };
  }

  const binary = await findOrFetch(p, request);
  if (binary.ok) {
    try {
      const mongo = await p.startReplSet(binary.path);
      return {
        spec: { kind: 'mongo', uri: mongo.uri, dbName },
        reason: `store: MongoDB, a single-node replica set on ${binary.path} (${binary.how}), database ${dbName}`,
        stop: once(() => mongo.stop()),
      };
    } catch (error) {
      const why = `mongod at ${binary.path} (${binary.how}) failed to start: ${error instanceof Error ? error.message : String(error)}`;
      if (request.choice === 'mongo') throw new StoreSelectionError(`--store mongo: ${why}. Set --mongo-uri or MONGODB_URI to a running replica set, or use --store sqlite.`);
      return sqlite(p, why);
    }
  }
  if (request.choice === 'mongo') {
    throw new StoreSelectionError(
      `--store mongo needs MongoDB, and none is available: no URI given (set --mongo-uri or MONGODB_URI to a replica set), `
      + `${binary.why}. Set MONGOMS_SYSTEM_BINARY to a mongod binary, or use --store sqlite.`);
  }
  return sqlite(p, binary.why);
}

type Binary = { ok: true; path: string; how: string } | { ok: false; why: string };

async function findOrFetch(p: StoreProbes, request: StoreSelectionRequest): Promise<Binary> {
  const lookup = await p.lookupMongod();
  if (lookup.found) return { ok: true, path: lookup.path, how: `found via ${lookup.source}` };
  const notFound = `no mongod binary found (searched ${lookup.searched})`;
  if (request.allowDownload === false) return { ok: false, why: `${notFound} and downloading is off` };
  const download = await p.downloadMongod(request.downloadTimeoutMs ?? DEFAULT_MONGOD_DOWNLOAD_TIMEOUT_MS);
  if (download.ok) return { ok: true, path: download.path, how: 'downloaded' };
  return { ok: false, why: `${notFound} and none could be downloaded (${download.reason})` };
}

async function sqlite(p: StoreProbes, why: string): Promise<SelectedStore> {
  const dir = await p.makeTempDir();
  const path = join(dir, SQLITE_FILE_NAME);
  const reason = why === '--store sqlite' ? `store: SQLite at ${path} (--store sqlite)` : `store: ${why}: using SQLite at ${path}`;
  return { spec: { kind: 'sqlite', path }, reason, stop: once(() => p.removeDir(dir)) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Hides credentials in a connection string before it is printed. */
export function redact(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= fn());
}
