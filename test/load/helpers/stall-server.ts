/**
 * A child-process server that answers at once, except that it blocks its own event loop for
 * STALL_MS once, STALL_AT_MS after its first request: a server hiccup the generator must see.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const stallMs = Number(process.env.STALL_MS ?? 500);
const stallAtMs = Number(process.env.STALL_AT_MS ?? 1000);
let firstAt: number | undefined;
let stalled = false;

const server = createServer((_req, res) => {
  const now = performance.now();
  firstAt ??= now;
  if (!stalled && now - firstAt >= stallAtMs) {
    stalled = true;
    const until = now + stallMs;
    // Deliberately busy: a blocked event loop, as a long GC pause or a sync call would cause.
    while (performance.now() < until);
  }
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
// Never outlive the test run.
setTimeout(() => process.exit(1), 120_000).unref();
