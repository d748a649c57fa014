/**
 * Horizontal scaling: the same read-mostly open-model workload against 1, 2, ... N instances behind
 * the balancer, restarting the deployment per count. Per count, the highest rate whose corrected p99
 * stays under an objective with an unsaturated generator; efficiency = throughput(n) / (n x throughput(1)).
 */
import { availableParallelism } from 'node:os';
import type { RequestFactory, RequestSpec } from '../../src/load/index.ts';
import { mergeEncodedHistograms } from '../../src/measure/histogram.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import { mapLimit } from '../../src/scenario/fixtures.ts';
import { measureScaling, verdictOf } from '../lib/scaling-measure.ts';
import type { CountResult, ScalingDeps, ScalingPlan } from '../lib/scaling-measure.ts';
import { reportedLoadRuns, SCALING_METRIC_SPECS, scalingChecks, scalingMetrics, scalingSeries, scalingTable, searchTable } from '../lib/scaling-report.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import type { ArtilleryTraffic, TrafficStep } from '../../src/artillery/traffic.ts';
import { createFamily, listOwnFamilies, pacedReads, READS_PER_VU, readFamily, signUp, wholeSeconds } from '../lib/artillery-flows.ts';

interface ScalingParams {
  readonly [key: string]: number;
  /** Highest instance count; every count from 1 up to it is measured. */
  readonly maxInstances: number;
  readonly objectiveMs: number;
  readonly minSuccess: number;
  readonly minEfficiencyAt2: number;
  /** Users, each owning one family that the workload reads. */
  readonly users: number;
  readonly startRate: number;
  readonly minRate: number;
  readonly maxRate: number;
  readonly maxSteps: number;
  readonly precision: number;
  readonly stepMs: number;
  readonly warmupMs: number;
  readonly connections: number;
}

/** Every LIST_EVERY-th request lists the caller's families (a DB query each time); the rest read one family (cached). */
const LIST_EVERY = 5;

const definition: ScenarioDefinition<ScalingParams> = {
  id: 'horizontal-scaling',
  group: 'scalability',
  title: 'Horizontal scaling',
  objective: 'How much sustainable throughput each added instance buys, at a fixed p99 objective, on this machine.',
  profiles: {
    smoke: { maxInstances: 2, objectiveMs: 100, minSuccess: 0.99, minEfficiencyAt2: 0.3, users: 8, startRate: 100, minRate: 25, maxRate: 3_200, maxSteps: 3, precision: 0.25, stepMs: 500, warmupMs: 300, connections: 32 },
    standard: { maxInstances: 5, objectiveMs: 50, minSuccess: 0.99, minEfficiencyAt2: 0.3, users: 32, startRate: 200, minRate: 50, maxRate: 6_400, maxSteps: 5, precision: 0.2, stepMs: 500, warmupMs: 250, connections: 64 },
    soak: { maxInstances: 4, objectiveMs: 50, minSuccess: 0.99, minEfficiencyAt2: 0.3, users: 64, startRate: 200, minRate: 50, maxRate: 12_800, maxSteps: 6, precision: 0.1, stepMs: 2_000, warmupMs: 1_000, connections: 64 },
  },
  metrics: SCALING_METRIC_SPECS,
  thresholds: ['success.rate >= 99%'],
  describe: (p) =>
    `for 1..${p.maxInstances} instances (restarted per count): warm-up, then up to ${p.maxSteps} open-model steps of ${p.stepMs / 1000} s ` +
    `(doubling from ${p.startRate}/s, then bisecting) reading ${p.users} families (1 in ${LIST_EVERY} a family list), ` +
    `for the highest rate with corrected p99 <= ${p.objectiveMs} ms`,
  deployment: () => ({ instances: 1, service: { rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } } }),
  needsEmbeddedTarget: 'it restarts the deployment with 1, 2, ... N instances, which an external target does not allow',
  run,
  artillery: artilleryTraffic,
};
export default definition;

/**
 * The read-mostly workload (LIST_EVERY - 1 family reads to one family list), ramping from startRate
 * to the highest rate the search would try, one search step's time per doubling.
 */
function artilleryTraffic(p: ScalingParams): ArtilleryTraffic {
  const doublings = Math.max(0, Math.min(p.maxSteps - 1, Math.floor(Math.log2(p.maxRate / p.startRate))));
  const top = p.startRate * 2 ** doublings;
  const round: TrafficStep[] = [...Array.from({ length: LIST_EVERY - 1 }, () => readFamily()), listOwnFamilies()];
  return {
    phases: [{ name: 'ramp', durationSec: wholeSeconds((doublings + 1) * p.stepMs), arrivalRate: p.startRate / READS_PER_VU, rampTo: top / READS_PER_VU }],
    flows: [{ name: 'reader', weight: 1, steps: [...signUp('hscale'), createFamily({ name: 'scaling x', captureId: true }), pacedReads(round)] }],
    notExported:
      'the rate search (per instance count, the deployment restarted with 1..N instances, each step judged on its corrected p99) and the efficiency figure need gauntlet\'s engine; ' +
      `the export is the workload ramping from ${p.startRate}/s to ${top}/s against whatever deployment is running; compare two such runs at different instance counts yourself`,
  };
}

