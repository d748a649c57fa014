/**
 * Open-model arrival schedules: pure functions from a request's index to its intended send time,
 * so the whole schedule is known before the run and tests can assert it exactly. As in wrk2, the
 * intended time never depends on when earlier responses came back.
 */

/** Constant rate, or a linear ramp from one rate to another that then holds the final rate. */
export type ArrivalSchedule =
  | { kind: 'constant'; ratePerSec: number }
  | { kind: 'ramp'; fromPerSec: number; toPerSec: number; overMs: number };

/** When a run stops sending: after a duration, after a count, or at whichever comes first. */
export interface RunEnd {
  durationMs?: number;
  count?: number;
}

/** Throws with a fix-it message when the schedule or end cannot produce a finite run. */
export function validateSchedule(schedule: ArrivalSchedule, end: RunEnd): void {
  validateEnd(end, 'open model');
  if (schedule.kind === 'constant') {
    if (!(schedule.ratePerSec > 0 && Number.isFinite(schedule.ratePerSec))) {
      throw new Error(`ratePerSec must be a positive finite number, got ${schedule.ratePerSec}`);
    }
    return;
  }
  const { fromPerSec, toPerSec, overMs } = schedule;
  if (!(fromPerSec >= 0 && toPerSec > 0 && Number.isFinite(fromPerSec) && Number.isFinite(toPerSec))) {
    throw new Error(`ramp needs fromPerSec >= 0 and toPerSec > 0, got ${fromPerSec} -> ${toPerSec}`);
  }
  if (!(overMs > 0 && Number.isFinite(overMs))) throw new Error(`ramp overMs must be positive, got ${overMs}`);
}

/** Throws with a fix-it message when `end` cannot stop a run: no end, a non-positive duration or count. */
export function validateEnd(end: RunEnd, model: string): void {
  if (end.durationMs === undefined && end.count === undefined) {
    throw new Error(`${model} needs an end: give durationMs, count, or both`);
  }
  if (end.durationMs !== undefined && !(end.durationMs > 0 && Number.isFinite(end.durationMs))) {
    throw new Error(`durationMs must be a positive finite number, got ${end.durationMs}`);
  }
  if (end.count !== undefined && !(Number.isInteger(end.count) && end.count > 0)) {
    throw new Error(`count must be a positive integer, got ${end.count}`);
  }
}

/** Intended send time of request `index`, in ms from the start of the run. */
export function intendedSendMs(schedule: ArrivalSchedule, index: number): number {
  if (schedule.kind === 'constant') return (index * 1000) / schedule.ratePerSec;
  const { fromPerSec: r0, toPerSec: r1, overMs } = schedule;
  const overSec = overMs / 1000;
  const slope = (r1 - r0) / overSec;
  const rampArrivals = ((r0 + r1) / 2) * overSec;
  if (index <= rampArrivals) {
    // Solves r0*t + slope*t^2/2 = index in the form that stays exact when slope is 0 or r0 is 0.
    return (2000 * index) / (r0 + Math.sqrt(r0 * r0 + 2 * slope * index));
  }
  return overMs + ((index - rampArrivals) * 1000) / r1;
}

/** Arrivals the schedule asks for in [0, atMs): the integral of its rate. */
export function arrivalsBefore(schedule: ArrivalSchedule, atMs: number): number {
  const t = atMs / 1000;
  if (schedule.kind === 'constant') return schedule.ratePerSec * t;
  const { fromPerSec: r0, toPerSec: r1, overMs } = schedule;
  const overSec = overMs / 1000;
  if (t <= overSec) return r0 * t + ((r1 - r0) / overSec) * t * t * 0.5;
  return ((r0 + r1) / 2) * overSec + r1 * (t - overSec);
}

/** True when request `index` (due at `intendedMs`) falls outside the run. */
export function isPastEnd(end: RunEnd, index: number, intendedMs: number): boolean {
  return (end.count !== undefined && index >= end.count) || (end.durationMs !== undefined && intendedMs >= end.durationMs);
}

/** Every intended send time of a finite run, in order; bounded by `maxCount`. */
export function scheduleTimes(schedule: ArrivalSchedule, end: RunEnd, maxCount = 10_000_000): number[] {
  validateSchedule(schedule, end);
  const times: number[] = [];
  for (let i = 0; i < maxCount; i++) {
    const t = intendedSendMs(schedule, i);
    if (isPastEnd(end, i, t)) return times;
    times.push(t);
  }
  throw new Error(`schedule has more than ${maxCount} requests; shorten it or raise maxCount`);
}
