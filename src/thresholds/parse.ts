/**
 * The threshold grammar (whitespace between tokens is optional):
 *
 *   threshold := [ scenario-id ":" ] metric op number [ unit ]
 *   scenario-id := [a-z0-9][a-z0-9-]*
 *   metric    := name ( "." name )*          name := [a-z][a-z0-9_]*
 *   op        := "<" | "<=" | ">" | ">=" | "==" | "!="
 *   number    := a finite decimal, e.g. 15, 0.5, 1e3 (no NaN, no Infinity)
 *   unit      := us | ms | s | % | /s | /min | B | KiB | MiB | GiB
 *
 * Examples: `latency.p95 < 15ms`, `errors.rate < 1%`, `duplicates == 0`, `throughput >= 500/s`,
 * `family-creation:latency.p99 <= 0.25s`. Parsing knows no metrics; `bindThreshold` checks the
 * metric and unit against what a scenario measures.
 */
import { UNITS } from './units.ts';

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface ParsedThreshold {
  readonly source: string;
  /** Set when the expression names its scenario (`id:metric op value`). */
  readonly scenarioId?: string;
  readonly metric: string;
  readonly op: Operator;
  readonly number: number;
  /** As written; absent for a bare number. */
  readonly unit?: string;
}

export type ParseOutcome =
  | { readonly ok: true; readonly threshold: ParsedThreshold }
  | { readonly ok: false; readonly error: string };

const SCENARIO_ID = /^[a-z0-9][a-z0-9-]*$/;
const METRIC = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;
const OPERATOR = /<=|>=|==|!=|<|>/;
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?/i;
const OPERATORS_HELP = '<, <=, >, >=, ==, !=';

/** Parses one threshold expression; never throws. */
export function parseThreshold(source: string): ParseOutcome {
  const fail = (why: string): ParseOutcome => ({ ok: false, error: `threshold '${source}': ${why}` });
  const text = source.trim();
  if (text === '') return fail('empty expression; write e.g. "latency.p95 < 15ms"');

  const opMatch = OPERATOR.exec(text);
  if (opMatch === null) return fail(`no comparison operator (one of ${OPERATORS_HELP})`);
  const op = opMatch[0] as Operator;
  let left = text.slice(0, opMatch.index).trim();
  const right = text.slice(opMatch.index + op.length).trim();

  let scenarioId: string | undefined;
  const colon = left.indexOf(':');
  if (colon >= 0) {
    scenarioId = left.slice(0, colon).trim();
    left = left.slice(colon + 1).trim();
    if (!SCENARIO_ID.test(scenarioId)) return fail(`'${scenarioId}' is not a scenario id (lower-case letters, digits, '-')`);
  }
  if (left === '') return fail('no metric before the operator');
  if (!METRIC.test(left)) return fail(`'${left}' is not a metric name (e.g. latency.p95, errors.rate)`);

  const numMatch = NUMBER.exec(right);
  if (numMatch === null) return fail(`'${right}' is not a number (write a finite decimal such as 15 or 0.5)`);
  const number = Number(numMatch[0]);
  if (!Number.isFinite(number)) return fail(`'${numMatch[0]}' is not a finite number`);
  const unit = right.slice(numMatch[0].length).trim();
  if (unit !== '' && !(unit in UNITS)) {
    return fail(`unknown unit '${unit}' (one of ${Object.keys(UNITS).join(', ')})`);
  }

  const threshold: ParsedThreshold = {
    source: text,
    metric: left,
    op,
    number,
    ...(scenarioId === undefined ? {} : { scenarioId }),
    ...(unit === '' ? {} : { unit }),
  };
  return { ok: true, threshold };
}
