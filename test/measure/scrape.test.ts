import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { histogramQuantile, singleValue } from '../../src/measure/prometheus/query.ts';
import { scrapeMetrics } from '../../src/measure/prometheus/scrape.ts';

const registry = new Registry();
const counter = new Counter({ name: 'jobs_total', help: 'Jobs "done"\\ok', labelNames: ['queue'], registers: [registry] });
const latency = new Histogram({ name: 'job_seconds', help: 'Job time', buckets: [0.1, 1], registers: [registry] });
counter.inc({ queue: 'a "quoted"\nqueue' }, 3);
for (const v of [0.05, 0.5, 0.5, 2]) latency.observe(v);

let server: Server;
let base: string;
const agent = new Agent();

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/metrics') {
      void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
    } else if (req.url === '/garbage') {
      res.end('ok 1\nthis is not {prometheus\n');
    } else if (req.url === '/slow') {
      res.writeHead(200); // headers only; the body never completes until the server closes
    } else {
      res.writeHead(500).end('boom');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});

afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('scrapeMetrics', () => {
  it('fetches and parses prom-client output, escapes included', async () => {
    let t = 100;
    const outcome = await scrapeMetrics(`${base}/metrics`, { dispatcher: agent, now: () => (t += 5) });
    if (outcome.state !== 'scraped') throw new Error(outcome.message);
    expect(outcome.atMs).toBe(105);
    expect(outcome.durationMs).toBe(5);
    const { samples, families } = outcome.exposition;
    expect(families.jobs_total).toEqual({ name: 'jobs_total', type: 'counter', help: 'Jobs "done"\\ok' });
    expect(singleValue(samples, 'jobs_total', { queue: 'a "quoted"\nqueue' })).toBe(3);
    expect(singleValue(samples, 'job_seconds_count')).toBe(4);
    // Ranks: 2 of 4 falls in (0.1, 1] holding 2 (1..3): 0.1 + 0.9 * (1/2) = 0.55.
    expect(histogramQuantile(samples, 'job_seconds', 0.5)).toBeCloseTo(0.55, 12);
  });

  it('reports an HTTP error status', async () => {
    expect(await scrapeMetrics(`${base}/nope`, { dispatcher: agent })).toMatchObject({ state: 'failed', reason: 'http-status' });
  });

  it('reports an invalid exposition with its line', async () => {
    const outcome = await scrapeMetrics(`${base}/garbage`, { dispatcher: agent });
    expect(outcome).toMatchObject({ state: 'failed', reason: 'invalid', message: expect.stringContaining('line 2') as unknown });
  });

  it('gives up after timeoutMs', async () => {
    const outcome = await scrapeMetrics(`${base}/slow`, { dispatcher: agent, timeoutMs: 150 });
    expect(outcome).toMatchObject({ state: 'failed', reason: 'timeout' });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(140);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const outcome = await scrapeMetrics(`${base}/slow`, { dispatcher: agent, signal: controller.signal, timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ state: 'failed', reason: 'aborted' });
  });

  it('reports a refused connection as a network failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await scrapeMetrics(`http://127.0.0.1:${String(port)}/metrics`, { dispatcher: agent });
    expect(outcome).toMatchObject({ state: 'failed', reason: 'network' });
  });
});
