import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import rateLimiting from '../../scenarios/concurrency/rate-limiting.ts';
import { judgeRateLimit } from '../../scenarios/lib/ratelimit-oracle.ts';
import type { Attempt, LimitHeaders } from '../../scenarios/lib/ratelimit-oracle.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import { DEFAULT_SERVICE_CONFIG } from '../../target/config.ts';
import { createService } from '../../target/service/create-service.ts';
import { openStore } from '../../target/store/open-store.ts';
import type { Store } from '../../target/store/store.ts';
import { dropHeaders, startHeaderProxy } from './helpers/header-proxy.ts';
import { runScenarioOn, startServiceInTest, storeWith } from './helpers/scenario-harness.ts';

const scenario = rateLimiting as unknown as ScenarioDefinition;
const W = 2000;
const T0 = 1_000_000 * W; // a window start

function answer(userId: string, sent: number, done: number, status: number, remaining: number, extra: Partial<LimitHeaders> = {}): Attempt {
  const reset = String(Math.ceil(((Math.floor(done / W) + 1) * W - done) / 1000));
  const headers: LimitHeaders = { limit: '5', remaining: String(remaining), reset, retryAfter: status === 429 ? reset : null, ...extra };
  return { userId, phase: 'test', sentWallMs: sent, doneWallMs: done, outcome: { kind: 'response', status, headers } };
}

/** `n` sequential requests of user `u` from `start`, every `step` ms, judged by a correct fixed-window limiter of 5. */
function correctSequence(u: string, start: number, n: number, step: number): Attempt[] {
  const counts = new Map<number, number>();
  return Array.from({ length: n }, (_, i) => {
    const t = start + i * step;
    const w = Math.floor(t / W);
    const count = (counts.get(w) ?? 0) + 1;
    counts.set(w, count);
    return answer(u, t, t + 5, count <= 5 ? 201 : 429, Math.max(0, 5 - count));
  });
}

describe('rate-limit oracle (exact, fake timings)', () => {
  it('passes a correct limiter, including requests that cross a reset', () => {
    const attempts = [...correctSequence('a', T0 + 50, 15, 100), ...correctSequence('b', T0 + 1550, 15, 100)];
    const v = judgeRateLimit({ attempts, limit: 5, windowMs: W });
    expect([v.overAdmissions, v.underAdmissions, v.falseRejections, v.headerViolations, v.missingRetryAfter]).toEqual([0, 0, 0, 0, 0]);
    expect(v.maxAdmittedPerWindow).toBe(5);
    expect(v.saturatedWindows).toBe(2); // a's window and b's second window; b's first window holds exactly 5
  });

  it('treats a request straddling the reset as possibly in either window (no false alarm)', () => {
    // 5 admitted just before the reset, one answered across it (counted in the new window), then 5 more.
    const before = correctSequence('c', T0 + 1900, 5, 10).map((a) => ({ ...a, sentWallMs: a.sentWallMs - 1000, doneWallMs: a.doneWallMs - 1000 }));
    const straddler = answer('c', T0 + W - 3, T0 + W + 4, 201, 4);
    const after = correctSequence('c', T0 + W + 20, 5, 10).map((a, i) => answer('c', a.sentWallMs, a.doneWallMs, i < 4 ? 201 : 429, Math.max(0, 3 - i)));
    const v = judgeRateLimit({ attempts: [...before, straddler, ...after], limit: 5, windowMs: W });
    expect(v.ambiguous).toBe(1);
    expect([v.overAdmissions, v.underAdmissions, v.falseRejections]).toEqual([0, 0, 0]);
  });

  it('counts over-admissions, false rejections, missing Retry-After and a stuck count', () => {
    const over = Array.from({ length: 7 }, (_, i) => answer('d', T0 + 100 + i * 50, T0 + 110 + i * 50, 201, 4));
    const early = [answer('e', T0 + 100, T0 + 110, 201, 4), answer('e', T0 + 200, T0 + 210, 429, 0)];
    const bare = [...correctSequence('f', T0 + 100, 6, 50).slice(0, 5), answer('f', T0 + 400, T0 + 410, 429, 0, { retryAfter: null })];
    const v = judgeRateLimit({ attempts: [...over, ...early, ...bare], limit: 5, windowMs: W });
    expect(v.overAdmissions).toBe(2);
    expect(v.violations.over[0]?.userId).toBe('d');
    expect(v.falseRejections).toBe(1);
    expect(v.violations.falseRejection[0]?.userId).toBe('e');
    expect(v.missingRetryAfter).toBe(1);
    expect(v.headerViolations).toBeGreaterThan(0); // d's Remaining stuck at 0 while admitted
  });
});

