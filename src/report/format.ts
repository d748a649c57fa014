/**
 * Number formatting for the report, one precision rule per dimension: the Handlebars helpers, the
 * findings and the recommendations all go through these, so a figure reads the same everywhere.
 */
import type { Dimension } from '../thresholds/units.ts';

/** Significant digits of every non-integer figure in the report. */
export const REPORT_SIGNIFICANT_DIGITS = 3;

const MS_PER_SECOND = 1000;
const SECONDS_PER_MINUTE = 60;
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `value` to 3 significant digits, without exponent notation or trailing zeros. */
export function significant(value: number, digits: number = REPORT_SIGNIFICANT_DIGITS): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  const factor = 10 ** (digits - 1 - magnitude);
  const rounded = Math.round(value * factor) / factor;
  return groupThousands(rounded.toFixed(decimals).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''));
}

function groupThousands(text: string): string {
  const [whole = '', fraction] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** Milliseconds: `0.412 ms`, `12.3 ms`, `1.23 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (Math.abs(ms) < MS_PER_SECOND) return `${significant(ms)} ms`;
  const seconds = ms / MS_PER_SECOND;
  if (Math.abs(seconds) < 2 * SECONDS_PER_MINUTE) return `${significant(seconds)} s`;
  const minutes = Math.floor(seconds / SECONDS_PER_MINUTE);
  return `${minutes} min ${Math.round(seconds - minutes * SECONDS_PER_MINUTE)} s`;
}

/** Per second: `1,234/s`, `12.3/s`. */
export function formatRate(perSecond: number): string {
  return `${significant(perSecond)}/s`;
}

/** A fraction as a percentage: 0.1234 -> `12.3%`; 0 and 1 exactly -> `0%`, `100%`. */
export function formatPercent(fraction: number): string {
  return `${significant(fraction * 100)}%`;
}

/** Binary units: `512 B`, `1.5 KiB`, `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${significant(value)} ${BYTE_UNITS[unit] ?? 'B'}`;
}

/** Whole numbers grouped (`12,345`); fractions to 3 significant digits. */
export function formatCount(n: number): string {
  return Number.isInteger(n) ? groupThousands(String(n)) : significant(n);
}

/** A signed relative change: +12.3%, -4.5%. */
export function formatChange(fraction: number): string {
  if (!Number.isFinite(fraction)) return fraction > 0 ? '+∞' : '-∞';
  return `${fraction > 0 ? '+' : ''}${formatPercent(fraction)}`;
}

/** A canonical value of `dimension` in its natural unit. */
export function formatValue(value: number, dimension: Dimension): string {
  switch (dimension) {
    case 'duration':
      return formatDuration(value);
    case 'rate':
      return formatRate(value);
    case 'ratio':
      return formatPercent(value);
    case 'bytes':
      return formatBytes(value);
    case 'count':
      return formatCount(value);
  }
}

/** Significant digits of a chart value: enough that bars of 1003 and 997 still differ. */
export const CHART_SIGNIFICANT_DIGITS = 6;

/** A plain number for a Mermaid data array: integers exact, fractions to 6 significant digits, no grouping. */
export function chartNumber(value: number): string {
  return (Number.isInteger(value) ? String(value) : significant(value, CHART_SIGNIFICANT_DIGITS)).replace(/,/g, '');
}
