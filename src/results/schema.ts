/**
 * `results.json`: everything a run measured, as plain data. Renderers and `compare` read only this,
 * so a saved run can be re-rendered or compared without re-running. Bump RESULTS_SCHEMA_VERSION on
 * any incompatible change.
 */
import type { Profile } from '../config/defaults.ts';
import type { EnvironmentInfo } from '../measure/environment.ts';
import type { ProcessSample } from '../measure/process-sample.ts';
import type { ResourceSample, ResourceTrend } from '../measure/resource-trend.ts';
import type { LatencySummary } from '../measure/summary.ts';
import type { Check, LoadRunSummary, ScenarioGroup, ScenarioParams, SeriesPoint } from '../scenario/definition.ts';
import type { Dimension } from '../thresholds/units.ts';

export const RESULTS_SCHEMA_VERSION = 1;

export type ScenarioStatus = 'passed' | 'failed' | 'errored' | 'skipped';

export interface ThresholdResult {
  readonly source: string;
  readonly metric: string;
  readonly dimension: Dimension;
  /** Canonical value the threshold compares against. */
  readonly expected: number;
  readonly op: string;
  readonly state: 'passed' | 'failed' | 'not-measured';
  readonly actual: number | null;
}

export interface HistogramResult {
  /** Compressed base64 HDR histogram, values in µs. */
  readonly encoded: string;
  /** In ms; null for an empty histogram. */
  readonly summary: LatencySummary | null;
}

export interface ScenarioResult {
  readonly id: string;
  readonly group: ScenarioGroup;
  readonly title: string;
  readonly objective: string;
  /** What was executed, in one sentence. */
  readonly executed: string;
  readonly status: ScenarioStatus;
  /** Why it failed, errored or was skipped, in one line each. */
  readonly reasons: readonly string[];
  readonly params: ScenarioParams;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly metrics: Readonly<Record<string, number>>;
  /**
   * Each metric's declared dimension (from the definition's `metrics`), so the report formats a
   * `window` of 60000 as 60 s rather than a count. Optional: files written before it existed fall
   * back to the naming rules of src/report/metric-kind.ts.
   */
  readonly metricDimensions?: Readonly<Record<string, Dimension>>;
  readonly checks: readonly Check[];
  readonly thresholds: readonly ThresholdResult[];
  readonly histograms: Readonly<Record<string, HistogramResult>>;
  readonly series: Readonly<Record<string, readonly SeriesPoint[]>>;
  readonly loadRuns: readonly LoadRunSummary[];
  readonly tables: Readonly<Record<string, readonly Readonly<Record<string, string | number | boolean | null>>[]>>;
  readonly notes: readonly string[];
  /**
   * gauntlet's own process while the scenario ran (memory at the end, GC and event-loop figures over
   * the scenario): the harness's side of the numbers. Null when the scenario did not run.
   */
  readonly harness: HarnessSample | null;
  /** Set when another engine than gauntlet's produced the result (`run --engine artillery`); absent = gauntlet's own. */
  readonly engine?: EngineInfo;
}

/** Who measured a result, and what that costs in accuracy: the report and compare read it. */
export interface EngineInfo {
  readonly name: 'artillery';
  readonly version: string;
  /** local, aws:lambda, aws:ecs or az:aci. */
  readonly platform: string;
  readonly latency: {
    /** The engine's own metric, e.g. Artillery's `http.response_time`. */
    readonly metric: string;
    /** What one latency sample spans, in words (time to first byte, from the actual send). */
    readonly measures: string;
    readonly resolutionMs: number;
    /** Relative error of its percentiles (a sketch, not an HDR histogram). */
    readonly relativeError: number;
    /** False: no histogram is kept, so comparisons use summaries and per-period series only. */
    readonly rawHistogram: false;
    readonly correctedForCoordinatedOmission: false;
  };
  /** The scenario's metrics under gauntlet's engine that this engine cannot give. */
  readonly unavailableMetrics: readonly string[];
}

/** A ProcessSample of gauntlet itself, GC and event-loop figures covering one scenario. */
export type HarnessSample = ProcessSample;

export interface TargetInfo {
  readonly kind: 'embedded' | 'external';
  readonly url: string;
  /** The embedded target's store and why it was chosen; null for an external one. */
  readonly store: { readonly kind: string; readonly reason: string } | null;
}

export interface RunResults {
  readonly schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  readonly tool: { readonly name: 'gauntlet'; readonly version: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly profile: Profile;
  /** The command line's selection, for the report. */
  readonly selection: { readonly suite: string; readonly scenarios: readonly string[] };
  readonly target: TargetInfo;
  readonly environment: EnvironmentInfo;
  /** Set when the run was cut short (Ctrl-C, the target died): what was measured is still here. */
  readonly interrupted: string | null;
  readonly scenarios: readonly ScenarioResult[];
  readonly summary: Readonly<Record<ScenarioStatus, number>> & { readonly total: number };
  /**
   * Memory and open FDs of gauntlet and of the embedded target sampled over the whole run, and
   * their slopes. Optional: files written before it existed have none.
   */
  readonly resources?: ResourceTrends;
  /** The exit code the run ended with. */
  readonly exitCode: number;
}

export interface ResourceTrends {
  readonly intervalMs: number;
  /** True in profiles where a growing trend fails the run (soak); elsewhere trends inform. */
  readonly enforced: boolean;
  /** Two-sided confidence level of every trend's interval. */
  readonly confidence: number;
  readonly samples: readonly ResourceSample[];
  readonly trends: readonly ResourceTrend[];
  /** Why a process could not be sampled, one line each. */
  readonly unavailable: readonly string[];
}
