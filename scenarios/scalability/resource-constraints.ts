/**
 * Resource constraints: one fixed closed-model workload run as a baseline, then with the target
 * restarted under memory pressure (small old space and semi-space), then beside CPU hogs. The
 * service may slow down but must keep answering correctly: no 5xx beyond a bound, no crash.
 */
import { availableParallelism } from 'node:os';
import type { LoadResult, RequestSpec } from '../../src/load/index.ts';
import type { ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { DeploymentNeeds } from '../../src/scenario/deployment-needs.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import { gcDelta } from '../lib/memory-sampling.ts';
import { processSampleFromMetrics } from '../../src/measure/process-sample.ts';
import type { ProcessSample } from '../../src/measure/process-sample.ts';
import { startCpuHogs } from '../lib/pressure-cpu-hog.ts';
import { describePressure, memoryPressureNodeArgs } from '../lib/pressure-memory.ts';
import { CONDITIONS, PRESSURE_METRIC_SPECS, reportPressure } from '../lib/pressure-report.ts';
import type { ConditionRun } from '../lib/pressure-report.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import { resourceConstraintsTraffic } from '../lib/artillery-scalability.ts';

/** Golden-ratio spacing: a deterministic, evenly mixed sequence of reads and writes. */
const MIX_STEP = 0.6180339887;

export type PressureParams = {
  readonly users: number;
  readonly concurrency: number;
  /** Requests of the fixed workload, the same under every condition. */
  readonly requests: number;
  /** Unmeasured requests before each measured run, so every condition starts with a warm JIT and cache (the memory run follows a restart). */
  readonly warmUpRequests: number;
  readonly writeFraction: number;
  /** Memory pressure: V8 old-space and semi-space limits of the restarted instance, and live ballast inside it. */
  readonly maxOldSpaceMiB: number;
  readonly maxSemiSpaceMiB: number;
  readonly ballastMiB: number;
  /** CPU contention: busy processes beside the target. */
  readonly cpuHogs: number;
  /** Upper bound of one condition's run (the hogs' own deadline derives from it). */
  readonly maxRunMs: number;
  readonly minSuccessRate: number;
  readonly max5xxRate: number;
};

const smoke: PressureParams = {
  users: 20,
  concurrency: 8,
  requests: 1500,
  warmUpRequests: 300,
  writeFraction: 0.15,
  maxOldSpaceMiB: 48,
  maxSemiSpaceMiB: 1,
  ballastMiB: 16,
  cpuHogs: 2,
  maxRunMs: 30_000,
  minSuccessRate: 0.99,
  max5xxRate: 0.01,
};

const definition: ScenarioDefinition<PressureParams> = {
  id: 'resource-constraints',
  group: 'scalability',
  title: 'Resource constraints',
  objective: 'Under memory pressure and CPU contention the service slows down but keeps answering correctly: no 5xx beyond a bound, no crash.',
  profiles: {
    smoke,
    standard: { ...smoke, users: 50, concurrency: 16, requests: 4000, warmUpRequests: 500 },
    soak: { ...smoke, users: 100, concurrency: 16, requests: 30_000, maxRunMs: 600_000 },
  },
  metrics: PRESSURE_METRIC_SPECS,
  thresholds: ['baseline.success_rate >= 99%', 'cpu.success_rate >= 99%'],
  describe: (p) =>
    `${p.requests} requests (${Math.round(p.writeFraction * 100)}% renames, the rest reads) by ${p.concurrency} closed-model workers, each after ${p.warmUpRequests} warm-up requests: baseline; target restarted with ${describePressure(p)} (embedded target only); beside ${p.cpuHogs} CPU-burning process(es).`,
  deployment: baseNeeds,
  run,
  artillery: resourceConstraintsTraffic,
};

export default definition;

function baseNeeds(): DeploymentNeeds {
  return { instances: 1, service: { rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } } };
}

