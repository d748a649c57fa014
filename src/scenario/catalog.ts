/** Finds, loads and validates scenario modules; a module that does not load or is malformed is bad input (exit 2). */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { PROFILES } from '../config/defaults.ts';
import { UsageError } from '../exit-codes.ts';
import { bindThreshold } from '../thresholds/bind.ts';
import { parseThreshold } from '../thresholds/parse.ts';
import { SCENARIO_GROUPS } from './definition.ts';
import type { ScenarioDefinition } from './definition.ts';

/** The scenarios that ship with gauntlet, one folder per group. */
export const BUILTIN_SCENARIOS_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

export interface CatalogEntry {
  readonly definition: ScenarioDefinition;
  /** The module's path relative to the working directory, for messages. */
  readonly file: string;
}

const paramValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.number())]);
const params = z.record(z.string(), paramValue);
const definitionShape = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and "-"'),
  group: z.enum(SCENARIO_GROUPS as [string, ...string[]]),
  title: z.string().min(1),
  objective: z.string().min(1),
  profiles: z.object(Object.fromEntries(PROFILES.map((p) => [p, params])) as Record<string, typeof params>),
  metrics: z.array(
    z.object({
      name: z.string().min(1),
      dimension: z.enum(['duration', 'ratio', 'rate', 'bytes', 'count']),
      description: z.string().min(1),
    }),
  ),
  thresholds: z.array(z.string()),
  describe: z.function(),
  run: z.function(),
  deployment: z.function().optional(),
  artillery: z.function().optional(),
  needsEmbeddedTarget: z.string().min(1).optional(),
});

/** The built-in scenarios plus, when given, the user's own from `extraDir` (ids must stay unique). */
export async function loadFullCatalog(extraDir: string | undefined): Promise<CatalogEntry[]> {
  const builtin = await loadCatalog(BUILTIN_SCENARIOS_DIR);
  if (extraDir === undefined) return builtin;
  try {
    await readdir(extraDir);
  } catch {
    throw new UsageError(`--scenarios-dir ${extraDir} cannot be read; give a directory with concurrency/, scalability/ or reliability/ inside`);
  }
  const all = [...builtin, ...(await loadCatalog(extraDir))];
  assertUniqueIds(all);
  return all;
}

/** Loads every `*.ts` module under `<dir>/<group>/`; ids must be unique and match their group folder. */
export async function loadCatalog(dir: string = BUILTIN_SCENARIOS_DIR): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = [];
  for (const group of SCENARIO_GROUPS) {
    const groupDir = path.join(dir, group);
    let files: string[];
    try {
      files = (await readdir(groupDir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const file of files) entries.push(await loadScenarioModule(path.join(groupDir, file), group));
  }
  assertUniqueIds(entries);
  return entries;
}

function assertUniqueIds(entries: readonly CatalogEntry[]): void {
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const other = seen.get(entry.definition.id);
    if (other !== undefined) throw new UsageError(`scenario id '${entry.definition.id}' is defined twice: ${other} and ${entry.file}`);
    seen.set(entry.definition.id, entry.file);
  }
}

/** Imports one module and checks its default export; `group`, when given, must match the definition's. */
export async function loadScenarioModule(file: string, group?: string): Promise<CatalogEntry> {
  const shown = path.relative(process.cwd(), file) || file;
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw new UsageError(`scenario module ${shown} does not load: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = definitionShape.safeParse(mod.default);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'default export'}: ${i.message}`).join('; ');
    throw new UsageError(`scenario module ${shown} has no valid default-exported definition (${issues})`);
  }
  const definition = mod.default as ScenarioDefinition;
  if (group !== undefined && definition.group !== group) {
    throw new UsageError(`scenario module ${shown} says group '${definition.group}' but lives in scenarios/${group}/`);
  }
  for (const source of definition.thresholds) {
    const parsedThreshold = parseThreshold(source);
    const bound = parsedThreshold.ok ? bindThreshold(parsedThreshold.threshold, definition.metrics, definition.id) : parsedThreshold;
    if (!bound.ok) throw new UsageError(`scenario module ${shown}: default ${bound.error}`);
  }
  return { definition, file: shown };
}
