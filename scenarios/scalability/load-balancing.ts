/**
 * Load balancing: R requests over N nodes through the balancer, for round-robin and least-connections
 * (restarted per strategy), with a uniform workload and a skewed one where a fraction of requests is
 * held by the service. Per node: count (x-instance-id), throughput, latency; min/max, CV, Jain's index.
 */
import { availableParallelism } from 'node:os';
import type { BalancerStrategy } from '../../target/config.ts';
import { mergeEncodedHistograms } from '../../src/measure/histogram.ts';
import { sumValues } from '../../src/measure/prometheus/query.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import { expectBody, mapLimit } from '../../src/scenario/fixtures.ts';
import type { MetricSpec } from '../../src/thresholds/bind.ts';
import { balanceChecks, counterAgreement, non2xx } from '../lib/balance-oracle.ts';
import type { CounterRow } from '../lib/balance-oracle.ts';
import { measureCell } from '../lib/balance-traffic.ts';
import type { BalanceWorkload, CellMeasurement, ReadTarget, RunCellLoad } from '../lib/balance-traffic.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import type { ArtilleryTraffic } from '../../src/artillery/traffic.ts';
import { createFamily, pacedReads, READS_PER_VU, readFamily, signUp, wholeSeconds } from '../lib/artillery-flows.ts';

interface BalancingParams {
  readonly [key: string]: number;
  readonly instances: number;
  /** Requests per (strategy, workload) cell. */
  readonly requests: number;
  readonly ratePerSec: number;
  readonly slowFraction: number;
  readonly slowDelayMs: number;
  readonly minJain: number;
  readonly users: number;
  readonly connections: number;
}

const STRATEGIES: readonly { key: string; strategy: BalancerStrategy }[] = [
  { key: 'rr', strategy: 'round-robin' },
  { key: 'lc', strategy: 'least-connections' },
];
const WORKLOADS = ['uniform', 'skewed'] as const;
/** The route the workload uses: each node's own counter of it is compared with what the harness saw. */
const ROUTE = '/families/:id';
const REQUESTS_COUNTER = 'gauntlet_http_requests_total';
/** Reads per node after each (re)start, before anything is measured. */
const WARMUP_PER_NODE = 25;
const WARMUP_CONCURRENCY = 8;

const metrics: MetricSpec[] = [
  ...STRATEGIES.flatMap(({ key, strategy }) =>
    WORKLOADS.flatMap((w): MetricSpec[] => [
      { name: `${key}.${w}.jain`, dimension: 'ratio', description: `${strategy}, ${w}: Jain's fairness index of per-node counts (100% = even)` },
      { name: `${key}.${w}.min_max`, dimension: 'ratio', description: `${strategy}, ${w}: fewest / most requests on a node` },
      { name: `${key}.${w}.cv`, dimension: 'ratio', description: `${strategy}, ${w}: coefficient of variation of per-node counts` },
      { name: `${key}.${w}.p99`, dimension: 'duration', description: `${strategy}, ${w}: corrected p99 latency` },
    ]),
  ),
  { name: 'rr.skewed.busy_share', dimension: 'ratio', description: 'round-robin, skewed: requests that reached a node while a slow request was in flight there' },
  { name: 'lc.skewed.busy_share', dimension: 'ratio', description: 'least-connections, skewed: requests that reached a node while a slow request was in flight there' },
  { name: 'errors.rate', dimension: 'ratio', description: 'requests not answered 2xx, over all cells' },
];

const definition: ScenarioDefinition<BalancingParams> = {
  id: 'load-balancing',
  group: 'scalability',
  title: 'Load balancing',
  objective: 'Whether the balancer spreads requests evenly (round-robin) and steers around nodes busy with slow requests (least-connections).',
  profiles: {
    smoke: { instances: 4, requests: 200, ratePerSec: 200, slowFraction: 0.1, slowDelayMs: 100, minJain: 0.99, users: 8, connections: 32 },
    standard: { instances: 4, requests: 1_000, ratePerSec: 400, slowFraction: 0.05, slowDelayMs: 100, minJain: 0.99, users: 32, connections: 64 },
    soak: { instances: 4, requests: 24_000, ratePerSec: 400, slowFraction: 0.05, slowDelayMs: 100, minJain: 0.99, users: 64, connections: 64 },
  },
  metrics,
  thresholds: ['errors.rate == 0', 'rr.uniform.jain >= 99%'],
  describe: (p) =>
    `${p.requests} family reads at ${p.ratePerSec}/s over ${p.instances} instances, per strategy (round-robin, least-connections; restarted per strategy) ` +
    `and workload (uniform; skewed: ${Math.round(p.slowFraction * 100)}% held ${p.slowDelayMs} ms by the service)`,
  deployment: (p) => ({ instances: p.instances, strategy: 'round-robin', faults: true, service: { rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } } }),
  needsEmbeddedTarget: 'it restarts the balancer per strategy and makes requests slow with x-fault delays (fault injection on)',
  run,
  artillery: artilleryTraffic,
};
export default definition;

