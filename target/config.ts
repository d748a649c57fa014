/**
 * Configuration of the reference family service. Every default lives here, once; the target CLI's
 * --help and the README are written from these constants.
 */

export interface RateLimitConfig {
  /** Admitted requests per user, per limited action, per window. */
  readonly limit: number;
  readonly windowMs: number;
}

export interface CacheConfig {
  /** Most families held by one instance's cache. */
  readonly maxEntries: number;
  readonly ttlMs: number;
}

export interface ServiceConfig {
  /** Most families one user may own. */
  readonly familyLimit: number;
  /** Tokens in a new family's SBD account. */
  readonly initialBalance: number;
  readonly rateLimit: RateLimitConfig;
  readonly cache: CacheConfig;
  /** Request bodies above this many bytes get 413. */
  readonly maxBodyBytes: number;
  /** Most DB connections per instance (the MongoDB driver's maxPoolSize; SQLite uses one). */
  readonly dbPoolSize: number;
  /**
   * SQLite busy_timeout: how long one attempt BLOCKS the instance's event loop waiting for a lock
   * (better-sqlite3 is synchronous). 0 by default: waits happen in `storeWaitMs`, off the event loop.
   */
  readonly dbBusyTimeoutMs: number;
  /**
   * How long one store operation waits for a locked SQLite database (retrying without blocking the
   * event loop) or for a pooled MongoDB connection (waitQueueTimeoutMS) before it answers 503.
   */
  readonly storeWaitMs: number;
  readonly storeBreaker: StoreBreakerConfig;
  readonly admission: AdmissionConfig;
  /** SQLite `synchronous` pragma: when a commit waits for the disk (see DEFAULT_SQLITE_SYNCHRONOUS). */
  readonly sqliteSynchronous: SqliteSynchronous;
  /** Enables `x-fault` headers and `/_faults/*`; off unless asked for. */
  readonly faults: boolean;
}

/**
 * The store-unavailable circuit breaker (target/service/circuit-breaker.ts): one circuit for reads,
 * one for writes, per instance. After `failureThreshold` consecutive `store_unavailable` failures a
 * circuit opens: its operations answer 503 with `Retry-After` at once, without touching the store,
 * for `coolDownMs`; then one operation probes the store and closes the circuit when it answers.
 */
export interface StoreBreakerConfig {
  /** Off: every request waits out an unavailable store itself, however long it stays so. */
  readonly enabled: boolean;
  readonly failureThreshold: number;
  readonly coolDownMs: number;
}

/**
 * Admission control (target/service/admission.ts): an instance answers 503 with `Retry-After` before
 * doing any work when it holds `maxInFlight` requests already, or when its event loop has lagged
 * more than `lagTargetMs` for at least `lagIntervalMs` (a standing queue, not a burst). `/healthz`
 * and `/metrics` are always admitted.
 */
export interface AdmissionConfig {
  /** 0 = no limit. */
  readonly maxInFlight: number;
  /** 0 = no lag-based shedding. */
  readonly lagTargetMs: number;
  /** A backlog that drains within this long (a barrier burst) is queued, not shed. */
  readonly lagIntervalMs: number;
}

export const DEFAULT_FAMILY_LIMIT = 10;
export const DEFAULT_INITIAL_BALANCE = 1000;
export const DEFAULT_RATE_LIMIT: RateLimitConfig = { limit: 5, windowMs: 60_000 };
export const DEFAULT_CACHE: CacheConfig = { maxEntries: 1000, ttlMs: 30_000 };
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_DB_POOL_SIZE = 10;
/** Never block the event loop on a lock: a blocked instance answers nothing else meanwhile (DEFAULT_STORE_WAIT_MS waits instead). */
export const DEFAULT_DB_BUSY_TIMEOUT_MS = 0;
/**
 * Long enough for the write lock's normal contention (two instances' bursts of transactions of well
 * under a millisecond each), short enough that a request on a stalled store fails fast.
 */
export const DEFAULT_STORE_WAIT_MS = 250;
export const DEFAULT_STORE_BREAKER: StoreBreakerConfig = { enabled: true, failureThreshold: 3, coolDownMs: 1_000 };
/**
 * 50 ms of lag is a standing queue a user notices; 1 s of it before shedding lets the barrier bursts
 * of the concurrency scenarios (a thousand simultaneous writes over two instances queue ~0.5 s) be
 * served, while a sustained overload is shed within a second. 1,024 in flight bounds the memory of
 * requests waiting on a slow store (each holds a socket and its state).
 */
export const DEFAULT_ADMISSION: AdmissionConfig = { maxInFlight: 1_024, lagTargetMs: 50, lagIntervalMs: 1_000 };
/** `Retry-After` of a request shed by admission control. */
export const OVERLOAD_RETRY_AFTER_S = 1;

export type SqliteSynchronous = 'off' | 'normal' | 'full';
export const SQLITE_SYNCHRONOUS_MODES: readonly SqliteSynchronous[] = ['off', 'normal', 'full'];
/**
 * `off`: a commit never waits for fsync. With WAL every committed transaction still survives a
 * crash of the service process (what the reliability scenarios provoke); only an OS crash or power
 * loss could lose the last commits. The embedded target's database lives for one run, so that
 * durability buys nothing there, while the fsync of each WAL checkpoint dominated its p99 (12 ms
 * with `normal` vs 6 ms with `off` at 1,000 creations/s here). Choose `normal` or `full` to measure
 * a durable configuration.
 */
export const DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = 'off';

export const DEFAULT_SERVICE_CONFIG: ServiceConfig = {
  familyLimit: DEFAULT_FAMILY_LIMIT,
  initialBalance: DEFAULT_INITIAL_BALANCE,
  rateLimit: DEFAULT_RATE_LIMIT,
  cache: DEFAULT_CACHE,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  dbPoolSize: DEFAULT_DB_POOL_SIZE,
  dbBusyTimeoutMs: DEFAULT_DB_BUSY_TIMEOUT_MS,
  storeWaitMs: DEFAULT_STORE_WAIT_MS,
  storeBreaker: DEFAULT_STORE_BREAKER,
  admission: DEFAULT_ADMISSION,
  sqliteSynchronous: DEFAULT_SQLITE_SYNCHRONOUS,
  faults: false,
};

/** Where the data lives. `auto` is resolved once, at deployment start, to one of the others. */
export type StoreSpec =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'mongo'; readonly uri: string; readonly dbName: string };

export type StoreChoice = 'auto' | 'mongo' | 'sqlite';
export const DEFAULT_STORE_CHOICE: StoreChoice = 'auto';

export const BALANCER_STRATEGIES = ['round-robin', 'least-connections'] as const;
export type BalancerStrategy = (typeof BALANCER_STRATEGIES)[number];
export const DEFAULT_BALANCER_STRATEGY: BalancerStrategy = 'round-robin';
export const DEFAULT_INSTANCES = 1;
/** 0 asks the OS for a free port; the deployment reports the one it got. */
export const DEFAULT_PORT = 0;
/** Loopback only: the service is a load-test target, never exposed. */
export const TARGET_HOST = '127.0.0.1';
