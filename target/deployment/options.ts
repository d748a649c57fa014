/** Options of a deployment: defaults, validation once at the edge, and merging without mutating the caller's objects. */
import {
  DEFAULT_BALANCER_STRATEGY,
  DEFAULT_INSTANCES,
  DEFAULT_PORT,
  DEFAULT_SERVICE_CONFIG,
  DEFAULT_STORE_CHOICE,
} from '../config.ts';
import type { BalancerStrategy, CacheConfig, RateLimitConfig, ServiceConfig, StoreChoice } from '../config.ts';
import type { StopTiming } from './managed-child.ts';

/** How long a child may take from fork to its ready message (tsx compiles on first start; a busy 2-core box is slow). */
export const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** Shutdown message first; SIGTERM after `graceMs`; SIGKILL `killAfterMs` later. */
export const DEFAULT_STOP_TIMING: StopTiming = { graceMs: 5_000, killAfterMs: 2_000 };
/** More instances than this on one machine measures the scheduler, not the service. */
export const MAX_INSTANCES = 32;
/** How long a planned instance stop waits for the balancer to confirm it took the instance out of rotation. */
export const REMOVE_BACKEND_ACK_MS = 2_000;

/** Service settings to change; anything left out keeps its DEFAULT_SERVICE_CONFIG value. */
export type ServiceOverrides = Partial<Omit<ServiceConfig, 'rateLimit' | 'cache'>> & {
  readonly rateLimit?: Partial<RateLimitConfig>;
  readonly cache?: Partial<CacheConfig>;
};

/** What `startDeployment` accepts; every field has a default. */
export interface DeploymentOptions {
  readonly instances?: number;
  /** 0 picks a free port. The balancer's port for N > 1, the single instance's otherwise. */
  readonly port?: number;
  readonly store?: StoreChoice;
  readonly mongoUri?: string;
  readonly service?: ServiceOverrides;
  /** Shorthand for `service.faults`; wins over it when both are given. */
  readonly faults?: boolean;
  readonly strategy?: BalancerStrategy;
  /** Extra Node.js options for every instance process (e.g. `--max-old-space-size=64` for memory pressure). */
  readonly instanceNodeArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
  readonly stopTiming?: Partial<StopTiming>;
  /** Receives every child's stdout/stderr text (it is captured for error messages either way). */
  readonly onChildOutput?: (childName: string, chunk: string) => void;
}

export interface ResolvedDeploymentOptions {
  readonly instances: number;
  readonly port: number;
  readonly store: StoreChoice;
  readonly mongoUri: string | undefined;
  readonly service: ServiceConfig;
  readonly strategy: BalancerStrategy;
  readonly instanceNodeArgs: readonly string[];
  readonly readyTimeoutMs: number;
  readonly stopTiming: StopTiming;
  readonly onChildOutput: ((childName: string, chunk: string) => void) | undefined;
}

/** `base` with `overrides` laid over it, as new objects. */
export function mergeServiceConfig(base: ServiceConfig, overrides: ServiceOverrides | undefined): ServiceConfig {
  if (overrides === undefined) return base;
  return {
    ...base,
    ...overrides,
    rateLimit: { ...base.rateLimit, ...overrides.rateLimit },
    cache: { ...base.cache, ...overrides.cache },
  };
}

function requireInt(name: string, value: number, min: number, max: number, fix: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}; ${fix}`);
  }
}

/** Every option with its default filled in, validated; throws RangeError naming the bad option and how to fix it. */
export function resolveDeploymentOptions(options: DeploymentOptions, base: ServiceConfig = DEFAULT_SERVICE_CONFIG): ResolvedDeploymentOptions {
  const service = mergeServiceConfig(base, options.faults === undefined ? options.service : { ...options.service, faults: options.faults });
  const resolved: ResolvedDeploymentOptions = {
    instances: options.instances ?? DEFAULT_INSTANCES,
    port: options.port ?? DEFAULT_PORT,
    store: options.store ?? DEFAULT_STORE_CHOICE,
    mongoUri: options.mongoUri,
    service,
    strategy: options.strategy ?? DEFAULT_BALANCER_STRATEGY,
    instanceNodeArgs: options.instanceNodeArgs ?? [],
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    stopTiming: { ...DEFAULT_STOP_TIMING, ...options.stopTiming },
    onChildOutput: options.onChildOutput,
  };
  const big = Number.MAX_SAFE_INTEGER;
  requireInt('instances', resolved.instances, 1, MAX_INSTANCES, 'use fewer instances than this machine has room for');
  requireInt('port', resolved.port, 0, 65_535, 'use 0 for a free port');
  requireInt('readyTimeoutMs', resolved.readyTimeoutMs, 1, big, 'give the children time to start');
  requireInt('stopTiming.graceMs', resolved.stopTiming.graceMs, 0, big, 'use 0 to send SIGTERM at once');
  requireInt('stopTiming.killAfterMs', resolved.stopTiming.killAfterMs, 0, big, 'use 0 to send SIGKILL at once');
  requireInt('service.familyLimit', service.familyLimit, 1, big, 'a user may own this many families');
  requireInt('service.initialBalance', service.initialBalance, 0, big, 'tokens are whole and never negative');
  requireInt('service.rateLimit.limit', service.rateLimit.limit, 1, big, 'raise the limit instead of disabling it');
  requireInt('service.rateLimit.windowMs', service.rateLimit.windowMs, 1, big, 'the window is in milliseconds');
  requireInt('service.cache.maxEntries', service.cache.maxEntries, 1, big, 'the cache holds at least one family');
  requireInt('service.cache.ttlMs', service.cache.ttlMs, 1, big, 'the TTL is in milliseconds');
  const badArg = resolved.instanceNodeArgs.find((arg) => !/^--[a-z][a-z0-9-]*(=.*)?$/.test(arg));
  if (badArg !== undefined) throw new RangeError(`instanceNodeArgs: '${badArg}' is not a Node.js option; write options like --max-old-space-size=64`);
  if (resolved.mongoUri !== undefined && resolved.store === 'sqlite') {
    throw new RangeError('a MongoDB URI was given with store "sqlite"; drop the URI or choose store "mongo" or "auto"');
  }
  return resolved;
}
