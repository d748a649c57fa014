/** The checked-in results fixtures (regenerate with `npx tsx test/fixtures/results/make-fixture.ts`). */
import { readFileSync } from 'node:fs';
import type { RunResults } from '../../src/results/schema.ts';

export const FIXTURE_DIR = new URL('../fixtures/results/', import.meta.url).pathname;

/** A fresh deep copy of a fixture, safe to mutate. */
export function fixture(name: 'results' | 'noise' | 'regression'): RunResults {
  return JSON.parse(readFileSync(`${FIXTURE_DIR}${name}.json`, 'utf8')) as RunResults;
}

/** A mutable view of a fixture, for tests that change one field and look for the change. */
export type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };

export function mutableFixture(name: 'results' | 'noise' | 'regression'): Mutable<RunResults> {
  return fixture(name) as Mutable<RunResults>;
}
