/**
 * The generator's self-check for a scenario that judges times far coarser than a benchmark does.
 * SATURATION_BOUNDS' 5 ms of send lateness (and 50 ms of event-loop delay) are for runs that resolve
 * single milliseconds; a scenario whose finest judged margin is hundreds of ms (a recovery slack, a
 * routing bound) would be failed by a busy machine's scheduling jitter that cannot decide any of its
 * checks. Lateness is counted in the latency from intended send times either way.
 */
import { SATURATION_BOUNDS } from '../../src/load/index.ts';
import type { SaturationBounds } from '../../src/load/index.ts';

/** Share of the finest judged margin the generator may send late, or its event loop lag (p99), before its run counts as saturated. */
export const LATENESS_SHARE_OF_JUDGED_MARGIN = 0.2;

/** SATURATION_BOUNDS with the lateness and event-loop delay bounds set to a fifth of `judgedMarginMs` (never below the defaults). */
export function judgedSaturationBounds(judgedMarginMs: number): SaturationBounds {
  const bound = LATENESS_SHARE_OF_JUDGED_MARGIN * judgedMarginMs;
  return {
    ...SATURATION_BOUNDS,
    maxLatenessP99Ms: Math.max(SATURATION_BOUNDS.maxLatenessP99Ms, bound),
    maxEventLoopDelayP99Ms: Math.max(SATURATION_BOUNDS.maxEventLoopDelayP99Ms, bound),
  };
}
