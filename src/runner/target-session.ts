/**
 * The target a run drives: the embedded deployment (started, reshaped per scenario, always stopped)
 * or an external URL (external-session.ts: used as it is, its death noticed by probing it).
 */
import { DEFAULT_BALANCER_STRATEGY, DEFAULT_INSTANCES, DEFAULT_SERVICE_CONFIG } from '../../target/config.ts';
import type { StoreChoice } from '../../target/config.ts';
import { startDeployment } from '../../target/deployment/deployment.ts';
import type { ChildDeath, Deployment } from '../../target/deployment/deployment.ts';
import { mergeServiceConfig } from '../../target/deployment/options.ts';
import type { DeploymentOptions } from '../../target/deployment/options.ts';
import { TargetUnavailableError } from '../exit-codes.ts';
import type { DeploymentControl, TargetView } from '../scenario/context-types.ts';
import type { DeploymentNeeds } from '../scenario/deployment-needs.ts';
import { externalSession } from './external-session.ts';

export type TargetMode =
  | { readonly kind: 'embedded'; readonly store: StoreChoice; readonly mongoUri?: string }
  | { readonly kind: 'external'; readonly url: string };

export interface TargetSession {
  view(): TargetView;
  /** Null for an external target. */
  readonly control: DeploymentControl | null;
  /** Reshapes the embedded deployment to `needs` when it differs (a restart on a fresh database). */
  ensure(needs: DeploymentNeeds | undefined): Promise<void>;
  /** Calls `listener` when a target process dies unexpectedly; returns an unsubscribe. */
  onDeath(listener: (message: string) => void): () => void;
  /** The store kind and why it was chosen (embedded); null for an external target. */
  storeInfo(): { kind: string; reason: string } | null;
  stop(): Promise<void>;
}

/** Starts (embedded) or adopts (external) the target; an embedded start failure is a TargetUnavailableError. */
export async function openTargetSession(mode: TargetMode, onChildOutput?: (child: string, text: string) => void): Promise<TargetSession> {
  if (mode.kind === 'external') return externalSession(mode.url);
  const base: DeploymentOptions = {
    store: mode.store,
    ...(mode.mongoUri === undefined ? {} : { mongoUri: mode.mongoUri }),
    ...(onChildOutput === undefined ? {} : { onChildOutput }),
  };
  const deployment = await wrapStart(() => startDeployment({ ...base, ...optionsFor(undefined) }));
  return new EmbeddedSession(deployment);
}

/** Deployment options for `needs`, laid over the defaults (never over the previous scenario's shape). */
export function optionsFor(needs: DeploymentNeeds | undefined): Required<Pick<DeploymentOptions, 'instances' | 'strategy' | 'service' | 'instanceNodeArgs'>> {
  return {
    instances: needs?.instances ?? DEFAULT_INSTANCES,
    strategy: needs?.strategy ?? DEFAULT_BALANCER_STRATEGY,
    instanceNodeArgs: needs?.instanceNodeArgs ?? [],
    service: mergeServiceConfig({ ...DEFAULT_SERVICE_CONFIG, faults: needs?.faults ?? false }, needs?.service),
  };
}

async function wrapStart(start: () => Promise<Deployment>): Promise<Deployment> {
  try {
    return await start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TargetUnavailableError(`the embedded target could not be started: ${message}`);
  }
}

function describeDeath(death: ChildDeath): string {
  const how = death.exit.signal === null ? `exit code ${String(death.exit.code)}` : `signal ${death.exit.signal}`;
  const tail = death.stderrTail.trim() === '' ? '' : `; its last output: ${death.stderrTail.trim().split('\n').slice(-3).join(' | ')}`;
  return `target process ${death.child} (pid ${death.pid}) died unexpectedly (${how})${tail}`;
}

class EmbeddedSession implements TargetSession {
  #deployment: Deployment;
  #shape: string;
  readonly #listeners = new Set<(message: string) => void>();
  #unwatch: () => void = () => undefined;
  readonly control: DeploymentControl;

  constructor(deployment: Deployment) {
    this.#deployment = deployment;
    this.#shape = JSON.stringify(optionsFor(undefined));
    this.#watch();
    this.control = {
      restart: (needs, database = 'fresh') => this.#restart(needs, database),
      killInstance: async (instanceId, signal) => {
        await this.#deployment.killInstance(instanceId, signal);
      },
      // A child this session killed exits "expected" (killInstance marks it), so #watch reports no death for it.
      restartInstance: async (instanceId) => {
        await this.#deployment.restartInstance(instanceId);
      },
    };
  }

  view(): TargetView {
    const d = this.#deployment;
    return {
      url: d.url,
      embedded: true,
      store: d.store.kind,
      instances: d.instances.map((i) => ({ instanceId: i.instanceId, url: i.url, pid: i.pid })),
      balancer: d.balancer,
    };
  }

  storeInfo(): { kind: string; reason: string } {
    return { ...this.#deployment.store };
  }

  async ensure(needs: DeploymentNeeds | undefined): Promise<void> {
    if (JSON.stringify(optionsFor(needs)) === this.#shape) return;
    await this.#restart(needs ?? {}, 'fresh');
  }

  onDeath(listener: (message: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.#unwatch();
    await this.#deployment.stop();
  }

  async #restart(needs: DeploymentNeeds, database: 'same' | 'fresh'): Promise<void> {
    this.#unwatch();
    const current = this.#deployment;
    this.#deployment = await wrapStart(() => current.restart({ ...optionsFor(needs), database }));
    this.#shape = JSON.stringify(optionsFor(needs));
    this.#watch();
  }

  #watch(): void {
    this.#unwatch = this.#deployment.onChildExit((death) => {
      if (death.expected) return;
      const message = describeDeath(death);
      for (const listener of this.#listeners) listener(message);
    });
  }
}
