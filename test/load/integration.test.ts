import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../src/measure/histogram.ts';
import { runClosedModel } from '../../src/load/closed-model.ts';
import { runOpenModel } from '../../src/load/open-model.ts';
import { fixedRequest } from '../../src/load/request.ts';
import { startServer } from './helpers/servers.ts';
import type { TestServer } from './helpers/servers.ts';

const DELAY_MS = 20;

function percentileMs(encoded: string | null, p: number): number {
  if (encoded === null) throw new Error('no histogram recorded');
  const h = decodeHistogram(encoded);
  const v = h.getValueAtPercentile(p) / 1000;
  h.destroy();
  return v;
}

describe('against a real server with a known delay', () => {
  let server: TestServer;
  let count = 0;
  beforeAll(async () => {
    server = await startServer((req, res) => {
      const n = ++count;
      setTimeout(() => {
        res.setHeader('x-instance-id', n % 2 === 0 ? 'even' : 'odd');
        res.end(req.url === '/big' ? 'x'.repeat(1000) : 'ok');
      }, DELAY_MS);
    });
  });
  afterAll(() => server.close());

  it('closed model: p50 is the server delay, within bounds; statuses, bytes and instances counted', async () => {
    const result = await runClosedModel({ target: server.origin, request: fixedRequest({ method: 'GET', path: '/big' }), concurrency: 4, end: { count: 40 } });
    expect(result.outcome).toEqual({ state: 'completed' });
    expect(result.completed).toBe(40);
    expect(result.statusCounts).toEqual({ 200: 40 });
    expect(result.bytes).toBe(40 * 1000);
    expect(Object.values(result.instanceCounts).reduce((a, b) => a + b, 0)).toBe(40);
    expect(Object.keys(result.instanceCounts).sort()).toEqual(['even', 'odd']);
    const p50 = percentileMs(result.latency.uncorrected, 50);
    expect(p50).toBeGreaterThanOrEqual(DELAY_MS - 1);
    expect(p50).toBeLessThan(DELAY_MS + 40);
  });

  it('open model: sends at the asked rate, p50 within bounds, self-check figures present', async () => {
    const result = await runOpenModel({
      target: server.origin, request: fixedRequest({ method: 'GET', path: '/' }),
      schedule: { kind: 'constant', ratePerSec: 100 }, end: { durationMs: 1000 }, connections: 8,
    });
    expect(result.sent).toBe(100);
    expect(result.completed).toBe(100);
    expect(result.dropped).toBe(0);
    const p50 = percentileMs(result.latency.corrected, 50);
    expect(p50).toBeGreaterThanOrEqual(DELAY_MS - 1);
    expect(p50).toBeLessThan(DELAY_MS + 40);
    // Corrected latency starts earlier (at the intended time), so it is never below the uncorrected.
    expect(percentileMs(result.latency.corrected, 99)).toBeGreaterThanOrEqual(percentileMs(result.latency.uncorrected, 99));
    expect(result.achievedRate).toBeGreaterThan(97);
    expect(result.generatorSaturated.latenessP99Ms).not.toBeNull();
  });
});
