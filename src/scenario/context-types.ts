/** What a scenario gets to work with. Built by the runner; scenarios never construct it. */
import type { Clock } from '../clock.ts';
import type { Profile } from '../config/defaults.ts';
import type { BurstOptions, BurstResult, ClosedModelOptions, LoadResult, OpenModelOptions, Transport } from '../load/index.ts';
import type { PromExposition } from '../measure/prometheus/parse.ts';
import type { DeploymentNeeds } from './deployment-needs.ts';
import type { Fixtures } from './fixtures.ts';
import type { JsonClient } from './json-client.ts';

export interface TargetInstance {
  readonly instanceId: string;
  /** The instance's own URL, bypassing the balancer. */
  readonly url: string;
  /** Its process, when the deployment is the embedded one. */
  readonly pid: number | null;
}

export interface TargetView {
  /** Where clients go (the balancer for several instances). */
  readonly url: string;
  readonly embedded: boolean;
  /** `sqlite` or `mongo` for the embedded target; null for an external one. */
  readonly store: string | null;
  /** The instances, when known (embedded target); empty for an external target. */
  readonly instances: readonly TargetInstance[];
  readonly balancer: { readonly pid: number; readonly url: string; readonly strategy: string } | null;
}

/**
 * The generators, bound to the run's cancellation and progress; `target` defaults to the target's
 * URL, and may be another URL or a Transport the scenario owns (e.g. one that taps response headers).
 */
export interface LoadApi {
  open(options: Omit<OpenModelOptions, 'target' | 'signal'> & { target?: string | Transport }): Promise<LoadResult>;
  closed(options: Omit<ClosedModelOptions, 'target' | 'signal'> & { target?: string | Transport }): Promise<LoadResult>;
  burst(options: Omit<BurstOptions, 'target' | 'signal'> & { target?: string | Transport }): Promise<BurstResult>;
}

/** Control of the embedded deployment; null for an external target. */
export interface DeploymentControl {
  /** Restarts with `needs` (over the defaults, not over the current options); `fresh` starts on a new database. */
  restart(needs: DeploymentNeeds, database?: 'same' | 'fresh'): Promise<void>;
  /** Kills one instance without telling the balancer (a crash stand-in). */
  killInstance(instanceId: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed instance again on its old port and data; resolves when it is ready (the balancer finds it by probing). */
  restartInstance(instanceId: string): Promise<void>;
}

export interface ScenarioContext {
  readonly profile: Profile;
  /** The current target; changes after `deployment.restart`. */
  readonly target: TargetView;
  /** JSON client for fixtures and oracles, at the target's URL. */
  readonly http: JsonClient;
  readonly fixtures: Fixtures;
  readonly load: LoadApi;
  /** Scrapes Prometheus metrics at `url` (default: the target's URL) + /metrics; rejects with the reason on failure. */
  scrape(url?: string): Promise<PromExposition>;
  readonly deployment: DeploymentControl | null;
  /** Aborted on Ctrl-C or the scenario's time bound: pass it on, stop promptly. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** A phase label for the live progress line (e.g. "burst 2/3"). */
  phase(label: string): void;
}