describe('rate-limiting scenario', () => {
  it('passes at the smoke profile on the embedded deployment', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons, JSON.stringify({ checks: result.checks, tables: result.tables, notes: result.notes })).toEqual([]);
    expect(result.status).toBe('passed');
    expect(result.checks.every((c) => c.passed)).toBe(true);
    expect(result.metrics.limit).toBe(5);
    expect(result.metrics['admitted.per_window']).toBe(5);
    expect(result.metrics.over_admissions).toBe(0);
    expect(result.metrics['latency.limited.p50']).toBeGreaterThan(0);
    const phases = result.tables.phases ?? [];
    const direct = phases.find((r) => r.phase === 'burst-direct');
    expect(direct?.sent).toBe(30); // 2 users x 15: 5 admitted, 10 limited each when no request straddles a reset
    expect(Number(direct?.admitted) + Number(direct?.limited)).toBe(30);
  }, 30_000);

  it('catches a store that undercounts every other hit (over-admission, stuck Remaining)', async () => {
    let calls = 0;
    const service = await startServiceInTest({
      config: { rateLimit: { limit: 5, windowMs: W }, familyLimit: 1000 },
      wrap: (inner: Store) =>
        storeWith(inner, {
          async hitRateLimit(input, op) {
            const count = await inner.hitRateLimit(input, op);
            calls += 1;
            return calls % 2 === 0 ? count - 1 : count;
          },
        }),
    });
    try {
      const result = await runScenarioOn(scenario, { profile: 'smoke', mode: { kind: 'external', url: service.url } });
      expect(result.status).toBe('failed');
      const exact = result.checks.find((c) => c.name === 'no over-admission across instances');
      expect(exact?.passed).toBe(false);
      expect(exact?.detail).toMatch(/admitted in window .* \(limit 5\)/);
      expect(result.metrics.over_admissions).toBeGreaterThan(0);
      expect(result.metrics['admitted.per_window']).toBeGreaterThan(5);
      expect(result.metrics.header_violations).toBeGreaterThan(0); // two admitted requests saw the same Remaining
    } finally {
      await service.close();
    }
  }, 30_000);

  it('catches a server that drops Retry-After from its 429s', async () => {
    const service = await startServiceInTest({ config: { rateLimit: { limit: 5, windowMs: W }, familyLimit: 1000 } });
    const proxy = await startHeaderProxy([service.url], dropHeaders(['retry-after']));
    try {
      const result = await runScenarioOn(scenario, { profile: 'smoke', mode: { kind: 'external', url: proxy.url } });
      expect(result.status).toBe('failed');
      const retry = result.checks.find((c) => c.name === 'every 429 has a valid Retry-After');
      expect(retry?.passed).toBe(false);
      expect(retry?.detail).toMatch(/no Retry-After/);
      expect(result.metrics.missing_retry_after).toBeGreaterThanOrEqual(20);
      expect(result.metrics.over_admissions).toBe(0);
    } finally {
      await proxy.close();
      await service.close();
    }
  }, 30_000);

  it('catches instances that each count in their own memory (over-admission across instances)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gauntlet-rl-'));
    const config = { ...DEFAULT_SERVICE_CONFIG, rateLimit: { limit: 5, windowMs: W }, familyLimit: 1000 };
    const shared = await openStore({ kind: 'sqlite', path: join(dir, 'target.db') }, config);
    const perProcessCounter = (): Store => {
      const hits = new Map<string, number>();
      return storeWith(shared, {
        hitRateLimit(input) {
          const key = `${input.key}@${input.windowStartMs}`;
          const count = (hits.get(key) ?? 0) + 1;
          hits.set(key, count);
          return Promise.resolve(count);
        },
      });
    };
    const services = ['i1', 'i2'].map((instanceId) => createService({ store: perProcessCounter(), config, instanceId, log: () => undefined }));
    const urls = await Promise.all(
      services.map(async ({ server }) => {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      }),
    );
    const proxy = await startHeaderProxy(urls, (headers) => headers);
    try {
      const result = await runScenarioOn(scenario, { profile: 'smoke', mode: { kind: 'external', url: proxy.url } });
      expect(result.status).toBe('failed');
      const over = result.checks.find((c) => c.name === 'no over-admission across instances');
      expect(over?.passed).toBe(false);
      expect(over?.detail).toMatch(/\d+ admitted in window .* \(limit 5\)/);
      // Each instance admits its own 5: up to 10 per user and window through the round-robin front.
      expect(result.metrics['admitted.per_window']).toBeGreaterThan(5);
      expect(result.metrics['admitted.per_window']).toBeLessThanOrEqual(10);
    } finally {
      await proxy.close();
      await Promise.all(services.map((s) => s.close()));
      await shared.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
