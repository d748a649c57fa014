/**
 * Prometheus metrics of one service instance, on its own prom-client Registry (never the global one).
 * Every series carries the label `instance` (the instance ID).
 *
 * Default process and Node metrics (prom-client `collectDefaultMetrics`), among them:
 *   process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds,
 *   nodejs_heap_size_used_bytes, nodejs_heap_size_total_bytes, nodejs_external_memory_bytes,
 *   nodejs_gc_duration_seconds{kind}            histogram of GC pauses by kind (minor, major, incremental, weakcb)
 *   nodejs_eventloop_lag_seconds, nodejs_eventloop_lag_p99_seconds,
 *   nodejs_active_handles_total, nodejs_active_requests_total
 * Service metrics:
 *   gauntlet_db_pool_connections_open                   gauge    DB connections open now
 *   gauntlet_db_pool_connections_checked_out            gauge    DB connections in use by an operation now
 *   gauntlet_db_pool_connections_max                    gauge    most connections the pool may open
 *   gauntlet_db_query_duration_seconds{query}           histogram per named query (the Server-Timing names)
 *   gauntlet_transactions_total{outcome}                counter  write transactions, outcome = committed | aborted
 *   gauntlet_cache_hits_total                           counter  GET /families/:id served from the cache
 *   gauntlet_cache_misses_total                         counter  GET /families/:id read from the store
 *   gauntlet_cache_evictions_total{reason}              counter  reason = capacity | ttl | invalidation
 *   gauntlet_cache_entries                              gauge    families cached now
 *   gauntlet_cache_max_entries                          gauge    configured capacity
 *   gauntlet_cache_ttl_seconds                          gauge    configured TTL
 *   gauntlet_rate_limited_requests_total{action}        counter  429s, action = families | invitations | transfers
 *   gauntlet_rate_limit_limit                           gauge    configured requests per user, action and window
 *   gauntlet_rate_limit_window_seconds                  gauge    configured window
 *   gauntlet_http_requests_total{method,route,status}   counter  route is the pattern (`/families/:id`), `unmatched` for 404s
 *   gauntlet_store_circuit_state{access}                gauge    store circuit breaker, access = read | write: 0 closed, 1 half-open, 2 open
 *   gauntlet_store_wait_seconds                         gauge    configured storeWaitMs (lock or pool wait before 503)
 *   gauntlet_requests_in_flight                         gauge    requests admitted and not yet answered
 *   gauntlet_requests_shed_total{reason}                counter  503s of admission control, reason = in_flight | lag
 *   gauntlet_admission_lag_seconds                      gauge    the event-loop lag admission control decides on
 *   gauntlet_admission_max_in_flight                    gauge    configured limit (0 = none)
 *   gauntlet_admission_lag_target_seconds               gauge    configured lag target (0 = lag shedding off)
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceConfig } from '../config.ts';
import type { PoolStats, QueryTiming } from '../store/store.ts';
import type { LimitedAction } from './rate-limiter.ts';
import type { ShedReason } from './admission.ts';
import type { BreakerState } from './circuit-breaker.ts';

const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export type EvictionReason = 'capacity' | 'ttl' | 'invalidation';
export type TransactionOutcome = 'committed' | 'aborted';

/** Seconds; DB queries on a local store take tens of microseconds to tens of milliseconds. */
const QUERY_DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What the request handling reports; the registry is what `/metrics` exposes. */
export interface ServiceMetrics {
  readonly registry: Registry;
  cacheHit(): void;
  cacheMiss(): void;
  cacheEvicted(reason: EvictionReason): void;
  rateLimited(action: LimitedAction): void;
  transaction(outcome: TransactionOutcome): void;
  queries(timings: readonly QueryTiming[]): void;
  httpRequest(method: string, route: string, status: number): void;
  shed(reason: ShedReason): void;
}

export interface MetricsSources {
  readonly instanceId: string;
  readonly config: ServiceConfig;
  readonly poolStats: () => PoolStats;
  readonly cacheSize: () => number;
  readonly circuitState?: (access: 'read' | 'write') => BreakerState;
  readonly inFlight?: () => number;
  readonly admissionLagMs?: () => number;
}

