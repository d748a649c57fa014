/** Dimensions a threshold value can have, and the units that express each, in canonical form. */

/** duration: milliseconds; ratio: a fraction (0.01 = 1%); rate: per second; bytes; count: a plain number. */
export type Dimension = 'duration' | 'ratio' | 'rate' | 'bytes' | 'count';

interface UnitDef {
  readonly dimension: Dimension;
  /** Multiply a value in this unit by this factor to get the canonical value. */
  readonly factor: number;
}

export const UNITS: Readonly<Record<string, UnitDef>> = {
  us: { dimension: 'duration', factor: 0.001 },
  ms: { dimension: 'duration', factor: 1 },
  s: { dimension: 'duration', factor: 1000 },
  '%': { dimension: 'ratio', factor: 0.01 },
  '/s': { dimension: 'rate', factor: 1 },
  '/min': { dimension: 'rate', factor: 1 / 60 },
  B: { dimension: 'bytes', factor: 1 },
  KiB: { dimension: 'bytes', factor: 1024 },
  MiB: { dimension: 'bytes', factor: 1024 ** 2 },
  GiB: { dimension: 'bytes', factor: 1024 ** 3 },
};

/** What a bare number (no unit) means for each dimension; `undefined` = a unit is required. */
export const BARE_NUMBER: Readonly<Record<Dimension, UnitDef | undefined>> = {
  duration: undefined,
  ratio: { dimension: 'ratio', factor: 1 },
  rate: undefined,
  bytes: undefined,
  count: { dimension: 'count', factor: 1 },
};

export function unitsFor(dimension: Dimension): string[] {
  return Object.entries(UNITS)
    .filter(([, def]) => def.dimension === dimension)
    .map(([unit]) => unit);
}
