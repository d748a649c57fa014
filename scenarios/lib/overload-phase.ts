/**
 * The load phases of the overload scenario and its memory sampler: an open-model phase over sockets
 * opened before its clock starts, its answers read from the generator's columnar records, and the
 * instance's resident memory scraped beside it.
 */
import { sleep } from '../../src/clock.ts';
import { createPoolTransport } from '../../src/load/index.ts';
import type { LoadResult, RequestSpec, SaturationBounds } from '../../src/load/index.ts';
import { singleValue } from '../../src/measure/prometheus/query.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { isShed } from './overload-oracle.ts';
import type { Answer } from './overload-oracle.ts';
import { tapHeaders } from './query-header-tap.ts';

/**
 * Sockets of the overload: many clients, as an overload has. Each holds one request at a time, so
 * they must outnumber the arrival rate times the service's turnaround (its event loop visits every
 * socket once per turn, ~50-100 ms under overload): with fewer, the excess waits in gauntlet's pool,
 * where no admission control can see it, and the run measures gauntlet's queue.
 */
export const OVERLOAD_CONNECTIONS = 1_024;
/** Most sockets of a phase below capacity (baseline, recovery). */
export const BELOW_CAPACITY_MAX_CONNECTIONS = 256;
/** Fewest sockets of a phase below capacity. */
const BELOW_CAPACITY_MIN_CONNECTIONS = 16;
/**
 * Below capacity a request waits at most about the service's lag interval (1 s) before it is served
 * or shed, so rate x this many seconds of sockets never queue in gauntlet. More would only cost the
 * generator: every idle socket is one more it opens and walks, on the cores it shares with the target.
 */
const BELOW_CAPACITY_TURNAROUND_S = 1;
/** Opens a socket without touching the store (always admitted). */
const WARM_UP_REQUEST: RequestSpec = { method: 'GET', path: '/healthz' };
/** Per-request timeout: a request the service queued for long must still be measured. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** Scrapes of the instance's resident memory, at most this often. */
export const RSS_SAMPLE_MS = 250;

/** Sockets for a phase below capacity at `rate`/s. */
export function belowCapacityConnections(rate: number): number {
  return Math.min(BELOW_CAPACITY_MAX_CONNECTIONS, Math.max(BELOW_CAPACITY_MIN_CONNECTIONS, Math.ceil(rate * BELOW_CAPACITY_TURNAROUND_S)));
}

export interface PhasePlan {
  readonly rate: number;
  readonly durationMs: number;
  readonly request: (index: number) => RequestSpec;
  readonly connections: number;
  readonly saturationBounds: SaturationBounds;
  /** Called with the clock's time when the schedule starts (after the sockets are open). */
  readonly onStarted?: (atMs: number) => void;
}

export interface PhaseRun {
  readonly result: LoadResult;
  /** Closes the phase's sockets (the caller chooses when: not while another phase is measured); safe to call more than once. */
  close(): Promise<void>;
  /** Built on demand, after the load: the overload's tens of thousands must not be made while the recovery is measured. */
  answers(): Answer[];
  /** Refusals (429/503) that came without Retry-After. */
  readonly shedWithoutRetryAfter: number;
}

/**
 * One open-model phase. Every answer comes from the generator's columnar records (no object per
 * request: at thousands per second, garbage would slow gauntlet down); only refusals are looked at
 * for Retry-After. The sockets stay open until `close()`; on an error they are closed before it is thrown.
 */
export async function runPhase(ctx: ScenarioContext, url: string, plan: PhasePlan): Promise<PhaseRun> {
  const counts = { shedWithoutRetryAfter: 0 };
  const transport = tapHeaders(createPoolTransport(url, { connections: plan.connections, timeoutMs: REQUEST_TIMEOUT_MS }), ['retry-after'], {
    onResponse(_spec, response) {
      if (isShed(response.status) && response.headers['retry-after'] === undefined) counts.shedWithoutRetryAfter += 1;
    },
    onFailure: () => undefined,
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => (closing ??= transport.close());
  let result: LoadResult;
  try {
    // Every socket opened before the clock starts, as long-lived clients' are: a storm of connects
    // overflows the listen backlog, and SYN retries (1 s, 3 s) are the kernel's queue, not the service's.
    await ctx.load.closed({ target: transport, concurrency: plan.connections, end: { count: plan.connections }, request: () => WARM_UP_REQUEST, timeoutMs: REQUEST_TIMEOUT_MS });
    plan.onStarted?.(ctx.clock.now());
    result = await ctx.load.open({
      target: transport,
      schedule: { kind: 'constant', ratePerSec: plan.rate },
      end: { durationMs: plan.durationMs },
      request: plan.request,
      keepRecords: true,
      timeoutMs: REQUEST_TIMEOUT_MS,
      drainTimeoutMs: REQUEST_TIMEOUT_MS,
      saturationBounds: plan.saturationBounds,
    });
  } catch (error) {
    await close();
    throw error;
  }
  const records = result.records;
  if (records === null) {
    await close();
    throw new Error('scenario bug: the open model kept no records');
  }
  if (records.overflow > 0) {
    await close();
    throw new Error(`the phase at ${plan.rate}/s outgrew the generator's record cap (${records.overflow} not kept); shorten it`);
  }
  const answers = (): Answer[] => records.intendedMs.map((intendedMs, i) => ({ intendedMs, doneMs: records.doneMs[i] ?? intendedMs, status: records.status[i] ?? 0 }));
  return { result, answers, shedWithoutRetryAfter: counts.shedWithoutRetryAfter, close };
}

export interface RssSamples {
  /** Readings, ms from the sampler's origin. */
  readonly samples: { atMs: number; bytes: number }[];
  /** Scrapes that failed or carried no process_resident_memory_bytes. */
  failed: number;
}

/**
 * Scrapes the instance's RSS every RSS_SAMPLE_MS until `stop()` (at most `maxSamples` times, and
 * never past an abort); a failed scrape is counted and skipped.
 */
export function sampleRss(ctx: ScenarioContext, url: string, originMs: number, maxSamples: number): { readonly readings: RssSamples; stop(): Promise<void> } {
  const readings: RssSamples = { samples: [], failed: 0 };
  const state = { running: true };
  const loop = (async () => {
    for (let i = 0; state.running && i < maxSamples; i++) {
      const exposition = await ctx.scrape(url).catch(() => null);
      const bytes = exposition === null ? null : singleValue(exposition.samples, 'process_resident_memory_bytes');
      if (bytes === null) readings.failed += 1;
      else readings.samples.push({ atMs: ctx.clock.now() - originMs, bytes });
      // Aborted (Ctrl-C, the time bound): stop sampling; the load runs report the abort themselves.
      if (!(await sleep(ctx.clock, RSS_SAMPLE_MS, ctx.signal).then(() => true, () => false))) return;
    }
  })();
  return {
    readings,
    async stop() {
      state.running = false;
      await loop;
    },
  };
}
