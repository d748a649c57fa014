/**
 * DB connection pooling: far more concurrent operations than the pool holds (closed model, mixed
 * reads and writes), the pool gauges sampled throughout; after drain every checked-out connection
 * is back, and the target's FDs and gauntlet's client sockets are back to their baseline.
 */
import { sleep } from '../../src/clock.ts';
import { mergeEncodedHistograms, decodeHistogram } from '../../src/measure/histogram.ts';
import { checkLeaks, waitForDrain } from '../../src/measure/leaks.ts';
import type { ResourceSnapshot, ResourceVerdict } from '../../src/measure/leaks.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { RequestSpec } from '../../src/load/index.ts';
import type { Check, ScenarioDefinition, ScenarioOutput, SeriesPoint } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import { ownSockets, readInstance } from '../lib/pool-resources.ts';
import type { InstanceReading, Watched } from '../lib/pool-resources.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';
import { connectionPoolingTraffic } from '../lib/artillery-concurrency.ts';

/** Offending instances or samples quoted per check. */
const EVIDENCE = 3;
/** Golden-ratio spacing: a deterministic, evenly mixed sequence of reads and writes over request indexes. */
const MIX_STEP = 0.6180339887;

type Params = {
  readonly instances: number;
  readonly users: number;
  /** Closed-model workers over all instances, each with one request in flight. */
  readonly concurrency: number;
  readonly durationMs: number;
  /** Fraction of requests that write (PATCH a family); the rest read (GET a family, list my families). */
  readonly writeFraction: number;
  readonly sampleIntervalMs: number;
  /** How long the target may take to close connections and FDs after the load. */
  readonly drainTimeoutMs: number;
};

const smoke: Params = { instances: 1, users: 24, concurrency: 32, durationMs: 2000, writeFraction: 0.2, sampleIntervalMs: 200, drainTimeoutMs: 8000 };

const definition: ScenarioDefinition<Params> = {
  id: 'connection-pooling',
  group: 'concurrency',
  title: 'DB connection pooling',
  objective: 'Far more concurrent operations than the DB pool holds never open more connections than its maximum, and leave no connection checked out and no FD or socket leaked.',
  profiles: {
    smoke,
    standard: { ...smoke, instances: 2, users: 100, concurrency: 200, durationMs: 6000, sampleIntervalMs: 100 },
    soak: { ...smoke, instances: 3, users: 300, concurrency: 400, durationMs: 60_000, sampleIntervalMs: 250 },
  },
  metrics: [
    { name: 'concurrency', dimension: 'count', description: 'closed-model workers' },
    { name: 'pool.max', dimension: 'count', description: 'the pool maximum the target reports (smallest over instances)' },
    { name: 'pool.max_checked_out', dimension: 'count', description: 'most connections checked out on one instance in any sample' },
    { name: 'pool.max_open', dimension: 'count', description: 'most connections open on one instance in any sample' },
    { name: 'pool.over_max_samples', dimension: 'count', description: 'samples where an instance had more open than its maximum' },
    { name: 'samples', dimension: 'count', description: 'pool samples taken under load' },
    { name: 'leaks.pool', dimension: 'count', description: 'connections still checked out after drain' },
    { name: 'leaks.fds', dimension: 'count', description: 'target FDs above baseline after drain (beyond pooled DB connections)' },
    { name: 'leaks.sockets', dimension: 'count', description: 'gauntlet client sockets above baseline after drain' },
    { name: 'fds.max_under_load', dimension: 'count', description: 'most open FDs on one instance under load' },
    ...latencyMetricSpecs('latency', 'request latency under the closed-model load'),
    { name: 'throughput', dimension: 'rate', description: 'responses per second over all instances' },
    { name: 'errors.rate', dimension: 'ratio', description: 'requests that failed or answered other than 200' },
  ],
  thresholds: ['leaks.pool == 0', 'leaks.fds == 0', 'leaks.sockets == 0', 'pool.over_max_samples == 0', 'errors.rate < 1%', 'latency.p99 < 5s'],
  describe: (p) =>
    `${p.concurrency} closed-model workers for ${p.durationMs / 1000} s over ${p.instances} instance(s), ${Math.round(p.writeFraction * 100)}% writes, on ${p.users} users' families; pool gauges sampled every ${p.sampleIntervalMs} ms, then drain (up to ${p.drainTimeoutMs / 1000} s) back to baseline.`,
  deployment: (p) => ({ instances: p.instances, service: { rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } } }),
  run,
  artillery: connectionPoolingTraffic,
};

