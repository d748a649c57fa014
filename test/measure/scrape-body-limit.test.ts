/** A target whose /metrics never ends: the scrape stops at the body limit instead of buffering until its timeout. */
import { afterEach, describe, expect, it } from 'vitest';
import { LOAD_DEFAULTS } from '../../src/load/defaults.ts';
import { scrapeMetrics } from '../../src/measure/prometheus/scrape.ts';
import { endlessBody, startRawServer, tricklingBody } from '../load/helpers/misbehaving-servers.ts';
import type { MisbehavingServer } from '../load/helpers/misbehaving-servers.ts';

let server: MisbehavingServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe('scrapeMetrics against an endless body', () => {
  it('fails as body-too-large at the limit, long before its timeout', async () => {
    server = await startRawServer(endlessBody(64 * 1024, 'text/plain'));
    const t0 = performance.now();
    const outcome = await scrapeMetrics(`${server.origin}/metrics`, { timeoutMs: 10_000 });
    expect(outcome.state === 'failed' ? outcome.reason : outcome.state).toBe('body-too-large');
    expect(outcome.state === 'failed' ? outcome.message : '').toContain(`more than ${LOAD_DEFAULTS.maxBodyBytes} bytes`);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('the limit is what ends it: a trickling body past a small limit is body-too-large, without a limit a timeout', async () => {
    // The broken variant (no limit) beside the same server with one; a trickle keeps the unlimited read small.
    server = await startRawServer(tricklingBody(5));
    const limited = await scrapeMetrics(`${server.origin}/metrics`, { timeoutMs: 2_000, maxBodyBytes: 20 });
    expect(limited.state === 'failed' ? limited.reason : limited.state).toBe('body-too-large');
    const unlimited = await scrapeMetrics(`${server.origin}/metrics`, { timeoutMs: 300, maxBodyBytes: Infinity });
    expect(unlimited.state === 'failed' ? unlimited.reason : unlimited.state).toBe('timeout');
  });
});
