/**
 * The generator watching itself: how late it sent against its schedule and how delayed its event
 * loop was. A run past the bounds measured the generator, not the target, and says so.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { createLatencyHistogram, encodeHistogram } from '../measure/histogram.ts';
import { BucketCounter } from './bucket-counter.ts';
import { LOAD_DEFAULTS, SATURATION_BOUNDS } from './defaults.ts';
import type { SaturationBounds } from './defaults.ts';

/** The verdict and the figures it rests on. Rates per second; null where the model has none. */
export interface GeneratorSaturation {
  saturated: boolean;
  reasons: string[];
  latenessP99Ms: number | null;
  achievedRate: number;
  targetRate: number | null;
  eventLoopDelayP99Ms: number;
}

export class SelfCheck {
  // Recorded on the open model's send path: the flat counter, flushed into a histogram once at the end.
  readonly #lateness = new BucketCounter();
  readonly #loop: IntervalHistogram;
  #latenessCount = 0;

  constructor(resolutionMs: number = LOAD_DEFAULTS.eventLoopResolutionMs) {
    this.#loop = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#loop.enable();
  }

  /** Records how late one send was (never negative: an early send counts as on time). */
  lateness(ms: number): void {
    this.#latenessCount++;
    // Recorded in µs without the 1 µs floor of latencies: on time is exactly 0.
    this.#lateness.recordMicros(ms > 0 ? Math.round(ms * 1000) : 0);
  }

  /** Stops the monitor and returns the figures; call exactly once. */
  finish(): { latenessP99Ms: number | null; lateness: string | null; eventLoopDelayP99Ms: number } {
    this.#loop.disable();
    // The monitor samples every `resolution` ms; its values include that period (ns).
    const eventLoopDelayP99Ms = this.#loop.count > 0 ? this.#loop.percentile(99) / 1e6 : 0;
    const hasLateness = this.#latenessCount > 0;
    const histogram = createLatencyHistogram();
    this.#lateness.flushInto(histogram);
    const result = {
      latenessP99Ms: hasLateness ? histogram.getValueAtPercentile(99) / 1000 : null,
      lateness: hasLateness ? encodeHistogram(histogram) : null,
      eventLoopDelayP99Ms,
    };
    histogram.destroy();
    return result;
  }
}

/** Judges the figures against the bounds; every reason carries the numbers. */
export function judgeSaturation(
  figures: { latenessP99Ms: number | null; latencyP99Ms: number | null; achievedRate: number; targetRate: number | null; eventLoopDelayP99Ms: number },
  bounds: SaturationBounds = SATURATION_BOUNDS,
  resolutionMs: number = LOAD_DEFAULTS.eventLoopResolutionMs,
): GeneratorSaturation {
  const reasons: string[] = [];
  const { latenessP99Ms, latencyP99Ms, achievedRate, targetRate, eventLoopDelayP99Ms } = figures;
  const distorts = latencyP99Ms === null || latenessP99Ms === null || latenessP99Ms > bounds.maxLatenessShareOfP99 * latencyP99Ms;
  if (latenessP99Ms !== null && latenessP99Ms > bounds.maxLatenessP99Ms && distorts) {
    const share = latencyP99Ms === null ? '' : ` and > ${Math.round(bounds.maxLatenessShareOfP99 * 100)}% of the latency p99 ${latencyP99Ms.toFixed(2)} ms`;
    reasons.push(`p99 send lateness ${latenessP99Ms.toFixed(2)} ms > ${bounds.maxLatenessP99Ms} ms${share}: the generator fell behind its schedule`);
  }
  if (targetRate !== null && targetRate > 0 && achievedRate < bounds.minAchievedRatio * targetRate) {
    const pct = ((100 * achievedRate) / targetRate).toFixed(1);
    reasons.push(`achieved ${achievedRate.toFixed(1)}/s is ${pct}% of the asked ${targetRate.toFixed(1)}/s (< ${bounds.minAchievedRatio * 100}%)`);
  }
  const loopDelay = eventLoopDelayP99Ms - resolutionMs;
  if (loopDelay > bounds.maxEventLoopDelayP99Ms) {
    reasons.push(`generator event-loop delay p99 ${loopDelay.toFixed(1)} ms > ${bounds.maxEventLoopDelayP99Ms} ms: its CPU is the bottleneck`);
  }
  return { saturated: reasons.length > 0, reasons, latenessP99Ms, achievedRate, targetRate, eventLoopDelayP99Ms };
}