/** A fresh registry with the default Node metrics and the service's own. */
export function createServiceMetrics(sources: MetricsSources): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ instance: sources.instanceId });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const poolGauge = (name: string, help: string, pick: (stats: PoolStats) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(pick(sources.poolStats()));
      },
    });
  };
  poolGauge('gauntlet_db_pool_connections_open', 'DB connections open now', (s) => s.open);
  poolGauge('gauntlet_db_pool_connections_checked_out', 'DB connections checked out by an operation now', (s) => s.checkedOut);
  poolGauge('gauntlet_db_pool_connections_max', 'Most DB connections the pool may open', (s) => s.max);

  const constant = (name: string, help: string, value: number): void => {
    new Gauge({ name, help, registers }).set(value);
  };
  constant('gauntlet_cache_max_entries', 'Configured capacity of the family cache', sources.config.cache.maxEntries);
  constant('gauntlet_cache_ttl_seconds', 'Configured TTL of the family cache', sources.config.cache.ttlMs / 1000);
  constant('gauntlet_rate_limit_limit', 'Configured requests per user, limited action and window', sources.config.rateLimit.limit);
  constant('gauntlet_rate_limit_window_seconds', 'Configured rate-limit window', sources.config.rateLimit.windowMs / 1000);
  new Gauge({
    name: 'gauntlet_cache_entries',
    help: 'Families in the cache now',
    registers,
    collect() {
      this.set(sources.cacheSize());
    },
  });

  const queryDuration = new Histogram({
    name: 'gauntlet_db_query_duration_seconds',
    help: 'Duration of DB queries by query name',
    labelNames: ['query'] as const,
    buckets: QUERY_DURATION_BUCKETS,
    registers,
  });
  const transactions = new Counter({
    name: 'gauntlet_transactions_total',
    help: 'Write transactions by outcome (committed, aborted)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const cacheHits = new Counter({ name: 'gauntlet_cache_hits_total', help: 'Family reads served from the cache', registers });
  const cacheMisses = new Counter({ name: 'gauntlet_cache_misses_total', help: 'Family reads that went to the store', registers });
  const cacheEvictions = new Counter({
    name: 'gauntlet_cache_evictions_total',
    help: 'Families dropped from the cache by reason (capacity, ttl, invalidation)',
    labelNames: ['reason'] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: 'gauntlet_rate_limited_requests_total',
    help: 'Requests refused with 429 by limited action',
    labelNames: ['action'] as const,
    registers,
  });
  const httpRequests = new Counter({
    name: 'gauntlet_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  constant('gauntlet_store_wait_seconds', 'Configured wait for a locked store or a pooled connection before 503', sources.config.storeWaitMs / 1000);
  constant('gauntlet_admission_max_in_flight', 'Configured most requests in flight per instance (0 = no limit)', sources.config.admission.maxInFlight);
  constant('gauntlet_admission_lag_target_seconds', 'Configured event-loop lag target of admission control (0 = off)', sources.config.admission.lagTargetMs / 1000);
  const circuitState = sources.circuitState;
  new Gauge({
    name: 'gauntlet_store_circuit_state',
    help: 'Store circuit breaker by access (read, write): 0 closed, 1 half-open, 2 open',
    labelNames: ['access'] as const,
    registers,
    collect() {
      for (const access of ['read', 'write'] as const) this.labels(access).set(circuitState === undefined ? 0 : BREAKER_STATE_VALUE[circuitState(access)]);
    },
  });
  const { inFlight, admissionLagMs } = sources;
  new Gauge({
    name: 'gauntlet_requests_in_flight',
    help: 'Requests admitted and not yet answered',
    registers,
    collect() {
      this.set(inFlight?.() ?? 0);
    },
  });
  new Gauge({
    name: 'gauntlet_admission_lag_seconds',
    help: 'Event-loop lag admission control decides on',
    registers,
    collect() {
      this.set((admissionLagMs?.() ?? 0) / 1000);
    },
  });
  const shed = new Counter({
    name: 'gauntlet_requests_shed_total',
    help: 'Requests refused with 503 by admission control, by reason (in_flight, lag)',
    labelNames: ['reason'] as const,
    registers,
  });
  for (const reason of ['in_flight', 'lag'] as const) shed.labels(reason).inc(0);
  // Start every labelled series at 0 so scrapes before the first event still see it.
  for (const reason of ['capacity', 'ttl', 'invalidation'] as const) cacheEvictions.labels(reason).inc(0);
  for (const outcome of ['committed', 'aborted'] as const) transactions.labels(outcome).inc(0);
  for (const action of ['families', 'invitations', 'transfers'] as const) rateLimited.labels(action).inc(0);

  return {
    registry,
    cacheHit: () => cacheHits.inc(),
    cacheMiss: () => cacheMisses.inc(),
    cacheEvicted: (reason) => cacheEvictions.labels(reason).inc(),
    rateLimited: (action) => rateLimited.labels(action).inc(),
    transaction: (outcome) => transactions.labels(outcome).inc(),
    queries: (timings) => {
      for (const timing of timings) queryDuration.labels(timing.name).observe(timing.durationMs / 1000);
    },
    httpRequest: (method, route, status) => httpRequests.labels(method, route, String(status)).inc(),
    shed: (reason) => shed.labels(reason).inc(),
  };
}
