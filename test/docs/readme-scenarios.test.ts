import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { renderScenarioReference, spliceScenarioReference } from '../../src/docs/scenario-reference.ts';
import { loadCatalog } from '../../src/scenario/catalog.ts';

it('the README scenario reference matches the scenario modules (run `npm run docs` to refresh it)', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const catalog = await loadCatalog();
  expect(catalog.length).toBe(12);
  expect(spliceScenarioReference(readme, renderScenarioReference(catalog))).toBe(readme);
});
