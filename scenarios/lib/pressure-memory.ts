/**
 * Memory pressure for an instance the scenario starts: V8 heap limits, and a ballast of live
 * arrays preloaded before the service starts, so the service works in what is left of the old space.
 */

/** Doubles per ballast array: 8 KiB, a regular (not large-object) heap object. */
const BALLAST_CHUNK_DOUBLES = 1024;
const BALLAST_CHUNKS_PER_MIB = (1024 * 1024) / (BALLAST_CHUNK_DOUBLES * 8);

export interface MemoryPressure {
  readonly maxOldSpaceMiB: number;
  readonly maxSemiSpaceMiB: number;
  /** Live data held for the process's lifetime; 0 for none. */
  readonly ballastMiB: number;
}

/** Node options that apply `pressure` to an instance process (nothing is added to the target's code). */
export function memoryPressureNodeArgs(pressure: MemoryPressure): string[] {
  const { maxOldSpaceMiB, maxSemiSpaceMiB, ballastMiB } = pressure;
  if (!(Number.isInteger(ballastMiB) && ballastMiB >= 0 && ballastMiB < maxOldSpaceMiB)) {
    throw new RangeError(`ballastMiB must be a whole number from 0 to below maxOldSpaceMiB (${maxOldSpaceMiB}), got ${ballastMiB}; leave the service room to run`);
  }
  const args = [`--max-old-space-size=${maxOldSpaceMiB}`, `--max-semi-space-size=${maxSemiSpaceMiB}`];
  if (ballastMiB > 0) {
    const chunks = ballastMiB * BALLAST_CHUNKS_PER_MIB;
    args.push(`--import=data:text/javascript,globalThis.gauntletBallast=Array.from({length:${chunks}},(_,i)=>new Array(${BALLAST_CHUNK_DOUBLES}).fill(i+0.5))`);
  }
  return args;
}

/** How the pressure reads in a report. */
export function describePressure(pressure: MemoryPressure): string {
  const ballast = pressure.ballastMiB > 0 ? `, ${pressure.ballastMiB} MiB live ballast` : '';
  return `--max-old-space-size=${pressure.maxOldSpaceMiB} --max-semi-space-size=${pressure.maxSemiSpaceMiB}${ballast}`;
}
