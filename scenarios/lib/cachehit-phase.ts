/**
 * One read phase of the cache scenario: GETs of families in a planned order (closed model), each
 * response's `x-cache` counted, the target's cache counters read before and after, and the verdict
 * (header vs metrics, measured vs expected).
 */
import type { LoadResult, RequestSpec, Transport } from '../../src/load/index.ts';
import type { PromExposition } from '../../src/measure/prometheus/parse.ts';
import { sumByLabel, sumValues } from '../../src/measure/prometheus/query.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { allowedDeviation } from './cachehit-model.ts';
import type { ModelRead } from './cachehit-model.ts';
import type { HeaderListener, TappedResponse } from './query-header-tap.ts';

export const EVICTION_REASONS = ['capacity', 'ttl', 'invalidation'] as const;
export type EvictionReason = (typeof EVICTION_REASONS)[number];
/** Offending responses quoted per phase. */
const EVIDENCE = 3;

/** The target's cache counters at one instant (summed over the scraped instances). */
export interface CacheCounters {
  readonly hits: number;
  readonly misses: number;
  readonly evictions: Readonly<Record<EvictionReason, number>>;
}

/** Reads the cache counters; throws naming the metric when the target does not expose it. */
export function cacheCounters(expositions: readonly PromExposition[]): CacheCounters {
  const samples = expositions.flatMap((e) => e.samples);
  const need = (name: string): number => {
    const value = sumValues(samples, name);
    if (value === null) throw new Error(`the target exposes no ${name}; the cache scenario needs the reference service's cache metrics (target/service/metrics.ts)`);
    return value;
  };
  const byReason = sumByLabel(samples, 'gauntlet_cache_evictions_total', 'reason');
  return {
    hits: need('gauntlet_cache_hits_total'),
    misses: need('gauntlet_cache_misses_total'),
    evictions: { capacity: byReason.capacity ?? 0, ttl: byReason.ttl ?? 0, invalidation: byReason.invalidation ?? 0 },
  };
}

export function counterDelta(before: CacheCounters, after: CacheCounters): CacheCounters {
  return {
    hits: after.hits - before.hits,
    misses: after.misses - before.misses,
    evictions: {
      capacity: after.evictions.capacity - before.evictions.capacity,
      ttl: after.evictions.ttl - before.evictions.ttl,
      invalidation: after.evictions.invalidation - before.evictions.invalidation,
    },
  };
}

/** What the harness saw of one phase's responses. */
export interface PhaseTally {
  answered: number;
  /** 200 responses by `x-cache` value. */
  hits: number;
  misses: number;
  /** 200 responses without `x-cache: hit|miss`. */
  unlabelled: number;
  /** Responses other than 200. */
  notOk: number;
  /** Requests that got no response. */
  unanswered: number;
  readonly evidence: string[];
}

/** Routes every tapped response to the current phase's tally. */
export class PhaseTap implements HeaderListener {
  #current: PhaseTally | null = null;

  /** A fresh tally that receives responses from now on. */
  begin(): PhaseTally {
    this.#current = { answered: 0, hits: 0, misses: 0, unlabelled: 0, notOk: 0, unanswered: 0, evidence: [] };
    return this.#current;
  }

  onResponse(spec: RequestSpec, response: TappedResponse): void {
    const t = this.#current;
    if (t === null) return;
    t.answered += 1;
    tallyResponse(t, spec.path, response.status, response.headers['x-cache']);
  }

  onFailure(spec: RequestSpec, error: Error): void {
    const t = this.#current;
    if (t === null) return;
    t.unanswered += 1;
    if (t.evidence.length < EVIDENCE) t.evidence.push(`${spec.path}: ${error.message}`);
  }
}

/** Counts one answer into `t` (used for generator and JSON-client responses alike). */
export function tallyResponse(t: PhaseTally, path: string, status: number, xCache: string | undefined): void {
  if (status !== 200) {
    t.notOk += 1;
    if (t.evidence.length < EVIDENCE) t.evidence.push(`${path}: ${status}`);
  } else if (xCache === 'hit') t.hits += 1;
  else if (xCache === 'miss') t.misses += 1;
  else {
    t.unlabelled += 1;
    if (t.evidence.length < EVIDENCE) t.evidence.push(`${path}: x-cache ${xCache === undefined ? 'absent' : `"${xCache}"`}`);
  }
}

