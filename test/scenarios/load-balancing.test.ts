import { Agent, createServer, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import scenario from '../../scenarios/scalability/load-balancing.ts';
import { balanceChecks } from '../../scenarios/lib/balance-oracle.ts';
import { isSlow, measureCell } from '../../scenarios/lib/balance-traffic.ts';
import type { CellMeasurement, ReadTarget, RunCellLoad } from '../../scenarios/lib/balance-traffic.ts';
import { runOpenModel } from '../../src/load/index.ts';
import { Fixtures } from '../../src/scenario/fixtures.ts';
import { JsonClient } from '../../src/scenario/json-client.ts';
import { DEFAULT_SERVICE_CONFIG } from '../../target/config.ts';
import { runScenarioOn } from './helpers/scenario-harness.ts';
import { startSharedSqliteCluster } from './helpers/shared-sqlite-cluster.ts';
import type { SharedSqliteCluster } from './helpers/shared-sqlite-cluster.ts';

describe('slow-request selection', () => {
  it('is a fixed function of the index, near the asked fraction, and empty for the uniform workload', () => {
    const skewed = { kind: 'skewed' as const, slowFraction: 0.1, slowDelayMs: 50 };
    const slow = Array.from({ length: 10_000 }, (_, i) => isSlow(i, skewed)).filter(Boolean).length;
    expect(slow).toBeGreaterThan(900);
    expect(slow).toBeLessThan(1100);
    expect(Array.from({ length: 50 }, (_, i) => isSlow(i, skewed))).toEqual(Array.from({ length: 50 }, (_, i) => isSlow(i, skewed)));
    expect(Array.from({ length: 1000 }, (_, i) => isSlow(i, { ...skewed, kind: 'uniform' })).some(Boolean)).toBe(false);
  });
});

describe('load-balancing scenario', () => {
  it('passes at the smoke profile: 4 nodes, both strategies, both workloads', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('passed');
    const m = result.metrics;
    expect(m['rr.uniform.jain']).toBeGreaterThanOrEqual(0.99);
    expect(m['lc.skewed.busy_share']).toBeLessThan(m['rr.skewed.busy_share'] ?? 0);
    expect(m['errors.rate']).toBe(0);
    // 4 nodes x 2 strategies x 2 workloads, every count from x-instance-id, matched by the nodes' own counters.
    expect(result.tables.nodes).toHaveLength(16);
    expect(result.tables.counters?.every((row) => row.seen === row.counted)).toBe(true);
  }, 40_000);
});

type Pick = (inFlight: readonly number[], seq: number) => number;

/** A tiny HTTP proxy over `backends` choosing with `pick`: the broken balancers of these tests. */
async function startProxy(backends: readonly string[], pick: Pick): Promise<{ url: string; close(): Promise<void> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const inFlight = backends.map(() => 0);
  let seq = 0;
  const server: Server = createServer((req, res) => {
    const index = pick(inFlight, seq++);
    const backend = new URL(backends[index] ?? '');
    inFlight[index] = (inFlight[index] ?? 0) + 1;
    res.on('close', () => {
      inFlight[index] = (inFlight[index] ?? 1) - 1;
    });
    const upstream = httpRequest(
      { host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => res.destroy(error));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

describe('against broken balancers in front of three in-process nodes', () => {
  let cluster: SharedSqliteCluster;
  let targets: ReadTarget[];
  const proxies: { close(): Promise<void> }[] = [];
  const runLoad: RunCellLoad = (url, rate, count, request) =>
    runOpenModel({ target: url, schedule: { kind: 'constant', ratePerSec: rate }, end: { count }, request, connections: 32, keepRecords: true });

  beforeAll(async () => {
    cluster = await startSharedSqliteCluster({
      instances: 3,
      config: { ...DEFAULT_SERVICE_CONFIG, faults: true, rateLimit: { limit: 1_000_000, windowMs: 60_000 } },
    });
    const http = new JsonClient(cluster.instances[0]?.url ?? '');
    const fixtures = new Fixtures(http);
    const users = await fixtures.createUsers(4, 'skew');
    targets = await Promise.all(users.map(async (u, i) => ({ familyId: (await fixtures.createFamily(u, `skew ${i}`)).id, token: u.token })));
    await http.close();
  });
  afterAll(async () => {
    for (const p of proxies) await p.close();
    await cluster.close();
  });

  const cell = async (strategy: string, pick: Pick, kind: 'uniform' | 'skewed'): Promise<CellMeasurement> => {
    const proxy = await startProxy(cluster.instances.map((i) => i.url), pick);
    proxies.push(proxy);
    const workload = { kind, slowFraction: kind === 'skewed' ? 0.15 : 0, slowDelayMs: 80 };
    const nodes = cluster.instances.map((i) => i.instanceId);
    return measureCell(proxy.url, { strategy, workload, requests: 150, ratePerSec: 150, targets, expectedNodes: nodes }, runLoad);
  };

  it('a balancer sending 80% of traffic to one node fails the Jain check, with the per-node counts as evidence', async () => {
    const skewed: Pick = (_inFlight, seq) => (seq % 5 === 4 ? 1 + (seq % 2) : 0);
    const c = await cell('round-robin', skewed, 'uniform');
    const checks = balanceChecks([c], { minJain: 0.99, expectedNodes: cluster.instances.map((i) => i.instanceId) });
    const jain = checks.find((x) => x.name.startsWith("round-robin, uniform: Jain's index"));
    expect(jain?.passed).toBe(false);
    expect(Number(jain?.actual)).toBeLessThan(0.8);
    expect(jain?.detail).toMatch(/in-process-1=1[12]\d/);
    // The responses themselves were fine: only the spread is wrong.
    expect(checks.find((x) => x.name === 'every response 2xx')?.passed).toBe(true);
  }, 20_000);

  it('a "least-connections" that picks the busiest node piles requests onto slow ones and fails the comparison', async () => {
    const roundRobin: Pick = (inFlight, seq) => seq % inFlight.length;
    const busiest: Pick = (inFlight) => inFlight.indexOf(Math.max(...inFlight));
    const rr = await cell('round-robin', roundRobin, 'skewed');
    const lc = await cell('least-connections', busiest, 'skewed');
    const checks = balanceChecks([rr, lc], { minJain: 0.99, expectedNodes: cluster.instances.map((i) => i.instanceId) });
    const steer = checks.find((x) => x.name.startsWith('least-connections, skewed'));
    expect(steer?.passed).toBe(false);
    expect(steer?.detail).toMatch(/least-connections [\d.]+% vs round-robin [\d.]+%/);
  }, 20_000);
});
