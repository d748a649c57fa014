/**
 * One planned scenario under the Artillery engine: shape the embedded target as the scenario asks,
 * export its traffic against the target's URL, run the Artillery CLI, import its report into a
 * ScenarioResult and judge the thresholds, exactly as gauntlet's own runner would.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startSelfMonitor } from '../measure/self-monitor.ts';
import type { EngineInfo, HarnessSample, ScenarioResult, ScenarioStatus } from '../results/schema.ts';
import type { PlannedScenario } from '../runner/plan.ts';
import { thresholdReasons, thresholdResult } from '../runner/run-scenario.ts';
import { boundScenario } from '../runner/scenario-bounds.ts';
import type { ScenarioRunDeps, ScenarioRunOutcome } from '../runner/run-scenario.ts';
import { buildArtilleryExport, writeArtilleryExport } from './export-script.ts';
import { ARTILLERY_METRIC_SPECS, artilleryEngineInfo, importArtilleryReport } from './import-report.ts';
import type { ImportedReport } from './import-report.ts';
import type { ArtilleryInstall } from './locate-artillery.ts';
import { ArtilleryConsoleCounts } from './console-counts.ts';
import { artilleryArgv } from './platform-args.ts';
import { NO_ARTILLERY_TRAFFIC } from './plan-artillery.ts';
import type { PlatformOptions } from './platform-args.ts';
import { spawnArtillery } from './spawn-artillery.ts';
import { describeTraffic } from './traffic.ts';
import type { ArtilleryTraffic } from './traffic.ts';

export const ARTILLERY_REPORT_FILE = 'artillery-report.json';
export const ARTILLERY_LOG_FILE = 'artillery.log';
/** Artillery's exit code when expectations failed: its report is complete, the failures are in it. */
const EXIT_EXPECTATIONS_FAILED = 21;

export interface ArtilleryEngineConfig {
  readonly install: ArtilleryInstall;
  readonly platform: PlatformOptions;
  /** The run's output directory: each scenario's script, report and log go to `artillery/<id>/` in it. */
  readonly outDir: string;
  readonly unavailable: ReadonlyMap<string, readonly string[]>;
  readonly droppedDefaults: ReadonlyMap<string, readonly string[]>;
}

/** A scenario runner with runPlannedScenario's signature, for executeRun. */
export function artilleryScenarioRunner(config: ArtilleryEngineConfig): (planned: PlannedScenario, deps: ScenarioRunDeps) => Promise<ScenarioRunOutcome> {
  return (planned, deps) => runArtilleryScenario(planned, deps, config);
}

