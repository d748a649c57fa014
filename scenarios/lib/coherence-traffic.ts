/**
 * The traffic of the cache-coherence scenario: one writer per family renaming it (If-Match on the
 * version it last had acknowledged) and a pool of readers GETting the same families through every
 * way in (each instance directly and the balancer), each request timed on the injected clock.
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../../src/clock.ts';
import { sleep } from '../../src/clock.ts';
import { createLatencyHistogram, recordMillis } from '../../src/measure/histogram.ts';
import type { Histogram } from '../../src/measure/histogram.ts';
import type { JsonClient, JsonResponse } from '../../src/scenario/json-client.ts';
import type { AckedWrite, ObservedRead } from './coherence-oracle.ts';

/** Unexpected answers kept as evidence. */
const ERROR_SAMPLES = 5;
/** Width of one point of the per-interval series. */
export const COHERENCE_SERIES_INTERVAL_MS = 500;

/** A way into the service: one instance's own URL, or the balancer. */
export interface Origin {
  readonly via: string;
  readonly url: string;
}

export interface WatchedFamily {
  readonly id: string;
  /** A bearer token of its owner (an admin: may rename and read). */
  readonly token: string;
}

export interface TrafficOptions {
  readonly http: JsonClient;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly families: readonly WatchedFamily[];
  readonly origins: readonly Origin[];
  readonly readers: number;
  readonly durationMs: number;
  readonly maxReads: number;
  readonly writePauseMs: number;
}

/** What happened, as the service answered it. */
export class TrafficLog {
  readonly acks: AckedWrite[] = [];
  readonly reads: ObservedRead[] = [];
  readonly readLatency: Histogram = createLatencyHistogram();
  /** By origin label: reads, cache hits, cache misses. */
  readonly perOrigin = new Map<string, { reads: number; hits: number; misses: number }>();
  readonly buckets = new Map<number, { reads: number; hits: number; writes: number }>();
  readErrors = 0;
  writeErrors = 0;
  readonly errorSamples: string[] = [];

  constructor(private readonly t0: number) {}

  /** Judged reads that said whether the cache answered. */
  get hits(): number {
    return sumOf(this.perOrigin, 'hits');
  }

  get misses(): number {
    return sumOf(this.perOrigin, 'misses');
  }

  bucket(t: number): { reads: number; hits: number; writes: number } {
    const key = Math.floor((t - this.t0) / COHERENCE_SERIES_INTERVAL_MS);
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { reads: 0, hits: 0, writes: 0 };
      this.buckets.set(key, b);
    }
    return b;
  }

  error(what: string, res: JsonResponse | Error): void {
    if (this.errorSamples.length >= ERROR_SAMPLES) return;
    const answer = res instanceof Error ? res.message : `${res.status} ${JSON.stringify(res.body).slice(0, 120)}`;
    this.errorSamples.push(`${what}: ${answer}`);
  }
}

/** GETs `family` through `origin`, recording the read (version, timing, cache) or an error. */
export async function readOnce(log: TrafficLog, o: Pick<TrafficOptions, 'http' | 'clock' | 'signal'>, family: WatchedFamily, origin: Origin): Promise<void> {
  const tStart = o.clock.now();
  let res: JsonResponse;
  try {
    res = await o.http.send({ method: 'GET', path: `/families/${family.id}`, token: family.token, origin: origin.url });
  } catch (error) {
    if (o.signal.aborted) throw error;
    log.readErrors += 1;
    log.error(`GET via ${origin.via}`, error instanceof Error ? error : new Error(String(error)));
    return;
  }
  const tEnd = o.clock.now();
  const version = (res.body as { version?: unknown } | null)?.version;
  if (res.status !== 200 || typeof version !== 'number') {
    log.readErrors += 1;
    log.error(`GET via ${origin.via}`, res);
    return;
  }
  recordMillis(log.readLatency, tEnd - tStart);
  log.reads.push({ familyId: family.id, via: origin.via, instanceId: res.instanceId, tStart, version });
  const stats = log.perOrigin.get(origin.via) ?? { reads: 0, hits: 0, misses: 0 };
  stats.reads += 1;
  const cache = res.headers['x-cache'];
  if (cache === 'hit') stats.hits += 1;
  if (cache === 'miss') stats.misses += 1;
  log.perOrigin.set(origin.via, stats);
  const b = log.bucket(tStart);
  b.reads += 1;
  if (cache === 'hit') b.hits += 1;
}

