/** Starts the reference service as N instance processes (plus a balancer for N > 1) on one store, and stops it without orphans. */
import { fileURLToPath } from 'node:url';
import { TARGET_HOST } from '../config.ts';
import type { BalancerStrategy, StoreSpec } from '../config.ts';
import { startChild } from './managed-child.ts';
import type { ChildExit, ManagedChild, StopTiming } from './managed-child.ts';
import { REMOVE_BACKEND_ACK_MS, resolveDeploymentOptions } from './options.ts';
import type { DeploymentOptions, ResolvedDeploymentOptions } from './options.ts';
import { BALANCER_OPTIONS_ENV, INSTANCE_OPTIONS_ENV } from './protocol.ts';
import type { BalancerOptions, ChildToParent, InstanceOptions } from './protocol.ts';
import { provisionStore } from './store-provision.ts';
import type { ProvisionedStore } from './store-provision.ts';

const INSTANCE_MAIN = fileURLToPath(new URL('../instance-main.ts', import.meta.url));
const BALANCER_MAIN = fileURLToPath(new URL('../balancer/balancer-main.ts', import.meta.url));

export interface DeployedInstance {
  readonly instanceId: string;
  readonly pid: number;
  readonly url: string;
}

/** A child that exited while the deployment was running; `expected` when stopInstance/killInstance caused it. */
export interface ChildDeath {
  readonly child: string;
  /** null for the balancer. */
  readonly instanceId: string | null;
  readonly pid: number;
  readonly exit: ChildExit;
  readonly expected: boolean;
  readonly stderrTail: string;
}

export interface RestartOptions extends DeploymentOptions {
  /** `same` (default) keeps the data; `fresh` starts on a new database, and may change store and URI. */
  readonly database?: 'same' | 'fresh';
}

/** A running deployment: plain data plus the hooks scenarios need. */
export interface Deployment {
  /** Where clients go: the balancer for N > 1, the instance otherwise. */
  readonly url: string;
  readonly instances: readonly DeployedInstance[];
  readonly balancer: { readonly pid: number; readonly url: string; readonly strategy: BalancerStrategy } | null;
  readonly store: { readonly kind: StoreSpec['kind']; readonly reason: string };
  readonly storeSpec: StoreSpec;
  readonly options: ResolvedDeploymentOptions;
  /** Resolves on the first child that exits unexpectedly; never rejects, may never settle. */
  readonly died: Promise<ChildDeath>;
  /** Calls `listener` on every child exit while running (expected ones included); returns an unsubscribe. */
  onChildExit(listener: (death: ChildDeath) => void): () => void;
  /** Stops every child (shutdown, SIGTERM, SIGKILL), then the store; idempotent. */
  stop(): Promise<void>;
  /** A planned stop: out of the balancer's rotation first, then a graceful shutdown. */
  stopInstance(instanceId: string): Promise<ChildExit>;
  /** A crash stand-in: the balancer is not told. */
  killInstance(instanceId: string, signal?: NodeJS.Signals): Promise<ChildExit>;
  /**
   * Starts a stopped or killed instance again on its old port and store, as its old ID; resolves when
   * it is ready. The balancer is not told: its health probe finds the instance back.
   */
  restartInstance(instanceId: string): Promise<DeployedInstance>;
  /** Stops the children and starts again with `overrides` over the current options; this deployment is then spent. */
  restart(overrides?: RestartOptions): Promise<Deployment>;
}

/** Starts a deployment; rejects with TargetStartError when a child fails to become ready (nothing is left running then). */
export async function startDeployment(options: DeploymentOptions = {}): Promise<Deployment> {
  const resolved = resolveDeploymentOptions(options);
  const store = await provisionStore(resolved.store, resolved.mongoUri);
  return launch(resolved, store);
}

function instanceUrl(port: number): string {
  return `http://${TARGET_HOST}:${port}`;
}

/** Starts every child; if one fails, the others are stopped as any stop does, and the failure is rethrown. */
async function startAll(specs: (() => Promise<ManagedChild>)[], stopTiming: StopTiming): Promise<ManagedChild[]> {
  const settled = await Promise.allSettled(specs.map((start) => start()));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = settled.find((s) => s.status === 'rejected');
  if (failure === undefined) return started;
  await Promise.all(started.map((c) => c.stop(stopTiming)));
  throw failure.reason;
}