async function run(ctx: ScenarioContext, p: ScalingParams): Promise<ScenarioOutput> {
  const control = ctx.deployment;
  if (control === null) throw new Error('horizontal-scaling needs the embedded deployment (run without --target)');
  ctx.phase('fixtures');
  const users = await ctx.fixtures.createUsers(p.users, 'hscale');
  const families = await mapLimit(users.length, 16, (i) => {
    const user = users[i];
    if (user === undefined) throw new Error(`no user ${i}`);
    return ctx.fixtures.createFamily(user, `scaling ${i}`);
  });
  const request = readMostly(families.map((f, i) => ({ familyId: f.id, token: users[i]?.token ?? '' })));

  const plan: ScalingPlan = {
    counts: Array.from({ length: p.maxInstances }, (_, i) => i + 1),
    objectiveMs: p.objectiveMs,
    minSuccess: p.minSuccess,
    stepMs: p.stepMs,
    warmupMs: p.warmupMs,
    search: { startRate: p.startRate, minRate: p.minRate, maxRate: p.maxRate, maxSteps: p.maxSteps, precision: p.precision, confirmFailures: true },
  };
  const deps: ScalingDeps = {
    deploy: async (instances) => {
      if (ctx.target.instances.length !== instances) {
        await control.restart({ instances, service: { rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } } }, 'same');
      }
      return ctx.target.url;
    },
    runStep: (url, rate, durationMs, req) =>
      ctx.load.open({ target: url, schedule: { kind: 'constant', ratePerSec: rate }, end: { durationMs }, request: req, connections: p.connections }),
    request,
    phase: (label) => ctx.phase(label),
  };
  const results = await measureScaling(plan, deps);
  return report(results, plan, p);
}

function report(results: readonly CountResult[], plan: ScalingPlan, p: ScalingParams): ScenarioOutput {
  const judge = (f: Parameters<typeof verdictOf>[0]): string => verdictOf(f, plan);
  const { runs, saturatedProbes } = reportedLoadRuns(results);
  const accepted = results.flatMap((r) => (r.search.best?.outcome.encodedLatency == null ? [] : [r.search.best.outcome.encodedLatency]));
  return {
    metrics: scalingMetrics(results),
    checks: scalingChecks(results, { minSuccess: p.minSuccess, minEfficiencyAt2: p.minEfficiencyAt2, objectiveMs: p.objectiveMs }),
    ...(accepted.length === 0 ? {} : { histograms: { latency: mergeEncodedHistograms(accepted) } }),
    series: { scaling: scalingSeries(results) },
    loadRuns: runs,
    tables: { instances: scalingTable(results), search: searchTable(results, judge) },
    notes: notesFor(results, saturatedProbes.length, p),
  };
}

function notesFor(results: readonly CountResult[], saturatedProbes: number, p: ScalingParams): string[] {
  const cores = availableParallelism();
  const table = scalingTable(results);
  const measured = table.filter((r) => r.instances !== 1 && r.efficiency !== null).map((r) => `n=${String(r.instances)}: ${String(Math.round(Number(r.efficiency) * 100))}%`);
  const notes = [
    `this machine has ${cores} core${cores === 1 ? '' : 's'}: gauntlet's generator, the balancer and every instance share them, so past ${cores} instance${cores === 1 ? '' : 's'} scaling cannot be linear; measured efficiency ${measured.length === 0 ? '(none measured)' : measured.join(', ')} — not a claim of linear scaling`,
    `workload: reads only (${LIST_EVERY - 1} in ${LIST_EVERY} GET /families/:id, cached per instance; 1 in ${LIST_EVERY} GET /me/families, a DB query) — every instance shares one database, so writes would measure its write lock, not instance scaling`,
    `one instance is reached directly; from 2 instances on, every request also crosses the balancer (a process of its own on the same cores)`,
    `rates are searched in steps of ${p.stepMs / 1000} s (up to ${p.maxSteps} per count, to within ${Math.round(p.precision * 100)}%): the found rate is a lower bound of the true limit within that precision`,
  ];
  const capped = results.filter((r) => r.limitedBy === 'generator').map((r) => r.instances);
  if (capped.length > 0) notes.push(`at n=${capped.join(', ')} the next rate up saturated gauntlet's own generator: the found rate is capped by the generator on this machine, not a limit of the target`);
  if (saturatedProbes > 0) notes.push(`${saturatedProbes} search step${saturatedProbes === 1 ? '' : 's'} saturated the generator; they are listed in the search table as ceilings and left out of the load runs (their numbers measure gauntlet)`);
  const atMax = results.filter((r) => r.limitedBy === 'max-rate' || r.limitedBy === 'steps').map((r) => r.instances);
  if (atMax.length > 0) notes.push(`at n=${atMax.join(', ')} no step failed before the search ran out (max rate ${p.maxRate}/s or ${p.maxSteps} steps): the figure is a lower bound`);
  return notes;
}

interface ReadTarget {
  readonly familyId: string;
  readonly token: string;
}

/** Read-mostly requests: the i-th reads family i mod F, every LIST_EVERY-th lists the owner's families. */
export function readMostly(targets: readonly ReadTarget[]): RequestFactory {
  if (targets.length === 0) throw new Error('the scaling workload needs at least one family to read');
  const specs: { read: RequestSpec; list: RequestSpec }[] = targets.map((t) => ({
    read: { method: 'GET', path: `/families/${t.familyId}`, headers: { authorization: `Bearer ${t.token}` } },
    list: { method: 'GET', path: '/me/families', headers: { authorization: `Bearer ${t.token}` } },
  }));
  return (index) => {
    const spec = specs[index % specs.length];
    if (spec === undefined) throw new Error(`no request spec for ${index}`);
    return index % LIST_EVERY === LIST_EVERY - 1 ? spec.list : spec.read;
  };
}
