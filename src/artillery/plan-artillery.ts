/**
 * Planning a run under the Artillery engine: the same selection and threshold binding as gauntlet's
 * (src/runner/plan.ts), against the metrics Artillery can give. A threshold on a metric only
 * gauntlet's engine measures is a configuration error before anything runs, never a silent pass.
 */
import { UsageError } from '../exit-codes.ts';
import { planRun } from '../runner/plan.ts';
import type { PlannedScenario, PlanRequest } from '../runner/plan.ts';
import type { CatalogEntry } from '../scenario/catalog.ts';
import type { ScenarioDefinition } from '../scenario/definition.ts';
import { parseThreshold } from '../thresholds/parse.ts';
import { ARTILLERY_METRIC_SPECS } from './import-report.ts';

const AVAILABLE = new Set(ARTILLERY_METRIC_SPECS.map((m) => m.name));
/**
 * Why a scenario without `artillery(params)` has none: said by run planning, a suite run's skip and
 * export-artillery. Every built-in scenario has one; a module of the user's own may not.
 */
export const NO_ARTILLERY_TRAFFIC =
  'its module describes no Artillery traffic (no `artillery(params)` hook on its definition: add one returning phases and flows, as the built-in scenarios in scenarios/lib/artillery-*.ts do)';

export interface ArtilleryPlan {
  readonly plan: PlannedScenario[];
  /** What the scenario measures under gauntlet's engine and not here, by scenario id. */
  readonly unavailable: ReadonlyMap<string, readonly string[]>;
  /** Default thresholds left out because their metric is unavailable, by scenario id. */
  readonly droppedDefaults: ReadonlyMap<string, readonly string[]>;
}

/** The scenarios that export Artillery traffic. */
export function exportableIds(catalog: readonly CatalogEntry[]): string[] {
  return catalog.filter((e) => e.definition.artillery !== undefined).map((e) => e.definition.id);
}

export function planArtilleryRun(request: PlanRequest): ArtilleryPlan {
  const byId = new Map(request.catalog.map((e) => [e.definition.id, e.definition]));
  for (const id of request.scenarioIds) {
    const definition = byId.get(id);
    if (definition !== undefined && definition.artillery === undefined) {
      throw new UsageError(
        `scenario '${id}' has no Artillery traffic: ${NO_ARTILLERY_TRAFFIC}; ` +
          `run it without --engine, or pick one that exports: ${exportableIds(request.catalog).join(', ') || '(none)'}`,
      );
    }
  }
  for (const [scenarioId, sources] of Object.entries(request.thresholdFile ?? {})) {
    for (const source of sources) assertAvailable(source, byId.get(scenarioId), '--thresholds file');
  }
  for (const source of request.thresholdArgs) {
    const parsed = parseThreshold(source);
    if (parsed.ok && parsed.threshold.scenarioId !== undefined) assertAvailable(source, byId.get(parsed.threshold.scenarioId), '--threshold');
  }
  const droppedDefaults = new Map<string, string[]>();
  const unavailable = new Map<string, string[]>();
  const catalog = request.catalog.map((entry): CatalogEntry => {
    const d = entry.definition;
    unavailable.set(d.id, d.metrics.map((m) => m.name).filter((name) => !AVAILABLE.has(name)));
    const kept = d.thresholds.filter((source) => {
      const parsed = parseThreshold(source);
      return parsed.ok && AVAILABLE.has(parsed.threshold.metric);
    });
    droppedDefaults.set(d.id, d.thresholds.filter((t) => !kept.includes(t)));
    return { ...entry, definition: { ...d, metrics: ARTILLERY_METRIC_SPECS, thresholds: kept } };
  });
  return { plan: planRun({ ...request, catalog }), unavailable, droppedDefaults };
}

/** A threshold naming a metric the scenario has under gauntlet's engine but Artillery cannot give. */
function assertAvailable(source: string, definition: ScenarioDefinition | undefined, origin: string): void {
  const parsed = parseThreshold(source);
  if (!parsed.ok || definition === undefined) return;
  const metric = parsed.threshold.metric;
  if (AVAILABLE.has(metric) || !definition.metrics.some((m) => m.name === metric)) return;
  throw new UsageError(
    `${origin}: threshold '${source}' names '${metric}', which only gauntlet's engine measures for ${definition.id} ` +
      `(Artillery reports traffic, not the scenario's bookkeeping): it cannot be checked under --engine artillery. ` +
      `Drop it, or run without --engine. Available under Artillery: ${[...AVAILABLE].join(', ')}`,
  );
}
