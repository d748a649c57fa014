import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import connectionPooling from '../../scenarios/concurrency/connection-pooling.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import type { Store } from '../../target/store/store.ts';
import { runScenarioOn, startServiceInTest, storeWith } from './helpers/scenario-harness.ts';

const scenario = connectionPooling as unknown as ScenarioDefinition;
/** A small run against a service in this process: enough requests to leak, short enough to keep the file fast. */
const SMALL = { users: 8, concurrency: 16, durationMs: 1000, drainTimeoutMs: 2500 };
const NO_LIMIT = { rateLimit: { limit: 1_000_000, windowMs: 60_000 } };

describe('connection-pooling scenario', () => {
  it('passes at the smoke profile on the embedded deployment', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons, JSON.stringify({ checks: result.checks, tables: result.tables, notes: result.notes })).toEqual([]);
    expect(result.status).toBe('passed');
    expect(result.checks.map((c) => [c.name, c.passed])).toEqual(result.checks.map((c) => [c.name, true]));
    const m = result.metrics;
    expect(m['pool.max']).toBe(1); // SQLite: one connection per instance
    expect(m['pool.max_open']).toBeLessThanOrEqual(1);
    expect(m.samples).toBeGreaterThan(0);
    expect([m['leaks.pool'], m['leaks.fds'], m['leaks.sockets']]).toEqual([0, 0, 0]);
    expect(m['fds.max_under_load']).toBeGreaterThan(0);
    expect(m['latency.p50']).toBeGreaterThan(0);
    expect(m['latency.p50']).toBeLessThanOrEqual(m['latency.p99'] ?? 0);
    expect(m.throughput).toBeGreaterThan(0);
    expect(result.tables.instances).toHaveLength(1); // smoke runs one instance: less CPU contention with the generator on a 2-core box
    expect(result.loadRuns.every((r) => r.completed > 0)).toBe(true);
  }, 30_000);

  it('catches a connection that is checked out and never released', async () => {
    let leaked = 0;
    const service = await startServiceInTest({
      config: NO_LIMIT,
      wrap: (inner: Store) =>
        storeWith(inner, {
          poolStats: () => ({ ...inner.poolStats(), checkedOut: inner.poolStats().checkedOut + leaked }),
          async renameFamily(input, op) {
            leaked = Math.min(leaked + 1, 1); // the first write never gives its connection back
            return inner.renameFamily(input, op);
          },
        }),
    });
    try {
      const result = await runScenarioOn(scenario, { profile: 'smoke', params: SMALL, mode: { kind: 'external', url: service.url } });
      expect(result.status).toBe('failed');
      const check = result.checks.find((c) => c.name === 'checked-out connections return to 0 after drain');
      expect(check).toMatchObject({ passed: false, expected: 0, actual: 1 });
      expect(check?.detail).toMatch(/target: 1 checked out after drain/);
      expect(result.metrics['leaks.pool']).toBe(1);
    } finally {
      await service.close();
    }
  }, 30_000);

  it('catches an instance that leaks an FD per request', async () => {
    const opened: number[] = [];
    const service = await startServiceInTest({
      config: NO_LIMIT,
      wrap: (inner: Store) =>
        storeWith(inner, {
          async listFamiliesOf(userId, op) {
            opened.push(openSync('/dev/null', 'r')); // never closed by the service
            return inner.listFamiliesOf(userId, op);
          },
        }),
    });
    try {
      const result = await runScenarioOn(scenario, { profile: 'smoke', params: SMALL, mode: { kind: 'external', url: service.url } });
      expect(result.status).toBe('failed');
      const check = result.checks.find((c) => c.name === 'target open FDs return to baseline');
      expect(check?.passed).toBe(false);
      expect(check?.detail).toMatch(/target\.fds: baseline \d+, under load \d+, after drain \d+/);
      // Same process as the client: idle keep-alive sockets closing during the run offset a few of the leaked FDs.
      expect(result.metrics['leaks.fds']).toBeGreaterThanOrEqual(opened.length / 2);
      expect(opened.length).toBeGreaterThan(10);
    } finally {
      for (const fd of opened) closeSync(fd);
      await service.close();
    }
  }, 30_000);
});
