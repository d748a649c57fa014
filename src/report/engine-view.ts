/**
 * What the report says about who measured a result: gauntlet's own generators or another engine
 * (Artillery, `run --engine artillery`). Said once per engine in the environment section, and on the
 * figures that engine measured (its latency row, its request counts), from the result's `engine`.
 */
import type { EngineInfo, RunResults, ScenarioResult } from '../results/schema.ts';
import { formatPercent } from './format.ts';

/** How the report names an engine (EngineInfo.name is its package name). */
const ENGINE_TITLES: Readonly<Record<EngineInfo['name'], string>> = { artillery: 'Artillery' };

/** Metrics an engine result carries for its requests (src/artillery/import-report.ts writes them). */
export const ENGINE_COUNT_METRICS = { requests: 'http.requests', responses: 'http.responses', errorRate: 'errors.rate', offeredRate: 'http.request_rate' } as const;

const GAUNTLET_ENGINE =
  "gauntlet's own generators: requests at a rate over kept-alive connections, latency of the whole response from the intended send time " +
  '(coordinated-omission corrected, the uncorrected beside it), HDR histograms at µs resolution';

function engineName(e: EngineInfo): string {
  return `${ENGINE_TITLES[e.name]} ${e.version} (${e.platform})`;
}

/** How accurate this engine's latency is: its resolution and sketch error, and that it is not corrected for coordinated omission. */
export function engineAccuracy(e: EngineInfo): string {
  return `${String(e.latency.resolutionMs)} ms resolution, ~${formatPercent(e.latency.relativeError)} sketch error, not corrected for coordinated omission`;
}

/** The engine as the report names it: `Artillery`. */
export function engineTitle(e: EngineInfo): string {
  return ENGINE_TITLES[e.name];
}

/** The latency a row of this engine measures, for the benchmarks table: what, at what resolution, with what error. */
export function engineLatencyLabel(e: EngineInfo): string {
  return `${engineTitle(e)} ${e.latency.metric}: ${e.latency.measures}, ${engineAccuracy(e)}`;
}

/**
 * One line per engine that measured part of the run, naming its scenarios; empty when gauntlet's own
 * generators measured everything (nothing to tell apart).
 */
export function engineLines(results: RunResults): string[] {
  if (results.scenarios.every((s) => s.engine === undefined)) return [];
  const byEngine = new Map<string, { engine: EngineInfo | null; titles: string[] }>();
  for (const s of results.scenarios) {
    if (s.status === 'skipped') continue;
    const key = s.engine === undefined ? 'gauntlet' : engineName(s.engine);
    const entry = byEngine.get(key) ?? { engine: s.engine ?? null, titles: [] };
    entry.titles.push(s.title);
    byEngine.set(key, entry);
  }
  return [...byEngine.values()].map(({ engine, titles }) =>
    engine === null
      ? `${titles.join(', ')}: ${GAUNTLET_ENGINE}`
      : `${titles.join(', ')}: measured by ${engineName(engine)}: latency is ${engine.latency.metric}, ${engine.latency.measures}, ` +
        `in whole ms with ~${formatPercent(engine.latency.relativeError)} sketch error, not corrected for coordinated omission, no raw histogram kept ` +
        '(compare uses summaries and per-period series); it starts new virtual users per second, each running its flow on a connection of its own ' +
        '(unless the scenario shares a pool), so its request rate is the arrival rate times the flow\'s length',
  );
}

/** Requests an engine result sent and saw fail (unexpected status or no answer); null for gauntlet's own results. */
export function engineRequestCounts(s: ScenarioResult): { readonly sent: number; readonly errors: number } | null {
  const sent = s.metrics[ENGINE_COUNT_METRICS.requests];
  if (s.engine === undefined || sent === undefined) return null;
  // errors.rate is (failed expectations + unanswered) / requests: the product is a whole count.
  return { sent, errors: Math.round((s.metrics[ENGINE_COUNT_METRICS.errorRate] ?? 0) * sent) };
}

const ENGINE_LATENCY_STATS = ['mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;
export type EngineLatency = Readonly<Record<(typeof ENGINE_LATENCY_STATS)[number] | 'count', number>>;

/** Another engine's latency summary (its `latency.*` metrics, in ms) and responses; null for gauntlet's results or none answered. */
export function engineLatency(s: ScenarioResult): EngineLatency | null {
  if (s.engine === undefined) return null;
  const out: Record<string, number> = { count: s.metrics[ENGINE_COUNT_METRICS.responses] ?? 0 };
  for (const stat of ENGINE_LATENCY_STATS) {
    const value = s.metrics[`latency.${stat}`];
    if (value === undefined) return null;
    out[stat] = value;
  }
  return out as EngineLatency;
}
