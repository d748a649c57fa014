import { readdir, readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { renderScenarioReference, spliceScenarioReference } from '../../src/docs/scenario-reference.ts';
import { SCENARIO_GROUPS } from '../../src/scenario/definition.ts';
import { loadCatalog } from '../../src/scenario/catalog.ts';

it('the README scenario reference matches the scenario modules (run `npm run docs` to refresh it)', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const catalog = await loadCatalog();
  // Every module of every group is in the catalog (and so in the reference), not a fixed count that each new scenario must edit.
  const files = await Promise.all(SCENARIO_GROUPS.map(async (g) => (await readdir(new URL(`../../scenarios/${g}/`, import.meta.url))).filter((f) => f.endsWith('.ts'))));
  expect(catalog.length).toBe(files.flat().length);
  expect(catalog.length).toBeGreaterThanOrEqual(13);
  expect(spliceScenarioReference(readme, renderScenarioReference(catalog))).toBe(readme);
});
