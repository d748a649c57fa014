/** A whole run: target up, scenarios in order, target down whatever happens, results as plain data. */
import { request } from 'undici';
import type { Clock } from '../clock.ts';
import type { Profile } from '../config/defaults.ts';
import { EXIT_CODES, TargetUnavailableError } from '../exit-codes.ts';
import type { EnvironmentInfo } from '../measure/environment.ts';
import { failingTrends } from '../measure/resource-trend.ts';
import { RESULTS_SCHEMA_VERSION } from '../results/schema.ts';
import type { ResourceTrends, RunResults, ScenarioResult, ScenarioStatus } from '../results/schema.ts';
import { confirmDeath, LIVENESS_DEFAULTS, tcpConnectProbe } from './liveness.ts';
import type { PlannedScenario } from './plan.ts';
import { RESOURCE_TREND_ENFORCED_PROFILES, RESOURCE_TREND_UNSAMPLED_GROUPS, startResourceMonitor } from './resource-monitor.ts';
import { runPlannedScenario } from './run-scenario.ts';
import { openTargetSession } from './target-session.ts';
import type { TargetMode, TargetSession } from './target-session.ts';

/** How long an external target gets to answer its first request before the run gives up (exit 3). */
export const TARGET_PROBE_TIMEOUT_MS = 5_000;

export type RunEvent =
  | { readonly type: 'target-ready'; readonly url: string; readonly store: { kind: string; reason: string } | null }
  | { readonly type: 'scenario-start'; readonly id: string; readonly title: string; readonly index: number; readonly total: number; readonly counts: () => { requests: number; errors: number } }
  | { readonly type: 'scenario-phase'; readonly id: string; readonly label: string }
  | { readonly type: 'scenario-end'; readonly result: ScenarioResult; readonly index: number; readonly total: number };

export interface RunRequest {
  readonly plan: readonly PlannedScenario[];
  readonly mode: TargetMode;
  readonly profile: Profile;
  readonly selection: RunResults['selection'];
  readonly toolVersion: string;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly wallClock: () => Date;
  readonly environment: () => Promise<EnvironmentInfo>;
  readonly onEvent: (event: RunEvent) => void;
  readonly onTargetOutput?: (child: string, text: string) => void;
  /** Runs one scenario; absent = gauntlet's own engine (runPlannedScenario). `--engine artillery` gives its own. */
  readonly runScenario?: typeof runPlannedScenario;
}

/** Runs the plan. Throws TargetUnavailableError only when the target cannot be started or reached at all. */
export async function executeRun(req: RunRequest): Promise<RunResults> {
  const startedAt = req.wallClock();
  const t0 = req.clock.now();
  const environment = await req.environment();
  const session = await openTargetSession(req.mode, req.onTargetOutput);
  const monitor = startResourceMonitor({
    clock: req.clock,
    enforced: RESOURCE_TREND_ENFORCED_PROFILES.includes(req.profile),
    targetPids: () => targetPids(session),
  });
  let resources: ResourceTrends | undefined;
  const results: ScenarioResult[] = [];
  let interrupted: string | null = null;
  let targetDied = false;
  const runTag = (startedAt.getTime() % 1e9).toString(36);
  try {
    if (req.mode.kind === 'external') await probeTarget(req.mode.url, req.signal);
    req.onEvent({ type: 'target-ready', url: session.view().url, store: session.storeInfo() });
    for (const [index, planned] of req.plan.entries()) {
      if (req.signal.aborted) {
        interrupted = 'interrupted (Ctrl-C): the scenarios that finished are reported';
        break;
      }
      const id = planned.definition.id;
      let counts = (): { requests: number; errors: number } => ({ requests: 0, errors: 0 });
      req.onEvent({ type: 'scenario-start', id, title: planned.definition.title, index, total: req.plan.length, counts: () => counts() });
      monitor.scenarioStarted(!RESOURCE_TREND_UNSAMPLED_GROUPS.includes(planned.definition.group));
      const outcome = await (req.runScenario ?? runPlannedScenario)(planned, {
        session,
        profile: req.profile,
        clock: req.clock,
        signal: req.signal,
        runTag,
        wallClock: req.wallClock,
        onPhase: (label) => req.onEvent({ type: 'scenario-phase', id, label }),
        onCounts: (read) => (counts = read),
      });
      results.push(outcome.result);
      req.onEvent({ type: 'scenario-end', result: outcome.result, index, total: req.plan.length });
      // An external target has no process to watch, and a scenario can fail on refusals before the
      // liveness watch has seen enough of them: one more look after each scenario tells the two apart.
      const died = outcome.targetDied ?? (req.mode.kind === 'external' ? await confirmDeath(req.mode.url, tcpConnectProbe(req.mode.url), LIVENESS_DEFAULTS, req.clock, req.signal) : null);
      if (died !== null) {
        interrupted = `stopped: ${died}`;
        targetDied = true;
        break;
      }
    }
    if (interrupted === null && req.signal.aborted) interrupted = 'interrupted (Ctrl-C): the scenarios that finished are reported';
  } catch (error) {
    if (!(error instanceof TargetUnavailableError) || results.length === 0) throw error;
    interrupted = `stopped: ${error.message}`;
    targetDied = true;
  } finally {
    resources = await monitor.stop();
    await stopQuietly(session);
  }

  const summary = countStatuses(results);
  const exitCode = targetDied
    ? EXIT_CODES.target
    : interrupted !== null || summary.failed > 0 || summary.errored > 0 || failingTrends(resources).length > 0
      ? EXIT_CODES.failed
      : EXIT_CODES.ok;
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'gauntlet', version: req.toolVersion },
    startedAt: startedAt.toISOString(),
    finishedAt: req.wallClock().toISOString(),
    durationMs: req.clock.now() - t0,
    profile: req.profile,
    selection: req.selection,
    target: { kind: req.mode.kind, url: session.view().url, store: session.storeInfo() },
    environment,
    interrupted,
    scenarios: results,
    summary,
    resources,
    exitCode,
  };
}

function targetPids(session: TargetSession): readonly number[] | null {
  const view = session.view();
  if (!view.embedded) return null;
  const pids = view.instances.flatMap((i) => (i.pid === null ? [] : [i.pid]));
  return view.balancer === null ? pids : [view.balancer.pid, ...pids];
}

function countStatuses(results: readonly ScenarioResult[]): Record<ScenarioStatus, number> & { total: number } {
  const counts = { passed: 0, failed: 0, errored: 0, skipped: 0, total: results.length };
  for (const r of results) counts[r.status] += 1;
  return counts;
}

/** Any HTTP answer proves the target is there; a connection failure is exit 3 before any load is sent. */
async function probeTarget(url: string, signal: AbortSignal): Promise<void> {
  const timeout = AbortSignal.timeout(TARGET_PROBE_TIMEOUT_MS);
  try {
    const res = await request(url, { method: 'GET', signal: AbortSignal.any([signal, timeout]) });
    await res.body.dump();
  } catch (error) {
    // A timeout here is a listener that takes connections but never answers: say that, not "aborted".
    const why = timeout.aborted ? `GET ${url} got no answer within ${TARGET_PROBE_TIMEOUT_MS} ms (is it an HTTP server, and healthy?)` : error instanceof Error ? error.message : String(error);
    throw new TargetUnavailableError(`the target ${url} could not be reached: ${why}`);
  }
}

async function stopQuietly(session: TargetSession): Promise<void> {
  try {
    await session.stop();
  } catch (error) {
    // Stopping must not hide the run's own outcome; the message still reaches the user.
    process.stderr.write(`gauntlet: stopping the target failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}
