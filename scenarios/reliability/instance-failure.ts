/**
 * Instance failure: steady open-model load through the balancer, a mix of acknowledged writes and
 * reads; one instance is killed with SIGKILL and later restarted on its port. Measured: errors
 * while it is down (by kind), how long requests still went to it, how long until the restarted
 * instance serves again, latency before / during / after. Checked by reading everything back:
 * acknowledged writes are there, once; nothing refused is; tokens are conserved.
 */
import { arrivalsBefore, intendedSendMs, LOAD_DEFAULTS, SATURATION_BOUNDS } from '../../src/load/index.ts';
import type { ArrivalSchedule, SaturationBounds } from '../../src/load/index.ts';
import { sleep } from '../../src/clock.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import { createFailoverCapture } from '../lib/failover-capture.ts';
import { judgeWrites } from '../lib/failover-oracle.ts';
import { readBackWrites, readBalances } from '../lib/failover-readback.ts';
import { FAILOVER_METRICS, failoverOutput } from '../lib/failover-report.ts';
import { STATS_SAMPLE_MS, startStatsSampler } from '../lib/failover-stats.ts';
import { analyzeTimeline, PHASES, timelineChecks } from '../lib/failover-timeline.ts';
import type { FaultTimes } from '../lib/failover-timeline.ts';
import { invitationsIn, planOp, transferTotalPerFamily } from '../lib/failover-workload.ts';
import type { WorkloadFamily, WorkloadFixtures } from '../lib/failover-workload.ts';
import { instanceFailureTraffic } from '../lib/artillery-reliability.ts';
import { judgedSaturationBounds } from '../lib/judged-lateness.ts';

interface FailoverParams {
  readonly [key: string]: number;
  readonly instances: number;
  readonly ratePerSec: number;
  /** Steady load before the kill. */
  readonly beforeMs: number;
  /** From the kill to asking for the restart. */
  readonly outageMs: number;
  /** Load time set aside for the restarted process to start (it compiles on a busy machine). */
  readonly restartAllowanceMs: number;
  /** Load after the restart allowance. */
  readonly afterMs: number;
  readonly families: number;
  /** Members per workload family, who receive its transfers. */
  readonly members: number;
  /** Share of writes the service holds after committing, so some are in flight, committed but unanswered, at the kill. */
  readonly slowWriteShare: number;
  readonly slowWriteDelayMs: number;
  /** Longest the balancer may keep sending requests to the dead instance. */
  readonly deadRoutingBoundMs: number;
  readonly connections: number;
}

/** The default bound on routing to a dead instance: a balancer with passive ejection needs one failed request. */
export const DEAD_ROUTING_BOUND_MS = 1_000;
/** Tokens each workload family starts with: far more than the transfers of any profile move. */
const INITIAL_BALANCE = 1_000_000;
/** The workload's admins create hundreds of families each; the per-user limit is not what is measured. */
const FAMILY_LIMIT_NEVER_REACHED = 1_000_000;
/**
 * Self-check bounds of the run. Restarting an instance forks and loads a Node process on the same
 * cores as the generator, which stalls its sends by tens of ms around the restart on a 2-core box;
 * that lateness is counted in the latency from intended send times, and is far below what the
 * scenario judges (routing within DEAD_ROUTING_BOUND_MS, recovery, the data read back): the
 * generator may be late by a fifth of the routing bound before its run counts as saturated.
 */
export const FAILOVER_SATURATION_BOUNDS: SaturationBounds = judgedSaturationBounds(DEAD_ROUTING_BOUND_MS);
/** Reads per instance before the load, so the first measured requests do not pay for JIT compilation. */
const WARMUP_READS_PER_INSTANCE = 20;

