/**
 * Concurrent member invitations: admins of several families invite at the same instant (two or more
 * of them inviting the same person to the same family), then the invitees accept at the same
 * instant (some accepting the same invitation twice); the oracle reads every family's invitations back
 * between the bursts and every family back at the end.
 */
import type { RequestSpec } from '../../src/load/index.ts';
import { decodeHistogram } from '../../src/measure/histogram.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import type { FamilyView, TestUser } from '../../src/scenario/fixtures.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import { capturedBurst, jsonRequest } from '../lib/creation-captured-burst.ts';
import type { CapturedAnswer, CapturedBurst } from '../lib/creation-captured-burst.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';
import { BURST_LATENCY_STATS } from '../lib/creation-captured-burst.ts';
import { bodyId, judgeInvitations } from '../lib/invitation-oracle.ts';
import type { AcceptRecord, FamilyInvitations, FamilyMembers, InvitePair } from '../lib/invitation-oracle.ts';
import { ADMISSION_NEVER_SHEDS, RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import { memberInvitationsTraffic } from '../lib/artillery-concurrency.ts';

export type MemberInvitationsParams = Readonly<{
  /** Instance processes behind the balancer: 2+ makes simultaneous invitations race across processes. */
  instances: number;
  families: number;
  /** Admins promoted in each family besides its owner. */
  promotedAdmins: number;
  /** Users invited into every family. */
  invitees: number;
  /** Of them, how many (per family) are invited by `contenders` admins at the same instant. */
  contested: number;
  /** Admins inviting the same person to the same family at once (2 .. promotedAdmins + 1). */
  contenders: number;
  /** Of the invitees, how many (per family) accept their invitation twice at the same instant. */
  racedAccepts: number;
}>;


const definition: ScenarioDefinition<MemberInvitationsParams> = {
  id: 'member-invitations',
  group: 'concurrency',
  title: 'Concurrent member invitations',
  objective: 'Exactly one pending invitation per (family, invitee) and exact membership when admins invite and invitees accept at the same instant, across instances.',
  profiles: {
    smoke: { instances: 2, families: 4, promotedAdmins: 2, invitees: 6, contested: 4, contenders: 2, racedAccepts: 3 },
    standard: { instances: 2, families: 20, promotedAdmins: 2, invitees: 25, contested: 15, contenders: 2, racedAccepts: 10 },
    soak: { instances: 2, families: 60, promotedAdmins: 3, invitees: 60, contested: 40, contenders: 3, racedAccepts: 30 },
  },
  metrics: [
    { name: 'invitations.created', dimension: 'count', description: 'Distinct invitations acknowledged (201) by the invite burst' },
    { name: 'invitations.duplicates', dimension: 'count', description: '(family, invitee) pairs holding more than one pending invitation, read back before the accepts' },
    { name: 'acceptances.lost', dimension: 'count', description: 'Invitations accepted (200) whose invitee is not a member, read back' },
    { name: 'acceptances.double', dimension: 'count', description: 'Raced accepts of one invitation not answered one 200 + one 409 invitation_closed' },
    { name: 'membership.mismatches', dimension: 'count', description: 'Families whose members differ from owner + admins + accepted invitees' },
    { name: 'errors.rate', dimension: 'ratio', description: 'Answers outside the contract, over both bursts' },
    ...latencyMetricSpecs('invite.latency', 'the invite burst, from the release instant', BURST_LATENCY_STATS),
    ...latencyMetricSpecs('accept.latency', 'the accept burst, from the release instant', BURST_LATENCY_STATS),
  ],
  thresholds: [
    'invitations.duplicates == 0', 'acceptances.lost == 0', 'acceptances.double == 0', 'membership.mismatches == 0', 'errors.rate == 0',
    'invite.latency.p99 < 5s', 'accept.latency.p99 < 5s',
  ],
  describe: (p) =>
    `${inviteSize(p)} invitations released at once over ${p.instances} instance(s) into ${p.families} families ` +
    `(${p.contested} invitees per family invited by ${p.contenders} admins at the same instant), then ` +
    `${p.families * (p.invitees + p.racedAccepts)} accepts at once (${p.racedAccepts} per family sent twice); ` +
    'every family\'s invitations read back in between, every family read back at the end',
  deployment: (p) => ({ instances: p.instances, service: { rateLimit: { limit: RATE_LIMIT_NEVER_REACHED }, admission: ADMISSION_NEVER_SHEDS } }),
  run,
  artillery: memberInvitationsTraffic,
};
export default definition;

interface Invite {
  readonly f: number;
  readonly j: number;
  readonly inviter: TestUser;
}

interface Accept {
  readonly pair: number;
  readonly invitationId: string;
}

function inviteSize(p: MemberInvitationsParams): number {
  return p.families * (p.contested * p.contenders + (p.invitees - p.contested));
}

async function run(ctx: ScenarioContext, p: MemberInvitationsParams): Promise<ScenarioOutput> {
  validate(p);
  ctx.phase('setup: users and families');
  const owners = await ctx.fixtures.createUsers(p.families, 'owner');
  const promoted = await ctx.fixtures.createUsers(p.families * p.promotedAdmins, 'admin');
  const invitees = await ctx.fixtures.createUsers(p.invitees, 'invitee');
  const tag = ctx.fixtures.username('inv');
  const families = await mapLimit(p.families, FIXTURE_CONCURRENCY, (f) => ctx.fixtures.createFamily(owners[f] as TestUser, `Invite ${tag} ${f} x`));
  ctx.phase('setup: promote admins');
  await mapLimit(promoted.length, FIXTURE_CONCURRENCY, (k) => {
    const f = Math.floor(k / p.promotedAdmins);
    return ctx.fixtures.addMember(familyAt(families, f).id, owners[f] as TestUser, promoted[k] as TestUser, 'admin');
  });
  const adminsOf = (f: number): TestUser[] => [owners[f] as TestUser, ...promoted.slice(f * p.promotedAdmins, (f + 1) * p.promotedAdmins)];

  // Contenders for one pair are adjacent: released in the same loop, and round-robin sends them to different instances.
  const invites: Invite[] = [];
  for (let f = 0; f < p.families; f++) {
    const admins = adminsOf(f);
    for (let j = 0; j < p.invitees; j++) {
      const count = j < p.contested ? p.contenders : 1;
      for (let c = 0; c < count; c++) invites.push({ f, j, inviter: admins[(j + c) % admins.length] as TestUser });
    }
  }
  ctx.phase(`invite burst: ${invites.length}`);
  const inviteBurst = await capturedBurst(ctx, invites.map((inv) => jsonRequest('POST', `/families/${familyAt(families, inv.f).id}/invitations`,
    inv.inviter.token, { username: (invitees[inv.j] as TestUser).username, role: 'member' })));
  const pairs = groupPairs(p, families, invitees, invites, inviteBurst.answers);
  ctx.phase('read back invitations');
  const pending = await mapLimit(p.families, FIXTURE_CONCURRENCY, (f) => readInvitations(ctx, owners[f] as TestUser, familyAt(families, f)));

  const accepts = planAccepts(p, pairs);
  const acceptRequests: RequestSpec[] = accepts.map((a) =>
    jsonRequest('POST', `/invitations/${a.invitationId}/accept`, tokenOf(invitees, pairs[a.pair]?.inviteeId)));
  ctx.phase(`accept burst: ${acceptRequests.length}`);
  const acceptBurst = acceptRequests.length > 0 ? await capturedBurst(ctx, acceptRequests) : null;

  ctx.phase('read back');
  const read = await mapLimit(p.families, FIXTURE_CONCURRENCY, (f) => readMembers(ctx, owners[f] as TestUser, familyAt(families, f), [
    ...adminsOf(f).map((u) => u.id), ...invitees.map((u) => u.id),
  ]));
  const verdict = judgeInvitations({ pairs, invitations: pending, accepts: acceptRecords(pairs, accepts, acceptBurst?.answers ?? []), families: read });

  const sent = invites.length + acceptRequests.length;
  return {
    metrics: {
      'invitations.created': verdict.created,
      'invitations.duplicates': verdict.duplicates,
      'acceptances.lost': verdict.lost,
      'acceptances.double': verdict.doubles,
      'membership.mismatches': verdict.mismatches,
      'errors.rate': (verdict.unexpectedInvites + verdict.unexpectedAccepts) / sent,
      ...burstLatency(inviteBurst, 'invite.latency'),
      ...(acceptBurst === null ? {} : burstLatency(acceptBurst, 'accept.latency')),
    },
    checks: verdict.checks,
    histograms: {
      ...histogram(inviteBurst, 'invite.latency'),
      ...(acceptBurst === null ? {} : histogram(acceptBurst, 'accept.latency')),
    },
    loadRuns: [
      summarizeLoadRun('invite burst', inviteBurst.result),
      ...(acceptBurst === null ? [] : [summarizeLoadRun('accept burst', acceptBurst.result)]),
    ],
    tables: {
      instances: instanceTable(inviteBurst, acceptBurst),
    },
    notes: [
      `Invite burst: ${invites.length} requests on ${inviteBurst.result.burst.warmedConnections} warmed connections, send spread ` +
        `${inviteBurst.result.burst.sendSpreadMs.toFixed(1)} ms, ${inviteBurst.result.durationMs.toFixed(0)} ms in all, connection warm-up included.`,
      acceptBurst === null
        ? 'No invitation was acknowledged, so no accept burst was sent.'
        : `Accept burst: ${acceptRequests.length} requests, send spread ${acceptBurst.result.burst.sendSpreadMs.toFixed(1)} ms, ${acceptBurst.result.durationMs.toFixed(0)} ms in all, connection warm-up included.`,
      `${verdict.unexpectedInvites} invite and ${verdict.unexpectedAccepts} accept answers fell outside the contract; invitations read back with GET /families/:id/invitations ` +
        'and membership with GET /families/:id, both as each owner.',
    ],
  };
}

function validate(p: MemberInvitationsParams): void {
  if (p.contenders < 2 || p.contenders > p.promotedAdmins + 1) {
    throw new RangeError(`contenders must be from 2 to promotedAdmins + 1 (${p.promotedAdmins + 1}), got ${p.contenders}`);
  }
  if (p.contested > p.invitees || p.racedAccepts > p.invitees) {
    throw new RangeError(`contested (${p.contested}) and racedAccepts (${p.racedAccepts}) must not exceed invitees (${p.invitees})`);
  }
  if (p.families < 1 || p.invitees < 1) throw new RangeError('give at least one family and one invitee');
}

function familyAt(families: readonly FamilyView[], f: number): FamilyView {
  const family = families[f];
  if (family === undefined) throw new Error(`scenario bug: no family at index ${f}`);
  return family;
}

function tokenOf(invitees: readonly TestUser[], id: string | undefined): string {
  const user = invitees.find((u) => u.id === id);
  if (user === undefined) throw new Error(`scenario bug: invitee ${String(id)} unknown`);
  return user.token;
}

/** One pair per (family, invitee), in invite order, with every answer its invitations got. */
function groupPairs(p: MemberInvitationsParams, families: readonly FamilyView[], invitees: readonly TestUser[], invites: readonly Invite[], answers: readonly CapturedAnswer[]): InvitePair[] {
  const by = new Map<string, { f: number; j: number; answers: CapturedAnswer[] }>();
  invites.forEach((inv, i) => {
    const key = `${inv.f}/${inv.j}`;
    const entry = by.get(key) ?? { f: inv.f, j: inv.j, answers: [] };
    const answer = answers[i];
    if (answer !== undefined) entry.answers.push(answer);
    by.set(key, entry);
  });
  return [...by.values()].map((e) => ({
    familyId: familyAt(families, e.f).id,
    inviteeId: (invitees[e.j] as TestUser).id,
    contested: e.j < p.contested,
    answers: e.answers,
  }));
}

/** Every acknowledged invitation accepted once; the first `racedAccepts` invitees' first invitation twice, adjacent. */
function planAccepts(p: MemberInvitationsParams, pairs: readonly InvitePair[]): Accept[] {
  const accepts: Accept[] = [];
  pairs.forEach((pair, index) => {
    const ids = [...new Set(pair.answers.filter((a) => a.kind === 'response' && a.status === 201).map(bodyId).filter((id) => id !== null))];
    const raced = index % p.invitees < p.racedAccepts;
    ids.forEach((invitationId, k) => {
      accepts.push({ pair: index, invitationId });
      if (raced && k === 0) accepts.push({ pair: index, invitationId });
    });
  });
  return accepts;
}

function acceptRecords(pairs: readonly InvitePair[], accepts: readonly Accept[], answers: readonly CapturedAnswer[]): AcceptRecord[] {
  const by = new Map<string, AcceptRecord & { answers: CapturedAnswer[] }>();
  accepts.forEach((a, i) => {
    const pair = pairs[a.pair];
    const answer = answers[i];
    if (pair === undefined || answer === undefined) return;
    const record = by.get(a.invitationId) ?? { invitationId: a.invitationId, familyId: pair.familyId, inviteeId: pair.inviteeId, answers: [] };
    record.answers.push(answer);
    by.set(a.invitationId, record);
  });
  return [...by.values()];
}

async function readInvitations(ctx: ScenarioContext, owner: TestUser, family: FamilyView): Promise<FamilyInvitations> {
  const res = await ctx.http.send({ method: 'GET', path: `/families/${family.id}/invitations`, token: owner.token });
  if (res.status !== 200 || !Array.isArray(res.body) || !res.body.every(isInvitationView)) {
    throw new Error(`read-back failed: GET /families/${family.id}/invitations as its owner answered ${res.status} ` +
      '(an array of {inviteeId, status} wanted); the oracle cannot judge one pending invitation per invitee without it');
  }
  return { familyId: family.id, invitations: res.body };
}

function isInvitationView(x: unknown): x is { inviteeId: string; status: string } {
  if (typeof x !== 'object' || x === null) return false;
  const { inviteeId, status } = x as { inviteeId?: unknown; status?: unknown };
  return typeof inviteeId === 'string' && typeof status === 'string';
}

async function readMembers(ctx: ScenarioContext, owner: TestUser, family: FamilyView, expected: string[]): Promise<FamilyMembers> {
  const res = await ctx.fixtures.getFamily(owner, family.id);
  const body = res.body as Partial<FamilyView> | null;
  if (res.status !== 200 || !Array.isArray(body?.members)) {
    throw new Error(`read-back failed: GET /families/${family.id} as its owner answered ${res.status}; the oracle cannot judge without it`);
  }
  return { familyId: family.id, members: body.members, expected };
}

function burstLatency(burst: CapturedBurst, prefix: string): Record<string, number> {
  const encoded = burst.result.latency.corrected;
  return latencyMetricValues(encoded === null ? null : summarize(decodeHistogram(encoded)), prefix, BURST_LATENCY_STATS);
}

function histogram(burst: CapturedBurst, name: string): Record<string, string> {
  const encoded = burst.result.latency.corrected;
  return encoded === null ? {} : { [name]: encoded };
}

function instanceTable(invite: CapturedBurst, accept: CapturedBurst | null): Record<string, string | number>[] {
  const names = new Set([...Object.keys(invite.result.instanceCounts), ...Object.keys(accept?.result.instanceCounts ?? {})]);
  return [...names].sort().map((instance) => ({
    instance,
    invites: invite.result.instanceCounts[instance] ?? 0,
    accepts: accept?.result.instanceCounts[instance] ?? 0,
  }));
}