/**
 * Family reads through the balancer at about ratePerSec, both workloads' worth: new users each read
 * their own family READS_PER_VU times; a slowFraction of them (by weight) ask the service to hold
 * every read slowDelayMs (x-fault, honoured only with fault injection on).
 */
function artilleryTraffic(p: BalancingParams): ArtilleryTraffic {
  const setup = [...signUp('lbal'), createFamily({ name: 'balance x', captureId: true })];
  const slowHeader = { 'x-fault': `delay-ms=${p.slowDelayMs}` };
  return {
    phases: [{ name: 'reads', durationSec: wholeSeconds(((WORKLOADS.length * p.requests) / p.ratePerSec) * 1000), arrivalRate: p.ratePerSec / READS_PER_VU }],
    flows: [
      { name: 'reader', weight: Math.round((1 - p.slowFraction) * 100), steps: [...setup, pacedReads([readFamily()])] },
      { name: 'slow reader', weight: Math.round(p.slowFraction * 100), steps: [...setup, pacedReads([readFamily(slowHeader, 'GET /families/:id (held)')])] },
    ],
    notExported:
      'the balance checks (per-node counts from x-instance-id, Jain\'s index, busy share, agreement with each node\'s request counter) and the restart per strategy need gauntlet\'s engine; ' +
      'the export reads through whatever balancer is running, the two workloads mixed in one phase; each virtual user also signs up and creates the family it reads',
  };
}

async function run(ctx: ScenarioContext, p: BalancingParams): Promise<ScenarioOutput> {
  const control = ctx.deployment;
  if (control === null) throw new Error('load-balancing needs the embedded deployment (run without --target)');
  ctx.phase('fixtures');
  const users = await ctx.fixtures.createUsers(p.users, 'lbal');
  const targets: ReadTarget[] = await mapLimit(users.length, 16, async (i) => {
    const user = users[i];
    if (user === undefined) throw new Error(`no user ${i}`);
    return { familyId: (await ctx.fixtures.createFamily(user, `balance ${i}`)).id, token: user.token };
  });
  const runLoad: RunCellLoad = (url, rate, count, request) =>
    ctx.load.open({ target: url, schedule: { kind: 'constant', ratePerSec: rate }, end: { count }, request, connections: p.connections, keepRecords: true });

  const cells: CellMeasurement[] = [];
  const counters: CounterRow[] = [];
  for (const { strategy } of STRATEGIES) {
    if (ctx.target.balancer?.strategy !== strategy) {
      ctx.phase(`restart: ${strategy}`);
      await control.restart({ ...definition.deployment?.(p), strategy }, 'same');
    }
    const nodes = ctx.target.instances;
    ctx.phase(`${strategy}: warm-up`);
    // Fresh processes compile their hot paths on the first requests: not inside a judged run.
    await warmUp(ctx, targets, nodes.length * WARMUP_PER_NODE);
    const before = await routeCounts(ctx);
    for (const kind of WORKLOADS) {
      ctx.phase(`${strategy}, ${kind}`);
      const workload: BalanceWorkload = { kind, slowFraction: kind === 'skewed' ? p.slowFraction : 0, slowDelayMs: p.slowDelayMs };
      const plan = { strategy, workload, requests: p.requests, ratePerSec: p.ratePerSec, targets, expectedNodes: nodes.map((n) => n.instanceId) };
      cells.push(await measureCell(ctx.target.url, plan, runLoad));
    }
    const after = await routeCounts(ctx);
    for (const n of nodes) {
      const seen = cells.filter((c) => c.strategy === strategy).reduce((s, c) => s + (c.instanceCounts[n.instanceId] ?? 0), 0);
      const b = before.get(n.instanceId);
      const a = after.get(n.instanceId);
      counters.push({ strategy, node: n.instanceId, seen, counted: a == null || b == null ? null : a - b });
    }
  }
  return report(cells, counters, ctx, p);
}

