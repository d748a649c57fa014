/**
 * Resource readings of the connection-pooling scenario: each instance's DB pool gauges and open FDs
 * (from its /metrics, and from /proc when it is a local process), and gauntlet's own client sockets.
 */
import { readdir, readlink } from 'node:fs/promises';
import { sampleProc } from '../../src/measure/proc.ts';
import { crossCheckWithProc } from '../../src/measure/proc.ts';
import type { CrossCheck } from '../../src/measure/proc.ts';
import { processSampleFromMetrics } from '../../src/measure/process-sample.ts';
import { singleValue } from '../../src/measure/prometheus/query.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';

/** The target's pool gauges (target/service/metrics.ts). */
export const POOL_GAUGES = {
  open: 'gauntlet_db_pool_connections_open',
  checkedOut: 'gauntlet_db_pool_connections_checked_out',
  max: 'gauntlet_db_pool_connections_max',
} as const;

/** One instance to watch: where its metrics are, and its pid when it runs on this machine. */
export interface Watched {
  readonly name: string;
  readonly url: string;
  readonly pid: number | null;
}

export interface InstanceReading {
  readonly name: string;
  readonly open: number;
  readonly checkedOut: number;
  readonly max: number;
  /** process_open_fds, null when not exposed. */
  readonly fds: number | null;
  /** /proc/<pid>/fd count, null without a local pid. */
  readonly procFds: number | null;
  /** metrics-vs-/proc agreement of the FD count, when both exist. */
  readonly fdCrossCheck: CrossCheck | null;
}

/** Pairs of (/metrics, /proc) readings tried before an FD disagreement stands: sockets closing between the two reads move the count. */
export const FD_CROSS_CHECK_ATTEMPTS = 3;

/** Scrapes one instance (and its /proc when local); throws (with what to do) when the pool gauges are missing. */
export async function readInstance(ctx: ScenarioContext, w: Watched, options: { withProc: boolean }): Promise<InstanceReading> {
  let reading = await readOnce(ctx, w, options);
  for (let attempt = 1; attempt < FD_CROSS_CHECK_ATTEMPTS && reading.fdCrossCheck?.state === 'differs'; attempt++) {
    reading = await readOnce(ctx, w, options);
  }
  return reading;
}

async function readOnce(ctx: ScenarioContext, w: Watched, options: { withProc: boolean }): Promise<InstanceReading> {
  const exposition = await ctx.scrape(w.url);
  const gauge = (name: string): number => {
    const value = singleValue(exposition.samples, name);
    if (value === null) throw new Error(`${w.url}/metrics has no ${name}; the pooling oracle reads the DB pool from it (see target/service/metrics.ts for the gauges to expose)`);
    return value;
  };
  const sample = processSampleFromMetrics(exposition, { atMs: ctx.clock.now() });
  let procFds: number | null = null;
  let fdCrossCheck: CrossCheck | null = null;
  if (options.withProc && w.pid !== null) {
    const proc = await sampleProc(w.pid);
    if (proc.state === 'unavailable') throw new Error(`/proc of instance ${w.name} (pid ${w.pid}): ${proc.reason}`);
    procFds = proc.sample.openFds;
    fdCrossCheck = crossCheckWithProc({ metrics: sample, proc: proc.sample }).find((c) => c.metric === 'openFds') ?? null;
  }
  return { name: w.name, open: gauge(POOL_GAUGES.open), checkedOut: gauge(POOL_GAUGES.checkedOut), max: gauge(POOL_GAUGES.max), fds: sample.openFds, procFds, fdCrossCheck };
}

/** Sockets this process holds open (gauntlet's client side: load pools, JSON client, scrapes). */
export async function ownSockets(): Promise<number> {
  const dir = '/proc/self/fd';
  const entries = await readdir(dir);
  const links = await Promise.all(
    entries.map((fd) =>
      readlink(`${dir}/${fd}`).catch((error: unknown) => {
        // The FD readdir itself used, or one closed between readdir and readlink: not a socket we hold.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
        throw error;
      }),
    ),
  );
  return links.filter((link) => link.startsWith('socket:')).length;
}
