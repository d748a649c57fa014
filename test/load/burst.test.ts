import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { runBurst } from '../../src/load/burst.ts';
import { fixedRequest } from '../../src/load/request.ts';
import { startServer } from './helpers/servers.ts';
import type { TestServer } from './helpers/servers.ts';

const SIZE = 20;

describe('burst', () => {
  let server: TestServer;
  const arrivals: { at: number; port: number }[] = [];
  let warmups = 0;
  beforeAll(async () => {
    server = await startServer((req, res) => {
      if (req.url === '/warm') warmups++;
      else arrivals.push({ at: performance.now(), port: req.socket.remotePort ?? 0 });
      // Hold every answer a little so the warm-up needs SIZE sockets at once.
      setTimeout(() => res.end('ok'), 30);
    });
  });
  afterAll(() => server.close());

  it('warms N connections, then N requests arrive within a small window, one per connection', async () => {
    const result = await runBurst({
      target: server.origin, size: SIZE, request: fixedRequest({ method: 'POST', path: '/race', body: '{}' }),
      warmupRequest: { method: 'GET', path: '/warm' },
    });
    expect(warmups).toBe(SIZE);
    expect(result.burst.warmedConnections).toBe(SIZE);
    expect(result.completed).toBe(SIZE);
    expect(result.statusCounts).toEqual({ 200: SIZE });
    expect(arrivals).toHaveLength(SIZE);
    expect(new Set(arrivals.map((a) => a.port)).size).toBe(SIZE);
    const times = arrivals.map((a) => a.at);
    // Bound, not exact: the server saw the whole burst within 50 ms on a shared machine.
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(50);
    expect(result.burst.sendSpreadMs).toBeLessThan(50);
  });
});
