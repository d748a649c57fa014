import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import rateLimiting from '../../scenarios/concurrency/rate-limiting.ts';
import { judgeRateLimit } from '../../scenarios/lib/ratelimit-oracle.ts';
import type { Attempt, LimitHeaders } from '../../scenarios/lib/ratelimit-oracle.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import type { Store } from '../../target/store/store.ts';
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
    expect(result.reasons).toEqual([]);
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
    } finally {
      await service.close();
    }
  }, 30_000);

  it('catches a server that drops Retry-After from its 429s', async () => {
    const service = await startServiceInTest({ config: { rateLimit: { limit: 5, windowMs: W }, familyLimit: 1000 } });
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'connection'));
        request(new URL(req.url ?? '/', service.url), { method: req.method as 'GET', headers, body: chunks.length > 0 ? Buffer.concat(chunks) : null })
          .then(async (up) => {
            const body = Buffer.from(await up.body.arrayBuffer());
            const out = Object.fromEntries(Object.entries(up.headers).filter(([k]) => k !== 'retry-after' && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding'));
            res.writeHead(up.statusCode, out);
            res.end(body);
          })
          .catch((error: unknown) => {
            res.writeHead(502);
            res.end(String(error));
          });
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const result = await runScenarioOn(scenario, { profile: 'smoke', mode: { kind: 'external', url } });
      expect(result.status).toBe('failed');
      const retry = result.checks.find((c) => c.name === 'every 429 has a valid Retry-After');
      expect(retry?.passed).toBe(false);
      expect(retry?.detail).toMatch(/no Retry-After/);
      expect(result.metrics.missing_retry_after).toBeGreaterThanOrEqual(20);
      expect(result.metrics.over_admissions).toBe(0);
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await service.close();
    }
  }, 30_000);
});