async function launch(options: ResolvedDeploymentOptions, store: ProvisionedStore): Promise<Deployment> {
  const output = (name: string) => (chunk: string) => options.onChildOutput?.(name, chunk);
  const direct = options.instances === 1;
  const ids = Array.from({ length: options.instances }, (_, i) => `i${i + 1}`);
  const startInstance = (instanceId: string, port: number): Promise<ManagedChild> => {
    const instanceOptions: InstanceOptions = { instanceId, port, store: store.spec, service: options.service };
    return startChild({
      name: `instance ${instanceId}`,
      file: INSTANCE_MAIN,
      env: { [INSTANCE_OPTIONS_ENV]: JSON.stringify(instanceOptions) },
      nodeArgs: options.instanceNodeArgs,
      readyTimeoutMs: options.readyTimeoutMs,
      onStderr: output(instanceId),
    });
  };
  let instances: ManagedChild[];
  let balancer: ManagedChild | null = null;
  try {
    instances = await startAll(
      ids.map((instanceId) => () => startInstance(instanceId, direct ? options.port : 0)),
      options.stopTiming,
    );
    if (!direct) {
      const balancerOptions: BalancerOptions = {
        port: options.port,
        strategy: options.strategy,
        backends: instances.map((c, i) => ({ instanceId: ids[i] ?? c.name, url: instanceUrl(c.port) })),
      };
      balancer = await startChild({
        name: 'balancer',
        file: BALANCER_MAIN,
        env: { [BALANCER_OPTIONS_ENV]: JSON.stringify(balancerOptions) },
        readyTimeoutMs: options.readyTimeoutMs,
        onStderr: output('balancer'),
      }).catch(async (error: unknown) => {
        await Promise.all(instances.map((c) => c.stop(options.stopTiming)));
        throw error;
      });
    }
  } catch (error) {
    await store.stop();
    throw error;
  }

  const byId = new Map(ids.map((id, i) => [id, instances[i]] as const));
  const expected = new Set<ManagedChild>();
  const listeners = new Set<(death: ChildDeath) => void>();
  let stopping: Promise<void> | null = null;
  let resolveDied: (death: ChildDeath) => void = () => undefined;
  const died = new Promise<ChildDeath>((resolve) => (resolveDied = resolve));
  const watch = (child: ManagedChild, instanceId: string | null): void => {
    void child.exited.then((exit) => {
      if (stopping !== null) return;
      const death: ChildDeath = { child: child.name, instanceId, pid: child.pid, exit, expected: expected.has(child), stderrTail: child.stderrTail() };
      for (const listener of listeners) listener(death);
      if (!death.expected) resolveDied(death);
    });
  };
  if (balancer !== null) watch(balancer, null);
  instances.forEach((child, i) => watch(child, ids[i] ?? null));
  /** Instance restarts in progress: a stop waits for them, so no child outlives the deployment. */
  const restarting = new Set<Promise<unknown>>();
  // A function, not a comparison in place: the compiler cannot see stop() set `stopping` across an await.
  const isStopping = (): boolean => stopping !== null;

  const stopChildren = async (): Promise<void> => {
    await Promise.allSettled([...restarting]);
    if (balancer !== null) await balancer.stop(options.stopTiming);
    await Promise.all(instances.map((c) => c.stop(options.stopTiming)));
  };
  const find = (instanceId: string): ManagedChild => {
    const child = byId.get(instanceId);
    if (child === undefined) throw new RangeError(`no instance "${instanceId}"; the deployment has ${ids.join(', ')}`);
    return child;
  };
  const url = balancer === null ? instanceUrl(instances[0]?.port ?? options.port) : instanceUrl(balancer.port);
  const actualPort = balancer?.port ?? instances[0]?.port ?? options.port;

  /** Restarts in progress by instance ID (see restartInstance). */
  const restartsById = new Map<string, Promise<DeployedInstance>>();
  const restartOne = async (instanceId: string): Promise<DeployedInstance> => {
    if (stopping !== null) throw new Error('this deployment is stopped or was restarted already; restart instances of the deployment it returned');
    const old = find(instanceId);
    const index = ids.indexOf(instanceId);
    if (!expected.has(old)) throw new RangeError(`instance "${instanceId}" (pid ${old.pid}) was neither stopped nor killed; stopInstance or killInstance it first`);
    // A stop or kill asked for but not finished: wait for the exit, so the port is free again.
    await old.exited;
    const starting = startInstance(instanceId, old.port);
    restarting.add(starting);
    let child: ManagedChild;
    try {
      child = await starting;
    } finally {
      restarting.delete(starting);
    }
    if (isStopping()) {
      await child.stop(options.stopTiming);
      throw new Error(`the deployment stopped while instance "${instanceId}" was restarting`);
    }
    instances[index] = child;
    byId.set(instanceId, child);
    watch(child, instanceId);
    return { instanceId, pid: child.pid, url: instanceUrl(child.port) };
  };

  const deployment: Deployment = {
    url,
    // A getter: restartInstance replaces a child (its pid changes, its port and URL do not).
    get instances() {
      return instances.map((c, i) => ({ instanceId: ids[i] ?? c.name, pid: c.pid, url: instanceUrl(c.port) }));
    },
    balancer: balancer === null ? null : { pid: balancer.pid, url, strategy: options.strategy },
    store: { kind: store.spec.kind, reason: store.reason },
    storeSpec: store.spec,
    options,
    died,
    onChildExit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopping ??= stopChildren().then(() => store.stop());
      return stopping;
    },
    async stopInstance(instanceId) {
      const child = find(instanceId);
      expected.add(child);
      if (balancer !== null && balancer.send({ type: 'remove-backend', instanceId })) {
        const isAck = (m: ChildToParent): m is Extract<ChildToParent, { type: 'backend-removed' }> =>
          m.type === 'backend-removed' && m.instanceId === instanceId;
        await balancer.nextMessage(isAck, REMOVE_BACKEND_ACK_MS);
      }
      return child.stop(options.stopTiming);
    },
    killInstance(instanceId, signal = 'SIGKILL') {
      const child = find(instanceId);
      expected.add(child);
      return child.kill(signal, options.stopTiming.killAfterMs);
    },
    restartInstance(instanceId) {
      // Two restarts of one instance at once would both start a child on its port: the second awaits the first.
      const inProgress = restartsById.get(instanceId);
      if (inProgress !== undefined) return inProgress;
      const restart = restartOne(instanceId).finally(() => restartsById.delete(instanceId));
      restartsById.set(instanceId, restart);
      return restart;
    },
    async restart(overrides = {}) {
      if (stopping !== null) throw new Error('this deployment is stopped or was restarted already; restart the deployment it returned');
      const fresh = overrides.database === 'fresh';
      if (!fresh && (overrides.store !== undefined || overrides.mongoUri !== undefined)) {
        throw new RangeError('store and mongoUri can only change with database: "fresh"; the same database keeps its store');
      }
      const mongoUri = overrides.mongoUri ?? options.mongoUri;
      const next = resolveDeploymentOptions(
        {
          instances: overrides.instances ?? options.instances,
          port: overrides.port ?? actualPort,
          store: overrides.store ?? options.store,
          ...(mongoUri === undefined ? {} : { mongoUri }),
          service: overrides.service ?? {},
          ...(overrides.faults === undefined ? {} : { faults: overrides.faults }),
          strategy: overrides.strategy ?? options.strategy,
          instanceNodeArgs: overrides.instanceNodeArgs ?? options.instanceNodeArgs,
          readyTimeoutMs: overrides.readyTimeoutMs ?? options.readyTimeoutMs,
          stopTiming: { ...options.stopTiming, ...overrides.stopTiming },
          ...(options.onChildOutput === undefined ? {} : { onChildOutput: options.onChildOutput }),
        },
        options.service,
      );
      stopping = stopChildren();
      await stopping;
      if (!fresh) return launch(next, store);
      await store.stop();
      return launch(next, await provisionStore(next.store, next.mongoUri));
    },
  };
  return deployment;
}
