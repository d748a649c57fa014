/**
 * What a run will do, decided and validated before anything starts: which scenarios, with which
 * parameters and thresholds. Every problem here is bad input (exit 2) quoting the offending text.
 */
import type { Profile, Suite } from '../config/defaults.ts';
import { UsageError } from '../exit-codes.ts';
import type { CatalogEntry } from '../scenario/catalog.ts';
import type { ScenarioDefinition, ScenarioParams } from '../scenario/definition.ts';
import { bindThreshold } from '../thresholds/bind.ts';
import type { Threshold } from '../thresholds/bind.ts';
import { parseThreshold } from '../thresholds/parse.ts';

export interface PlannedScenario {
  readonly definition: ScenarioDefinition;
  readonly params: ScenarioParams;
  readonly thresholds: readonly Threshold[];
}

export interface PlanRequest {
  readonly catalog: readonly CatalogEntry[];
  readonly suite: Suite;
  /** Explicit --scenario ids; when given they select instead of the suite. */
  readonly scenarioIds: readonly string[];
  readonly profile: Profile;
  /** Overrides by scenario id (from --thresholds FILE), each in the threshold grammar. */
  readonly thresholdFile?: Readonly<Record<string, readonly string[]>>;
  /** `scenario-id:metric op value` expressions from --threshold. */
  readonly thresholdArgs: readonly string[];
}

/** Selects scenarios and binds thresholds; overrides replace a scenario's defaults on the same metric. */
export function planRun(request: PlanRequest): PlannedScenario[] {
  const byId = new Map(request.catalog.map((e) => [e.definition.id, e.definition]));
  const known = [...byId.keys()].join(', ');
  for (const id of request.scenarioIds) {
    if (!byId.has(id)) throw new UsageError(`unknown scenario '${id}'; known scenarios: ${known}`);
  }
  const selected =
    request.scenarioIds.length > 0
      ? [...new Set(request.scenarioIds)].map((id) => byId.get(id) as ScenarioDefinition)
      : request.catalog.map((e) => e.definition).filter((d) => request.suite === 'all' || d.group === request.suite);
  if (selected.length === 0) throw new UsageError(`no scenario matches --suite ${request.suite}; known scenarios: ${known || '(none)'}`);

  const overrides = collectOverrides(request, byId);
  return selected.map((definition) => {
    const own = overrides.get(definition.id) ?? [];
    const overridden = new Set(own.map((t) => t.metric));
    const defaults = bindDefaultThresholds(definition).filter((t) => !overridden.has(t.metric));
    return { definition, params: definition.profiles[request.profile], thresholds: [...defaults, ...own] };
  });
}

function collectOverrides(request: PlanRequest, byId: ReadonlyMap<string, ScenarioDefinition>): Map<string, Threshold[]> {
  const out = new Map<string, Threshold[]>();
  const add = (scenarioId: string, source: string, origin: string): void => {
    const definition = byId.get(scenarioId);
    if (definition === undefined) throw new UsageError(`${origin}: unknown scenario '${scenarioId}' in threshold '${source}'`);
    const list = out.get(scenarioId) ?? [];
    list.push(bindOrThrow(source, definition, origin));
    out.set(scenarioId, list);
  };
  for (const [scenarioId, sources] of Object.entries(request.thresholdFile ?? {})) {
    for (const source of sources) add(scenarioId, source, '--thresholds file');
  }
  for (const arg of request.thresholdArgs) {
    const parsed = parseThreshold(arg);
    if (!parsed.ok) throw new UsageError(`--threshold: ${parsed.error}`);
    if (parsed.threshold.scenarioId === undefined) {
      throw new UsageError(`--threshold '${arg}' names no scenario; write it as 'scenario-id:${arg.trim()}'`);
    }
    add(parsed.threshold.scenarioId, arg, '--threshold');
  }
  return out;
}

/** The definition's own thresholds, bound to its metrics; a bad one is a UsageError naming the scenario. */
export function bindDefaultThresholds(definition: ScenarioDefinition): Threshold[] {
  return definition.thresholds.map((source) => bindOrThrow(source, definition));
}

function bindOrThrow(source: string, definition: ScenarioDefinition, origin = `scenario ${definition.id}`): Threshold {
  const parsed = parseThreshold(source);
  if (!parsed.ok) throw new UsageError(`${origin}: ${parsed.error}`);
  if (parsed.threshold.scenarioId !== undefined && parsed.threshold.scenarioId !== definition.id) {
    throw new UsageError(`${origin}: threshold '${source}' names scenario '${parsed.threshold.scenarioId}' but is given for '${definition.id}'`);
  }
  const bound = bindThreshold(parsed.threshold, definition.metrics, definition.id);
  if (!bound.ok) throw new UsageError(`${origin}: ${bound.error}`);
  return bound.threshold;
}
