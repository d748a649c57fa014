/**
 * Test harness for scenario modules: run one at a profile against the embedded deployment (as the
 * runner would), or against a service started in the test — e.g. a deliberately broken one, to
 * prove the scenario's oracle fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVICE_CONFIG, TARGET_HOST } from '../../../target/config.ts';
import type { ServiceConfig } from '../../../target/config.ts';
import { createService } from '../../../target/service/create-service.ts';
import { openStore } from '../../../target/store/open-store.ts';
import type { Store } from '../../../target/store/store.ts';
import { systemClock } from '../../../src/clock.ts';
import type { Profile } from '../../../src/config/defaults.ts';
import type { ScenarioResult } from '../../../src/results/schema.ts';
import type { ScenarioDefinition, ScenarioParams } from '../../../src/scenario/definition.ts';
import { bindDefaultThresholds } from '../../../src/runner/plan.ts';
import { runPlannedScenario } from '../../../src/runner/run-scenario.ts';
import { openTargetSession } from '../../../src/runner/target-session.ts';
import type { TargetMode, TargetSession } from '../../../src/runner/target-session.ts';

export interface RunOnOptions {
  readonly profile?: Profile;
  /** Parameters laid over the profile's (to keep a test small or provoke a case). */
  readonly params?: Partial<ScenarioParams>;
  /** Default: the embedded deployment on SQLite, shaped by the scenario's `deployment(params)`. */
  readonly mode?: TargetMode;
}

/** Runs `definition` the way the runner does and returns its ScenarioResult. */
export async function runScenarioOn(definition: ScenarioDefinition, options: RunOnOptions = {}): Promise<ScenarioResult> {
  const session = await openTargetSession(options.mode ?? { kind: 'embedded', store: 'sqlite' });
  try {
    return await runScenarioWithSession(definition, session, options);
  } finally {
    await session.stop();
  }
}

/** Runs `definition` as the runner does against a session the test built (and stops itself). */
export async function runScenarioWithSession(
  definition: ScenarioDefinition,
  session: TargetSession,
  options: Pick<RunOnOptions, 'profile' | 'params'> = {},
): Promise<ScenarioResult> {
  const profile = options.profile ?? 'smoke';
  const params = { ...definition.profiles[profile], ...options.params } as ScenarioParams;
  const thresholds = bindDefaultThresholds(definition);
  const outcome = await runPlannedScenario(
    { definition, params, thresholds },
    { session, profile, clock: systemClock, signal: new AbortController().signal, runTag: `t${Date.now().toString(36)}`, onPhase: () => undefined },
  );
  return outcome.result;
}

export interface ServiceInTest {
  readonly url: string;
  readonly store: Store;
  close(): Promise<void>;
}

/**
 * Starts the reference service in this process on port 0 over a fresh SQLite file, with `wrap`
 * around its store: the way to build a broken service (a store that skips an invariant) for a test.
 */
export async function startServiceInTest(
  options: { config?: Partial<ServiceConfig>; wrap?: (store: Store) => Store; instanceId?: string } = {},
): Promise<ServiceInTest> {
  const dir = await mkdtemp(join(tmpdir(), 'gauntlet-scenario-'));
  const config: ServiceConfig = { ...DEFAULT_SERVICE_CONFIG, ...options.config };
  const inner = await openStore({ kind: 'sqlite', path: join(dir, 'target.db') }, config);
  const store = options.wrap === undefined ? inner : options.wrap(inner);
  const service = createService({ store, config, instanceId: options.instanceId ?? 'broken-1', log: () => undefined });
  await new Promise<void>((resolve) => service.server.listen(0, TARGET_HOST, resolve));
  const url = `http://${TARGET_HOST}:${(service.server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    async close() {
      await service.close();
      await inner.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A store that delegates everything to `inner` except the methods in `overrides` (bound to the inner store). */
export function storeWith(inner: Store, overrides: Partial<Store>): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof Store];
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The check whose name starts with `prefix`; a missing one fails the test with the names there are. */
export function findCheck(result: ScenarioResult, prefix: string): ScenarioResult['checks'][number] {
  const found = result.checks.find((c) => c.name.startsWith(prefix));
  if (found === undefined) throw new Error(`no check named '${prefix}...' in ${result.checks.map((c) => c.name).join(', ')}`);
  return found;
}
