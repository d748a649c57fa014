/** Every default of the load generators, in one place. */
import { SELF_MONITOR_LOOP_RESOLUTION_MS } from '../measure/self-monitor.ts';

/** Defaults shared by the open, closed and burst generators. */
export const LOAD_DEFAULTS = {
  /** Sockets per target origin (undici Pool `connections`). */
  connections: 10,
  /** Requests in flight per socket; 1 = no HTTP pipelining. */
  pipelining: 1,
  /**
   * Connect, headers and body timeout of one request; past it the request is a `timeout` error.
   * The body timeout is undici's: the longest gap between two body chunks, not the whole body.
   */
  timeoutMs: 10_000,
  /**
   * Largest response body read, enforced by undici while it streams (the socket is destroyed past it):
   * the request is a `body-too-large` error, so an endless body ends instead of running until the
   * drain timeout. The generators never buffer bodies; the JSON client buffers at most this much.
   * Infinity turns the limit off.
   */
  maxBodyBytes: 8 * 1024 * 1024,
  /** Response header whose value names the instance that answered (for balance checks). */
  instanceHeader: 'x-instance-id',
  /** Width of one bucket of the per-interval series. */
  intervalMs: 1_000,
  /** Open model: requests outstanding at once; beyond it a due request is counted `dropped`. */
  maxInFlight: 10_000,
  /** After the last send, how long in-flight requests may take before the pool is destroyed. */
  drainTimeoutMs: 15_000,
  /** Record latency into HDR histograms (off only to measure the cost of recording). */
  recordHistograms: true,
  /** Keep per-request records (columnar); off keeps only the aggregates. */
  keepRecords: false,
  /** Cap on kept per-request records; beyond it records are counted in `records.overflow`. */
  maxRecords: 1_000_000,
  /** Hard bound on any run, whatever its end condition says. */
  maxRunMs: 3_600_000,
  /** Burst: request sent on each connection to open it before the barrier is released. */
  burstWarmupRequest: { method: 'GET', path: '/' },
  /** Resolution of the generator's own event-loop delay monitor. */
  eventLoopResolutionMs: SELF_MONITOR_LOOP_RESOLUTION_MS,
} as const;

/** When the generator itself is the bottleneck: past any bound the result says `saturated`. */
export const SATURATION_BOUNDS = {
  /** p99 of (actual dispatch - intended send), open model only. */
  maxLatenessP99Ms: 5,
  /**
   * ...and only when that lateness is also more than this share of the corrected latency p99: a send
   * 6 ms late distorts a 2 ms p99 beyond use, but not a 300 ms one (the correction already counts it).
   */
  maxLatenessShareOfP99: 0.1,
  /** Achieved send rate over the asked rate, open model only. */
  minAchievedRatio: 0.97,
  /** p99 of the generator's event-loop delay (beyond the monitor's own resolution). */
  maxEventLoopDelayP99Ms: 50,
} as const;

export interface SaturationBounds {
  maxLatenessP99Ms: number;
  maxLatenessShareOfP99: number;
  minAchievedRatio: number;
  maxEventLoopDelayP99Ms: number;
}