/** Reads every family through every origin once (warm-up and final sweep). */
export async function sweep(log: TrafficLog, o: TrafficOptions): Promise<void> {
  const pairs = o.families.flatMap((family) => o.origins.map((origin) => ({ family, origin })));
  await Promise.all(pairs.map(({ family, origin }) => readOnce(log, o, family, origin)));
}

/** Runs writers and readers concurrently until the duration or the read budget is used up. */
export async function runCoherenceTraffic(log: TrafficLog, o: TrafficOptions, initialVersions: ReadonlyMap<string, number>): Promise<void> {
  const deadline = o.clock.now() + o.durationMs;
  const live = (): boolean => o.clock.now() < deadline && !o.signal.aborted;
  // Every writer's pause listens for cancellation: on a signal of our own, so the run's signal keeps one listener.
  const pauses = new AbortController();
  setMaxListeners(o.families.length + 1, pauses.signal);
  const cancel = (): void => pauses.abort(o.signal.reason);
  o.signal.addEventListener('abort', cancel, { once: true });
  let issued = 0;

  const writer = async (family: WatchedFamily, index: number): Promise<void> => {
    let version = initialVersions.get(family.id) ?? 1;
    for (let n = 0; live(); n++) {
      const origin = pick(o.origins, index + n);
      let res: JsonResponse;
      try {
        res = await o.http.send({
          method: 'PATCH', path: `/families/${family.id}`, token: family.token, origin: origin.url,
          headers: { 'if-match': `"${version}"` }, body: { name: `coherence ${index} ${n}` },
        });
      } catch (error) {
        if (o.signal.aborted) throw error;
        log.writeErrors += 1;
        log.error(`PATCH via ${origin.via}`, error instanceof Error ? error : new Error(String(error)));
        if (o.writePauseMs > 0 && live()) await sleep(o.clock, o.writePauseMs, pauses.signal);
        continue;
      }
      const tAck = o.clock.now();
      const acked = (res.body as { version?: unknown } | null)?.version;
      if (res.status === 200 && typeof acked === 'number') {
        version = acked;
        log.acks.push({ familyId: family.id, version, tAck });
        log.bucket(tAck).writes += 1;
      } else {
        log.writeErrors += 1;
        log.error(`PATCH via ${origin.via}`, res);
        // Only one writer per family: a 412 means the service lost track of versions; go on from what it says now.
        if (res.status === 412) version = await currentVersion(log, o, family, version);
      }
      if (o.writePauseMs > 0 && live()) await sleep(o.clock, o.writePauseMs, pauses.signal);
    }
  };

  const reader = async (worker: number): Promise<void> => {
    for (let k = worker; live() && issued < o.maxReads; k += o.readers) {
      issued += 1;
      const family = pick(o.families, k);
      await readOnce(log, o, family, pick(o.origins, Math.floor(k / o.families.length)));
    }
  };

  try {
    await Promise.all([
      ...o.families.map((family, index) => writer(family, index)),
      ...Array.from({ length: o.readers }, (_, worker) => reader(worker)),
    ]);
  } finally {
    o.signal.removeEventListener('abort', cancel);
  }
}

/** The family's version now, to write on from after a 412; the last known one (and an error recorded) when unreadable. */
async function currentVersion(log: TrafficLog, o: TrafficOptions, family: WatchedFamily, lastKnown: number): Promise<number> {
  let res: JsonResponse;
  try {
    res = await o.http.send({ method: 'GET', path: `/families/${family.id}`, token: family.token });
  } catch (error) {
    if (o.signal.aborted) throw error;
    log.error('GET after a 412', error instanceof Error ? error : new Error(String(error)));
    return lastKnown;
  }
  const version = (res.body as { version?: unknown } | null)?.version;
  if (res.status === 200 && typeof version === 'number') return version;
  log.error('GET after a 412', res);
  return lastKnown;
}

function pick<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('coherence traffic needs at least one family and one origin');
  return item;
}

function sumOf(map: ReadonlyMap<string, { hits: number; misses: number }>, key: 'hits' | 'misses'): number {
  let total = 0;
  for (const v of map.values()) total += v[key];
  return total;
}