/** Reads families through the balancer; anything but 200 is a FixtureError saying what came back. */
async function warmUp(ctx: ScenarioContext, targets: readonly ReadTarget[], count: number): Promise<void> {
  await mapLimit(count, WARMUP_CONCURRENCY, async (i) => {
    const t = targets[i % targets.length];
    if (t === undefined) throw new Error('no family to warm up with');
    expectBody(await ctx.http.send({ method: 'GET', path: `/families/${t.familyId}`, token: t.token }), 200, 'GET /families/:id (warm-up)');
  });
}

/** GET /families/:id requests each instance has counted, scraped from the instance directly. */
async function routeCounts(ctx: ScenarioContext): Promise<Map<string, number | null>> {
  const entries = await Promise.all(
    ctx.target.instances.map(async (i) => {
      const exposition = await ctx.scrape(i.url);
      const counted = sumValues(exposition.samples, REQUESTS_COUNTER, { method: 'GET', route: ROUTE });
      // A fresh instance exposes the counter but no series for a route it has not served yet: that is 0; a missing counter is not.
      return [i.instanceId, counted ?? (exposition.families[REQUESTS_COUNTER] === undefined ? null : 0)] as const;
    }),
  );
  return new Map(entries);
}

function report(cells: readonly CellMeasurement[], counters: readonly CounterRow[], ctx: ScenarioContext, p: BalancingParams): ScenarioOutput {
  const values: Record<string, number> = {};
  for (const c of cells) {
    const key = STRATEGIES.find((s) => s.strategy === c.strategy)?.key ?? c.strategy;
    if (c.stats.state === 'measured') {
      values[`${key}.${c.workload}.jain`] = c.stats.jainIndex;
      values[`${key}.${c.workload}.min_max`] = c.stats.minMaxRatio;
      values[`${key}.${c.workload}.cv`] = c.stats.coefficientOfVariation;
    }
    if (c.p99Ms !== null) values[`${key}.${c.workload}.p99`] = c.p99Ms;
    if (c.busyLandingShare !== null) values[`${key}.${c.workload}.busy_share`] = c.busyLandingShare;
  }
  const due = cells.reduce((s, c) => s + c.sent, 0);
  values['errors.rate'] = due === 0 ? 0 : cells.reduce((s, c) => s + c.errors + non2xx(c), 0) / due;
  const expectedNodes = ctx.target.instances.map((i) => i.instanceId);
  const latencies = cells.flatMap((c) => (c.encodedLatency === null ? [] : [c.encodedLatency]));
  const cores = availableParallelism();
  return {
    metrics: values,
    checks: [...balanceChecks(cells, { minJain: p.minJain, expectedNodes }), counterAgreement(counters)],
    ...(latencies.length === 0 ? {} : { histograms: { latency: mergeEncodedHistograms(latencies) } }),
    loadRuns: cells.map((c) => c.summary),
    tables: {
      nodes: cells.flatMap((c) =>
        c.nodes.map((n) => ({ strategy: c.strategy, workload: c.workload, node: n.node, count: n.count, share: r3(n.share), slow: n.slow, throughput: r3(n.throughput), p50Ms: n.p50Ms, p99Ms: n.p99Ms })),
      ),
      balance: cells.map((c) => ({
        strategy: c.strategy,
        workload: c.workload,
        jain: c.stats.state === 'measured' ? r3(c.stats.jainIndex) : null,
        minMax: c.stats.state === 'measured' ? r3(c.stats.minMaxRatio) : null,
        cv: c.stats.state === 'measured' ? r3(c.stats.coefficientOfVariation) : null,
        busyShare: c.busyLandingShare === null ? null : r3(c.busyLandingShare),
        p99Ms: c.p99Ms,
      })),
      counters: counters.map((r) => ({ ...r })),
    },
    notes: [
      `this machine has ${cores} core${cores === 1 ? '' : 's'}: the generator, the balancer and ${p.instances} instances share them, so per-node latency mixes queueing for CPU with the balancer's choices`,
      `slow requests are ${Math.round(p.slowFraction * 100)}% of the skewed workload, chosen by a fixed hash of the request index (the same ones for both strategies) and held ${p.slowDelayMs} ms by the service (x-fault: delay-ms); the hold is a timer, not CPU work, so a node stays able to answer others meanwhile`,
      'busy share: of all requests answered, those that reached a node while a slow request was in flight there (send and answer times from the harness, node from x-instance-id); least-connections should steer new requests away from such nodes',
    ],
  };
}

function r3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
