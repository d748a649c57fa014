import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossCheckWithProc, parseStat, parseStatusRss, sampleProc, type PairedSamples, type ProcSample } from '../../src/measure/proc.ts';
import { processSampleFromMetrics, type ProcessSample } from '../../src/measure/process-sample.ts';
import { scrapeMetrics } from '../../src/measure/prometheus/scrape.ts';
import { spawnTarget, type Target } from './fixtures/spawn-target.ts';

describe('process sampling of a real prom-client target', () => {
  let target: Target;
  const agent = new Agent();
  beforeAll(async () => {
    target = await spawnTarget();
  });
  afterAll(async () => {
    await agent.close();
    await target.stop();
  });

  async function pairedSample(): Promise<PairedSamples> {
    const scrape = await scrapeMetrics(`${target.base}/metrics`, { dispatcher: agent });
    const proc = await sampleProc(target.pid);
    if (scrape.state !== 'scraped') throw new Error(scrape.message);
    if (proc.state !== 'sampled') throw new Error(proc.reason);
    return { metrics: processSampleFromMetrics(scrape.exposition, { atMs: scrape.atMs }), proc: proc.sample };
  }

  it('reads every default metric into one ProcessSample', async () => {
    const { metrics: sample } = await pairedSample();
    expect(sample.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(sample.heapUsedBytes).toBeGreaterThan(0);
    expect(sample.heapUsedBytes).toBeLessThanOrEqual(sample.heapTotalBytes ?? 0);
    expect(sample.externalBytes).toBeGreaterThan(0);
    expect(sample.cpuUserSeconds).toBeGreaterThanOrEqual(0);
    // NaN right after start in prom-client becomes null; once measured it is a finite delay.
    for (const lag of [sample.eventLoopLagP99Ms, sample.eventLoopLagMeanMs]) {
      if (lag !== null) expect(lag).toBeGreaterThanOrEqual(0);
    }
    expect(sample.openFds).toBeGreaterThan(3);
    expect(sample.activeHandles).toBeGreaterThan(0);
    // prom-client 15 does not export utilisation: reported as absent, never as 0.
    expect(sample.eventLoopUtilization).toBeNull();
    expect(sample.gc.minor?.count).toBeGreaterThan(0);
    expect(sample.gc.minor?.pauseMs).toBeGreaterThan(0);
  });

  it('agrees with /proc on RSS, open FDs and CPU used between two samples', async () => {
    const before = await pairedSample();
    const spin = await request(`${target.base}/spin`, { dispatcher: agent });
    await spin.body.dump();
    const after = await pairedSample();
    const checks = crossCheckWithProc(after, { previous: before });
    expect(checks.map((c) => [c.metric, c.state])).toEqual([
      ['rssBytes', 'agrees'],
      ['openFds', 'agrees'],
      ['cpuSeconds', 'agrees'],
    ]);
    const cpu = checks.find((c) => c.metric === 'cpuSeconds');
    expect(cpu).toMatchObject({ fromProc: expect.any(Number) as unknown });
    if (cpu?.state === 'agrees') expect(cpu.fromProc).toBeGreaterThanOrEqual(0.25); // /spin burns 300 ms of CPU
  });

  it('reports a process that is gone as unavailable, with the reason', async () => {
    const gone = await spawnTarget();
    await gone.stop();
    const outcome = await sampleProc(gone.pid);
    expect(outcome).toMatchObject({ state: 'unavailable', reason: expect.stringContaining('ENOENT') as unknown });
  });
});

describe('/proc parsing and cross-check', () => {
  it('parses VmRSS and stat fields, even with ") " inside the command name', () => {
    expect(parseStatusRss('Name:\tnode\nVmRSS:\t   52340 kB\nVmData:\t 1 kB\n')).toBe(52340 * 1024);
    expect(parseStatusRss('Name:\tkthread\n')).toBeNull();
    const stat = '1234 (we) (ird name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 500 1000 200';
    expect(parseStat(stat)).toEqual({ utimeTicks: 250, stimeTicks: 75, threads: 11 });
  });

  it('flags readings that differ beyond tolerance and metrics that are missing', () => {
    const proc: ProcSample = { pid: 1, atMs: 0, rssBytes: 100e6, openFds: 20, cpuUserSeconds: 1, cpuSystemSeconds: 0.5, threads: 7 };
    const metrics: ProcessSample = {
      source: 'prometheus',
      atMs: 0,
      rssBytes: 150e6,
      heapUsedBytes: null,
      heapTotalBytes: null,
      externalBytes: null,
      cpuUserSeconds: null,
      cpuSystemSeconds: 0.5,
      gc: {},
      eventLoopLagP99Ms: null,
      eventLoopLagMeanMs: null,
      eventLoopUtilization: null,
      openFds: 22,
      activeHandles: null,
    };
    const previous: PairedSamples = { metrics: { ...metrics, cpuSystemSeconds: 0 }, proc: { ...proc, cpuUserSeconds: 0.5, cpuSystemSeconds: 0 } };
    expect(crossCheckWithProc({ metrics, proc }, { previous })).toEqual([
      { metric: 'rssBytes', state: 'differs', fromMetrics: 150e6, fromProc: 100e6, difference: 50e6, tolerance: expect.anything() as unknown },
      { metric: 'openFds', state: 'agrees', fromMetrics: 22, fromProc: 20, difference: 2, tolerance: { absolute: 3, relative: 0 } },
      { metric: 'cpuSeconds', state: 'missing-from-metrics' },
    ]);
  });
});
