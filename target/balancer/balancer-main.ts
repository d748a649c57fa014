/** Process entry of the balancer: reads BalancerOptions from the environment, listens, reports ready over IPC. */
import { z } from 'zod';
import { BALANCER_STRATEGIES, TARGET_HOST } from '../config.ts';
import { BALANCER_OPTIONS_ENV } from '../deployment/protocol.ts';
import type { BalancerOptions, ChildToParent, ParentToChild } from '../deployment/protocol.ts';
import { createBalancer } from './proxy.ts';

/** After a shutdown request, connections still busy this long are cut. */
export const BALANCER_DRAIN_MS = 2_000;

const optionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65_535),
  strategy: z.enum(BALANCER_STRATEGIES),
  backends: z.array(z.strictObject({ instanceId: z.string().min(1), url: z.url() })).min(1),
});

function send(message: ChildToParent): void {
  if (process.send !== undefined && process.connected) process.send(message);
}

function fail(message: string): never {
  send({ type: 'fatal', message });
  process.stderr.write(`balancer: ${message}\n`);
  process.exit(1);
}

function readOptions(): BalancerOptions {
  const raw = process.env[BALANCER_OPTIONS_ENV];
  if (raw === undefined) fail(`${BALANCER_OPTIONS_ENV} is not set; start the balancer through startDeployment()`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    fail(`${BALANCER_OPTIONS_ENV} is not JSON: ${String(error)}`);
  }
  const parsed = optionsSchema.safeParse(json);
  if (!parsed.success) fail(`${BALANCER_OPTIONS_ENV} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const options = readOptions();
const balancer = createBalancer(options);
let stopping = false;

function shutdown(): void {
  if (stopping) return;
  stopping = true;
  setTimeout(() => balancer.server.closeAllConnections(), BALANCER_DRAIN_MS).unref();
  balancer.server.close(() => {
    balancer.closePools().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`balancer: closing upstream pools failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  });
}

balancer.server.on('error', (error) => fail(`cannot listen on ${TARGET_HOST}:${options.port}: ${error.message}`));
balancer.server.listen(options.port, TARGET_HOST, () => {
  const address = balancer.server.address();
  if (address === null || typeof address === 'string') fail('the server has no TCP address after listen');
  send({ type: 'ready', port: address.port });
});

process.on('message', (message: ParentToChild) => {
  switch (message.type) {
    case 'shutdown':
      shutdown();
      return;
    case 'remove-backend':
      send({ type: 'backend-removed', instanceId: message.instanceId, found: balancer.removeBackend(message.instanceId) });
      return;
  }
});
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The parent is gone (crashed or killed): nobody can stop us any more, so stop now.
process.on('disconnect', shutdown);