export default definition;

async function run(ctx: ScenarioContext, p: Params): Promise<ScenarioOutput> {
  ctx.phase('create users and families');
  const users = await ctx.fixtures.createUsers(p.users, 'pool');
  const families = await mapLimit(users.length, FIXTURE_CONCURRENCY, (i) => ctx.fixtures.createFamily(users[i] ?? failIndex(i), `pool family ${i}`));
  const specs = users.map((user, i) => {
    const family = families[i] ?? failIndex(i);
    const auth = { authorization: `Bearer ${user.token}` };
    const reads: RequestSpec[] = [
      { method: 'GET', path: `/families/${family.id}`, headers: auth },
      { method: 'GET', path: '/me/families', headers: auth },
    ];
    const write: RequestSpec = { method: 'PATCH', path: `/families/${family.id}`, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: `pool family ${i} renamed` }) };
    return { reads, write };
  });
  const request = (index: number): RequestSpec => {
    const s = specs[index % specs.length] ?? failIndex(index);
    if ((index * MIX_STEP) % 1 < p.writeFraction) return s.write;
    return s.reads[Math.floor(index / specs.length) % 2] ?? s.write;
  };

  const watched: Watched[] = ctx.target.instances.length > 0
    ? ctx.target.instances.map((i) => ({ name: i.instanceId, url: i.url, pid: i.pid }))
    : [{ name: 'target', url: ctx.target.url, pid: null }];
  // /proc is read at baseline and after drain (the cross-check), not under load: it would cost the generator's CPU.
  const take = async (withProc = true): Promise<{ readings: InstanceReading[]; resources: Record<string, number> }> => {
    const readings = await Promise.all(watched.map((w) => readInstance(ctx, w, { withProc })));
    const resources: Record<string, number> = { 'client.sockets': await ownSockets() };
    for (const r of readings) {
      resources[`${r.name}.pool.checked_out`] = r.checkedOut;
      if (r.fds !== null) resources[`${r.name}.fds`] = r.fds;
      if (r.procFds !== null) resources[`${r.name}.proc_fds`] = r.procFds;
    }
    return { readings, resources };
  };

  ctx.phase('baseline');
  const before = await take();
  const baseline: ResourceSnapshot = { phase: 'baseline', atMs: ctx.clock.now(), resources: before.resources };

  ctx.phase('load');
  const origins = watched.map((w) => w.url);
  const perOrigin = Math.max(1, Math.ceil(p.concurrency / origins.length));
  const t0 = ctx.clock.now();
  const samples: { atMs: number; readings: InstanceReading[]; sockets: number }[] = [];
  const load = { running: true };
  // Settled into a value at once: if the run is aborted mid-sample, its rejection must not go unhandled
  // while the load runs are still being awaited; it is rethrown below.
  const sampled = (async (): Promise<void> => {
    const maxSamples = Math.ceil((p.durationMs + p.drainTimeoutMs) / p.sampleIntervalMs) + 1;
    while (load.running && samples.length < maxSamples) {
      const { readings, resources } = await take(false);
      samples.push({ atMs: ctx.clock.now() - t0, readings, sockets: resources['client.sockets'] ?? 0 });
      await sleep(ctx.clock, p.sampleIntervalMs, ctx.signal);
    }
  })().then(
    () => null,
    (error: unknown) => (error instanceof Error ? error : new Error(`pool sampling failed: ${JSON.stringify(error)}`)),
  );
  const runs = await Promise.all(origins.map((target) => ctx.load.closed({ target, concurrency: perOrigin, end: { durationMs: p.durationMs }, request }))).finally(() => {
    load.running = false;
  });
  const samplerError = await sampled;
  if (samplerError !== null) throw samplerError;

  ctx.phase('drain');
  const all = samples.flatMap((s) => s.readings);
  const grownOpen = (name: string): number =>
    Math.max(0, ...all.filter((r) => r.name === name).map((r) => r.open)) - (before.readings.find((r) => r.name === name)?.open ?? 0);
  // Connections the pool opened and keeps are sockets by design (MongoDB), not leaks: allow that many FDs more.
  const tolerance = Object.fromEntries(watched.flatMap((w) => [[`${w.name}.fds`, Math.max(0, grownOpen(w.name))], [`${w.name}.proc_fds`, Math.max(0, grownOpen(w.name))]]));
  let last: InstanceReading[] = [];
  const afterDrain = await waitForDrain(
    async () => {
      const now = await take();
      last = now.readings;
      return now.resources;
    },
    baseline,
    { timeoutMs: p.drainTimeoutMs, tolerance },
  );
  const underLoadResources: Record<string, number> = {};
  for (const s of samples) {
    underLoadResources['client.sockets'] = Math.max(underLoadResources['client.sockets'] ?? 0, s.sockets);
    for (const r of s.readings) {
      const put = (key: string, v: number | null): void => {
        if (v !== null) underLoadResources[key] = Math.max(underLoadResources[key] ?? 0, v);
      };
      put(`${r.name}.pool.checked_out`, r.checkedOut);
      put(`${r.name}.fds`, r.fds);
      put(`${r.name}.proc_fds`, r.procFds);
    }
  }
  const leaks = checkLeaks(baseline, afterDrain, { phase: 'under-load', atMs: t0, resources: underLoadResources }, { tolerance });

  return report({ p, runs, samples, all, before: before.readings, after: last, leaks: leaks.verdicts, perOrigin, origins: origins.length });
}

