/**
 * Turns a scenario's ArtilleryTraffic into an Artillery 2 script (JSON, which Artillery reads as it
 * reads YAML) and the CommonJS processor file that makes per-request values. Pure: writing the
 * files is `writeArtilleryExport`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ArtilleryTraffic, TrafficPhase, TrafficStep, VaryRule } from './traffic.ts';

export const ARTILLERY_SCRIPT_FILE = 'script.json';
/** `.cjs`: Artillery `require`s its processor, and an export directory may sit inside an ESM package. */
export const ARTILLERY_PROCESSOR_FILE = 'processor.cjs';
/** Per-request timeout of an exported script (s): far above a healthy answer, so a slow one is measured, not cut off. */
export const ARTILLERY_HTTP_TIMEOUT_SEC = 10;
/** Artillery's per-endpoint plugin; requests are grouped by their names (`GET /families/:id`), not by their URLs. */
export const METRICS_BY_ENDPOINT_PLUGIN = 'metrics-by-endpoint';

/** A `unique` prefix leaves room in 32 characters for `_<10 hex>_<counter>`. */
const UNIQUE_PREFIX = /^[a-z0-9]{1,12}$/;

export type ArtilleryJson = string | number | boolean | null | readonly ArtilleryJson[] | { readonly [key: string]: ArtilleryJson };

export interface ArtilleryExport {
  /** The script, ready for JSON.stringify. */
  readonly script: { readonly config: Record<string, ArtilleryJson>; readonly scenarios: readonly ArtilleryJson[] };
  /** Source of the processor file. */
  readonly processor: string;
}

export interface ExportOptions {
  /** Base URL the virtual users send to. */
  readonly target: string;
  /** Written into the script for the reader: which scenario and profile it came from. */
  readonly origin: string;
}

/** The script and processor for `traffic`; throws RangeError on traffic Artillery could not run. */
export function buildArtilleryExport(traffic: ArtilleryTraffic, options: ExportOptions): ArtilleryExport {
  validateTraffic(traffic);
  const rules: Record<string, { variable: string; rule: VaryRule }> = {};
  const stepJson = (step: TrafficStep): ArtilleryJson => {
    switch (step.kind) {
      case 'vary': {
        const fn = `vary${Object.keys(rules).length}_${step.variable}`;
        rules[fn] = { variable: step.variable, rule: step.rule };
        return { function: fn };
      }
      case 'loop':
        return { loop: step.steps.map(stepJson), count: step.count };
      case 'think':
        return { think: step.seconds };
      case 'parallel':
        return { parallel: step.steps.map(stepJson) };
      case 'request':
        return { [step.method.toLowerCase()]: requestJson(step) };
    }
  };
  const scenarios = traffic.flows.map((flow) => ({ name: flow.name, weight: flow.weight, flow: flow.steps.map(stepJson) }));
  const config: Record<string, ArtilleryJson> = {
    target: options.target,
    phases: traffic.phases.map(phaseJson),
    // extendedMetrics adds http.total (the whole exchange) beside http.response_time (time to first byte).
    http: { timeout: ARTILLERY_HTTP_TIMEOUT_SEC, extendedMetrics: true, ...(traffic.connectionPool === undefined ? {} : { pool: traffic.connectionPool }) },
    plugins: {
      [METRICS_BY_ENDPOINT_PLUGIN]: { useOnlyRequestNames: true },
      // Silent: failed expectations are counted (plugins.expect.failed), not printed per request.
      expect: { outputFormat: 'silent' },
    },
    variables: { gauntletOrigin: options.origin },
  };
  if (Object.keys(rules).length > 0) config.processor = `./${ARTILLERY_PROCESSOR_FILE}`;
  return { script: { config, scenarios }, processor: processorSource(rules) };
}

/** Writes the script and its processor into `dir`; returns the script's path. */
export async function writeArtilleryExport(dir: string, exported: ArtilleryExport): Promise<string> {
  await mkdir(dir, { recursive: true });
  const scriptFile = path.join(dir, ARTILLERY_SCRIPT_FILE);
  await writeFile(scriptFile, `${JSON.stringify(exported.script, null, 2)}\n`);
  await writeFile(path.join(dir, ARTILLERY_PROCESSOR_FILE), exported.processor);
  return scriptFile;
}