async function run(ctx: ScenarioContext, p: PressureParams): Promise<ScenarioOutput> {
  ctx.phase('create users and families');
  const users = await ctx.fixtures.createUsers(p.users, 'press');
  const families = await mapLimit(users.length, FIXTURE_CONCURRENCY, (i) => ctx.fixtures.createFamily(users[i] ?? failIndex(i), `pressure family ${i}`));
  const specs = users.map((user, i) => {
    const family = families[i] ?? failIndex(i);
    const auth = { authorization: `Bearer ${user.token}` };
    return {
      read: { method: 'GET', path: `/families/${family.id}`, headers: auth } satisfies RequestSpec,
      list: { method: 'GET', path: '/me/families', headers: auth } satisfies RequestSpec,
      write: { method: 'PATCH', path: `/families/${family.id}`, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: `pressure family ${i} renamed` }) } satisfies RequestSpec,
    };
  });
  const request = (index: number): RequestSpec => {
    const s = specs[index % specs.length] ?? failIndex(index);
    if ((index * MIX_STEP) % 1 < p.writeFraction) return s.write;
    return Math.floor(index / specs.length) % 4 === 0 ? s.list : s.read;
  };
  const workload = (count: number): Promise<LoadResult> => ctx.load.closed({ concurrency: p.concurrency, end: { count }, maxRunMs: p.maxRunMs, request });

  const runs: ConditionRun[] = [];
  const warmUps: { condition: string; result: LoadResult }[] = [];
  const measure = async (condition: (typeof CONDITIONS)[number], pressure: string): Promise<void> => {
    ctx.phase(`${condition} run`);
    warmUps.push({ condition, result: await workload(p.warmUpRequests) });
    const before = await processSample(ctx);
    const result = await workload(p.requests);
    const alive = await aliveAfter(ctx);
    const after = alive.alive ? await processSample(ctx) : null;
    const gc = after === null ? null : Object.values(gcDelta(before, after)).reduce((s, k) => ({ count: s.count + k.count, pauseMs: s.pauseMs + k.pauseMs }), { count: 0, pauseMs: 0 });
    runs.push({ condition, pressure, result, alive, gc, heapTotalBytes: after?.heapTotalBytes ?? null });
  };

  await measure('baseline', 'none');
  const notes: string[] = [];
  if (ctx.deployment === null) {
    notes.push('Memory pressure skipped: it restarts the target with V8 heap limits, which only the embedded target allows.');
  } else {
    ctx.phase('restart under memory pressure');
    await ctx.deployment.restart({ ...baseNeeds(), instanceNodeArgs: memoryPressureNodeArgs(p) }, 'same');
    try {
      await measure('memory', describePressure(p));
    } finally {
      ctx.phase('restart without pressure');
      await ctx.deployment.restart(baseNeeds(), 'same');
    }
  }
  const hogStart = ctx.clock.now();
  const hogs = startCpuHogs(p.cpuHogs, p.maxRunMs);
  let hogAliveMs = 0;
  let hogCpu: number;
  try {
    await measure('cpu', `${p.cpuHogs} CPU-burning process(es) beside the target`);
  } finally {
    hogCpu = (await hogs.stop()).cpuSeconds;
    hogAliveMs = ctx.clock.now() - hogStart;
  }
  notes.push(
    `CPU hogs (pids ${hogs.pids.join(', ')}) used ${hogCpu.toFixed(2)} CPU-s in the ${(hogAliveMs / 1000).toFixed(2)} s they ran (warm-up and measured run): ${(hogCpu / Math.max(hogAliveMs / 1000, 1e-9)).toFixed(2)} cores' worth taken from the target and the generator.`,
    `${availableParallelism()} cores: gauntlet's generator runs on the same cores as the target and the hogs, so the CPU condition slows the load generator as well as the service; ratios are of this machine, not of the service alone.`,
  );
  return reportPressure({ p, runs, warmUps, notes });
}

/** The target's process figures from its /metrics (the single instance, or whatever answers at the target URL). */
async function processSample(ctx: ScenarioContext): Promise<ProcessSample> {
  return processSampleFromMetrics(await ctx.scrape(), { atMs: ctx.clock.now() });
}

/** Each instance (or the target) answers /healthz with 200 after the run. */
async function aliveAfter(ctx: ScenarioContext): Promise<{ alive: boolean; detail: string }> {
  const origins = ctx.target.instances.length > 0 ? ctx.target.instances.map((i) => i.url) : [ctx.target.url];
  const answers = await Promise.all(
    origins.map(async (origin) => {
      try {
        const res = await ctx.http.send({ method: 'GET', path: '/healthz', origin });
        return { origin, ok: res.status === 200, what: `HTTP ${res.status}` };
      } catch (error) {
        return { origin, ok: false, what: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const bad = answers.filter((a) => !a.ok);
  return { alive: bad.length === 0, detail: bad.map((a) => `${a.origin}/healthz: ${a.what}`).join('; ') };
}

function failIndex(i: number): never {
  throw new Error(`scenario bug: no fixture at index ${i}`);
}