function failIndex(i: number): never {
  throw new Error(`scenario bug: no fixture at index ${i}`);
}

interface ReportInput {
  readonly p: Params;
  readonly runs: Awaited<ReturnType<ScenarioContext['load']['closed']>>[];
  readonly samples: readonly { atMs: number; readings: InstanceReading[]; sockets: number }[];
  readonly all: readonly InstanceReading[];
  readonly before: readonly InstanceReading[];
  readonly after: readonly InstanceReading[];
  readonly leaks: readonly ResourceVerdict[];
  readonly perOrigin: number;
  readonly origins: number;
}

function report({ p, runs, samples, all, before, after, leaks, perOrigin, origins }: ReportInput): ScenarioOutput {
  const excess = (pred: (resource: string) => boolean): number =>
    leaks.reduce((sum, v) => sum + (pred(v.resource) && v.state === 'leaked' ? v.leaked : 0), 0);
  const missing = leaks.filter((v) => v.state === 'missing');
  const leakedFds = excess((r) => r.endsWith('.fds'));
  const leakedProcFds = excess((r) => r.endsWith('.proc_fds'));
  const leakedSockets = excess((r) => r === 'client.sockets');
  const stillOut = after.reduce((sum, r) => sum + r.checkedOut, 0);
  const overMax = all.filter((r) => r.open > r.max);
  const poolMax = Math.min(...before.map((r) => r.max));
  const describeLeak = (pred: (resource: string) => boolean): string =>
    leaks
      .filter((v) => pred(v.resource) && v.state !== 'returned-to-baseline')
      .slice(0, EVIDENCE)
      .map((v) => (v.state === 'leaked' ? `${v.resource}: baseline ${v.baseline}, under load ${v.underLoad ?? '?'}, after drain ${v.afterDrain} (+${v.leaked}, tolerance ${v.tolerance})` : v.state === 'missing' ? `${v.resource}: missing from ${v.missingFrom}` : v.resource))
      .join('; ');
  const fdCross = [...before, ...after].map((r) => r.fdCrossCheck).filter((c) => c !== null);
  const fdDiffer = fdCross.filter((c) => c.state !== 'agrees');

  const checks: Check[] = [
    {
      name: 'checked-out connections return to 0 after drain',
      expected: 0,
      actual: stillOut,
      passed: stillOut === 0,
      ...(stillOut > 0 ? { detail: after.filter((r) => r.checkedOut > 0).slice(0, EVIDENCE).map((r) => `${r.name}: ${r.checkedOut} checked out after drain`).join('; ') } : {}),
    },
    {
      name: 'open connections never exceed the maximum',
      expected: `<= ${poolMax}`,
      actual: Math.max(...all.map((r) => r.open)),
      passed: overMax.length === 0 && samples.length > 0,
      ...(overMax.length > 0 ? { detail: overMax.slice(0, EVIDENCE).map((r) => `${r.name}: ${r.open} open, max ${r.max}`).join('; ') } : samples.length === 0 ? { detail: 'no sample was taken under load' } : {}),
    },
    {
      name: 'target open FDs return to baseline',
      expected: 0,
      actual: leakedFds,
      passed: leakedFds === 0 && leakedProcFds === 0 && !missing.some((v) => v.resource.endsWith('fds')),
      ...(leakedFds > 0 || leakedProcFds > 0 || missing.length > 0 ? { detail: describeLeak((r) => r.endsWith('fds')) } : {}),
    },
    {
      name: 'client sockets return to baseline',
      expected: 0,
      actual: leakedSockets,
      passed: leakedSockets === 0,
      ...(leakedSockets > 0 ? { detail: describeLeak((r) => r === 'client.sockets') } : {}),
    },
    {
      name: 'FD counts agree between /metrics and /proc',
      expected: 0,
      actual: fdDiffer.length,
      passed: fdDiffer.length === 0,
      ...(fdDiffer.length > 0 ? { detail: fdDiffer.slice(0, EVIDENCE).map((c) => JSON.stringify(c)).join('; ') } : {}),
    },
  ];

  const encoded = runs.map((r) => r.latency.uncorrected).filter((e) => e !== null);
  const latency = encoded.length === 0 ? null : mergeEncodedHistograms(encoded);
  const summary = latency === null ? null : summarize(decodeHistogram(latency));
  const completed = runs.reduce((s, r) => s + r.completed, 0);
  const ok = runs.reduce((s, r) => s + (r.statusCounts['200'] ?? 0), 0);
  const sumSeries = (s: (typeof samples)[number], pick: (r: InstanceReading) => number | null): number => s.readings.reduce((n, r) => n + (pick(r) ?? 0), 0);
  const series: SeriesPoint[] = samples.map((s) => ({
    x: Math.round(s.atMs) / 1000,
    checked_out: sumSeries(s, (r) => r.checkedOut),
    open: sumSeries(s, (r) => r.open),
    fds: sumSeries(s, (r) => r.fds),
    client_sockets: s.sockets,
  }));
  const names = [...new Set(before.map((r) => r.name))];
  return {
    metrics: {
      concurrency: perOrigin * origins,
      'pool.max': poolMax,
      'pool.max_checked_out': Math.max(0, ...all.map((r) => r.checkedOut)),
      'pool.max_open': Math.max(0, ...all.map((r) => r.open)),
      'pool.over_max_samples': overMax.length,
      samples: samples.length,
      'leaks.pool': stillOut,
      'leaks.fds': leakedFds,
      'leaks.sockets': leakedSockets,
      'fds.max_under_load': Math.max(0, ...all.map((r) => r.fds ?? 0)),
      ...latencyMetricValues(summary, 'latency'),
      throughput: runs.reduce((s, r) => s + r.achievedRate, 0),
      'errors.rate': completed === 0 ? 1 : (completed - ok) / completed,
    },
    checks,
    ...(latency === null ? {} : { histograms: { latency } }),
    series: { pool: series },
    loadRuns: runs.map((r, i) => summarizeLoadRun(`closed load on ${names[i] ?? `origin ${i + 1}`}`, r)),
    tables: {
      instances: names.map((name) => {
        const mine = all.filter((r) => r.name === name);
        const b = before.find((r) => r.name === name);
        const a = after.find((r) => r.name === name);
        return {
          instance: name,
          max: b?.max ?? null,
          maxOpen: Math.max(0, ...mine.map((r) => r.open)),
          maxCheckedOut: Math.max(0, ...mine.map((r) => r.checkedOut)),
          checkedOutAfter: a?.checkedOut ?? null,
          fdsBaseline: b?.fds ?? null,
          fdsMaxUnderLoad: Math.max(0, ...mine.map((r) => r.fds ?? 0)),
          fdsAfter: a?.fds ?? null,
          procFdsAfter: a?.procFds ?? null,
        };
      }),
    },
    notes: [
      poolMax <= 1
        ? 'The SQLite store holds one synchronous connection per instance (max 1): an operation checks it out and returns it within one event-loop turn, so a scrape never sees it checked out. The checks still stand: never above the maximum, none checked out after drain. With MongoDB the pool holds up to dbPoolSize connections and is exercised for real.'
        : `The pool may hold up to ${poolMax} connections per instance; ${p.concurrency} concurrent operations queue for them.`,
      `FD tolerance after drain = connections the pool opened and keeps (pooled DB sockets are not leaks). Client sockets are counted from gauntlet's own /proc/self/fd (load pools, JSON client, scrapes).`,
      `Gauges sampled ${samples.length} times (every ${p.sampleIntervalMs} ms plus scrape time): a checkout shorter than that can be missed, so pool.max_checked_out is a lower bound.`,
      ...(missing.length > 0 ? [`Resources missing from a snapshot: ${missing.map((v) => v.resource).join(', ')}`] : []),
    ],
  };
}
