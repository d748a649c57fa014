/**
 * Creations at a uniform arrival rate, sent by gauntlet's own open-model generator (src/load): request i
 * is due at i/rate s whether or not earlier ones answered, and latency is counted from that intended
 * time (coordinated-omission corrected, as wrk2 does). autocannon's `overallRate` instead lets every
 * connection send its per-second quota back to back at the start of each second (lib/httpClient.js,
 * reqsMadeThisSecond), a burst that measures momentary concurrency rather than the rate; it is
 * measured and printed beside this for comparison.
 */
import { runOpenModel } from '../../src/load/index.ts';
import type { LoadResult } from '../../src/load/index.ts';
import { decodeHistogram } from '../../src/measure/histogram.ts';
import type { Histogram } from '../../src/measure/histogram.ts';

/** Sockets for the paced run: enough that a slow answer never holds up a due request. */
const POOL_CONNECTIONS = 128;
/** A due request finding this many outstanding is dropped (counted), so a stalled target cannot grow memory. */
const MAX_IN_FLIGHT = 1_000;

export interface PacedRun {
  readonly rate: number;
  readonly created: number;
  readonly createdPerSec: number;
  /** Non-201 answers and transport errors. */
  readonly failures: number;
  readonly dropped: number;
  /** From the intended send time (coordinated-omission corrected). */
  readonly corrected: Histogram;
  /** From when the request was written to a socket. */
  readonly uncorrected: Histogram;
  /** The generator's own verdict on whether it kept its schedule. */
  readonly generator: LoadResult['generatorSaturated'];
}

/** Sends `rate` creations per second for `durationS` seconds, cycling through `tokens`. */
export async function runPacedCreations(url: string, tokens: readonly string[], rate: number, durationS: number, nameTag: string): Promise<PacedRun> {
  const result = await runOpenModel({
    target: url,
    connections: POOL_CONNECTIONS,
    maxInFlight: MAX_IN_FLIGHT,
    schedule: { kind: 'constant', ratePerSec: rate },
    end: { durationMs: durationS * 1000 },
    request: (index) => ({
      method: 'POST',
      path: '/families',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[index % tokens.length] ?? ''}` },
      body: JSON.stringify({ name: `paced ${nameTag} ${index}` }),
    }),
  });
  const created = result.statusCounts['201'] ?? 0;
  if (result.latency.corrected === null || result.latency.uncorrected === null) throw new Error('the open model kept no latency histograms');
  return {
    rate,
    created,
    createdPerSec: created / (result.durationMs / 1000),
    failures: result.sent - created,
    dropped: result.dropped,
    corrected: decodeHistogram(result.latency.corrected),
    uncorrected: decodeHistogram(result.latency.uncorrected),
    generator: result.generatorSaturated,
  };
}
