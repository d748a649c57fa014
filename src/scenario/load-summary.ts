/** Turns a generator's LoadResult into the small summary results.json keeps per load run. */
import type { LoadResult, RunOutcome } from '../load/index.ts';
import type { LoadRunSummary } from './definition.ts';

export function summarizeLoadRun(label: string, result: LoadResult): LoadRunSummary {
  return {
    label,
    model: result.model,
    sent: result.sent,
    completed: result.completed,
    errors: result.errors,
    dropped: result.dropped,
    durationMs: result.durationMs,
    achievedRate: result.achievedRate,
    targetRate: result.targetRate,
    saturated: result.generatorSaturated.saturated,
    saturationReasons: result.generatorSaturated.reasons,
    outcome: describeOutcome(result.outcome),
    errorKinds: Object.fromEntries(Object.entries(result.errorCounts).filter(([, n]) => n > 0)),
  };
}

/** `completed`, `aborted: <reason>` or `drain timeout: N in flight after M ms`. */
export function describeOutcome(outcome: RunOutcome): string {
  switch (outcome.state) {
    case 'completed':
      return 'completed';
    case 'aborted':
      return `aborted: ${outcome.reason}`;
    case 'drain-timeout':
      return `drain timeout: ${outcome.inFlight} still in flight after ${outcome.drainTimeoutMs} ms`;
  }
}
