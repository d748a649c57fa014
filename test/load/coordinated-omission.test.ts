import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../src/measure/histogram.ts';
import { runOpenModel } from '../../src/load/open-model.ts';
import { fixedRequest } from '../../src/load/request.ts';
import { startChildServer } from './helpers/servers.ts';
import type { ChildServer } from './helpers/servers.ts';

function p99Ms(encoded: string | null): number {
  if (encoded === null) throw new Error('no histogram recorded');
  const h = decodeHistogram(encoded);
  const v = h.getValueAtPercentile(99) / 1000;
  h.destroy();
  return v;
}

describe('coordinated omission', () => {
  let server: ChildServer;
  beforeAll(async () => {
    // The stall is in another process, so the generator's own loop keeps its schedule.
    server = await startChildServer('./stall-server.ts', { STALL_MS: '500', STALL_AT_MS: '1000' });
  });
  afterAll(() => server.stop());

  it('a 500 ms stall shows in the corrected p99 and not in the uncorrected one', async () => {
    // One connection: requests due during the stall wait in the client, the classic CO trap.
    const result = await runOpenModel({
      target: server.origin, request: fixedRequest({ method: 'GET', path: '/' }),
      schedule: { kind: 'constant', ratePerSec: 200 }, end: { durationMs: 3000 }, connections: 1,
    });
    expect(result.errors).toBe(0);
    expect(result.completed).toBe(600);
    const corrected = p99Ms(result.latency.corrected);
    const uncorrected = p99Ms(result.latency.uncorrected);
    // ~100 of 600 requests were due during the stall: the corrected p99 sits deep inside it.
    expect(corrected).toBeGreaterThan(300);
    expect(uncorrected).toBeLessThan(100);
    // The generator stayed far closer to its schedule than the stall is long, so the gap is the
    // server's (a loose bound: other test files load the same 2 cores while this one runs).
    expect(result.generatorSaturated.latenessP99Ms).toBeLessThan(150);
  });
});
