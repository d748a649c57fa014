/**
 * Concurrent family creation: one barrier burst of creations, many sharing a name (so sbd suffixes
 * collide) and some from owners racing past their family limit; the oracle reads every family back.
 */
import type { RequestSpec } from '../../src/load/index.ts';
import { summarize } from '../../src/measure/summary.ts';
import { decodeHistogram } from '../../src/measure/histogram.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import { mapLimit, FIXTURE_CONCURRENCY } from '../../src/scenario/fixtures.ts';
import type { FamilyView, TestUser } from '../../src/scenario/fixtures.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import { capturedBurst, jsonRequest } from '../lib/creation-captured-burst.ts';
import type { CapturedAnswer } from '../lib/creation-captured-burst.ts';
import { judgeCreation } from '../lib/creation-oracle.ts';
import type { CreatorRole, OwnerReadBack } from '../lib/creation-oracle.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';
import { BURST_LATENCY_STATS } from '../lib/creation-captured-burst.ts';
import { readOwned } from '../lib/creation-read-back.ts';
import { ADMISSION_NEVER_SHEDS, RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import type { ArtilleryTraffic, TrafficFlow } from '../../src/artillery/traffic.ts';
import { createFamily, listOwnFamilies, readFamily, signUp, VARS } from '../lib/artillery-flows.ts';

export type FamilyCreationParams = Readonly<{
  /** Instance processes behind the balancer: >1 makes the races cross processes. */
  instances: number;
  /** Users creating one family each in the burst. */
  creators: number;
  /** Distinct names the creations share (round-robin), so ~creators/sharedNames claim each sbd base. */
  sharedNames: number;
  /** Users who already own `familyLimit - raceHeadroom` families and send `raceAttempts` creations at once. */
  racers: number;
  familyLimit: number;
  raceHeadroom: number;
  raceAttempts: number;
}>;


const definition: ScenarioDefinition<FamilyCreationParams> = {
  id: 'family-creation',
  group: 'concurrency',
  title: 'Concurrent family creation',
  objective: 'Family IDs and sbd usernames stay unique and the per-user family limit holds when many creations, many with the same name, are released at the same instant.',
  profiles: {
    smoke: { instances: 2, creators: 60, sharedNames: 4, racers: 4, familyLimit: 3, raceHeadroom: 1, raceAttempts: 4 },
    standard: { instances: 2, creators: 1000, sharedNames: 8, racers: 40, familyLimit: 10, raceHeadroom: 2, raceAttempts: 6 },
    soak: { instances: 2, creators: 4000, sharedNames: 16, racers: 200, familyLimit: 10, raceHeadroom: 2, raceAttempts: 8 },
  },
  metrics: [
    { name: 'created', dimension: 'count', description: 'Families the burst created, read back from the service' },
    { name: 'duplicates.ids', dimension: 'count', description: 'Family IDs read back more than once' },
    { name: 'duplicates.sbd', dimension: 'count', description: 'sbdUsernames read back more than once' },
    { name: 'sbd.violations', dimension: 'count', description: 'sbdUsernames off the family_<slug>[_n] lowest-free rule' },
    { name: 'limit.violations', dimension: 'count', description: 'Owners above the family limit, read back' },
    { name: 'errors.rate', dimension: 'ratio', description: 'Answers other than 201 (or 409 family_limit for racers), over the burst' },
    ...latencyMetricSpecs('latency', 'the burst, from the release instant', BURST_LATENCY_STATS),
    { name: 'throughput', dimension: 'rate', description: 'Creations acknowledged per second, from the release to the last answer' },
  ],
  thresholds: ['duplicates.ids == 0', 'duplicates.sbd == 0', 'sbd.violations == 0', 'limit.violations == 0', 'errors.rate == 0', 'latency.p99 < 5s'],
  describe: (p) =>
    `${burstSize(p)} POST /families released at once over ${p.instances} instance(s): ${p.creators} owners (${p.sharedNames} shared names), ` +
    `${p.racers} owners at limit-${p.raceHeadroom} sending ${p.raceAttempts} each (limit ${p.familyLimit}); every family read back`,
  deployment: (p) => ({ instances: p.instances, service: { familyLimit: p.familyLimit, rateLimit: { limit: RATE_LIMIT_NEVER_REACHED }, admission: ADMISSION_NEVER_SHEDS } }),
  run,
  artillery: artilleryTraffic,
};
export default definition;

interface Planned {
  readonly user: TestUser;
  readonly role: CreatorRole;
  readonly name: string;
}

function burstSize(p: FamilyCreationParams): number {
  return p.creators + p.racers * p.raceAttempts;
}

async function run(ctx: ScenarioContext, p: FamilyCreationParams): Promise<ScenarioOutput> {
  validate(p);
  ctx.phase('setup: users');
  const creators = await ctx.fixtures.createUsers(p.creators, 'creator');
  const racers = await ctx.fixtures.createUsers(p.racers, 'racer');
  const tag = ctx.fixtures.username('fam');
  // Names end in a letter so no name's base plus `_n` is another name's base.
  const names = Array.from({ length: p.sharedNames }, (_, j) => `Shared ${tag} ${j} x`);
  const preOwned = p.familyLimit - p.raceHeadroom;
  ctx.phase('setup: racers at limit-k');
  await mapLimit(p.racers * preOwned, FIXTURE_CONCURRENCY, (i) =>
    ctx.fixtures.createFamily(racers[Math.floor(i / preOwned)] as TestUser, `Own ${tag} ${i} x`));

  const plan = interleave<Planned>(
    creators.map((user, i) => ({ user, role: 'creator' as const, name: names[i % names.length] ?? '' })),
    racers.flatMap((user, r) =>
      Array.from({ length: p.raceAttempts }, (_, a) => ({ user, role: 'racer' as const, name: names[(r * p.raceAttempts + a) % names.length] ?? '' }))),
  );
  const requests: RequestSpec[] = plan.map((e) => jsonRequest('POST', '/families', e.user.token, { name: e.name }));
  ctx.phase(`burst: ${requests.length} creations`);
  const burst = await capturedBurst(ctx, requests);

  ctx.phase('read back');
  const users = [...creators.map((u) => ({ user: u, role: 'creator' as const, preOwned: 0 })), ...racers.map((u) => ({ user: u, role: 'racer' as const, preOwned }))];
  const answersOf = groupAnswers(plan, burst.answers);
  const read = await readOwned(ctx, users.map((u) => u.user));
  const owners: OwnerReadBack[] = users.map((u) => ({
    userId: u.user.id,
    role: u.role,
    preOwned: u.preOwned,
    answers: answersOf.get(u.user.id) ?? [],
    owned: read.owned.get(u.user.id) ?? [],
  }));
  const verdict = judgeCreation({ owners, familyLimit: p.familyLimit, headroom: p.raceHeadroom, byIdMismatches: read.byIdMismatches });

  const corrected = burst.result.latency.corrected;
  const latency = corrected === null ? null : summarize(decodeHistogram(corrected));
  // From the release to the last answer: the run's durationMs also holds the connection warm-up.
  const seconds = (latency?.max ?? 0) / 1000;
  return {
    metrics: {
      created: verdict.created,
      'duplicates.ids': verdict.duplicateIds,
      'duplicates.sbd': verdict.duplicateSbd,
      'sbd.violations': verdict.sbdViolations,
      'limit.violations': verdict.limitViolations,
      'errors.rate': verdict.unexpected / requests.length,
      ...latencyMetricValues(latency, 'latency', BURST_LATENCY_STATS),
      throughput: seconds > 0 ? verdict.admitted / seconds : 0,
    },
    checks: verdict.checks,
    histograms: {
      ...(corrected === null ? {} : { latency: corrected }),
      ...(burst.result.latency.uncorrected === null ? {} : { 'latency.uncorrected': burst.result.latency.uncorrected }),
    },
    loadRuns: [summarizeLoadRun('creation burst', burst.result)],
    tables: {
      names: nameTable(names, [...read.owned.values()].flat()),
      instances: Object.entries(burst.result.instanceCounts).map(([instance, responses]) => ({ instance, responses })),
    },
    notes: [
      `${requests.length} creations released together on ${burst.result.burst.warmedConnections} warmed connections ` +
        `(send spread ${burst.result.burst.sendSpreadMs.toFixed(1)} ms); the last answer came ${(seconds * 1000).toFixed(0)} ms after the release.`,
      `${verdict.created} families created, read back through GET /me/families of ${owners.length} owners and GET /families/:id of each.`,
      ctx.target.store === 'sqlite'
        ? 'On SQLite every creation is a serialised write transaction (one writer across instances): latency here is mostly queueing behind the write lock.'
        : `Store: ${ctx.target.store ?? 'external target'}.`,
    ],
  };
}

/** Most connections the Artillery export opens: enough for the smoke burst, well under a default 1024-descriptor limit. */
const ARTILLERY_POOL_MAX = 256;

/**
 * Every virtual user arrives within one second (Artillery has no barrier): creators sign up, create
 * a family under one of the shared names and read it back; racers fill their families up to
 * limit-k, then send their racing creations in parallel, where 409 family_limit is the right answer.
 */
function artilleryTraffic(p: FamilyCreationParams): ArtilleryTraffic {
  validate(p);
  const names = Array.from({ length: p.sharedNames }, (_, j) => `Shared ${j} x`);
  const creator: TrafficFlow = {
    name: 'creator',
    weight: p.creators,
    steps: [...signUp('creator'), { kind: 'vary', variable: VARS.familyName, rule: { kind: 'cycle', values: names } }, createFamily({ name: `{{ ${VARS.familyName} }}`, captureId: true }), readFamily()],
  };
  const preOwned = p.familyLimit - p.raceHeadroom;
  const racer: TrafficFlow = {
    name: 'racer',
    weight: p.racers,
    steps: [
      ...signUp('racer'),
      ...(preOwned > 0 ? [{ kind: 'loop' as const, count: preOwned, steps: [createFamily({ name: 'Own x', requestName: 'POST /families (pre-owned)' })] }] : []),
      { kind: 'parallel', steps: Array.from({ length: p.raceAttempts }, () => createFamily({ name: names[0] ?? 'Race x', requestName: 'POST /families (race)', expect: [201, 409] })) },
      listOwnFamilies(),
    ],
  };
  return {
    phases: [{ name: 'release', durationSec: 1, arrivalCount: p.creators + p.racers }],
    // Shared connections, as many as requests can be in flight (bounded): with Artillery's one per
    // virtual user, a racer's parallel creations would queue on its single socket and never race.
    connectionPool: Math.min(ARTILLERY_POOL_MAX, burstSize(p)),
    flows: p.racers > 0 && p.creators > 0 ? [creator, racer] : p.racers > 0 ? [racer] : [creator],
    notExported:
      'the oracle (every family read back: unique IDs and sbd usernames, the lowest-free suffix rule, the family limit per owner) needs gauntlet\'s record of who created what; ' +
      `Artillery picks each virtual user's flow at random by weight (${p.creators} creator : ${p.racers} racer), so the mix is close to, not exactly, the scenario's, ` +
      `and the arrivals spread over one second instead of a barrier release`,
  };
}

function validate(p: FamilyCreationParams): void {
  if (p.raceHeadroom < 0 || p.raceHeadroom > p.familyLimit) {
    throw new RangeError(`raceHeadroom must be from 0 to familyLimit (${p.familyLimit}), got ${p.raceHeadroom}`);
  }
  if (p.racers > 0 && p.raceAttempts <= p.raceHeadroom) {
    throw new RangeError(`raceAttempts (${p.raceAttempts}) must exceed raceHeadroom (${p.raceHeadroom}) so racers hit the limit`);
  }
  if (p.sharedNames < 1) throw new RangeError(`sharedNames must be at least 1, got ${p.sharedNames}`);
  if (burstSize(p) < 1) throw new RangeError('the burst is empty: give creators or racers');
}

/** Spreads `b` evenly through `a`, so racers' requests are released among the others, not last. */
function interleave<T>(a: readonly T[], b: readonly T[]): T[] {
  const out: T[] = [];
  const step = b.length === 0 ? Infinity : a.length / b.length;
  let j = 0;
  a.forEach((item, i) => {
    while (j < b.length && j * step <= i) out.push(b[j++] as T);
    out.push(item);
  });
  while (j < b.length) out.push(b[j++] as T);
  return out;
}

function groupAnswers(plan: readonly Planned[], answers: readonly CapturedAnswer[]): Map<string, CapturedAnswer[]> {
  const by = new Map<string, CapturedAnswer[]>();
  plan.forEach((e, i) => {
    const answer = answers[i];
    if (answer === undefined) return;
    const list = by.get(e.user.id) ?? [];
    list.push(answer);
    by.set(e.user.id, list);
  });
  return by;
}

function nameTable(names: readonly string[], families: readonly FamilyView[]): Record<string, string | number>[] {
  return names.map((name) => {
    const sbds = families.filter((f) => f.name === name).map((f) => f.sbdUsername);
    return { name, families: sbds.length, highestSuffix: Math.max(0, ...sbds.map((s) => Number(/_(\d+)$/.exec(s)?.[1] ?? 1))) };
  });
}
