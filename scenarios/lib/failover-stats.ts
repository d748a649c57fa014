/**
 * Samples the balancer's GET /_balancer/stats while the instance-failure load runs: its per-backend
 * totals and rotation state show, from the balancer's side, when it stopped sending requests to the
 * dead instance (which the client cannot see for a GET the balancer retried elsewhere).
 */
import { BALANCER_STATS_PATH } from '../../target/balancer/proxy.ts';
import type { BalancerStats } from '../../target/balancer/proxy.ts';
import { sleep } from '../../src/clock.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { StatsSample } from './failover-timeline.ts';

/** How often the stats are read: the resolution of the balancer-side figures. */
export const STATS_SAMPLE_MS = 100;

export interface StatsSampler {
  /** Stops sampling and returns the samples (failed reads are skipped and counted). */
  stop(): Promise<{ samples: StatsSample[]; failedReads: number }>;
}

/** Starts reading `balancerUrl` + the stats path every STATS_SAMPLE_MS, at most `maxSamples` times. */
export function startStatsSampler(ctx: ScenarioContext, balancerUrl: string, maxSamples: number): StatsSampler {
  const samples: StatsSample[] = [];
  let failedReads = 0;
  let stopped = false;
  const loop = async (): Promise<void> => {
    for (let i = 0; i < maxSamples && !stopped && !ctx.signal.aborted; i++) {
      try {
        const res = await ctx.http.send({ method: 'GET', path: BALANCER_STATS_PATH, origin: balancerUrl });
        const body = res.body as Partial<BalancerStats> | null;
        if (res.status === 200 && Array.isArray(body?.backends)) samples.push({ at: ctx.clock.now(), backends: body.backends });
        else failedReads += 1;
      } catch {
        // The balancer is under the same load as everything else: a missed sample only coarsens the figures.
        failedReads += 1;
      }
      await sleep(ctx.clock, STATS_SAMPLE_MS, ctx.signal).catch(() => undefined);
    }
  };
  const running = loop();
  return {
    async stop() {
      stopped = true;
      await running;
      return { samples, failedReads };
    },
  };
}
