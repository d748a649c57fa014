/**
 * The generators against targets that misbehave: every failure is classified, every run ends by its
 * bound, what was measured before the failure is kept, and an endless body cannot grow memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LOAD_DEFAULTS } from '../../src/load/defaults.ts';
import type { ErrorKind } from '../../src/load/errors.ts';
import { fixedRequest, runBurst, runClosedModel, runOpenModel } from '../../src/load/index.ts';
import type { LoadResult } from '../../src/load/index.ts';
import { summarizeEncoded } from '../../src/measure/summary.ts';
import {
  answer,
  closeOnRequest,
  destroyMidBody,
  endlessBody,
  headersThenSilence,
  hugeBody,
  malformed,
  MALFORMED,
  neverAnswer,
  resetOnRequest,
  startDyingServer,
  startRawServer,
  tricklingBody,
} from './helpers/misbehaving-servers.ts';
import type { MisbehavingServer, RawBehaviour } from './helpers/misbehaving-servers.ts';
import { peakMemoryGrowth } from './helpers/memory-peak.ts';

const request = fixedRequest({ method: 'GET', path: '/' });
/** What a loaded 2-core machine may add to a bound: timers fire late, sockets close late. */
const SLACK_MS = 1_500;

const servers: MisbehavingServer[] = [];
async function serve(behaviour: RawBehaviour): Promise<MisbehavingServer> {
  const s = await startRawServer(behaviour);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Every request ended, and every one of them as `kind`. */
function expectAllErrors(result: LoadResult, kind: ErrorKind): void {
  expect(result.sent).toBeGreaterThan(0);
  expect(result.completed).toBe(result.sent);
  expect(result.errorCounts[kind], JSON.stringify(result.errorSamples)).toBe(result.sent);
  expect(result.errors).toBe(result.sent);
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; elapsedMs: number }> {
  const t0 = performance.now();
  const result = await run();
  return { result, elapsedMs: performance.now() - t0 };
}

describe('a target that accepts connections but never answers', () => {
  // The request timeout (10 s by default) is far beyond each bound: only the run's own bound can end it.
  const drainTimeoutMs = 500;

  it('open model: ends by duration + drain timeout, the requests in flight counted as aborted', async () => {
    const s = await serve(neverAnswer);
    const { result, elapsedMs } = await timed(() =>
      runOpenModel({ target: s.origin, request, schedule: { kind: 'constant', ratePerSec: 40 }, end: { durationMs: 500 }, drainTimeoutMs }),
    );
    expect(elapsedMs).toBeLessThan(500 + drainTimeoutMs + SLACK_MS);
    expect(result.outcome).toEqual({ state: 'drain-timeout', inFlight: result.sent, drainTimeoutMs });
    expectAllErrors(result, 'aborted');
  });

  it('closed model: ends by duration + drain timeout', async () => {
    const s = await serve(neverAnswer);
    const { result, elapsedMs } = await timed(() => runClosedModel({ target: s.origin, request, concurrency: 4, end: { durationMs: 500 }, drainTimeoutMs }));
    expect(elapsedMs).toBeLessThan(500 + drainTimeoutMs + SLACK_MS);
    expect(result.outcome.state).toBe('drain-timeout');
    expect(result.sent).toBe(4);
    expectAllErrors(result, 'aborted');
  });

  it('burst: the warm-up gives up after the drain timeout and the burst is not released', async () => {
    const s = await serve(neverAnswer);
    const { result, elapsedMs } = await timed(() => runBurst({ target: s.origin, request, size: 4, drainTimeoutMs }));
    expect(elapsedMs).toBeLessThan(drainTimeoutMs + SLACK_MS);
    expect(result.outcome.state).toBe('aborted');
    expect(result.outcome.state === 'aborted' ? result.outcome.reason : '').toMatch(/warm-up requests were not all answered within 500 ms/);
    expect(result.burst.warmupFailures).toBe(4);
    expect(result.sent).toBe(0);
  });

  it('burst: a target that answers the warm-up and then goes silent ends by the drain timeout', async () => {
    const s = await serve((socket, i, wrote) => (i < 4 ? answer()(socket, i, wrote) : undefined));
    const { result, elapsedMs } = await timed(() => runBurst({ target: s.origin, request, size: 4, drainTimeoutMs }));
    expect(elapsedMs).toBeLessThan(drainTimeoutMs + SLACK_MS);
    expect(result.burst.warmupFailures).toBe(0);
    expect(result.outcome).toEqual({ state: 'drain-timeout', inFlight: 4, drainTimeoutMs });
    expectAllErrors(result, 'aborted');
  });
});

describe('timeouts (LOAD_DEFAULTS.timeoutMs), each proven with a short one', () => {
  const timeoutMs = 300;

  it('headers timeout: no answer within timeoutMs is a timeout error, after timeoutMs and not much later', async () => {
    const s = await serve(neverAnswer);
    const result = await runClosedModel({ target: s.origin, request, concurrency: 2, timeoutMs, keepRecords: true, end: { count: 2 } });
    expectAllErrors(result, 'timeout');
    expect(result.errorSamples.timeout).toMatch(/Headers Timeout/i);
    expect(result.outcome.state).toBe('completed');
    for (const [i, done] of (result.records?.doneMs ?? []).entries()) {
      const waited = done - (result.records?.intendedMs[i] ?? NaN);
      // undici checks its timers on a coarse tick (about a second), so they fire up to that late;
      // the bound still tells a 300 ms timeout from the 10 s default.
      expect(waited).toBeGreaterThanOrEqual(timeoutMs - 5);
      expect(waited).toBeLessThan(timeoutMs + 1_000 + SLACK_MS);
    }
  });

  it('body timeout: headers then silence is a timeout error', async () => {
    const s = await serve(headersThenSilence);
    const result = await runClosedModel({ target: s.origin, request, concurrency: 2, timeoutMs, end: { count: 2 } });
    expectAllErrors(result, 'timeout');
    expect(result.errorSamples.timeout).toMatch(/Body Timeout/i);
  });

  it('a body that trickles (never idle for a body timeout) is ended by the run bound instead', async () => {
    const s = await serve(tricklingBody(50));
    const drainTimeoutMs = 600;
    const { result, elapsedMs } = await timed(() => runClosedModel({ target: s.origin, request, concurrency: 2, timeoutMs, drainTimeoutMs, end: { durationMs: 200 } }));
    expect(elapsedMs).toBeLessThan(200 + drainTimeoutMs + SLACK_MS);
    expect(result.outcome.state).toBe('drain-timeout');
    expectAllErrors(result, 'aborted');
    expect(result.errorCounts.timeout).toBe(0);
  });
});

describe('the body size limit (LOAD_DEFAULTS.maxBodyBytes)', () => {
  it('an endless body ends each request as body-too-large at the limit', async () => {
    const s = await serve(endlessBody());
    const maxBodyBytes = 256 * 1024;
    const result = await runClosedModel({ target: s.origin, request, concurrency: 2, maxBodyBytes, end: { count: 6 } });
    expectAllErrors(result, 'body-too-large');
    expect(result.outcome.state).toBe('completed');
    expect(result.errorSamples['body-too-large']).toMatch(/exceeded max size/i);
  });

  it('without the limit the same endless body is never done: the run ends only by its drain timeout', async () => {
    // The broken variant of the test above: proves that the limit, not the server, ends those requests.
    const s = await serve(endlessBody());
    const result = await runClosedModel({ target: s.origin, request, concurrency: 1, maxBodyBytes: Infinity, drainTimeoutMs: 400, end: { count: 1 } });
    expect(result.outcome.state).toBe('drain-timeout');
    expect(result.errorCounts['body-too-large']).toBe(0);
    expect(s.bytesWritten()).toBeGreaterThan(LOAD_DEFAULTS.maxBodyBytes);
  });

  it('a huge body (content-length past the limit) is body-too-large; one under the limit is read whole', async () => {
    const big = await serve(hugeBody(LOAD_DEFAULTS.maxBodyBytes + 1));
    const over = await runClosedModel({ target: big.origin, request, concurrency: 1, end: { count: 2 } });
    expectAllErrors(over, 'body-too-large');
    const fits = await serve(hugeBody(LOAD_DEFAULTS.maxBodyBytes));
    const under = await runClosedModel({ target: fits.origin, request, concurrency: 1, end: { count: 2 } });
    expect(under.errors).toBe(0);
    expect(under.bytes).toBe(2 * LOAD_DEFAULTS.maxBodyBytes);
  });

  it('memory stays bounded under an endless body: growth is a small fraction of what the target sent', async () => {
    const s = await serve(endlessBody());
    const { growth, result } = await peakMemoryGrowth(() => runClosedModel({ target: s.origin, request, concurrency: 4, end: { durationMs: 1_000 } }));
    const sentMiB = s.bytesWritten() / 2 ** 20;
    // At least a few limits' worth went through, so a reader that kept bodies would have grown by that much.
    expect(sentMiB).toBeGreaterThan((8 * LOAD_DEFAULTS.maxBodyBytes) / 2 ** 20);
    expect(result.errorCounts['body-too-large']).toBeGreaterThanOrEqual(8);
    // The peak includes read buffers not yet collected; what matters is that it does not follow `sentMiB`.
    expect(growth.heapAndBuffersMiB, JSON.stringify({ sentMiB, growth })).toBeLessThan(64);
    expect(growth.rssMiB, JSON.stringify({ sentMiB, growth })).toBeLessThan(128);
    console.info(`endless body: target sent ${sentMiB.toFixed(0)} MiB; peak growth heap+buffers ${growth.heapAndBuffersMiB.toFixed(1)} MiB, rss ${growth.rssMiB.toFixed(1)} MiB`);
  });
});

describe('connection resets', () => {
  it.each([
    ['a reset (RST) on the request', resetOnRequest],
    ['a close (FIN) on the request, before any response', closeOnRequest],
  ] as const)('%s is a reset error', async (_name, behaviour) => {
    const s = await serve(behaviour);
    const result = await runClosedModel({ target: s.origin, request, concurrency: 2, end: { count: 4 } });
    expectAllErrors(result, 'reset');
  });

  it('a connection closed mid-body is a reset error, not a response', async () => {
    const s = await serve(destroyMidBody);
    const result = await runOpenModel({ target: s.origin, request, schedule: { kind: 'constant', ratePerSec: 50 }, end: { count: 5 } });
    expectAllErrors(result, 'reset');
    expect(result.statusCounts).toEqual({});
  });
});

describe('malformed HTTP', () => {
  it.each(Object.entries(MALFORMED))('%s is a protocol error', async (_name, response) => {
    const s = await serve(malformed(response));
    const result = await runClosedModel({ target: s.origin, request, concurrency: 2, end: { count: 4 } });
    expectAllErrors(result, 'protocol');
    expect(result.statusCounts).toEqual({});
  });
});

describe('a target that dies mid-run', () => {
  it('keeps the answers it got before, and counts the rest as refused or reset', async () => {
    const answerFirst = 30;
    const s = await startDyingServer(answerFirst);
    servers.push(s);
    const { result, elapsedMs } = await timed(() =>
      runOpenModel({ target: s.origin, request, connections: 4, schedule: { kind: 'constant', ratePerSec: 100 }, end: { durationMs: 800 } }),
    );
    expect(s.died()).toBe(true);
    expect(elapsedMs).toBeLessThan(800 + SLACK_MS);
    expect(result.outcome.state).toBe('completed');
    expect(result.completed).toBe(result.sent);
    expect(result.statusCounts).toEqual({ '200': answerFirst });
    expect(result.completed - result.errors).toBe(answerFirst);
    expect(summarizeEncoded(result.latency.corrected ?? '')?.count).toBe(answerFirst);
    expect(result.errorCounts.refused + result.errorCounts.reset).toBe(result.errors);
    expect(result.errorCounts.refused).toBeGreaterThan(0);
  });
});
