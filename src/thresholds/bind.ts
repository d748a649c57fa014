/** Checks a parsed threshold against the metrics a scenario declares, giving canonical values. */
import type { Operator, ParsedThreshold } from './parse.ts';
import { BARE_NUMBER, type Dimension, UNITS, unitsFor } from './units.ts';

/** A metric a scenario measures and thresholds may name. */
export interface MetricSpec {
  readonly name: string;
  readonly dimension: Dimension;
  readonly description: string;
}

export interface Threshold {
  readonly source: string;
  readonly metric: string;
  readonly op: Operator;
  /** In the dimension's canonical unit: ms, fraction, per second, bytes or count. */
  readonly value: number;
  readonly dimension: Dimension;
}

export type BindOutcome = { readonly ok: true; readonly threshold: Threshold } | { readonly ok: false; readonly error: string };

/** Binds `parsed` to one of `metrics`; an unknown metric or a unit of the wrong kind is an error. */
export function bindThreshold(parsed: ParsedThreshold, metrics: readonly MetricSpec[], scenarioId: string): BindOutcome {
  const fail = (why: string): BindOutcome => ({ ok: false, error: `threshold '${parsed.source}' for ${scenarioId}: ${why}` });
  const spec = metrics.find((m) => m.name === parsed.metric);
  if (spec === undefined) {
    const known = metrics.map((m) => m.name).join(', ');
    return fail(`unknown metric '${parsed.metric}'; ${scenarioId} measures: ${known === '' ? '(none)' : known}`);
  }
  const unitDef = parsed.unit === undefined ? BARE_NUMBER[spec.dimension] : UNITS[parsed.unit];
  if (unitDef === undefined) {
    return fail(`'${spec.name}' is a ${spec.dimension}: give a unit (${unitsFor(spec.dimension).join(', ')})`);
  }
  if (unitDef.dimension !== spec.dimension) {
    const allowed = [...unitsFor(spec.dimension), ...(BARE_NUMBER[spec.dimension] === undefined ? [] : ['no unit'])];
    return fail(`unit '${parsed.unit ?? ''}' does not fit '${spec.name}', a ${spec.dimension} (use ${allowed.join(', ')})`);
  }
  return {
    ok: true,
    threshold: { source: parsed.source, metric: spec.name, op: parsed.op, value: parsed.number * unitDef.factor, dimension: spec.dimension },
  };
}
