/**
 * The scenario API: a scenario module default-exports a `ScenarioDefinition`. Scenarios never print,
 * never exit, never read argv: they get a context, run, and return plain data.
 */
import type { ArtilleryTraffic } from '../artillery/traffic.ts';
import type { Profile } from '../config/defaults.ts';
import type { ErrorKind } from '../load/errors.ts';
import type { MetricSpec } from '../thresholds/bind.ts';
import type { ScenarioContext } from './context-types.ts';
import type { DeploymentNeeds } from './deployment-needs.ts';

export type ScenarioGroup = 'concurrency' | 'scalability' | 'reliability';
export const SCENARIO_GROUPS: readonly ScenarioGroup[] = ['concurrency', 'scalability', 'reliability'];
/** Each group's heading, in the report and the README's scenario reference. */
export const SCENARIO_GROUP_TITLES: Readonly<Record<ScenarioGroup, string>> = {
  concurrency: 'Concurrency and correctness',
  scalability: 'Scalability and resources',
  reliability: 'Reliability under faults',
};

/** Parameters of one profile: plain JSON values, shown in the report as they are. */
export type ScenarioParams = Readonly<Record<string, number | string | boolean | readonly number[]>>;

export interface ScenarioDefinition<P extends ScenarioParams = ScenarioParams> {
  /** Lower-case, digits and '-': used in --scenario, thresholds and file names. */
  readonly id: string;
  readonly group: ScenarioGroup;
  readonly title: string;
  /** One sentence: what the scenario establishes. */
  readonly objective: string;
  /** `smoke` takes seconds (tests, CI); `standard` is the default; `soak` is long. */
  readonly profiles: Readonly<Record<Profile, P>>;
  /** Every metric `run` reports; thresholds may name only these. */
  readonly metrics: readonly MetricSpec[];
  /** Default thresholds, in the threshold grammar (README, "Thresholds"). */
  readonly thresholds: readonly string[];
  /** What the scenario executes with these parameters, in one sentence, for the report. */
  describe(params: P): string;
  /** The embedded deployment it needs; absent = whatever is running. */
  deployment?(params: P): DeploymentNeeds;
  /** Set when the scenario cannot run against an external --target, saying why (it is then skipped, never passed). */
  readonly needsEmbeddedTarget?: string;
  run(ctx: ScenarioContext, params: P): Promise<ScenarioOutput>;
  /** The scenario's traffic for Artillery (export-artillery, run --engine artillery); absent = it cannot be expressed there. */
  artillery?(params: P): ArtilleryTraffic;
}

/** One oracle's verdict: what was expected, what the service showed. */
export interface Check {
  readonly name: string;
  readonly expected: string | number;
  readonly actual: string | number;
  readonly passed: boolean;
  /** Evidence for a failure (a few offending IDs, the first violation, ...). */
  readonly detail?: string;
}

/** Counts of one generator run, kept in results so the report can say what load was offered. */
export interface LoadRunSummary {
  readonly label: string;
  readonly model: 'open' | 'closed' | 'burst';
  readonly sent: number;
  readonly completed: number;
  readonly errors: number;
  readonly dropped: number;
  readonly durationMs: number;
  readonly achievedRate: number;
  readonly targetRate: number | null;
  readonly saturated: boolean;
  readonly saturationReasons: readonly string[];
  /** `completed`, or why the run ended early (aborted, drain timeout): an incomplete run fails the scenario. */
  readonly outcome: string;
  /** The errors by kind (src/load/errors.ts), only kinds seen; absent in results saved before it existed. */
  readonly errorKinds?: Readonly<Partial<Record<ErrorKind, number>>>;
}

export interface ScenarioOutput {
  /** Values of the declared metrics, in canonical units (ms, fraction, per second, bytes, count). */
  readonly metrics: Readonly<Record<string, number>>;
  readonly checks: readonly Check[];
  /** Encoded HDR histograms (µs) by name, e.g. `latency`, `latency.uncorrected`. */
  readonly histograms?: Readonly<Record<string, string>>;
  /** Per-interval series by name, for charts. */
  readonly series?: Readonly<Record<string, readonly SeriesPoint[]>>;
  /** Every generator run of the scenario; a saturated one fails the scenario. */
  readonly loadRuns?: readonly LoadRunSummary[];
  /** Scenario-specific tables (per node, per batch, ...): plain JSON. */
  readonly tables?: Readonly<Record<string, readonly Readonly<Record<string, string | number | boolean | null>>[]>>;
  /** Honest statements about what the numbers mean on this machine. */
  readonly notes?: readonly string[];
}

/** One point of a chartable series: x (seconds from start, batch number, ...) and named y values. */
export interface SeriesPoint {
  readonly x: number;
  readonly [y: string]: number;
}
