import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClosedModel } from '../../src/load/closed-model.ts';
import { classifyError } from '../../src/load/errors.ts';
import { runOpenModel } from '../../src/load/open-model.ts';
import { fixedRequest } from '../../src/load/request.ts';
import { closedPort, startServer } from './helpers/servers.ts';
import type { TestServer } from './helpers/servers.ts';

const request = fixedRequest({ method: 'GET', path: '/' });

function activeCount(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

/** Polls (bounded) until `check` holds; the OS closes sockets a tick or two after we ask. */
async function eventually(check: () => boolean, withinMs = 2000): Promise<boolean> {
  for (let waited = 0; waited < withinMs; waited += 20) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe('error kinds', () => {
  let reset: TestServer;
  let silent: TestServer;
  beforeAll(async () => {
    reset = await startServer((req) => req.socket.destroy());
    silent = await startServer(() => undefined);
  });
  afterAll(async () => {
    await reset.close();
    await silent.close();
  });

  it('classifies a closed port as refused', async () => {
    const port = await closedPort();
    const result = await runClosedModel({ target: `http://127.0.0.1:${port}`, request, concurrency: 1, end: { count: 3 } });
    expect(result.errorCounts).toMatchObject({ refused: 3, reset: 0, timeout: 0, other: 0 });
    expect(result.errorSamples.refused).toMatch(/ECONNREFUSED/);
  });

  it('classifies a server that destroys its sockets as reset', async () => {
    const result = await runClosedModel({ target: reset.origin, request, concurrency: 1, end: { count: 3 } });
    expect(result.errorCounts).toMatchObject({ reset: 3, refused: 0, timeout: 0, other: 0 });
  });

  it('classifies a server that never answers as timeout', async () => {
    const result = await runClosedModel({ target: silent.origin, request, concurrency: 2, timeoutMs: 200, end: { count: 2 } });
    expect(result.errorCounts).toMatchObject({ timeout: 2, refused: 0, reset: 0, other: 0 });
  });

  it('maps codes found through cause and AggregateError; unknown ones are other', () => {
    const withCause = new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) });
    expect(classifyError(withCause)).toBe('reset');
    expect(classifyError(new AggregateError([Object.assign(new Error('y'), { code: 'ECONNREFUSED' })]))).toBe('refused');
    expect(classifyError(new Error('mystery'))).toBe('other');
    expect(classifyError('not an error')).toBe('other');
  });

  it('maps names where there is no string code: timeouts and aborts of AbortSignal, llhttp parser errors', () => {
    // DOMException carries a numeric `code` (23, 20): it must not be read as an error code.
    expect(classifyError(new DOMException('signal timed out', 'TimeoutError'))).toBe('timeout');
    expect(classifyError(new DOMException('aborted', 'AbortError'))).toBe('aborted');
    expect(classifyError(Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), { name: 'HTTPParserError' }))).toBe('protocol');
    expect(classifyError(Object.assign(new Error('bad'), { code: 'HPE_INVALID_CHUNK_SIZE' }))).toBe('protocol');
    expect(classifyError(Object.assign(new Error('big'), { code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' }))).toBe('body-too-large');
  });
});

describe('abort', () => {
  let slow: TestServer;
  beforeAll(async () => {
    slow = await startServer((_req, res) => setTimeout(() => res.end('ok'), 50).unref());
  });
  afterAll(() => slow.close());

  it('cancels a run mid-way and leaves no socket or timer open', async () => {
    const sockets = activeCount('TCPSocketWrap');
    const timers = activeCount('Timeout');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop now')), 300);
    const started = performance.now();
    const result = await runOpenModel({
      target: slow.origin, request, signal: controller.signal, connections: 4,
      schedule: { kind: 'constant', ratePerSec: 200 }, end: { durationMs: 10_000 },
    });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result.outcome).toEqual({ state: 'aborted', reason: 'stop now' });
    expect(result.sent).toBeGreaterThan(0);
    expect(result.sent).toBeLessThan(200);
    expect(result.completed).toBe(result.sent);
    expect(result.errorCounts.aborted).toBeGreaterThan(0);
    expect(await eventually(() => activeCount('TCPSocketWrap') <= sockets)).toBe(true);
    expect(await eventually(() => activeCount('Timeout') <= timers)).toBe(true);
  });
});
