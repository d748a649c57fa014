/**
 * The TTL phase of the cache scenario: each family read twice at once (the second must hit), then
 * once more after the TTL has passed since the first was answered (that one must miss).
 */
import { sleep } from '../../src/clock.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { PhaseTally } from './cachehit-phase.ts';
import { tallyResponse } from './cachehit-phase.ts';

/** Wait beyond the TTL before the last read: the fill happened up to one round trip before the answer, and clocks tick in ms. */
export function ttlMarginMs(ttlMs: number): number {
  return Math.max(250, Math.round(ttlMs * 0.25));
}

export interface TtlProbe {
  readonly familyId: string;
  readonly token: string;
}

export interface TtlOutcome {
  readonly familyId: string;
  /** `x-cache` of the three reads ('hit' | 'miss' | the status when not 200). */
  readonly reads: readonly string[];
  /** From the first read's answer to the third read's send. */
  readonly waitedMs: number;
  readonly passed: boolean;
}

/** Runs the probes in parallel against `origin`, counting every answer into `tally`. */
export async function probeTtl(ctx: ScenarioContext, origin: string, probes: readonly TtlProbe[], ttlMs: number, tally: PhaseTally): Promise<TtlOutcome[]> {
  const read = async (probe: TtlProbe): Promise<string> => {
    const path = `/families/${probe.familyId}`;
    const res = await ctx.http.send({ method: 'GET', path, token: probe.token, origin });
    tally.answered += 1;
    const xCache = res.headers['x-cache'];
    tallyResponse(tally, path, res.status, xCache);
    return res.status === 200 ? (xCache ?? 'absent') : String(res.status);
  };
  return Promise.all(
    probes.map(async (probe) => {
      const first = await read(probe);
      const answeredAt = ctx.clock.now();
      const second = await read(probe);
      await sleep(ctx.clock, Math.max(0, answeredAt + ttlMs + ttlMarginMs(ttlMs) - ctx.clock.now()), ctx.signal);
      const waitedMs = ctx.clock.now() - answeredAt;
      const third = await read(probe);
      return { familyId: probe.familyId, reads: [first, second, third], waitedMs, passed: second === 'hit' && third === 'miss' };
    }),
  );
}
