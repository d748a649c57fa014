/**
 * Rate limiting accuracy: per test user, more than the limit in one burst and spread over a window,
 * through one instance, through the balancer and across instances; then one request after the reset.
 * The oracle places every request in the server's fixed windows (wall clock, epoch-aligned).
 */
import { sleep } from '../../src/clock.ts';
import { selectSamples } from '../../src/measure/prometheus/query.ts';
import type { ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import type { TestUser } from '../../src/scenario/fixtures.ts';
import { judgeRateLimit } from '../lib/ratelimit-oracle.ts';
import type { Attempt } from '../lib/ratelimit-oracle.ts';
import { report, WINDOW_GAUGE } from '../lib/ratelimit-report.ts';
import { createSink, LimitedClient } from '../lib/ratelimit-traffic.ts';
import { latencyMetricSpecs } from '../../src/scenario/latency-metrics.ts';
import { rateLimitingTraffic } from '../lib/artillery-concurrency.ts';

/** Start each round this long after a window opens, so the first requests are clearly inside it. */
export const ALIGN_MARGIN_MS = 40;
/** Families a user may own on the embedded target: high, so an over-admission shows as a 201, not a 409. */
export const RATE_TEST_FAMILY_LIMIT = 1000;

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
    soak: { ...smoke, instances: 3, windowMs: 3000, rounds: 10, burstDirectUsers: 16, burstBalancedUsers: 16, spreadUsers: 16, underLimitUsers: 16 },
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
      latencyMetricSpecs(`latency.${kind}`, `the latency of ${kind} responses`),
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
    'errors.rate < 1%',
    'latency.admitted.p99 < 5s',
    'latency.limited.p99 < 5s',
  ],
  describe: (p) =>
    `${p.rounds} round(s) on ${p.instances} instance(s), limit ${p.limit} per ${p.windowMs / 1000} s window: per round ${p.burstDirectUsers} users burst ${p.overLimitFactor}x the limit at one instance, ${p.burstBalancedUsers} through the balancer, ${p.spreadUsers} spread over ${Math.round(p.spreadFraction * 100)}% of a window across instances, ${p.underLimitUsers} send exactly the limit; then one request each after the reset.`,
  deployment: (p) => ({ instances: p.instances, service: { rateLimit: { limit: p.limit, windowMs: p.windowMs }, familyLimit: RATE_TEST_FAMILY_LIMIT } }),
  run,
  artillery: rateLimitingTraffic,
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
    return report({ sink, verdict, limit, windowMs, everyone, families, instances: instances.length });
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
