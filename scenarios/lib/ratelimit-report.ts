/** The rate-limiting scenario's output: checks with evidence, metrics, histograms, per-phase table, notes. */
import { encodeHistogram, mergeHistograms } from '../../src/measure/histogram.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { Check, ScenarioOutput } from '../../src/scenario/definition.ts';
import type { TestUser } from '../../src/scenario/fixtures.ts';
import type { Attempt, RateLimitVerdict, Violation } from './ratelimit-oracle.ts';
import type { TrafficSink } from './ratelimit-traffic.ts';
import { latencyMetricValues } from '../../src/scenario/latency-metrics.ts';

/** Violations quoted per check. */
const EVIDENCE = 3;
/** The target gauge the window length is read from. */
export const WINDOW_GAUGE = 'gauntlet_rate_limit_window_seconds';

export interface ReportInput {
  readonly sink: TrafficSink;
  readonly verdict: RateLimitVerdict;
  readonly limit: number;
  readonly windowMs: number;
  readonly everyone: readonly TestUser[];
  readonly families: readonly number[];
  readonly instances: number;
}

/** Turns the verdict, the traffic and the read-back into checks, metrics, histograms and tables. */
export function report({ sink, verdict, limit, windowMs, everyone, families, instances }: ReportInput): ScenarioOutput {
  const { attempts } = sink;
  const is = (a: Attempt, pred: (status: number) => boolean): boolean => a.outcome.kind === 'response' && pred(a.outcome.status);
  const failed = attempts.filter((a) => a.outcome.kind === 'error' || is(a, (s) => s >= 500));
  const resets = attempts.filter((a) => a.phase === 'after-reset');
  const resetRejected = resets.filter((a) => !is(a, (s) => s === 201));
  const mismatches = everyone.flatMap((user, i) => {
    const created = attempts.filter((a) => a.userId === user.id && is(a, (s) => s === 201)).length;
    const unknown = attempts.filter((a) => a.userId === user.id && (a.outcome.kind === 'error' || is(a, (s) => s >= 500))).length;
    const found = families[i] ?? 0;
    return found >= created && found <= created + unknown ? [] : [`${user.username}: ${found} families, ${created} admitted (201)`];
  });
  const admitted = summarize(sink.admittedLatency);
  const limited = summarize(sink.limitedLatency);
  const quote = (vs: readonly Violation[]): string => vs.slice(0, EVIDENCE).map((v) => `${v.userId.slice(0, 8)}: ${v.what}`).join('; ');
  const saturated = verdict.minAdmittedSaturated === null ? 'no window saturated' : `${verdict.minAdmittedSaturated}..${verdict.maxAdmittedPerWindow}`;

  const checks: Check[] = [
    {
      name: 'exactly limit admitted per user per window',
      expected: `${limit}`,
      actual: verdict.minAdmittedSaturated === verdict.maxAdmittedPerWindow ? String(verdict.maxAdmittedPerWindow) : saturated,
      passed: verdict.overAdmissions === 0 && verdict.underAdmissions === 0 && verdict.saturatedWindows > 0,
      ...(verdict.saturatedWindows === 0 ? { detail: 'no user certainly exceeded the limit within one window: the traffic proved nothing (raise overLimitFactor or shorten the phases)' } : {}),
      ...(verdict.overAdmissions + verdict.underAdmissions > 0 ? { detail: quote([...verdict.violations.over, ...verdict.violations.under]) } : {}),
    },
    violationCheck('no over-admission across instances', verdict.overAdmissions, verdict.violations.over, quote),
    violationCheck('no false rejection', verdict.falseRejections, verdict.violations.falseRejection, quote),
    violationCheck('every 429 has a valid Retry-After', verdict.violations.retryAfter.length, verdict.violations.retryAfter, quote),
    violationCheck('RateLimit-* headers coherent', verdict.headerViolations, verdict.violations.headers, quote),
    {
      name: 'admitted again after the reset',
      expected: resets.length,
      actual: resets.length - resetRejected.length,
      passed: resetRejected.length === 0 && resets.length > 0,
      ...(resetRejected.length > 0 ? { detail: resetRejected.slice(0, EVIDENCE).map((a) => `${a.userId.slice(0, 8)}: ${a.outcome.kind === 'response' ? a.outcome.status : a.outcome.message}`).join('; ') } : {}),
    },
    {
      name: 'families read back match admitted requests',
      expected: 0,
      actual: mismatches.length,
      passed: mismatches.length === 0,
      ...(mismatches.length > 0 ? { detail: mismatches.slice(0, EVIDENCE).join('; ') } : {}),
    },
  ];

  const phases = [...new Set(attempts.map((a) => a.phase))];
  return {
    metrics: {
      limit,
      window: windowMs,
      requests: attempts.length,
      'admitted.per_window': verdict.maxAdmittedPerWindow,
      over_admissions: verdict.overAdmissions,
      under_admissions: verdict.underAdmissions,
      false_rejections: verdict.falseRejections,
      missing_retry_after: verdict.missingRetryAfter,
      header_violations: verdict.headerViolations,
      reset_rejections: resetRejected.length,
      state_mismatches: mismatches.length,
      ambiguous: verdict.ambiguous,
      'errors.rate': attempts.length === 0 ? 0 : failed.length / attempts.length,
      ...latencyMetricValues(admitted, 'latency.admitted'),
      ...latencyMetricValues(limited, 'latency.limited'),
    },
    checks,
    histograms: {
      'latency.admitted': encodeHistogram(sink.admittedLatency),
      'latency.limited': encodeHistogram(sink.limitedLatency),
      latency: encodeHistogram(mergeHistograms([sink.admittedLatency, sink.limitedLatency])),
    },
    series: { windows: windowSeries(attempts, windowMs) },
    tables: {
      phases: phases.map((phase) => {
        const mine = attempts.filter((a) => a.phase === phase);
        return {
          phase,
          users: new Set(mine.map((a) => a.userId)).size,
          sent: mine.length,
          admitted: mine.filter((a) => is(a, (s) => s !== 429 && s < 500)).length,
          limited: mine.filter((a) => is(a, (s) => s === 429)).length,
          failed: mine.filter((a) => a.outcome.kind === 'error' || is(a, (s) => s >= 500)).length,
        };
      }),
    },
    notes: [
      `Limit ${limit} discovered from RateLimit-Limit; window ${windowMs / 1000} s from ${WINDOW_GAUGE}. Windows are fixed and aligned to multiples of the window since the epoch; each request is placed by its wall-clock send/answer times (the target shares this host's clock).`,
      `${verdict.ambiguous} request(s) straddled a window boundary and were judged by bounds only; ${verdict.saturatedWindows} user-window(s) were certainly over the limit and judged exactly.`,
      instances > 1
        ? `Direct bursts went to one instance; spread requests rotated over ${instances} instances directly; the rest went through the balancer.`
        : 'The target exposes no instance URLs: direct and cross-instance phases went to the target URL (one instance, or a balancer gauntlet cannot see behind).',
      'Traffic is sent by a header-keeping client (the load generators keep no response headers), so no generator self-check applies: latency, from the request call to the response headers, includes gauntlet\'s own delay while it releases a burst.',
    ],
  };
}

function violationCheck(name: string, count: number, violations: readonly Violation[], quote: (vs: readonly Violation[]) => string): Check {
  return { name, expected: 0, actual: count, passed: count === 0, ...(count > 0 ? { detail: quote(violations) } : {}) };
}

/** Admitted and limited responses per window, x = window index from the first. */
function windowSeries(attempts: readonly Attempt[], windowMs: number): { x: number; admitted: number; limited: number }[] {
  const byWindow = new Map<number, { admitted: number; limited: number }>();
  for (const a of attempts) {
    if (a.outcome.kind !== 'response' || a.outcome.status >= 500) continue;
    const w = Math.floor(a.sentWallMs / windowMs);
    const entry = byWindow.get(w) ?? { admitted: 0, limited: 0 };
    if (a.outcome.status === 429) entry.limited += 1;
    else entry.admitted += 1;
    byWindow.set(w, entry);
  }
  const first = Math.min(...byWindow.keys());
  return [...byWindow.entries()].sort(([a], [b]) => a - b).map(([w, v]) => ({ x: w - first, ...v }));
}
