/** Test harness: a real service on 127.0.0.1 port 0 over a SQLite temp file, and a small HTTP client. */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { DEFAULT_SERVICE_CONFIG, TARGET_HOST, type ServiceConfig } from '../../../target/config.ts';
import { createService, type Service } from '../../../target/service/create-service.ts';
import { openStore } from '../../../target/store/open-store.ts';
import type { Store } from '../../../target/store/store.ts';

export interface TempDb {
  readonly path: string;
  remove(): Promise<void>;
}

/** A fresh directory holding one SQLite file path (the file is created by the store). */
export async function tempDb(): Promise<TempDb> {
  const dir = await mkdtemp(join(tmpdir(), 'gauntlet-service-'));
  return { path: join(dir, 'service.sqlite'), remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface RunningService {
  readonly url: string;
  readonly service: Service;
  readonly store: Store;
  readonly client: TestClient;
  /** Closes client, server and store (not the database file). */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly dbPath: string;
  readonly config?: Partial<ServiceConfig>;
  readonly instanceId?: string;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  /** Wraps the store the service sees (a deliberately broken variant for a test); `store` stays the real one. */
  readonly wrapStore?: (store: Store) => Store;
}

/** Opens a store on `dbPath` and starts one service instance on it. */
export async function startService(options: StartOptions): Promise<RunningService> {
  const config: ServiceConfig = { ...DEFAULT_SERVICE_CONFIG, ...options.config };
  const store = await openStore({ kind: 'sqlite', path: options.dbPath }, config);
  const service = createService({
    store: options.wrapStore === undefined ? store : options.wrapStore(store),
    config,
    instanceId: options.instanceId ?? 'test-instance',
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  await new Promise<void>((resolve) => service.server.listen(0, TARGET_HOST, resolve));
  const url = `http://${TARGET_HOST}:${(service.server.address() as AddressInfo).port}`;
  const client = new TestClient(url);
  return {
    url,
    service,
    store,
    client,
    async close() {
      await client.close();
      await service.close();
      await store.close();
    },
  };
}

export interface CallOptions {
  readonly token?: string;
  /** Serialised as JSON with `Content-Type: application/json`. */
  readonly json?: unknown;
  /** Sent as is (set the content type yourself in `headers`). */
  readonly raw?: string | Buffer;
  readonly headers?: Record<string, string>;
}

export interface CallResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed JSON body (`undefined` when it is not JSON). */
  readonly body: unknown;
}

/** An HTTP client with its own connection pool, closed by the test. */
export class TestClient {
  private readonly agent = new Agent({ connections: 16 });

  constructor(readonly baseUrl: string) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined = options.raw;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await request(`${this.baseUrl}${path}`, {
      method: method as 'GET',
      headers,
      ...(body === undefined ? {} : { body }),
      dispatcher: this.agent,
    });
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined; // not JSON (e.g. /metrics); callers read `text`
    }
    return { status: response.statusCode, headers: response.headers, text, body: parsed };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The error code of an error reply (`{"error":{"code"}}`), or undefined. */
export function errorCode(result: CallResult): string | undefined {
  const body = result.body as { error?: { code?: string } } | undefined;
  return body?.error?.code;
}

export interface TestUser {
  readonly id: string;
  readonly username: string;
  readonly token: string;
}

let userCounter = 0;

/** Creates a user with a unique name (per process) and returns its token. */
export async function createUser(client: TestClient, prefix = 'user'): Promise<TestUser> {
  userCounter += 1;
  const username = `${prefix}_${process.pid}_${userCounter}`.slice(0, 32);
  const result = await client.call('POST', '/users', { json: { username } });
  if (result.status !== 201) throw new Error(`POST /users answered ${result.status}: ${result.text}`);
  return result.body as TestUser;
}

/** One header as a single string (throws when absent, so tests fail with a clear message). */
export function header(result: CallResult, name: string): string {
  const value = result.headers[name.toLowerCase()];
  if (value === undefined) throw new Error(`response has no ${name} header (status ${result.status}: ${result.text})`);
  return Array.isArray(value) ? value.join(', ') : value;
}
