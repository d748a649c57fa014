/** One autocannon run of POST /families, every request by the next user with a new name, latencies kept in µs. */
import autocannon from 'autocannon';
import type { AutocannonResult } from 'autocannon';
import { createLatencyHistogram, recordMillis } from '../../src/measure/histogram.ts';
import type { Histogram } from '../../src/measure/histogram.ts';

export interface CreationLoad {
  readonly url: string;
  readonly tokens: readonly string[];
  readonly connections: number;
  readonly durationS: number;
  /** Requests per second over all connections (open-ish model); absent = closed model, as fast as answers come. */
  readonly overallRate?: number;
}

export interface CreationRun {
  readonly connections: number;
  readonly overallRate: number | null;
  readonly durationS: number;
  readonly created: number;
  readonly createdPerSec: number;
  /** Non-201 answers, socket errors and timeouts. */
  readonly failures: number;
  readonly statusCodes: Record<string, number>;
  /** Measured from each request's actual send (µs precision), not corrected for coordinated omission. */
  readonly histogram: Histogram;
  /** autocannon's own p99 (whole ms; coordinated-omission corrected when a rate is set). */
  readonly autocannonP99Ms: number;
}

/** Names stay unique across runs of one process so no creation collides with an earlier one. */
let sequence = 0;

/** Runs one load phase and returns what it measured. */
export async function runCreationLoad(load: CreationLoad): Promise<CreationRun> {
  const histogram = createLatencyHistogram();
  let nextUser = 0;
  const instance = autocannon({
    url: load.url,
    connections: load.connections,
    duration: load.durationS,
    ...(load.overallRate === undefined ? {} : { overallRate: load.overallRate }),
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        method: 'POST',
        path: '/families',
        setupRequest: (request) => {
          const token = load.tokens[nextUser++ % load.tokens.length] ?? '';
          sequence += 1;
          return {
            ...request,
            headers: { ...request.headers, authorization: `Bearer ${token}` },
            body: JSON.stringify({ name: `bench family ${sequence}` }),
          };
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => {
    recordMillis(histogram, responseTimeMs);
  });
  const result: AutocannonResult = await instance;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  const created = statusCodes['201'] ?? 0;
  const answered = Object.values(statusCodes).reduce((sum, n) => sum + n, 0);
  return {
    connections: load.connections,
    overallRate: load.overallRate ?? null,
    durationS: result.duration,
    created,
    createdPerSec: result.duration > 0 ? created / result.duration : 0,
    failures: answered - created + result.errors + result.timeouts,
    statusCodes,
    histogram,
    autocannonP99Ms: result.latency.p99,
  };
}
