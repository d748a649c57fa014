/** Runs one planned scenario and turns what it returned into a ScenarioResult; a throw is recorded, not fatal. */
import type { Clock } from '../clock.ts';
import type { Profile } from '../config/defaults.ts';
import { summarizeEncoded } from '../measure/summary.ts';
import type { HarnessSample, HistogramResult, ScenarioResult, ScenarioStatus, ThresholdResult } from '../results/schema.ts';
import { startSelfMonitor } from '../measure/self-monitor.ts';
import { createScenarioContext } from '../scenario/context.ts';
import type { ScenarioOutput } from '../scenario/definition.ts';
import { evaluateThreshold } from '../thresholds/evaluate.ts';
import type { PlannedScenario } from './plan.ts';
import { boundScenario } from './scenario-bounds.ts';
import type { TargetSession } from './target-session.ts';

export interface ScenarioRunDeps {
  readonly session: TargetSession;
  readonly profile: Profile;
  readonly clock: Clock;
  /** The run's cancellation (Ctrl-C). */
  readonly signal: AbortSignal;
  readonly runTag: string;
  readonly onPhase: (label: string) => void;
  /** Called with a way to read the scenario's request counts while it runs. */
  readonly onCounts?: (read: () => { requests: number; errors: number }) => void;
  readonly timeLimitMs?: number;
  readonly wallClock?: () => Date;
}

/** Outcome of running a scenario: its result, and whether the target died during it. */
export interface ScenarioRunOutcome {
  readonly result: ScenarioResult;
  readonly targetDied: string | null;
}

export async function runPlannedScenario(planned: PlannedScenario, deps: ScenarioRunDeps): Promise<ScenarioRunOutcome> {
  const { definition, params } = planned;
  const wall = deps.wallClock ?? (() => new Date());
  const startedAt = wall().toISOString();
  const t0 = deps.clock.now();
  const base = {
    id: definition.id,
    group: definition.group,
    title: definition.title,
    objective: definition.objective,
    executed: definition.describe(params),
    params,
    startedAt,
  };
  let harness: HarnessSample | null = null;
  const finish = (status: ScenarioStatus, reasons: string[], output?: ScenarioOutput, thresholds: ThresholdResult[] = []): ScenarioResult => ({
    ...base,
    status,
    reasons,
    durationMs: deps.clock.now() - t0,
    metrics: output?.metrics ?? {},
    metricDimensions: Object.fromEntries(planned.definition.metrics.map((m) => [m.name, m.dimension])),
    checks: output?.checks ?? [],
    thresholds: thresholds.length > 0 ? thresholds : planned.thresholds.map((t) => thresholdResult(t, undefined)),
    histograms: summarizeHistograms(output?.histograms ?? {}),
    series: output?.series ?? {},
    loadRuns: output?.loadRuns ?? [],
    tables: output?.tables ?? {},
    notes: output?.notes ?? [],
    harness,
  });

  const target = deps.session.view();
  if (!target.embedded && definition.needsEmbeddedTarget !== undefined) {
    return { result: finish('skipped', [`needs the embedded target: ${definition.needsEmbeddedTarget}`]), targetDied: null };
  }
  await deps.session.ensure(definition.deployment?.(params));

  const bounds = boundScenario(deps);
  const { signal, death } = bounds;
  // A promise the scenario let reject unhandled is a bug in it: the scenario is errored, never passed.
  const strays: string[] = [];
  const onStray = (reason: unknown): void => {
    strays.push(reason instanceof Error ? reason.message : String(reason));
  };
  process.on('unhandledRejection', onStray);
  const monitor = startSelfMonitor({ now: () => deps.clock.now() });
  const owned = createScenarioContext({ profile: deps.profile, session: deps.session, signal, clock: deps.clock, onPhase: deps.onPhase, runTag: deps.runTag });
  deps.onCounts?.(owned.counts);
  try {
    const output = await definition.run(owned.ctx, params);
    harness = monitor.stop();
    // A scenario that returns normally after its signal fired measured only part of what it planned.
    const cut = bounds.cutReason();
    if (cut !== null) return { result: finish('errored', [cut], output), targetDied: death.message };
    if (strays.length > 0) return { result: finish('errored', strays.map((m) => `scenario bug: a promise rejection went unhandled: ${m}`), output), targetDied: null };
    const problems = validateOutput(output, planned);
    if (problems.length > 0) return { result: finish('errored', problems, output), targetDied: death.message };
    const thresholds = planned.thresholds.map((t) => thresholdResult(t, output.metrics[t.metric]));
    const reasons = [
      ...output.checks.filter((c) => !c.passed).map((c) => `check failed: ${c.name} (expected ${c.expected}, got ${c.actual})`),
      ...thresholdReasons(thresholds),
      ...(output.loadRuns ?? []).filter((r) => r.saturated).map((r) => `generator saturated in '${r.label}': ${r.saturationReasons.join('; ')} — the numbers measure gauntlet, not the target`),
      ...(output.loadRuns ?? []).filter((r) => r.outcome !== 'completed').map((r) => `load run '${r.label}' did not complete (${r.outcome})`),
    ];
    if (death.message !== null) reasons.unshift(death.message);
    return { result: finish(reasons.length === 0 ? 'passed' : 'failed', reasons, output, thresholds), targetDied: death.message };
  } catch (error) {
    harness ??= monitor.stop();
    const reason = bounds.cutReason() ?? (error instanceof Error ? error.message : String(error));
    return { result: finish('errored', [reason]), targetDied: death.message };
  } finally {
    harness ??= monitor.stop();
    process.off('unhandledRejection', onStray);
    bounds.dispose();
    await owned.close();
  }
}

/** A planned threshold judged against the value measured (undefined: not measured). */
export function thresholdResult(t: PlannedScenario['thresholds'][number], actual: number | undefined): ThresholdResult {
  const verdict = evaluateThreshold(t, actual);
  return {
    source: t.source,
    metric: t.metric,
    dimension: t.dimension,
    op: t.op,
    expected: t.value,
    state: verdict.state,
    actual: verdict.state === 'not-measured' ? null : verdict.actual,
  };
}

/** One reason line per threshold that did not pass. */
export function thresholdReasons(thresholds: readonly ThresholdResult[]): string[] {
  return thresholds.filter((t) => t.state !== 'passed').map((t) => (t.state === 'not-measured' ? `threshold not measured: ${t.source}` : `threshold failed: ${t.source} (actual ${formatActual(t)})`));
}

function formatActual(t: ThresholdResult): string {
  return t.actual === null ? 'none' : String(Math.round(t.actual * 1000) / 1000);
}

/** A scenario may report only metrics it declared, and only finite numbers. */
function validateOutput(output: ScenarioOutput, planned: PlannedScenario): string[] {
  const declared = new Set(planned.definition.metrics.map((m) => m.name));
  const problems: string[] = [];
  for (const [name, value] of Object.entries(output.metrics)) {
    if (!declared.has(name)) problems.push(`scenario bug: reported metric '${name}' that it does not declare`);
    else if (!Number.isFinite(value)) problems.push(`scenario bug: metric '${name}' is ${String(value)}, not a finite number`);
  }
  return problems;
}

function summarizeHistograms(encoded: Readonly<Record<string, string>>): Record<string, HistogramResult> {
  return Object.fromEntries(Object.entries(encoded).map(([name, e]) => [name, { encoded: e, summary: summarizeEncoded(e) }]));
}
