/**
 * Rate limiting accuracy: per test user, more than the limit in one burst and spread over a window,
 * through one instance, through the balancer and across instances; then one request after the reset.
 * The oracle places every request in the server's fixed windows (wall clock, epoch-aligned).
 */
import { sleep } from '../../src/clock.ts';
import { encodeHistogram, mergeHistograms } from '../../src/measure/histogram.ts';
import { selectSamples } from '../../src/measure/prometheus/query.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { Check, ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import type { TestUser } from '../../src/scenario/fixtures.ts';
import { judgeRateLimit } from '../lib/ratelimit-oracle.ts';
import type { Attempt, RateLimitVerdict, Violation } from '../lib/ratelimit-oracle.ts';
import { createSink, LimitedClient } from '../lib/ratelimit-traffic.ts';
import type { TrafficSink } from '../lib/ratelimit-traffic.ts';

/** Start each round this long after a window opens, so the first requests are clearly inside it. */
export const ALIGN_MARGIN_MS = 40;
/** Families a user may own on the embedded target: high, so an over-admission shows as a 201, not a 409. */
export const RATE_TEST_FAMILY_LIMIT = 1000;
/** Violations quoted per check. */
const EVIDENCE = 3;
const WINDOW_GAUGE = 'gauntlet_rate_limit_window_seconds';

type Params = {
  readonly instances: number;
  readonly limit: number;
  readonly windowMs: number;
  readonly rounds: number;
  readonly burstDirectUsers: number;
  readonly burstBalancedUsers: number;
  readonly spreadUsers: number;
  readonly underLimitUsers: number;
  /** Over-limit users send limit x this many requests (the original: 15 for a limit of 5). */
  readonly overLimitFactor: number;
  /** Fraction of the window the spread-out requests cover. */
  readonly spreadFraction: number;
};

const smoke: Params = { instances: 2, limit: 5, windowMs: 2000, rounds: 1, burstDirectUsers: 2, burstBalancedUsers: 2, spreadUsers: 2, underLimitUsers: 2, overLimitFactor: 3, spreadFraction: 0.8 };

interface Round {
  readonly direct: readonly TestUser[];
  readonly balanced: readonly TestUser[];
  readonly spread: readonly TestUser[];
  readonly under: readonly TestUser[];
}

const definition: ScenarioDefinition<Params> = {
  id: 'rate-limiting',
  group: 'concurrency',
  title: 'Rate limiting accuracy',
  objective: 'Exactly the advertised number of requests per user and window is admitted, through one instance and across instances, and every refusal says when to retry.',
  profiles: {
    smoke,
    standard: { ...smoke, rounds: 3, burstDirectUsers: 8, burstBalancedUsers: 8, spreadUsers: 8, underLimitUsers: 8 },
    soak: { ...smoke, instances: 3, windowMs: 3000, rounds: 40, burstDirectUsers: 16, burstBalancedUsers: 16, spreadUsers: 16, underLimitUsers: 16 },
  },
  metrics: [
    { name: 'limit', dimension: 'count', description: 'RateLimit-Limit advertised by the target' },
    { name: 'window', dimension: 'duration', description: 'rate-limit window (from the target metrics)' },
    { name: 'requests', dimension: 'count', description: 'limited requests sent' },
    { name: 'admitted.per_window', dimension: 'count', description: 'most requests admitted for one user in one window' },
    { name: 'over_admissions', dimension: 'count', description: 'admissions beyond the limit, over users and windows' },
    { name: 'under_admissions', dimension: 'count', description: 'admissions missing below the limit in windows that reached it' },
    { name: 'false_rejections', dimension: 'count', description: '429s with fewer than limit earlier requests in the window' },
    { name: 'missing_retry_after', dimension: 'count', description: '429s without Retry-After' },
    { name: 'header_violations', dimension: 'count', description: 'incoherent RateLimit-* headers (and early Retry-After)' },
    { name: 'reset_rejections', dimension: 'count', description: 'requests refused after the window reset' },
    { name: 'state_mismatches', dimension: 'count', description: 'users whose families (read back) differ from their admitted requests' },
    { name: 'ambiguous', dimension: 'count', description: 'requests that straddled a window boundary (judged by bounds only)' },
    { name: 'errors.rate', dimension: 'ratio', description: 'limited requests that failed (network error or 5xx)' },
    ...(['admitted', 'limited'] as const).flatMap((kind) =>
      (['p50', 'p95', 'p99'] as const).map((p) => ({ name: `latency.${kind}.${p}`, dimension: 'duration' as const, description: `${p} latency of ${kind} responses` })),
    ),
  ],
  thresholds: [
    'over_admissions == 0',
    'under_admissions == 0',
    'false_rejections == 0',
    'missing_retry_after == 0',
    'header_violations == 0',
    'reset_rejections == 0',
    'state_mismatches == 0',
    'errors.rate == 0',
    'latency.admitted.p99 < 5s',
    'latency.limited.p99 < 5s',
  ],
  describe: (p) =>
    `${p.rounds} round(s) on ${p.instances} instance(s), limit ${p.limit} per ${p.windowMs / 1000} s window: per round ${p.burstDirectUsers} users burst ${p.overLimitFactor}x the limit at one instance, ${p.burstBalancedUsers} through the balancer, ${p.spreadUsers} spread over ${Math.round(p.spreadFraction * 100)}% of a window across instances, ${p.underLimitUsers} send exactly the limit; then one request each after the reset.`,
  deployment: (p) => ({ instances: p.instances, service: { rateLimit: { limit: p.limit, windowMs: p.windowMs }, familyLimit: RATE_TEST_FAMILY_LIMIT } }),
  run,
};

