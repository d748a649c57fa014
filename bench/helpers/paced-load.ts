/**
 * Creations at a uniform arrival rate (request i due at i/rate s), on undici: each request leaves when due,
 * whether or not earlier ones answered. autocannon's `overallRate` instead lets every connection send its
 * per-second quota back to back at the start of each second (lib/httpClient.js, reqsMadeThisSecond), a
 * burst that measures latency under momentary concurrency rather than at the rate.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { createLatencyHistogram, recordMillis } from '../../src/measure/histogram.ts';
import type { Histogram } from '../../src/measure/histogram.ts';

/** A due request finding this many still outstanding is dropped (counted), so a stalled target cannot grow memory. */
const MAX_IN_FLIGHT = 1_000;
const POOL_CONNECTIONS = 128;

export interface PacedRun {
  readonly rate: number;
  readonly durationS: number;
  readonly created: number;
  readonly createdPerSec: number;
  readonly failures: number;
  /** The first failure's status or error, to say what went wrong. */
  readonly firstFailure: string | null;
  readonly dropped: number;
  /** From the intended send time: includes any wait the schedule caused (coordinated-omission corrected). */
  readonly corrected: Histogram;
  /** From the moment the request was actually handed to the socket pool. */
  readonly uncorrected: Histogram;
  /** Largest delay of a send behind its schedule, in ms: the generator's own health. */
  readonly maxLatenessMs: number;
}

/** Sends `rate` creations per second for `durationS` seconds, cycling through `tokens`. */
export async function runPacedCreations(url: string, tokens: readonly string[], rate: number, durationS: number, nameTag: string): Promise<PacedRun> {
  const pool = new Pool(url, { connections: POOL_CONNECTIONS });
  const corrected = createLatencyHistogram();
  const uncorrected = createLatencyHistogram();
  const total = Math.round(rate * durationS);
  const intervalMs = 1_000 / rate;
  let created = 0;
  let failures = 0;
  let firstFailure: string | null = null;
  let dropped = 0;
  let inFlight = 0;
  let maxLatenessMs = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();

  const send = (index: number, dueMs: number): Promise<void> => {
    const sentMs = performance.now();
    inFlight += 1;
    return pool
      .request({
        path: '/families',
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[index % tokens.length] ?? ''}` },
        body: JSON.stringify({ name: `paced ${nameTag} ${index}` }),
      })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode === 201) created += 1;
        else {
          failures += 1;
          firstFailure ??= `HTTP ${res.statusCode}`;
        }
      })
      .catch((error: unknown) => {
        failures += 1;
        firstFailure ??= String(error);
      })
      .finally(() => {
        inFlight -= 1;
        const end = performance.now();
        recordMillis(corrected, end - dueMs);
        recordMillis(uncorrected, end - sentMs);
      });
  };

  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) {
        const due = start + next * intervalMs;
        maxLatenessMs = Math.max(maxLatenessMs, now - due);
        if (inFlight >= MAX_IN_FLIGHT) dropped += 1;
        else pending.push(send(next, due));
        next += 1;
      }
      if (next >= total) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
    };
    tick();
  });
  await Promise.all(pending);
  const elapsedS = (performance.now() - start) / 1_000;
  await pool.close();
  return { rate, durationS: elapsedS, created, createdPerSec: created / elapsedS, failures, firstFailure, dropped, corrected, uncorrected, maxLatenessMs };
}
