/**
 * Several reference-service instances in this process over one SQLite file, each with its own
 * cache and its own (optionally broken) store wrapper, presented to a scenario as the embedded
 * deployment would be: the way to prove a cross-instance oracle (cache coherence) or a fault-injection
 * oracle (transaction safety, which skips external targets) fails against a broken service.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVICE_CONFIG, TARGET_HOST } from '../../../target/config.ts';
import { mergeServiceConfig } from '../../../target/deployment/options.ts';
import type { ServiceConfig } from '../../../target/config.ts';
import { createService } from '../../../target/service/create-service.ts';
import type { Service } from '../../../target/service/create-service.ts';
import { openStore } from '../../../target/store/open-store.ts';
import type { Store } from '../../../target/store/store.ts';
import { systemClock } from '../../../src/clock.ts';
import type { Profile } from '../../../src/config/defaults.ts';
import type { ScenarioResult } from '../../../src/results/schema.ts';
import { bindDefaultThresholds } from '../../../src/runner/plan.ts';
import { runPlannedScenario } from '../../../src/runner/run-scenario.ts';
import { optionsFor } from '../../../src/runner/target-session.ts';
import type { TargetSession } from '../../../src/runner/target-session.ts';
import type { TargetView } from '../../../src/scenario/context-types.ts';
import type { ScenarioDefinition, ScenarioParams } from '../../../src/scenario/definition.ts';

export interface SharedSqliteCluster {
  /** The SQLite file every instance opens. */
  readonly dbPath: string;
  readonly config: ServiceConfig;
  readonly instances: readonly { readonly instanceId: string; readonly url: string }[];
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly instances: number;
  readonly config: ServiceConfig;
  /** Wraps each instance's store (index = instance number); identity when absent. */
  readonly wrap?: (store: Store, index: number, dbPath: string) => Store;
}

/** Starts `instances` services on port 0 over one fresh SQLite file. */
export async function startSharedSqliteCluster(options: ClusterOptions): Promise<SharedSqliteCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'gauntlet-cluster-'));
  const dbPath = join(dir, 'target.db');
  const running: { service: Service; store: Store; instanceId: string; url: string }[] = [];
  const close = async (): Promise<void> => {
    for (const r of running) {
      await r.service.close();
      await r.store.close();
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < options.instances; i++) {
      // Opened one after another: init() creates the schema, and SQLite serialises that anyway.
      const inner = await openStore({ kind: 'sqlite', path: dbPath }, options.config);
      const store = options.wrap === undefined ? inner : options.wrap(inner, i, dbPath);
      const instanceId = `in-process-${i + 1}`;
      const service = createService({ store, config: options.config, instanceId, log: () => undefined });
      running.push({ service, store, instanceId, url: '' });
      await new Promise<void>((resolve) => service.server.listen(0, TARGET_HOST, resolve));
      const entry = running[running.length - 1];
      if (entry !== undefined) entry.url = `http://${TARGET_HOST}:${(service.server.address() as AddressInfo).port}`;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { dbPath, config: options.config, instances: running.map((r) => ({ instanceId: r.instanceId, url: r.url })), close };
}

/** The service config the runner would give `definition` at `params` (its deployment needs over the defaults). */
export function serviceConfigFor(definition: ScenarioDefinition, params: ScenarioParams): { config: ServiceConfig; instances: number } {
  const needs = definition.deployment?.(params);
  // As optionsFor (the runner) lays them: the scenario's needs over the defaults.
  return { config: mergeServiceConfig({ ...DEFAULT_SERVICE_CONFIG, faults: needs?.faults ?? false }, needs?.service), instances: optionsFor(needs).instances };
}

/** Runs `definition` as the runner does, against `cluster` presented as the embedded deployment (no balancer). */
export async function runScenarioOnCluster(
  definition: ScenarioDefinition,
  cluster: SharedSqliteCluster,
  options: { profile?: Profile; params?: Partial<ScenarioParams> } = {},
): Promise<ScenarioResult> {
  const profile = options.profile ?? 'smoke';
  const params = { ...definition.profiles[profile], ...options.params } as ScenarioParams;
  const thresholds = bindDefaultThresholds(definition);
  const first = cluster.instances[0];
  if (first === undefined) throw new Error('the cluster has no instance');
  const view: TargetView = {
    url: first.url,
    embedded: true,
    store: 'sqlite',
    instances: cluster.instances.map((i) => ({ ...i, pid: process.pid })),
    balancer: null,
  };
  const session: TargetSession = {
    view: () => view,
    control: null,
    // The test shaped the cluster from the scenario's needs already (serviceConfigFor).
    ensure: () => Promise.resolve(),
    onDeath: () => () => undefined,
    storeInfo: () => ({ kind: 'sqlite', reason: 'in-process test cluster' }),
    stop: () => Promise.resolve(),
  };
  const outcome = await runPlannedScenario(
    { definition, params, thresholds },
    { session, profile, clock: systemClock, signal: new AbortController().signal, runTag: `c${Date.now().toString(36)}`, onPhase: () => undefined },
  );
  return outcome.result;
}
