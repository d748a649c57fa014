/**
 * The measuring core of horizontal scaling, independent of how instances are deployed: for each
 * instance count, deploy, warm up, and search the highest open-model rate whose corrected p99 stays
 * under the objective with an unsaturated generator. `deploy` is a parameter so a test can present
 * one instance as N and see the efficiency figure fall.
 */
import type { LoadResult, RequestFactory } from '../../src/load/index.ts';
import { decodeHistogram } from '../../src/measure/histogram.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { LoadRunSummary } from '../../src/scenario/definition.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import { searchSustainableRate } from './scaling-search.ts';
import type { RateSearchOptions, RateSearchResult, SearchEnd } from './scaling-search.ts';

/** One open-model run at `rate` for `durationMs` against `url`. */
export type RunStep = (url: string, rate: number, durationMs: number, request: RequestFactory) => Promise<LoadResult>;

export interface ScalingPlan {
  readonly counts: readonly number[];
  /** p99 (corrected, from the intended send time) a rate must stay under, ms. */
  readonly objectiveMs: number;
  /** Share of requests that must be answered 2xx for a step to count. */
  readonly minSuccess: number;
  readonly stepMs: number;
  readonly warmupMs: number;
  readonly search: Omit<RateSearchOptions, 'startRate'> & { readonly startRate: number };
}

export interface ScalingDeps {
  /** Brings up `instances` instances and returns the URL clients use. */
  deploy(instances: number): Promise<string>;
  runStep: RunStep;
  request: RequestFactory;
  phase(label: string): void;
}

/** What one load step showed. */
export interface StepFigures {
  readonly label: string;
  readonly p99Ms: number | null;
  readonly successRate: number;
  /** 2xx responses per second over the run. */
  readonly throughput: number;
  readonly saturated: boolean;
  readonly saturationReasons: readonly string[];
  readonly instanceCounts: Readonly<Record<string, number>>;
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly summary: LoadRunSummary;
  readonly encodedLatency: string | null;
}

export type StepVerdict = 'sustainable' | 'latency' | 'errors' | 'generator';

export interface CountResult {
  readonly instances: number;
  readonly search: RateSearchResult<StepFigures>;
  readonly warmup: StepFigures;
  /** Why the rate above the found one was not accepted, or how the search ended without a failure. */
  readonly limitedBy: StepVerdict | Exclude<SearchEnd, 'precision'> | 'none-sustainable';
}

/** Judges a step: the generator first (its numbers would measure gauntlet), then errors, then latency. */
export function verdictOf(f: StepFigures, plan: Pick<ScalingPlan, 'objectiveMs' | 'minSuccess'>): StepVerdict {
  if (f.saturated) return 'generator';
  if (f.successRate < plan.minSuccess) return 'errors';
  if (f.p99Ms === null || f.p99Ms > plan.objectiveMs) return 'latency';
  return 'sustainable';
}

/** Figures of one load run: 2xx share of everything due (dropped included), corrected p99. */
export function stepFigures(label: string, r: LoadResult): StepFigures {
  let ok = 0;
  for (const [status, n] of Object.entries(r.statusCounts)) if (status.startsWith('2')) ok += n;
  const due = r.sent + r.dropped;
  const corrected = r.latency.corrected;
  const latency = corrected === null ? null : summarize(decodeHistogram(corrected));
  return {
    label,
    p99Ms: latency?.p99 ?? null,
    successRate: due === 0 ? 0 : ok / due,
    throughput: r.durationMs > 0 ? ok / (r.durationMs / 1000) : 0,
    saturated: r.generatorSaturated.saturated,
    saturationReasons: r.generatorSaturated.reasons,
    instanceCounts: r.instanceCounts,
    statusCounts: r.statusCounts,
    summary: summarizeLoadRun(label, r),
    encodedLatency: corrected,
  };
}

/** Runs the plan: per count, deploy, warm up at the start rate, then search. */
export async function measureScaling(plan: ScalingPlan, deps: ScalingDeps): Promise<CountResult[]> {
  const results: CountResult[] = [];
  let startRate = plan.search.startRate;
  for (const instances of plan.counts) {
    deps.phase(`${instances} instance${instances === 1 ? '' : 's'}: deploy`);
    const url = await deps.deploy(instances);
    deps.phase(`${instances} instances: warm-up`);
    // Fresh processes: JIT, caches and keep-alive sockets warm up here, not in the first step.
    const warmup = stepFigures(`n=${instances} warm-up`, await deps.runStep(url, plan.search.minRate, plan.warmupMs, deps.request));
    const search = await searchSustainableRate(
      (rate, step) => {
        deps.phase(`${instances} instances: step ${step + 1}, ${rate}/s`);
        return deps.runStep(url, rate, plan.stepMs, deps.request).then((r) => stepFigures(`n=${instances} step ${step + 1} @${rate}/s`, r));
      },
      (f) => verdictOf(f, plan) === 'sustainable',
      { ...plan.search, startRate: Math.min(plan.search.maxRate, Math.max(plan.search.minRate, startRate)) },
    );
    results.push({ instances, search, warmup, limitedBy: limitOf(search, plan) });
    // More instances should sustain at least about as much: start there, saving doubling steps.
    if (search.best !== null) startRate = search.best.rate;
  }
  return results;
}

function limitOf(search: RateSearchResult<StepFigures>, plan: ScalingPlan): CountResult['limitedBy'] {
  if (search.best === null) return 'none-sustainable';
  if (search.ceiling !== null) return verdictOf(search.ceiling.outcome, plan);
  return search.end === 'precision' ? 'steps' : search.end;
}

/** Scaling efficiency: throughput(n) / (n x throughput(1)); null without both figures. */
export function efficiency(throughputN: number | null, instances: number, throughput1: number | null): number | null {
  if (throughputN === null || throughput1 === null || throughput1 <= 0) return null;
  return throughputN / (instances * throughput1);
}
