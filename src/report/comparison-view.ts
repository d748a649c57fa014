/** The baseline comparison as the report shows it: regressions first, then every judged metric. */
import type { Comparison, MetricComparison, MetricVerdict } from './compare.ts';

export const VERDICT_LABELS: Readonly<Record<MetricVerdict, string>> = {
  regression: '❌ regression',
  improvement: '🟢 improvement',
  'within-noise': '〰️ within noise',
  'within-tolerance': '✅ within tolerance',
  unverified: '⚠️ beyond tolerance, noise unknown',
  informational: 'ℹ️ not judged',
};

export interface ComparisonRow extends MetricComparison {
  readonly scenarioId: string;
  readonly title: string;
  readonly label: string;
}

export interface ComparisonView {
  readonly tolerance: number;
  readonly baseline: Comparison['baseline'];
  readonly regressionCount: number;
  readonly statusRegressions: readonly { readonly id: string; readonly title: string; readonly from: string; readonly to: string }[];
  readonly regressions: readonly ComparisonRow[];
  /** Rows that moved beyond the tolerance (regressions, improvements, noise, unverified). */
  readonly changed: readonly ComparisonRow[];
  /** Every judged row. */
  readonly rows: readonly ComparisonRow[];
  readonly onlyInBaseline: readonly string[];
  readonly onlyInCurrent: readonly string[];
  readonly caveats: readonly string[];
}

/** Flattens a comparison into rows for the report and the step summary. */
export function comparisonView(c: Comparison): ComparisonView {
  const rows = c.scenarios.flatMap((s) =>
    s.metrics.filter((m) => m.verdict !== 'informational').map((m) => ({ ...m, scenarioId: s.id, title: s.title, label: VERDICT_LABELS[m.verdict] })),
  );
  return {
    tolerance: c.tolerance,
    baseline: c.baseline,
    regressionCount: c.regressionCount,
    statusRegressions: c.scenarios.filter((s) => s.statusRegressed).map((s) => ({ id: s.id, title: s.title, from: s.baselineStatus, to: s.currentStatus })),
    regressions: rows.filter((r) => r.verdict === 'regression'),
    changed: rows.filter((r) => r.verdict !== 'within-tolerance'),
    rows,
    onlyInBaseline: c.onlyInBaseline,
    onlyInCurrent: c.onlyInCurrent,
    caveats: c.caveats,
  };
}
