/**
 * The instance-failure run seen over time: errors per phase and kind, how long requests still went
 * to the dead instance (from the client's answers and from the balancer's own counters), how long
 * the restarted instance took to serve again, and latency per phase. Pure: times are ms on the
 * scenario's clock.
 */
import type { BackendStats } from '../../target/balancer/proxy.ts';
import { createLatencyHistogram, recordMillis } from '../../src/measure/histogram.ts';
import type { Histogram } from '../../src/measure/histogram.ts';
import type { Check } from '../../src/scenario/definition.ts';
import { classifyAnswer } from './failover-answers.ts';
import type { CapturedAnswer } from './failover-capture.ts';

export const PHASES = ['before', 'outage', 'after'] as const;
export type Phase = (typeof PHASES)[number];

export interface FaultTimes {
  readonly killAt: number;
  /** When the restarted instance reported ready; null when it never did (within the run). */
  readonly readyAt: number | null;
  readonly endAt: number;
}

/** One read of the balancer's GET /_balancer/stats. */
export interface StatsSample {
  readonly at: number;
  readonly backends: readonly BackendStats[];
}

export interface ErrorTally {
  readonly phase: Phase;
  readonly label: string;
  readonly detail: string;
  readonly count: number;
}

export interface TimelineFigures {
  readonly requests: Readonly<Record<Phase, number>>;
  readonly errors: Readonly<Record<Phase, number>>;
  readonly tallies: readonly ErrorTally[];
  /** Kill to the last answer naming the dead instance as the failed backend; 0 when none did. */
  readonly deadRoutingMs: number;
  /** Kill to the last stats sample in which the balancer had sent the dead instance more requests; null without samples. */
  readonly deadRoutingBalancerMs: number | null;
  /** Kill to the first stats sample showing the dead instance out of rotation; null when none did. */
  readonly ejectionMs: number | null;
  /** Ready to the first 2xx the restarted instance answered, or to the last error after ready if later; null when it never served. */
  readonly recoveryMs: number | null;
  readonly servedAfterRestart: number;
  /** 2xx answers not held by the service, by the phase their send was due in. */
  readonly latency: Readonly<Record<Phase, Histogram>>;
}

/** The phase a moment belongs to: before the kill, while the instance is down, after it is ready again. */
export function phaseAt(t: number, times: FaultTimes): Phase {
  if (t < times.killAt) return 'before';
  if (times.readyAt === null || t < times.readyAt) return 'outage';
  return 'after';
}

/**
 * Figures of the run; `deadId` is the killed instance, `intendedAt(index)` when request `index` was due.
 * The caller owns (and destroys) the returned histograms.
 */
export function analyzeTimeline(
  answers: readonly CapturedAnswer[],
  samples: readonly StatsSample[],
  times: FaultTimes,
  deadId: string,
  intendedAt: (index: number) => number,
): TimelineFigures {
  const requests: Record<Phase, number> = { before: 0, outage: 0, after: 0 };
  const errors: Record<Phase, number> = { before: 0, outage: 0, after: 0 };
  const latency: Record<Phase, Histogram> = { before: createLatencyHistogram(), outage: createLatencyHistogram(), after: createLatencyHistogram() };
  const tallies = new Map<string, ErrorTally>();
  let deadRoutingMs = 0;
  let firstServed: number | null = null;
  let lastErrorAfterReady: number | null = null;
  let servedAfterRestart = 0;
  for (const a of answers) {
    const c = classifyAnswer(a);
    const phase = phaseAt(a.doneAt, times);
    requests[phase] += 1;
    if (c.ok) {
      if (!a.op.held) recordMillis(latency[phaseAt(intendedAt(a.op.index), times)], a.doneAt - intendedAt(a.op.index));
      if (a.instance === deadId && times.readyAt !== null && a.doneAt >= times.readyAt) {
        servedAfterRestart += 1;
        firstServed = Math.min(firstServed ?? a.doneAt, a.doneAt);
      }
      continue;
    }
    errors[phase] += 1;
    const label = c.errorLabel ?? 'other';
    const detail = c.errorDetail ?? label;
    const key = `${phase}|${label}|${detail}`;
    const prior = tallies.get(key);
    tallies.set(key, { phase, label, detail, count: (prior?.count ?? 0) + 1 });
    if (c.backend === deadId && a.doneAt >= times.killAt) deadRoutingMs = Math.max(deadRoutingMs, a.doneAt - times.killAt);
    if (phase === 'after') lastErrorAfterReady = Math.max(lastErrorAfterReady ?? a.doneAt, a.doneAt);
  }
  const readyAt = times.readyAt;
  const recoveryMs = firstServed === null || readyAt === null ? null : Math.max(firstServed, lastErrorAfterReady ?? firstServed) - readyAt;
  return {
    requests,
    errors,
    tallies: [...tallies.values()].sort((x, y) => PHASES.indexOf(x.phase) - PHASES.indexOf(y.phase) || y.count - x.count),
    deadRoutingMs,
    ...balancerSide(samples, times, deadId),
    recoveryMs,
    servedAfterRestart,
    latency,
  };
}

