/** `npm run docs`: rewrites the README's scenario reference from the scenario catalog. */
import { readFile, writeFile } from 'node:fs/promises';
import { loadCatalog } from '../scenario/catalog.ts';
import { renderScenarioReference, spliceScenarioReference } from './scenario-reference.ts';

const README = new URL('../../README.md', import.meta.url);
const before = await readFile(README, 'utf8');
const after = spliceScenarioReference(before, renderScenarioReference(await loadCatalog()));
await writeFile(README, after);
process.stdout.write(after === before ? 'README.md scenario reference is up to date\n' : 'README.md scenario reference rewritten\n');
