/** Which family each read of the cache scenario's phases goes to, from the cache's capacity alone. */

/** Golden-ratio spacing: a deterministic, evenly mixed sequence of hot and cold reads. */
const MIX_STEP = 0.6180339887;

export interface PlanShape {
  /** Families scanned sequentially, as a multiple of the capacity (2 = twice what the cache holds). */
  readonly scanFactor: number;
  readonly scanPasses: number;
  /** Hot-set size as a fraction of the capacity (below 1: the whole set fits). */
  readonly hotFraction: number;
  /** Reads of each hot family in the hot phase. */
  readonly hotRounds: number;
  /** Reads of the mixed phase, as a multiple of the capacity. */
  readonly mixedFactor: number;
  /** Share of mixed reads that go to the hot set (0.7 = 70/30). */
  readonly mixedHotShare: number;
  /** Families of the TTL phase (their own, read by no other phase). */
  readonly ttlFamilies: number;
}

/** Family keys are 0..families-1; every list is read in order. */
export interface ReadPlan {
  readonly families: number;
  readonly hot: readonly number[];
  readonly sequential: readonly number[];
  readonly hotReads: readonly number[];
  readonly mixed: readonly number[];
  readonly ttl: readonly number[];
}

/** The read plan for a cache of `capacity` entries. */
export function planReads(capacity: number, shape: PlanShape): ReadPlan {
  if (!(shape.scanFactor > 1)) throw new RangeError(`scanFactor must exceed 1 (a scan beyond the capacity), got ${shape.scanFactor}`);
  if (!(shape.hotFraction > 0 && shape.hotFraction < 1)) throw new RangeError(`hotFraction must be within (0, 1) so the hot set fits the cache, got ${shape.hotFraction}`);
  const scanned = Math.ceil(shape.scanFactor * capacity);
  const hotSize = Math.max(1, Math.min(scanned, Math.round(shape.hotFraction * capacity)));
  const hot = range(0, hotSize);
  const sequential = Array.from({ length: shape.scanPasses }, () => range(0, scanned)).flat();
  const hotReads = Array.from({ length: shape.hotRounds }, () => hot).flat();
  // Cold reads walk the scanned families beyond the hot set, wrapping if the phase asks for more.
  const coldCount = Math.max(1, scanned - hotSize);
  const mixedCount = Math.round(shape.mixedFactor * capacity);
  let h = 0;
  let c = 0;
  const mixed = range(0, mixedCount).map((i) => ((i * MIX_STEP) % 1 < shape.mixedHotShare ? (hot[h++ % hotSize] ?? 0) : hotSize + (c++ % coldCount)));
  return { families: scanned + shape.ttlFamilies, hot, sequential, hotReads, mixed, ttl: range(scanned, scanned + shape.ttlFamilies) };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
