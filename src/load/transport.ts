/**
 * The client per target origin: an undici Pool (keep-alive, configurable connections and
 * pipelining) driven through `dispatch` with a lean handler. The handler uses undici's
 * callback shape (onConnect/onHeaders/onData/onComplete/onError) because it hands over the raw
 * header buffers: the newer controller shape parses every response's headers into an object,
 * which the hot path does not need.
 */
import { Client, Pool } from 'undici';
import type { RequestSpec } from './request.ts';
import { LOAD_DEFAULTS } from './defaults.ts';

/** Callbacks of one request/response exchange (a subset of undici's dispatch handler). */
export interface ExchangeHandler {
  /** Called when the request is written to a socket (again, if undici retries it). */
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(error: Error): void;
}

/** Sends requests to one origin; every request ends in exactly one onComplete or onError. */
export interface Transport {
  /** `lane` names the caller's worker; a pinned transport sends each lane on its own connection. */
  dispatch(spec: RequestSpec, handler: ExchangeHandler, lane: number): void;
  /** Sockets currently connected to the target. */
  connectedSockets(): number;
  /** Waits for queued requests, then closes every socket. */
  close(): Promise<void>;
  /** Fails every queued and in-flight request, then closes every socket. */
  destroy(): Promise<void>;
}

export interface PoolTransportOptions {
  connections?: number;
  pipelining?: number;
  timeoutMs?: number;
  /** Body size limit per response (LOAD_DEFAULTS.maxBodyBytes); Infinity for none. */
  maxBodyBytes?: number;
  /**
   * One undici Client per connection, lane i always on connection i (mod connections): what a
   * closed-model worker is, and it skips the pool's search for a free client on every request.
   */
  pinned?: boolean;
}

/** A Transport over an undici Pool for `origin` (e.g. `http://127.0.0.1:8080`). */
export function createPoolTransport(origin: string, options: PoolTransportOptions = {}): Transport {
  const connections = options.connections ?? LOAD_DEFAULTS.connections;
  const pipelining = options.pipelining ?? LOAD_DEFAULTS.pipelining;
  const timeoutMs = options.timeoutMs ?? LOAD_DEFAULTS.timeoutMs;
  if (!(Number.isInteger(connections) && connections > 0)) throw new Error(`connections must be a positive integer, got ${connections}`);
  if (!(Number.isInteger(pipelining) && pipelining > 0)) throw new Error(`pipelining must be a positive integer, got ${pipelining}`);
  const clientOptions = { pipelining, connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, maxResponseSize: undiciMaxResponseSize(options.maxBodyBytes ?? LOAD_DEFAULTS.maxBodyBytes) };
  if (options.pinned === true) return pinnedTransport(origin, connections, clientOptions);
  const pool = new Pool(origin, { connections, ...clientOptions });
  let settled: Promise<void> | undefined;
  return {
    dispatch(spec, handler) {
      // The spec already has undici's DispatchOptions shape: no copy per request.
      pool.dispatch(spec, handler);
    },
    connectedSockets: () => pool.stats.connected,
    close() {
      settled ??= pool.close();
      return settled;
    },
    destroy() {
      settled = pool.destroyed ? (settled ?? Promise.resolve()) : pool.destroy();
      return settled;
    },
  };
}

/** undici's `maxResponseSize` for a body limit: -1 is its "no limit". */
export function undiciMaxResponseSize(maxBodyBytes: number): number {
  if (maxBodyBytes === Infinity) return -1;
  if (!(Number.isInteger(maxBodyBytes) && maxBodyBytes >= 0)) throw new Error(`maxBodyBytes must be a non-negative integer or Infinity, got ${maxBodyBytes}`);
  return maxBodyBytes;
}

function pinnedTransport(origin: string, connections: number, clientOptions: Client.Options): Transport {
  const clients = Array.from({ length: connections }, () => new Client(origin, clientOptions));
  const all = (op: (c: Client) => Promise<void>): Promise<void> => Promise.all(clients.map(op)).then(() => undefined);
  let settled: Promise<void> | undefined;
  return {
    dispatch(spec, handler, lane) {
      // lane is a worker index in [0, connections) in the closed model; the modulo guards others.
      (clients[lane % connections] ?? clients[0])?.dispatch(spec, handler);
    },
    connectedSockets: () => clients.reduce((n, c) => n + (c.stats.connected ? 1 : 0), 0),
    close() {
      settled ??= all((c) => c.close());
      return settled;
    },
    destroy() {
      settled = all((c) => (c.destroyed ? Promise.resolve() : c.destroy()));
      return settled;
    },
  };
}