function balancerSide(samples: readonly StatsSample[], times: FaultTimes, deadId: string): { deadRoutingBalancerMs: number | null; ejectionMs: number | null } {
  const dead = samples.flatMap((s) => {
    const b = s.backends.find((x) => x.instanceId === deadId);
    return b === undefined ? [] : [{ at: s.at, total: b.total, active: b.active }];
  });
  if (dead.length === 0) return { deadRoutingBalancerMs: null, ejectionMs: null };
  const outageEnd = times.readyAt ?? times.endAt;
  let deadRoutingBalancerMs = 0;
  let ejectionMs: number | null = null;
  for (let i = 1; i < dead.length; i++) {
    const s = dead[i];
    const prev = dead[i - 1];
    if (s === undefined || prev === undefined || s.at < times.killAt || s.at > outageEnd) continue;
    if (s.total > prev.total) deadRoutingBalancerMs = s.at - times.killAt;
    if (!s.active && ejectionMs === null) ejectionMs = s.at - times.killAt;
  }
  return { deadRoutingBalancerMs, ejectionMs };
}

/** The routing-bound and recovery checks. */
export function timelineChecks(f: TimelineFigures, times: FaultTimes, deadId: string, boundMs: number): Check[] {
  const worst = Math.max(f.deadRoutingMs, f.deadRoutingBalancerMs ?? 0);
  const routing: Check = {
    name: `the balancer stops routing to the dead instance within ${boundMs} ms`,
    expected: `<= ${boundMs} ms`,
    actual: `${Math.round(worst)} ms`,
    passed: worst <= boundMs,
    ...(worst <= boundMs
      ? {}
      : {
          detail:
            `answers naming ${deadId} as the failed backend came up to ${Math.round(f.deadRoutingMs)} ms after the kill; ` +
            (f.deadRoutingBalancerMs === null ? 'no balancer stats were read' : `the balancer's own count of requests sent to it still grew ${Math.round(f.deadRoutingBalancerMs)} ms after`) +
            (f.ejectionMs === null ? '; it was never taken out of rotation' : ''),
        }),
  };
  const ready = times.readyAt !== null;
  const recovered = ready && f.servedAfterRestart > 0 && f.errors.after === 0;
  const recovery: Check = {
    name: 'the restarted instance serves again, and no request fails after it is back',
    expected: 'served by it, 0 errors after ready',
    actual: ready ? `${f.servedAfterRestart} served by it, ${f.errors.after} errors after ready` : 'not ready within the run',
    passed: recovered,
    ...(recovered
      ? {}
      : {
          detail: !ready
            ? `${deadId} did not report ready before the load ended; raise restartAllowanceMs on a slow machine`
            : f.servedAfterRestart === 0
              ? `the balancer sent ${deadId} nothing in the ${Math.round(times.endAt - times.readyAt)} ms the load ran after it was ready again (it was not re-admitted)`
              : f.tallies.filter((t) => t.phase === 'after').map((t) => `${t.count} x ${t.detail}`).join(', '),
        }),
  };
  return [routing, recovery];
}