export default definition;

async function run(ctx: ScenarioContext, p: Params): Promise<ScenarioOutput> {
  const wallNow = (): number => Date.now();
  const client = new LimitedClient({ clock: ctx.clock, wallNow, signal: ctx.signal });
  const sink = createSink();
  try {
    ctx.phase('discover the limit and window');
    const probe = await ctx.fixtures.createUser('rlprobe');
    const first = await client.send(sink, ctx.target.url, probe, 'discover');
    const limit = discoveredLimit(first);
    const windowMs = await discoveredWindowMs(ctx);

    ctx.phase('create users');
    const perRound = p.burstDirectUsers + p.burstBalancedUsers + p.spreadUsers + p.underLimitUsers;
    const users = await ctx.fixtures.createUsers(perRound * p.rounds, 'rl');
    const rounds = Array.from({ length: p.rounds }, (_, r): Round => {
      const mine = users.slice(r * perRound, (r + 1) * perRound);
      const cut = [p.burstDirectUsers, p.burstBalancedUsers, p.spreadUsers].reduce<number[]>((acc, n) => [...acc, (acc.at(-1) ?? 0) + n], []);
      return { direct: mine.slice(0, cut[0]), balanced: mine.slice(cut[0], cut[1]), spread: mine.slice(cut[1], cut[2]), under: mine.slice(cut[2]) };
    });

    const instances = ctx.target.instances.map((i) => i.url);
    const direct = instances[0] ?? ctx.target.url;
    const across = (i: number): string => instances[i % Math.max(1, instances.length)] ?? ctx.target.url;
    const balanced = (): string => ctx.target.url;
    const overCount = limit * p.overLimitFactor;
    const firstWindow = (Math.floor(wallNow() / windowMs) + 1) * windowMs;

    // Rounds use their own users, so round r+1's window may overlap round r's reset requests.
    await Promise.all(
      rounds.map(async (round, r) => {
        const startWallMs = firstWindow + r * windowMs + ALIGN_MARGIN_MS;
        await sleepUntil(ctx, client.signal, wallNow, startWallMs);
        ctx.phase(`round ${r + 1}/${p.rounds}: bursts and spread`);
        await Promise.all([
          client.burst(sink, round.direct, overCount, 'burst-direct', () => direct),
          client.burst(sink, round.balanced, overCount, 'burst-balanced', balanced),
          client.burst(sink, round.under, limit, 'under-limit', balanced),
          client.spread(sink, round.spread, { count: overCount, startWallMs, stepMs: (windowMs * p.spreadFraction) / overCount }, 'spread-across', across),
        ]);
        ctx.phase(`round ${r + 1}/${p.rounds}: after the reset`);
        await Promise.all(
          [...round.direct, ...round.balanced, ...round.spread].map(async (user) => {
            await sleepUntil(ctx, client.signal, wallNow, resetTime(sink.attempts.filter((a) => a.userId === user.id), windowMs));
            await client.send(sink, ctx.target.url, user, 'after-reset');
          }),
        );
      }),
    );

    ctx.phase('read back families');
    const everyone = [probe, ...users];
    const families = await mapLimit(everyone.length, FIXTURE_CONCURRENCY, async (i) => {
      const user = everyone[i] as TestUser;
      const res = await ctx.http.send({ method: 'GET', path: '/me/families', token: user.token });
      if (res.status !== 200 || !Array.isArray(res.body)) throw new Error(`GET /me/families answered ${res.status} for ${user.username}; the oracle needs it to read back what was admitted`);
      return res.body.length;
    });

    const verdict = judgeRateLimit({ attempts: sink.attempts, limit, windowMs });
    return report({ ctx, sink, verdict, limit, windowMs, everyone, families, instances: instances.length });
  } finally {
    await client.close();
  }
}