async function runArtilleryScenario(planned: PlannedScenario, deps: ScenarioRunDeps, config: ArtilleryEngineConfig): Promise<ScenarioRunOutcome> {
  const { definition, params } = planned;
  const startedAt = (deps.wallClock ?? (() => new Date()))().toISOString();
  const t0 = deps.clock.now();
  const engine = artilleryEngineInfo(config.install.version, config.platform.platform, config.unavailable.get(definition.id) ?? []);
  let harness: HarnessSample | null = null;
  let traffic: ArtilleryTraffic | undefined;
  let invalid: string | null = null;
  try {
    traffic = definition.artillery?.(params);
  } catch (error) {
    invalid = `scenario bug: its Artillery traffic is invalid: ${error instanceof Error ? error.message : String(error)}`;
  }
  const finish = (status: ScenarioStatus, reasons: string[], imported?: ImportedReport, notes: string[] = []): ScenarioResult => {
    const thresholds = planned.thresholds.map((t) => thresholdResult(t, imported?.metrics[t.metric]));
    return {
      id: definition.id,
      group: definition.group,
      title: definition.title,
      objective: definition.objective,
      executed: traffic === undefined ? definition.describe(params) : `Artillery (${config.platform.platform}) ran the scenario's exported traffic: ${describeTraffic(traffic)}`,
      status,
      reasons,
      params,
      startedAt,
      durationMs: deps.clock.now() - t0,
      metrics: imported?.metrics ?? {},
      metricDimensions: Object.fromEntries(ARTILLERY_METRIC_SPECS.map((m) => [m.name, m.dimension])),
      checks: [],
      thresholds,
      histograms: {},
      series: imported === undefined || imported.series.length === 0 ? {} : { artillery: imported.series },
      // No load-run summary: Artillery does not judge its own schedule, so nothing could say it kept up.
      loadRuns: [],
      // Empty tables (no errors, say) are left out rather than rendered as headers over nothing.
      tables: imported === undefined ? {} : Object.fromEntries(Object.entries(imported.tables).filter(([, rows]) => rows.length > 0)),
      notes,
      harness,
      engine,
    };
  };

  if (invalid !== null) return { result: finish('errored', [invalid]), targetDied: null };
  if (traffic === undefined) {
    return { result: finish('skipped', [`has no Artillery traffic: ${NO_ARTILLERY_TRAFFIC} (run it without --engine)`]), targetDied: null };
  }
  await deps.session.ensure(definition.deployment?.(params));

  const bounds = boundScenario(deps);
  const { signal, death } = bounds;
  const monitor = startSelfMonitor({ now: () => deps.clock.now() });
  try {
    // Absolute: Artillery runs in this directory and resolves the paths it is given from there.
    const dir = path.resolve(config.outDir, 'artillery', definition.id);
    const script = await writeArtilleryExport(dir, buildArtilleryExport(traffic, { target: deps.session.view().url, origin: `${definition.id} (${deps.profile})` }));
    const report = path.join(dir, ARTILLERY_REPORT_FILE);
    deps.onPhase(`artillery ${config.platform.platform}`);
    const live = new ArtilleryConsoleCounts();
    deps.onCounts?.(() => live.counts);
    const outcome = await spawnArtillery({
      install: config.install,
      argv: artilleryArgv(config.platform, { script, report }),
      cwd: dir,
      logFile: path.join(dir, ARTILLERY_LOG_FILE),
      signal,
      onStdout: (text) => live.push(text),
    });
    harness = monitor.stop();
    const logHint = `Artillery's output: ${path.join(dir, ARTILLERY_LOG_FILE)}`;
    if (outcome.cancelled) {
      const why = bounds.cutReason() ?? 'Artillery was stopped';
      return { result: finish('errored', [why]), targetDied: death.message };
    }
    const text = await readFile(report, 'utf8').catch(() => null);
    if (text === null || (outcome.code !== 0 && outcome.code !== EXIT_EXPECTATIONS_FAILED)) {
      const how = outcome.signal === null ? `exit code ${String(outcome.code)}` : `signal ${outcome.signal}`;
      return { result: finish('errored', [`Artillery ended with ${how}${text === null ? ' and wrote no report' : ''}: ${lastLines(outcome.tail)} (${logHint})`]), targetDied: death.message };
    }
    const imported = importArtilleryReport(text);
    if (!imported.ok) return { result: finish('errored', [`${imported.error} (${report})`]), targetDied: death.message };
    const r = imported.report;
    const notes = notesFor(engine, traffic, config.droppedDefaults.get(definition.id) ?? [], dir);
    const provisional = finish('passed', [], r, notes);
    const reasons = thresholdReasons(provisional.thresholds);
    if ((r.metrics['http.requests'] ?? 0) === 0) reasons.push(`Artillery sent no request (${logHint})`);
    if (death.message !== null) reasons.unshift(death.message);
    return { result: { ...provisional, status: reasons.length === 0 ? 'passed' : 'failed', reasons, durationMs: deps.clock.now() - t0 }, targetDied: death.message };
  } catch (error) {
    harness ??= monitor.stop();
    return { result: finish('errored', [death.message ?? (error instanceof Error ? error.message : String(error))]), targetDied: death.message };
  } finally {
    harness ??= monitor.stop();
    bounds.dispose();
  }
}

/**
 * What is particular to this scenario's run. What Artillery measures and its arrival model are the
 * same for every scenario: the report says them once per engine, from `engine` (src/report/engine-view.ts).
 */
function notesFor(engine: EngineInfo, traffic: ArtilleryTraffic, dropped: readonly string[], dir: string): string[] {
  return [
    ...(traffic.connectionPool === undefined ? [] : [`its virtual users share a pool of ${String(traffic.connectionPool)} connections (so one user's parallel requests race)`]),
    `only the traffic was exported, not the checks: ${traffic.notExported}`,
    ...(engine.unavailableMetrics.length === 0 ? [] : [`unavailable under Artillery (gauntlet's engine only): ${engine.unavailableMetrics.join(', ')}`]),
    ...(dropped.length === 0 ? [] : [`default thresholds not evaluated (their metric is unavailable under Artillery): ${dropped.join('; ')}`]),
    `the script, its processor, Artillery's report and log: ${dir}`,
  ];
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ') || '(no output)';
}
