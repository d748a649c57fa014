/** Turns a generator's LoadResult into the small summary results.json keeps per load run. */
import type { LoadResult } from '../load/index.ts';
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
  };
}
