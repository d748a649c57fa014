/**
 * `Server-Timing` (W3C Server Timing) parsing and per-query recording: one HDR histogram per query
 * name, the DB total per response, counts and sums for the cross-check against /metrics.
 */
import { createLatencyHistogram, encodeHistogram, recordMillis } from '../../src/measure/histogram.ts';
import type { Histogram } from '../../src/measure/histogram.ts';

export interface ServerTimingEntry {
  readonly name: string;
  /** The `dur` parameter in ms; null when absent or not a number. */
  readonly durMs: number | null;
}

/** Offending responses quoted per kind of problem. */
export const TIMING_EVIDENCE = 5;

/** Parses a Server-Timing value (`name;dur=1.2;desc="x", name2;dur=0.3`); commas inside quotes do not split. */
export function parseServerTiming(value: string): ServerTimingEntry[] {
  const entries: ServerTimingEntry[] = [];
  for (const part of splitOutsideQuotes(value, ',')) {
    const [rawName, ...params] = splitOutsideQuotes(part, ';').map((s) => s.trim());
    if (rawName === undefined || rawName === '') continue;
    let durMs: number | null = null;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'dur') continue;
      const text = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      const n = Number(text);
      durMs = text !== '' && Number.isFinite(n) ? n : null;
      break;
    }
    entries.push({ name: rawName, durMs });
  }
  return entries;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    else if (c === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Count and sum (ms) of one query's reported durations. */
export interface QueryTotals {
  readonly count: number;
  readonly sumMs: number;
}

/** What the recorder saw, as plain data. */
export interface TimingReport {
  readonly responses: number;
  /** Responses without a Server-Timing header (or with no parsable entry). */
  readonly missing: number;
  /** Successful responses lacking one of the required queries. */
  readonly incomplete: number;
  /** Entries without a numeric `dur`. */
  readonly withoutDuration: number;
  readonly totals: Readonly<Record<string, QueryTotals>>;
  /** Evidence: the first offending responses, e.g. `#12 201: no Server-Timing`. */
  readonly evidence: readonly string[];
}

/** Records every response's Server-Timing; `required` queries must appear on every `okStatus` response. */
export class ServerTimingRecorder {
  readonly #histograms = new Map<string, Histogram>();
  readonly #totals = new Map<string, { count: number; sumMs: number }>();
  readonly #dbTotal = createLatencyHistogram();
  readonly #required: readonly string[];
  readonly #okStatus: number;
  readonly #evidence: string[] = [];
  #responses = 0;
  #missing = 0;
  #incomplete = 0;
  #withoutDuration = 0;

  constructor(required: readonly string[], okStatus: number) {
    this.#required = required;
    this.#okStatus = okStatus;
  }

  /** One response: its status and its Server-Timing value (undefined when the header is absent). */
  record(status: number, header: string | undefined): void {
    this.#responses += 1;
    const entries = header === undefined ? [] : parseServerTiming(header);
    if (entries.length === 0) {
      this.#missing += 1;
      this.#note(`#${this.#responses} ${status}: ${header === undefined ? 'no Server-Timing header' : `unparsable Server-Timing "${header.slice(0, 80)}"`}`);
      return;
    }
    let total = 0;
    for (const { name, durMs } of entries) {
      if (durMs === null) {
        this.#withoutDuration += 1;
        this.#note(`#${this.#responses} ${status}: ${name} has no numeric dur`);
        continue;
      }
      total += durMs;
      let histogram = this.#histograms.get(name);
      if (histogram === undefined) {
        histogram = createLatencyHistogram();
        this.#histograms.set(name, histogram);
      }
      recordMillis(histogram, durMs);
      const sums = this.#totals.get(name) ?? { count: 0, sumMs: 0 };
      sums.count += 1;
      sums.sumMs += durMs;
      this.#totals.set(name, sums);
    }
    recordMillis(this.#dbTotal, total);
    if (status === this.#okStatus) {
      const absent = this.#required.filter((q) => !entries.some((e) => e.name === q));
      if (absent.length > 0) {
        this.#incomplete += 1;
        this.#note(`#${this.#responses} ${status}: Server-Timing "${header ?? ''}" lacks ${absent.join(', ')}`);
      }
    }
  }

  /** Per-query histograms by query name. */
  histograms(): ReadonlyMap<string, Histogram> {
    return this.#histograms;
  }

  /** Sum of every query's duration per response. */
  dbTotal(): Histogram {
    return this.#dbTotal;
  }

  encoded(): Record<string, string> {
    return Object.fromEntries([...this.#histograms].map(([name, h]) => [name, encodeHistogram(h)]));
  }

  report(): TimingReport {
    return {
      responses: this.#responses,
      missing: this.#missing,
      incomplete: this.#incomplete,
      withoutDuration: this.#withoutDuration,
      totals: Object.fromEntries([...this.#totals].map(([name, t]) => [name, { count: t.count, sumMs: t.sumMs }])),
      evidence: [...this.#evidence],
    };
  }

  #note(line: string): void {
    if (this.#evidence.length < TIMING_EVIDENCE) this.#evidence.push(line);
  }
}