function discoveredLimit(first: Attempt): number {
  const text = first.outcome.kind === 'response' ? first.outcome.headers.limit : null;
  const limit = text === null ? NaN : Number(text);
  if (!(Number.isInteger(limit) && limit > 0)) {
    const got = first.outcome.kind === 'response' ? `status ${first.outcome.status}, RateLimit-Limit ${text ?? 'absent'}` : first.outcome.message;
    throw new Error(`POST /families gave no usable RateLimit-Limit (${got}); the scenario discovers the limit from that header — is rate limiting on?`);
  }
  return limit;
}

async function discoveredWindowMs(ctx: ScenarioContext): Promise<number> {
  const exposition = await ctx.scrape();
  const seconds = selectSamples(exposition.samples, WINDOW_GAUGE)[0]?.value;
  if (seconds === undefined || !(seconds > 0)) {
    throw new Error(`the target's /metrics has no ${WINDOW_GAUGE}; the oracle needs the window length to place requests in windows — expose it, or run against the embedded target`);
  }
  return seconds * 1000;
}

/** When to send the after-reset request: obey the last Retry-After, and be past the window of every earlier request. */
function resetTime(mine: readonly Attempt[], windowMs: number): number {
  let at = 0;
  for (const a of mine) {
    at = Math.max(at, (Math.floor(a.doneWallMs / windowMs) + 1) * windowMs + ALIGN_MARGIN_MS);
    const retryAfter = a.outcome.kind === 'response' && a.outcome.status === 429 ? Number(a.outcome.headers.retryAfter) : NaN;
    if (Number.isFinite(retryAfter)) at = Math.max(at, a.doneWallMs + Math.min(retryAfter * 1000, 2 * windowMs));
  }
  return at;
}

async function sleepUntil(ctx: ScenarioContext, signal: AbortSignal, wallNow: () => number, wallMs: number): Promise<void> {
  const wait = wallMs - wallNow();
  if (wait > 0) await sleep(ctx.clock, wait, signal);
}

interface ReportInput {
  readonly ctx: ScenarioContext;
  readonly sink: TrafficSink;
  readonly verdict: RateLimitVerdict;
  readonly limit: number;
  readonly windowMs: number;
  readonly everyone: readonly TestUser[];
  readonly families: readonly number[];
  readonly instances: number;
}

function report({ sink, verdict, limit, windowMs, everyone, families, instances }: ReportInput): ScenarioOutput {
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
      ...(admitted === null ? {} : { 'latency.admitted.p50': admitted.p50, 'latency.admitted.p95': admitted.p95, 'latency.admitted.p99': admitted.p99 }),
      ...(limited === null ? {} : { 'latency.limited.p50': limited.p50, 'latency.limited.p95': limited.p95, 'latency.limited.p99': limited.p99 }),
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
      'Traffic is sent by a header-keeping client (the load generators keep no response headers); latency is measured from the request call to the response headers.',
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