const definition: ScenarioDefinition<FailoverParams> = {
  id: 'instance-failure',
  group: 'reliability',
  title: 'Instance failure',
  objective: 'An instance killed under load costs only the requests it held: the balancer stops routing to it at once, takes it back after restart, and no acknowledged write is lost or applied twice.',
  profiles: {
    smoke: {
      instances: 2, ratePerSec: 100, beforeMs: 1_000, outageMs: 1_500, restartAllowanceMs: 3_000, afterMs: 1_500, families: 3, members: 2,
      slowWriteShare: 0.25, slowWriteDelayMs: 300, deadRoutingBoundMs: DEAD_ROUTING_BOUND_MS, connections: 64,
    },
    standard: {
      instances: 2, ratePerSec: 200, beforeMs: 5_000, outageMs: 5_000, restartAllowanceMs: 5_000, afterMs: 8_000, families: 8, members: 3,
      slowWriteShare: 0.25, slowWriteDelayMs: 300, deadRoutingBoundMs: DEAD_ROUTING_BOUND_MS, connections: 64,
    },
    soak: {
      instances: 2, ratePerSec: 100, beforeMs: 60_000, outageMs: 30_000, restartAllowanceMs: 10_000, afterMs: 200_000, families: 16, members: 4,
      slowWriteShare: 0.25, slowWriteDelayMs: 300, deadRoutingBoundMs: DEAD_ROUTING_BOUND_MS, connections: 64,
    },
  },
  metrics: FAILOVER_METRICS,
  thresholds: ['acked.lost == 0', 'duplicates == 0', 'refused.visible == 0', 'conservation.violations == 0', 'before.errors == 0', 'after.errors == 0', 'recovery.ms < 2s'],
  describe: (p) =>
    `${p.ratePerSec}/s open-model load (3 in 7 writes: families, invitations, transfers; ${Math.round(p.slowWriteShare * 100)}% of writes held ${p.slowWriteDelayMs} ms after commit) ` +
    `through the balancer over ${p.instances} instances; after ${p.beforeMs / 1000} s one is killed with SIGKILL, ${p.outageMs / 1000} s later restarted on its port; ` +
    `${durationOf(p) / 1000} s in all, then every write read back`,
  deployment: (p) => ({
    instances: p.instances,
    faults: true,
    service: { initialBalance: INITIAL_BALANCE, familyLimit: FAMILY_LIMIT_NEVER_REACHED, rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } },
  }),
  needsEmbeddedTarget: 'it kills and restarts an instance process of the embedded deployment, and holds answers with x-fault delays (fault injection on)',
  run,
  artillery: instanceFailureTraffic,
};
export default definition;

function durationOf(p: FailoverParams): number {
  return p.beforeMs + p.outageMs + p.restartAllowanceMs + p.afterMs;
}

async function run(ctx: ScenarioContext, p: FailoverParams): Promise<ScenarioOutput> {
  const control = ctx.deployment;
  const balancer = ctx.target.balancer;
  const dead = ctx.target.instances[0];
  if (control === null || balancer === null || dead === undefined || ctx.target.instances.length < 2) {
    throw new RangeError(`instance-failure needs the embedded deployment with at least 2 instances behind the balancer (got ${ctx.target.instances.length}); set instances >= 2`);
  }
  if (p.slowWriteShare < 0 || p.slowWriteShare > 1 || p.families < 1 || p.members < 1 || p.beforeMs <= 0 || p.outageMs <= 0) {
    throw new RangeError('instance-failure needs 0 <= slowWriteShare <= 1, families >= 1, members >= 1 and positive beforeMs and outageMs');
  }
  const schedule: ArrivalSchedule = { kind: 'constant', ratePerSec: p.ratePerSec };
  const durationMs = durationOf(p);
  const requests = Math.ceil(arrivalsBefore(schedule, durationMs)) + 1;
  if (transferTotalPerFamily(requests, p.families) > INITIAL_BALANCE) {
    throw new RangeError(`the transfers would move more than the ${INITIAL_BALANCE} tokens a family holds; use more families or a lower rate`);
  }

  ctx.phase('fixtures');
  const fixtures = await createFixtures(ctx, p, invitationsIn(requests));
  await mapLimit(ctx.target.instances.length * WARMUP_READS_PER_INSTANCE, FIXTURE_CONCURRENCY, async (i) => {
    const f = fixtures.families[i % fixtures.families.length];
    if (f !== undefined) await ctx.http.send({ method: 'GET', path: `/families/${f.familyId}`, token: f.admin.token });
  });
  const before = await readBalances(ctx, fixtures);

  ctx.phase('steady load');
  const capture = createFailoverCapture(ctx.target.url, { connections: p.connections, pipelining: 1, timeoutMs: LOAD_DEFAULTS.timeoutMs }, ctx.clock);
  const sampler = startStatsSampler(ctx, balancer.url, Math.ceil(durationMs / STATS_SAMPLE_MS) + 10);
  const shape = { slowWriteShare: p.slowWriteShare, slowWriteDelayMs: p.slowWriteDelayMs };
  const startAt = ctx.clock.now();
  const load = ctx.load.open({
    target: capture.transport,
    schedule,
    end: { durationMs },
    request: (index) => capture.register(planOp(index, fixtures, shape)),
    clock: ctx.clock,
    saturationBounds: FAILOVER_SATURATION_BOUNDS,
  });
  // An object, not `let`s: the compiler cannot see the fault sequence set them between awaits.
  const marks: { killAt: number; restartAt: number | null; readyAt: number | null } = { killAt: Number.NaN, restartAt: null, readyAt: null };
  const faults = (async () => {
    await sleep(ctx.clock, p.beforeMs, ctx.signal);
    ctx.phase(`${dead.instanceId} killed`);
    marks.killAt = ctx.clock.now();
    await control.killInstance(dead.instanceId, 'SIGKILL');
    await sleep(ctx.clock, Math.max(0, marks.killAt + p.outageMs - ctx.clock.now()), ctx.signal);
    ctx.phase(`${dead.instanceId} restarting`);
    marks.restartAt = ctx.clock.now();
    await control.restartInstance(dead.instanceId);
    marks.readyAt = ctx.clock.now();
    ctx.phase('after the restart');
  })();
  // The load runs out its schedule whatever happens to the faults; their failure is the scenario's error after it.
  const [result, faultOutcome] = await Promise.all([load, faults.then(() => null, (error: unknown) => (error instanceof Error ? error : new Error(String(error))))]);
  const endAt = ctx.clock.now();
  const { samples, failedReads } = await sampler.stop();
  await capture.transport.close();
  if (faultOutcome !== null) throw faultOutcome;

  ctx.phase('read back');
  const readBack = await readBackWrites(ctx, fixtures);
  const after = await readBalances(ctx, fixtures);
  const answers = capture.answers();
  const { killAt, restartAt, readyAt } = marks;
  const times: FaultTimes = { killAt, readyAt: readyAt !== null && readyAt <= endAt ? readyAt : null, endAt };
  const figures = analyzeTimeline(answers, samples, times, dead.instanceId, (index) => startAt + intendedSendMs(schedule, index));
  try {
    const verdict = judgeWrites(answers, readBack, before, after);
    return failoverOutput(
      {
        figures, verdict, answers, samples, deadId: dead.instanceId,
        times: { ...times, startAt, restartAt },
        loadRun: summarizeLoadRun('steady load with a failure', result),
        notes: notes(p, failedReads, samples.length),
      },
      [...verdict.checks, ...timelineChecks(figures, times, dead.instanceId, p.deadRoutingBoundMs)],
    );
  } finally {
    for (const phase of PHASES) figures.latency[phase].destroy();
  }
}

