/** Messages between a deployment (the parent) and its child processes, over Node's IPC channel. */
import type { BalancerStrategy, ServiceConfig, StoreSpec } from '../config.ts';

/** Given to an instance process in the GAUNTLET_INSTANCE_OPTIONS environment variable, as JSON. */
export interface InstanceOptions {
  readonly instanceId: string;
  /** 0 picks a free port; the instance reports the one it got. */
  readonly port: number;
  readonly store: StoreSpec;
  readonly service: ServiceConfig;
}

/** Given to the balancer process in GAUNTLET_BALANCER_OPTIONS, as JSON. */
export interface BalancerOptions {
  readonly port: number;
  readonly strategy: BalancerStrategy;
  readonly backends: readonly { readonly instanceId: string; readonly url: string }[];
}

export type ChildToParent =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'fatal'; readonly message: string }
  /** Balancer only: the backend is out of rotation (`found: false` when it had no such backend). */
  | { readonly type: 'backend-removed'; readonly instanceId: string; readonly found: boolean };

export type ParentToChild =
  | { readonly type: 'shutdown' }
  /** Balancer only: stop sending new requests to this instance (a planned stop, not a crash). */
  | { readonly type: 'remove-backend'; readonly instanceId: string };

export const INSTANCE_OPTIONS_ENV = 'GAUNTLET_INSTANCE_OPTIONS';
export const BALANCER_OPTIONS_ENV = 'GAUNTLET_BALANCER_OPTIONS';