function phaseJson(phase: TrafficPhase): ArtilleryJson {
  if ('arrivalCount' in phase) return { name: phase.name, duration: phase.durationSec, arrivalCount: phase.arrivalCount };
  return { name: phase.name, duration: phase.durationSec, arrivalRate: phase.arrivalRate, ...(phase.rampTo === undefined ? {} : { rampTo: phase.rampTo }) };
}

function requestJson(step: Extract<TrafficStep, { kind: 'request' }>): ArtilleryJson {
  const headers: Record<string, string> = { ...step.headers };
  if (step.tokenVariable !== undefined) headers.authorization = `Bearer {{ ${step.tokenVariable} }}`;
  return {
    url: step.url,
    name: step.name,
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    ...(step.json === undefined ? {} : { json: step.json }),
    ...(step.capture === undefined ? {} : { capture: Object.entries(step.capture).map(([as, json]) => ({ json, as })) }),
    expect: [{ statusCode: step.expect.length === 1 ? (step.expect[0] ?? 0) : [...step.expect] }],
  };
}

function validateTraffic(traffic: ArtilleryTraffic): void {
  if (traffic.phases.length === 0) throw new RangeError('Artillery traffic needs at least one phase');
  if (traffic.flows.length === 0) throw new RangeError('Artillery traffic needs at least one flow');
  if (traffic.connectionPool !== undefined && !(Number.isInteger(traffic.connectionPool) && traffic.connectionPool >= 1)) {
    throw new RangeError(`connectionPool must be a whole number >= 1, got ${traffic.connectionPool}`);
  }
  for (const phase of traffic.phases) {
    // Artillery reads a fractional duration as milliseconds-parsable text only; whole seconds keep it exact.
    if (!Number.isInteger(phase.durationSec) || phase.durationSec < 1) throw new RangeError(`phase '${phase.name}': durationSec must be a whole number >= 1, got ${phase.durationSec}`);
    const arrivals = 'arrivalCount' in phase ? phase.arrivalCount : phase.arrivalRate;
    if (!(arrivals > 0) || !Number.isFinite(arrivals)) throw new RangeError(`phase '${phase.name}': arrivals must be > 0, got ${arrivals}`);
  }
  const steps = (list: readonly TrafficStep[]): TrafficStep[] => list.flatMap((s) => (s.kind === 'loop' || s.kind === 'parallel' ? [s, ...steps(s.steps)] : [s]));
  for (const step of steps(traffic.flows.flatMap((f) => f.steps))) {
    if (step.kind === 'vary' && step.rule.kind === 'unique' && !UNIQUE_PREFIX.test(step.rule.prefix)) {
      throw new RangeError(`vary '${step.variable}': prefix must be 1-12 of [a-z0-9], got '${step.rule.prefix}'`);
    }
    if (step.kind === 'vary' && step.rule.kind === 'cycle' && step.rule.values.length === 0) throw new RangeError(`vary '${step.variable}': cycle needs values`);
    if (step.kind === 'think' && !(step.seconds > 0)) throw new RangeError(`think must be > 0 s, got ${step.seconds}`);
  }
  for (const flow of traffic.flows) {
    if (!(flow.weight > 0)) throw new RangeError(`flow '${flow.name}': weight must be > 0, got ${flow.weight}`);
    if (flow.steps.length === 0) throw new RangeError(`flow '${flow.name}' has no steps`);
  }
}

/** The processor: one function per `vary` step, from a rule table embedded as JSON. */
function processorSource(rules: Record<string, { variable: string; rule: VaryRule }>): string {
  return `// Written by gauntlet export-artillery: makes per-request values for the script's flows.
'use strict';
const { randomBytes } = require('node:crypto');

const RULES = ${JSON.stringify(rules, null, 2)};
// Usernames: 3-32 of [a-z0-9_] (the family API's rule); the random part keeps workers and machines apart.
const USERNAME_MAX = 32;
// Per function, so one rule's calls never shift another's turn.
const made = {};

function value(name, rule) {
  made[name] = (made[name] || 0) + 1;
  if (rule.kind === 'unique') {
    return (rule.prefix + '_' + randomBytes(5).toString('hex') + '_' + made[name].toString(36)).slice(0, USERNAME_MAX);
  }
  return rule.values[(made[name] - 1) % rule.values.length];
}

for (const [name, { variable, rule }] of Object.entries(RULES)) {
  module.exports[name] = function (context, events, done) {
    context.vars[variable] = value(name, rule);
    return done();
  };
}
`;
}
