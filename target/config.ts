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
  /** How long a write waits for a locked database before answering 503 (SQLite busy_timeout). */
  readonly dbBusyTimeoutMs: number;
  /** SQLite `synchronous` pragma: when a commit waits for the disk (see DEFAULT_SQLITE_SYNCHRONOUS). */
  readonly sqliteSynchronous: SqliteSynchronous;
  /** Enables `x-fault` headers and `/_faults/*`; off unless asked for. */
  readonly faults: boolean;
}

export const DEFAULT_FAMILY_LIMIT = 10;
export const DEFAULT_INITIAL_BALANCE = 1000;
export const DEFAULT_RATE_LIMIT: RateLimitConfig = { limit: 5, windowMs: 60_000 };
export const DEFAULT_CACHE: CacheConfig = { maxEntries: 1000, ttlMs: 30_000 };
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_DB_POOL_SIZE = 10;
export const DEFAULT_DB_BUSY_TIMEOUT_MS = 2_000;

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
