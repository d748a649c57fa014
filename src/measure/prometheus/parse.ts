/**
 * Parser for the Prometheus text exposition format (version 0.0.4): HELP/TYPE metadata, labels
 * with escapes, NaN/±Inf values, optional millisecond timestamps. Output is plain samples.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

export type PromMetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromFamily {
  name: string;
  type: PromMetricType;
  help: string | null;
}

/** One sample line. `family` is the declared family it belongs to (`x` for `x_bucket`), else its own name. */
export interface PromSample {
  name: string;
  family: string;
  labels: Record<string, string>;
  value: number;
  timestampMs: number | null;
}

export interface PromExposition {
  families: Record<string, PromFamily>;
  samples: PromSample[];
}

export type PromParseResult =
  | { state: 'parsed'; exposition: PromExposition }
  | { state: 'invalid'; lineNumber: number; line: string; reason: string };

const METRIC_TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;
const TIMESTAMP = /^-?\d+$/;
const SUFFIXES_BY_TYPE: Readonly<Record<PromMetricType, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['_sum', '_count', '_created'],
  counter: ['_total', '_created'],
  gauge: [],
  untyped: [],
};

class LineError extends Error {}

/** Parses a float as Prometheus does: decimal, `NaN`, `+Inf`, `-Inf` (case-insensitive). */
export function parsePromValue(text: string): number | null {
  if (DECIMAL.test(text)) return Number(text);
  if (/^nan$/i.test(text)) return Number.NaN;
  const inf = INFINITY.exec(text);
  if (inf) return inf[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return null;
}

/** Parses a whole exposition; the first malformed line makes the result `invalid`, naming the line. */
export function parsePrometheusText(text: string): PromParseResult {
  const families: Record<string, PromFamily> = {};
  const typed = new Set<string>();
  const samples: PromSample[] = [];
  const lines = text.split('\n');
  for (const [index, rawLine] of lines.entries()) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    try {
      const trimmed = line.trimStart();
      if (trimmed === '') continue;
      if (trimmed.startsWith('#')) parseComment(trimmed, families, typed);
      else samples.push(parseSample(trimmed));
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      return { state: 'invalid', lineNumber: index + 1, line, reason: error.message };
    }
  }
  for (const sample of samples) sample.family = familyOf(sample.name, families);
  return { state: 'parsed', exposition: { families, samples } };
}

function familyOf(name: string, families: Readonly<Record<string, PromFamily>>): string {
  if (name in families) return name;
  for (const family of Object.values(families)) {
    for (const suffix of SUFFIXES_BY_TYPE[family.type]) {
      if (name === family.name + suffix) return family.name;
    }
  }
  return name;
}

function family(families: Record<string, PromFamily>, name: string): PromFamily {
  const existing = families[name];
  if (existing) return existing;
  const created: PromFamily = { name, type: 'untyped', help: null };
  families[name] = created;
  return created;
}

function parseComment(line: string, families: Record<string, PromFamily>, typed: Set<string>): void {
  const match = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (!match) return; // any other comment is free text
  const [, keyword, name = '', rest = ''] = match;
  if (METRIC_NAME.exec(name)?.[0] !== name) throw new LineError(`invalid metric name "${name}" in # ${keyword ?? ''}`);
  if (keyword === 'HELP') {
    family(families, name).help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
    return;
  }
  const type = rest.trim();
  if (!METRIC_TYPES.has(type)) throw new LineError(`unknown metric type "${type}" for ${name}; expected counter, gauge, histogram, summary or untyped`);
  if (typed.has(name)) throw new LineError(`second # TYPE line for ${name}`);
  typed.add(name);
  family(families, name).type = type as PromMetricType;
}

function parseSample(line: string): PromSample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined) throw new LineError('a sample line must start with a metric name');
  let rest = line.slice(name.length).trimStart();
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) rest = parseLabels(rest.slice(1), labels);
  const fields = rest.split(/[ \t]+/).filter((field) => field !== '');
  if (fields.length === 0) throw new LineError(`sample ${name} has no value`);
  if (fields.length > 2) throw new LineError(`unexpected text after the timestamp of ${name}: "${fields.slice(2).join(' ')}"`);
  const [valueText = '', timestampText] = fields;
  const value = parsePromValue(valueText);
  if (value === null) throw new LineError(`invalid value "${valueText}" for ${name}`);
  if (timestampText !== undefined && !TIMESTAMP.test(timestampText)) {
    throw new LineError(`invalid timestamp "${timestampText}" for ${name}; expected integer milliseconds`);
  }
  return { name, family: name, labels, value, timestampMs: timestampText === undefined ? null : Number(timestampText) };
}

/** Parses `a="1",b="x\"y"}` into `labels`; returns the text after the closing brace. */
function parseLabels(text: string, labels: Record<string, string>): string {
  let rest = text;
  for (;;) {
    rest = rest.trimStart();
    if (rest.startsWith('}')) return rest.slice(1);
    const labelName = LABEL_NAME.exec(rest)?.[0];
    if (labelName === undefined) throw new LineError(`expected a label name or "}" at "${rest.slice(0, 20)}"`);
    if (labelName in labels) throw new LineError(`duplicate label "${labelName}"`);
    rest = rest.slice(labelName.length).trimStart();
    if (!rest.startsWith('=')) throw new LineError(`expected "=" after label ${labelName}`);
    rest = rest.slice(1).trimStart();
    if (!rest.startsWith('"')) throw new LineError(`label ${labelName} value must be in double quotes`);
    const [value, after] = readQuoted(rest.slice(1), labelName);
    labels[labelName] = value;
    rest = after.trimStart();
    if (rest.startsWith(',')) rest = rest.slice(1);
    else if (!rest.startsWith('}')) throw new LineError(`expected "," or "}" after label ${labelName}`);
  }
}

function readQuoted(text: string, labelName: string): [string, string] {
  let value = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"') return [value, text.slice(i + 1)];
    if (c !== '\\') {
      value += c;
      continue;
    }
    const escaped = text[++i];
    if (escaped === '\\' || escaped === '"') value += escaped;
    else if (escaped === 'n') value += '\n';
    else throw new LineError(`invalid escape "\\${escaped ?? ''}" in label ${labelName}; only \\\\, \\" and \\n are allowed`);
  }
  throw new LineError(`unterminated value of label ${labelName}`);
}