async function createFixtures(ctx: ScenarioContext, p: FailoverParams, invitations: number): Promise<WorkloadFixtures> {
  const admins = await ctx.fixtures.createUsers(p.families, 'foadmin');
  const families: WorkloadFamily[] = await mapLimit(admins.length, Math.max(1, Math.floor(FIXTURE_CONCURRENCY / (p.members + 1))), async (i) => {
    const admin = admins[i];
    if (admin === undefined) throw new Error(`no admin ${i}`);
    // Not the workload's key prefix: the read-back counts only the families the load created.
    const family = await ctx.fixtures.createFamily(admin, `workload ${i}`);
    const members = await ctx.fixtures.createUsers(p.members, 'fomember');
    await Promise.all(members.map((m) => ctx.fixtures.addMember(family.id, admin, m)));
    return { familyId: family.id, admin, members };
  });
  const invitees = await ctx.fixtures.createUsers(invitations, 'foinvitee');
  return { families, invitees };
}

function notes(p: FailoverParams, failedReads: number, samples: number): string[] {
  return [
    `${Math.round(p.slowWriteShare * 100)}% of writes ask the service to hold its answer ${p.slowWriteDelayMs} ms after it committed (x-fault: delay-ms), so the kill finds writes committed but unanswered, as a crash does; their latency is left out of the phase figures`,
    'a write whose connection the dead instance reset is "in doubt": it may or may not have committed; the read-back decides, and it may be there at most once. A balancer that retried it elsewhere would apply it twice',
    `phases: errors count by when the request ended, latency by when it was due; "after" starts when the restarted process reported ready (its start, a tsx compile on a busy machine, is restart.ms)`,
    `balancer-side figures come from GET /_balancer/stats every ${STATS_SAMPLE_MS} ms (${samples} samples${failedReads > 0 ? `, ${failedReads} reads failed` : ''}): their resolution is that interval; the client-side ones are exact`,
    `the generator, the balancer and the instances share this machine's cores, and SQLite takes one writer at a time: latency includes that queueing, and the restart competes with the load for CPU (so the generator may send up to ${FAILOVER_SATURATION_BOUNDS.maxLatenessP99Ms} ms late, and its event loop lag as long, at p99 here before its run counts as saturated, not ${SATURATION_BOUNDS.maxLatenessP99Ms} ms and ${SATURATION_BOUNDS.maxEventLoopDelayP99Ms} ms)`,
  ];
}
