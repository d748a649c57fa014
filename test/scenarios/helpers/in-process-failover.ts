/**
 * A failover-capable deployment inside the test process: N reference-service instances over one
 * SQLite file (each store optionally wrapped, to break it on purpose) behind the real balancer
 * (optionally with a fault), presented to a scenario as the embedded deployment. `killInstance`
 * stands in for SIGKILL: the instance stops listening and every connection it holds is cut at once
 * (its requests in flight, committed or not, get no answer); `restartInstance` listens again on
 * the same port. The way to prove the instance-failure oracles fail against a broken deployment.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBalancer } from '../../../target/balancer/proxy.ts';
import type { BalancerBehaviour } from '../../../target/balancer/proxy.ts';
import { TARGET_HOST } from '../../../target/config.ts';
import type { ServiceConfig } from '../../../target/config.ts';
import { createService } from '../../../target/service/create-service.ts';
import type { Service } from '../../../target/service/create-service.ts';
import { openStore } from '../../../target/store/open-store.ts';
import type { Store } from '../../../target/store/store.ts';
import type { TargetSession } from '../../../src/runner/target-session.ts';
import type { DeploymentControl, TargetView } from '../../../src/scenario/context-types.ts';

export interface InProcessFailoverOptions {
  readonly instances: number;
  readonly config: ServiceConfig;
  /** Wraps each instance's store (index = instance number - 1). */
  readonly wrap?: (store: Store, index: number, dbPath: string) => Store;
  readonly balancer?: BalancerBehaviour;
}

export interface InProcessFailover {
  readonly session: TargetSession;
  close(): Promise<void>;
}

interface Node {
  readonly instanceId: string;
  readonly store: Store;
  port: number;
  service: Service | null;
}

export async function startInProcessFailover(options: InProcessFailoverOptions): Promise<InProcessFailover> {
  const dir = await mkdtemp(join(tmpdir(), 'gauntlet-failover-'));
  const dbPath = join(dir, 'target.db');
  const nodes: Node[] = [];
  const serve = async (node: Node): Promise<void> => {
    const service = createService({ store: node.store, config: options.config, instanceId: node.instanceId, log: () => undefined });
    await new Promise<void>((resolve, reject) => {
      service.server.once('error', reject);
      service.server.listen(node.port, TARGET_HOST, () => resolve());
    });
    node.port = (service.server.address() as AddressInfo).port;
    node.service = service;
  };
  const crash = async (node: Node): Promise<void> => {
    const server = node.service?.server;
    node.service = null;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  for (let i = 0; i < options.instances; i++) {
    // One after another: init() creates the schema, and SQLite serialises that anyway.
    const inner = await openStore({ kind: 'sqlite', path: dbPath }, options.config);
    const node: Node = { instanceId: `i${i + 1}`, store: options.wrap === undefined ? inner : options.wrap(inner, i, dbPath), port: 0, service: null };
    nodes.push(node);
    await serve(node);
  }
  const url = (n: Node): string => `http://${TARGET_HOST}:${n.port}`;
  const balancer = createBalancer({ strategy: 'round-robin', backends: nodes.map((n) => ({ instanceId: n.instanceId, url: url(n) })) }, options.balancer ?? {});
  await new Promise<void>((resolve) => balancer.server.listen(0, TARGET_HOST, resolve));
  const balancerUrl = `http://${TARGET_HOST}:${(balancer.server.address() as AddressInfo).port}`;

  const find = (instanceId: string): Node => {
    const node = nodes.find((n) => n.instanceId === instanceId);
    if (node === undefined) throw new RangeError(`no instance ${instanceId}`);
    return node;
  };
  const control: DeploymentControl = {
    restart: () => Promise.reject(new Error('the in-process failover deployment cannot be reshaped')),
    killInstance: (instanceId) => crash(find(instanceId)),
    restartInstance: (instanceId) => serve(find(instanceId)),
  };
  const view = (): TargetView => ({
    url: balancerUrl,
    embedded: true,
    store: 'sqlite',
    instances: nodes.map((n) => ({ instanceId: n.instanceId, url: url(n), pid: process.pid })),
    balancer: { pid: process.pid, url: balancerUrl, strategy: 'round-robin' },
  });
  const session: TargetSession = {
    view,
    control,
    // Shaped by the test already (serviceConfigFor): nothing to reshape.
    ensure: () => Promise.resolve(),
    onDeath: () => () => undefined,
    storeInfo: () => ({ kind: 'sqlite', reason: 'in-process failover test deployment' }),
    stop: () => Promise.resolve(),
  };
  return {
    session,
    async close() {
      balancer.server.closeAllConnections();
      await new Promise<void>((resolve) => balancer.server.close(() => resolve()));
      await balancer.closePools();
      for (const node of nodes) {
        await node.service?.close();
        await node.store.close();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