export interface ReadPhaseRun {
  readonly result: LoadResult;
  readonly sent: readonly ModelRead[];
  readonly tally: PhaseTally;
  readonly delta: CacheCounters;
}

/** GETs `specs[keys[i]]` for every i, `concurrency` at a time, in index order; counters scraped around it. */
export async function runReadPhase(
  ctx: ScenarioContext,
  io: { readonly transport: Transport; readonly tap: PhaseTap; readonly counters: () => Promise<CacheCounters> },
  keys: readonly number[],
  specs: readonly RequestSpec[],
  concurrency: number,
): Promise<ReadPhaseRun> {
  const sent: ModelRead[] = [];
  const before = await io.counters();
  const tally = io.tap.begin();
  const result = await ctx.load.closed({
    target: io.transport,
    concurrency,
    end: { count: keys.length },
    // Called at dispatch, in index order: the send order and time the model replays.
    request: (i) => {
      const key = keys[i] ?? failIndex(i);
      sent.push({ key, atMs: ctx.clock.now() });
      return specs[key] ?? failIndex(key);
    },
  });
  const delta = counterDelta(before, await io.counters());
  return { result, sent, tally, delta };
}

/** One row of the per-phase table, with its two verdicts. */
export interface PhaseVerdict {
  readonly [column: string]: string | number | boolean | null;
  readonly phase: string;
  readonly reads: number;
  readonly hitsByHeader: number;
  readonly hitsByMetrics: number;
  readonly missesByMetrics: number;
  /** Null where the phase has no rate expectation (TTL phase: judged read by read). */
  readonly expectedHits: number | null;
  readonly hitRate: number;
  readonly expectedRate: number | null;
  readonly headerAgrees: boolean;
  readonly asExpected: boolean;
  readonly evictedCapacity: number;
  readonly evictedTtl: number;
  readonly evictedInvalidation: number;
}

/**
 * Judges a phase. Header and metrics must count the same hits and misses; they may differ only by
 * requests the target answered but the harness never saw (unanswered), since both count the same reads.
 */
export function judgePhase(phase: string, tally: PhaseTally, delta: CacheCounters, expectedHits: number | null): { verdict: PhaseVerdict; problems: string[] } {
  const reads = tally.hits + tally.misses;
  const slack = tally.unanswered;
  const headerAgrees = tally.unlabelled === 0 && Math.abs(tally.hits - delta.hits) <= slack && Math.abs(tally.misses - delta.misses) <= slack;
  const asExpected = expectedHits === null || Math.abs(delta.hits - expectedHits) <= allowedDeviation(reads);
  const problems: string[] = [];
  if (!headerAgrees) {
    problems.push(`${phase}: x-cache says ${tally.hits} hits / ${tally.misses} misses${tally.unlabelled > 0 ? ` (${tally.unlabelled} unlabelled)` : ''}, /metrics ${delta.hits} / ${delta.misses}${tally.evidence.length > 0 ? `; e.g. ${tally.evidence.join(', ')}` : ''}`);
  }
  if (!asExpected) {
    problems.push(`${phase}: ${delta.hits} hits of ${reads} reads, the LRU+TTL model expects ${String(expectedHits)} (± ${allowedDeviation(reads)})`);
  }
  const rate = (hits: number): number => (reads === 0 ? 0 : round(hits / reads));
  return {
    verdict: {
      phase,
      reads,
      hitsByHeader: tally.hits,
      hitsByMetrics: delta.hits,
      missesByMetrics: delta.misses,
      expectedHits,
      hitRate: rate(delta.hits),
      expectedRate: expectedHits === null ? null : rate(expectedHits),
      headerAgrees,
      asExpected,
      evictedCapacity: delta.evictions.capacity,
      evictedTtl: delta.evictions.ttl,
      evictedInvalidation: delta.evictions.invalidation,
    },
    problems,
  };
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

function failIndex(i: number): never {
  throw new Error(`cache-hit-rates: no planned read ${i}`);
}
