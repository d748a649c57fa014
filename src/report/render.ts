/**
 * Renders the report view with Handlebars: an isolated instance, format-only helpers, partials
 * from `templates/partials/`. A custom template dir overrides `report.md.hbs` and any partial by
 * file name; whatever it does not provide comes from the built-in templates.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { Dimension } from '../thresholds/units.ts';
import { chartNumber, formatBytes, formatChange, formatCount, formatDuration, formatPercent, formatRate, formatValue } from './format.ts';
import type { ReportView } from './view-model.ts';

/** The built-in templates: `templates/` at the repository root. */
export const DEFAULT_TEMPLATE_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));
export const REPORT_TEMPLATE = 'report.md.hbs';
export const PARTIALS_DIR = 'partials';
export const REPORT_FILE = 'report.md';

const DIMENSIONS: ReadonlySet<string> = new Set<Dimension>(['duration', 'ratio', 'rate', 'bytes', 'count']);

interface TemplateSet {
  readonly main: string;
  readonly partials: ReadonlyMap<string, string>;
}

/** Renders `view` with the built-in templates, or with `templateDir`'s overrides. */
export async function renderReport(view: ReportView, templateDir?: string): Promise<string> {
  const templates = await loadTemplates(templateDir);
  return compileAndRun(templates.main, templates.partials, view);
}

/** Renders one partial (e.g. `step-summary`, `comparison`) as a whole document with `context`. */
export async function renderPartial(name: string, context: object, templateDir?: string): Promise<string> {
  const templates = await loadTemplates(templateDir);
  if (!templates.partials.has(name)) throw new Error(`no template partials/${name}.hbs in ${DEFAULT_TEMPLATE_DIR}${templateDir === undefined ? '' : ` or ${templateDir}`}`);
  return compileAndRun(`{{> ${name}}}`, templates.partials, context);
}

function compileAndRun(main: string, partials: ReadonlyMap<string, string>, view: object): string {
  const hb = createRenderer(partials);
  // noEscape: the output is Markdown, not HTML; table cells go through {{cell}} instead.
  const template = hb.compile(main, { noEscape: true, strict: true });
  return `${template(view).replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

async function loadTemplates(overrideDir: string | undefined): Promise<TemplateSet> {
  const partials = new Map<string, string>();
  for (const dir of [DEFAULT_TEMPLATE_DIR, ...(overrideDir === undefined ? [] : [overrideDir])]) {
    for (const [name, text] of await readPartials(path.join(dir, PARTIALS_DIR))) partials.set(name, text);
  }
  const overrideMain = overrideDir === undefined ? null : await readIfPresent(path.join(overrideDir, REPORT_TEMPLATE));
  const main = overrideMain ?? (await readFile(path.join(DEFAULT_TEMPLATE_DIR, REPORT_TEMPLATE), 'utf8'));
  return { main, partials };
}

async function readPartials(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw error;
  }
  for (const name of names.filter((n) => n.endsWith('.hbs')).sort()) {
    out.set(name.replace(/\.md\.hbs$|\.hbs$/, ''), await readFile(path.join(dir, name), 'utf8'));
  }
  return out;
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** A Handlebars instance of its own with the report's helpers and `partials` registered. */
export function createRenderer(partials: ReadonlyMap<string, string>): typeof Handlebars {
  const hb = Handlebars.create();
  const num = (helper: string, v: unknown): number => {
    if (typeof v !== 'number') throw new TypeError(`{{${helper}}} needs a number, got ${JSON.stringify(v)}`);
    return v;
  };
  hb.registerHelper('duration', (v: unknown) => formatDuration(num('duration', v)));
  hb.registerHelper('rate', (v: unknown) => formatRate(num('rate', v)));
  hb.registerHelper('percent', (v: unknown) => formatPercent(num('percent', v)));
  hb.registerHelper('bytes', (v: unknown) => formatBytes(num('bytes', v)));
  hb.registerHelper('count', (v: unknown) => formatCount(num('count', v)));
  hb.registerHelper('change', (v: unknown) => formatChange(num('change', v)));
  hb.registerHelper('value', (v: unknown, dimension: unknown) => {
    if (v === null) return '—';
    if (typeof dimension !== 'string' || !DIMENSIONS.has(dimension)) throw new TypeError(`{{value}} needs a dimension, got ${JSON.stringify(dimension)}`);
    return formatValue(num('value', v), dimension as Dimension);
  });
  /** Free text in a Markdown table cell: pipes escaped, line breaks flattened. */
  hb.registerHelper('cell', (v: unknown) => {
    if (v === null || v === undefined) return '—';
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`{{cell}} needs a plain value, got ${JSON.stringify(v)}`);
    return String(v).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  });
  /** A Mermaid number array: `1.23, 4.56`. */
  hb.registerHelper('numbers', (v: unknown) => {
    if (!Array.isArray(v)) throw new TypeError('{{numbers}} needs an array');
    return v.map((x) => chartNumber(num('numbers', x))).join(', ');
  });
  /** A Mermaid label array: `"a", "b"` (double quotes inside a label become single). */
  hb.registerHelper('labels', (v: unknown) => {
    if (!Array.isArray(v)) throw new TypeError('{{labels}} needs an array');
    return v.map((x) => `"${String(x).replace(/"/g, "'")}"`).join(', ');
  });
  hb.registerHelper('quote', (v: unknown) => String(v).replace(/"/g, "'"));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  for (const [name, text] of partials) hb.registerPartial(name, text);
  return hb;
}
