import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTILLERY_PROCESSOR_FILE, buildArtilleryExport, writeArtilleryExport } from '../../src/artillery/export-script.ts';
import type { ArtilleryTraffic } from '../../src/artillery/traffic.ts';
import { TELEMETRY_OFF_PRELOAD } from '../../src/artillery/spawn-artillery.ts';
import { PROFILES } from '../../src/config/defaults.ts';
import { loadCatalog } from '../../src/scenario/catalog.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import { runGauntlet } from '../helpers/run-cli.ts';

const LOAD_SHAPED = ['db-query-performance', 'family-creation', 'horizontal-scaling', 'load-balancing'];
/** Scenarios whose oracles need gauntlet's bookkeeping (or faults): only their traffic exports. */
const TRAFFIC_ONLY = [
  'cache-coherence', 'cache-hit-rates', 'connection-pooling', 'db-stall', 'instance-failure', 'member-invitations', 'memory-gc', 'overload',
  'rate-limiting', 'resource-constraints', 'transaction-safety',
];
const EXPORTING = [...LOAD_SHAPED, ...TRAFFIC_ONLY].sort();
const TARGET = 'http://127.0.0.1:8080';

/** Phases and flows each load-shaped scenario exports at the smoke profile: the golden shape. */
const SMOKE_SHAPES: Record<string, { phases: unknown[]; flows: Record<string, string[]> }> = {
  'family-creation': {
    phases: [{ name: 'release', duration: 1, arrivalCount: 64 }],
    flows: {
      creator: ['function', 'POST /users', 'function', 'POST /families', 'GET /families/:id'],
      racer: ['function', 'POST /users', 'loop[POST /families (pre-owned)]', 'parallel[POST /families (race) x4]', 'GET /me/families'],
    },
  },
  'db-query-performance': {
    phases: [{ name: 'steady', duration: 3, arrivalRate: 16 }],
    flows: { creator: ['function', 'POST /users', 'loop[function, POST /families, think]'] },
  },
  'load-balancing': {
    phases: [{ name: 'reads', duration: 2, arrivalRate: 20 }],
    flows: {
      reader: ['function', 'POST /users', 'POST /families', 'loop[GET /families/:id, think]'],
      'slow reader': ['function', 'POST /users', 'POST /families', 'loop[GET /families/:id (held), think]'],
    },
  },
  'horizontal-scaling': {
    phases: [{ name: 'ramp', duration: 2, arrivalRate: 10, rampTo: 40 }],
    flows: { reader: ['function', 'POST /users', 'POST /families', 'loop[GET /families/:id, think, GET /families/:id, think, GET /families/:id, think, GET /families/:id, think, GET /me/families, think]'] },
  },
};

type Json = Record<string, unknown>;

/** A flow as names: requests by their `name`, loops and parallels with their contents. */
function shape(steps: Json[]): string[] {
  return steps.map((step) => {
    if ('function' in step) return 'function';
    if ('think' in step) return 'think';
    if ('loop' in step) return `loop[${shape(step.loop as Json[]).join(', ')}]`;
    if ('parallel' in step) {
      const inner = shape(step.parallel as Json[]);
      return `parallel[${inner[0] ?? ''} x${inner.length}]`;
    }
    const [method] = Object.keys(step);
    return String((step[method ?? ''] as Json).name);
  });
}

/** `vary:<variable>` for each processor step in flow order (its function is named `vary<n>_<variable>`). */
function variablesOf(steps: Json[]): string[] {
  return steps.flatMap((s): string[] =>
    'loop' in s ? variablesOf(s.loop as Json[]) : 'parallel' in s ? variablesOf(s.parallel as Json[]) : 'function' in s ? [`vary:${String(s.function).replace(/^vary\d+_/, '')}`] : []);
}

function requests(steps: Json[]): Json[] {
  return steps.flatMap((s): Json[] => ('loop' in s ? requests(s.loop as Json[]) : 'parallel' in s ? requests(s.parallel as Json[]) : 'function' in s || 'think' in s ? [] : [Object.values(s)[0] as Json]));
}

let catalog: ScenarioDefinition[];
let dir: string;
beforeAll(async () => {
  catalog = (await loadCatalog()).map((e) => e.definition);
  dir = await mkdtemp(join(tmpdir(), 'gauntlet-artillery-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function traffic(id: string, profile: (typeof PROFILES)[number] = 'smoke'): ArtilleryTraffic {
  const definition = catalog.find((d) => d.id === id);
  const exported = definition?.artillery?.(definition.profiles[profile]);
  if (exported === undefined) throw new Error(`${id} exports no traffic`);
  return exported;
}

describe('export-artillery', () => {
  it('is offered by every built-in scenario, each saying what does not export', () => {
    expect(catalog.filter((d) => d.artillery !== undefined).map((d) => d.id).sort()).toEqual(EXPORTING);
    for (const id of EXPORTING) expect(traffic(id).notExported.length, id).toBeGreaterThan(80);
    // Faults and pressure on the target are named as what does not export.
    expect(traffic('resource-constraints').notExported).toMatch(/^the pressure cannot export/);
    expect(traffic('instance-failure').notExported).toMatch(/^the fault does not export: killing an instance/);
    expect(traffic('db-stall').notExported).toMatch(/^the stall does not export/);
    expect(traffic('overload').notExported).toMatch(/^the capacity probe does not export/);
  });

  it.each(LOAD_SHAPED)('%s (smoke) exports the expected phases and flows', (id) => {
    const { script } = buildArtilleryExport(traffic(id), { target: TARGET, origin: id });
    const parsed = JSON.parse(JSON.stringify(script)) as { config: Json; scenarios: { name: string; flow: Json[] }[] };
    const expected = SMOKE_SHAPES[id];
    expect(parsed.config.target).toBe(TARGET);
    expect(parsed.config.phases).toEqual(expected?.phases);
    expect(Object.fromEntries(parsed.scenarios.map((s) => [s.name, shape(s.flow)]))).toEqual(expected?.flows);
    expect(parsed.config.http).toMatchObject({ extendedMetrics: true });
    expect((parsed.config.http as Json).pool).toBe(id === 'family-creation' ? 76 : undefined);
    expect(parsed.config.plugins).toMatchObject({ 'metrics-by-endpoint': { useOnlyRequestNames: true }, expect: {} });
  });

  it.each(EXPORTING.flatMap((id) => PROFILES.map((p) => [id, p] as const)))('%s (%s): every request is named, expects statuses, and uses only variables its flow made before it', (id, profile) => {
    const { script } = buildArtilleryExport(traffic(id, profile), { target: TARGET, origin: id });
    for (const scenario of script.scenarios as { flow: Json[] }[]) {
      const reqs = requests(scenario.flow);
      expect(reqs[0]).toMatchObject({ url: '/users', name: 'POST /users', capture: expect.arrayContaining([{ json: '$.token', as: 'token' }]) as unknown, expect: [{ statusCode: 201 }] });
      // Variables the flow has: made by the processor (vary) or captured from an earlier answer.
      const made = new Set(variablesOf(scenario.flow).filter((v) => v.startsWith('vary:')).map((v) => v.slice('vary:'.length)));
      const tokens = new Set<string>();
      for (const req of reqs) {
        expect(req.name).toMatch(/^(GET|POST|PATCH) \//);
        expect(req.expect).toEqual([{ statusCode: expect.anything() as unknown }]);
        for (const used of JSON.stringify({ url: req.url, json: req.json, headers: req.headers }).matchAll(/\{\{ (\w+) \}\}/g)) {
          expect(made.has(used[1] ?? ''), `${id}: ${String(req.name)} uses {{ ${used[1] ?? ''} }} before the flow has it`).toBe(true);
        }
        if (req.url !== '/users') {
          // Every call but a sign-up authenticates with a token captured from a sign-up of this flow.
          const authorization = (req.headers as Record<string, string> | undefined)?.authorization ?? '';
          const bearer = /^Bearer \{\{ (\w+) \}\}$/.exec(authorization)?.[1];
          expect(bearer !== undefined && tokens.has(bearer), `${id}: ${String(req.name)} authenticates with a token the flow signed up for`).toBe(true);
        }
        for (const c of (req.capture ?? []) as { json: string; as: string }[]) {
          made.add(c.as);
          if (req.url === '/users' && c.json === '$.token') tokens.add(c.as);
        }
      }
    }
  });

  it.each(EXPORTING.flatMap((id) => PROFILES.map((p) => [id, p] as const)))("%s (%s): Artillery's own script validator accepts the export", (id, profile) => {
    const validate = createRequire(import.meta.url)('artillery/lib/util/validate-script.js') as (script: unknown) => string | undefined;
    const { script } = buildArtilleryExport(traffic(id, profile), { target: TARGET, origin: id });
    expect(validate(JSON.parse(JSON.stringify(script)))).toBeUndefined();
    // The validator can fail: a request without its url is refused.
    const broken = JSON.parse(JSON.stringify(script)) as { scenarios: { flow: Json[] }[] };
    const firstRequest = broken.scenarios[0]?.flow.find((step) => 'post' in step)?.post as Json | undefined;
    if (firstRequest !== undefined) delete firstRequest.url;
    expect(validate(broken)).toMatch(/url/);
  });

  it('writes a processor whose functions make valid, distinct usernames and cycle the shared names', async () => {
    const out = join(dir, 'family-creation');
    const exported = buildArtilleryExport(traffic('family-creation'), { target: TARGET, origin: 'family-creation' });
    await writeArtilleryExport(out, exported);
    const processor = createRequire(import.meta.url)(join(out, ARTILLERY_PROCESSOR_FILE)) as Record<string, (ctx: { vars: Record<string, string> }, events: unknown, done: () => void) => void>;
    const names = Object.keys(processor);
    const usernameFns = names.filter((n) => n.endsWith('_username'));
    const familyFn = names.find((n) => n.endsWith('_familyName'));
    expect(usernameFns.length).toBe(2);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const ctx = { vars: {} as Record<string, string> };
      processor[usernameFns[i % 2] ?? '']?.(ctx, null, () => undefined);
      expect(ctx.vars.username).toMatch(/^[a-z0-9_]{3,32}$/);
      seen.add(ctx.vars.username ?? '');
    }
    expect(seen.size).toBe(500);
    const cycled = Array.from({ length: 5 }, () => {
      const ctx = { vars: {} as Record<string, string> };
      processor[familyFn ?? '']?.(ctx, null, () => undefined);
      return ctx.vars.familyName;
    });
    expect(cycled).toEqual(['Shared 0 x', 'Shared 1 x', 'Shared 2 x', 'Shared 3 x', 'Shared 0 x']);
    expect(JSON.parse(await readFile(join(out, 'script.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(exported.script)));
  });

  it('refuses traffic Artillery could not run', () => {
    const base = traffic('db-query-performance');
    expect(() => buildArtilleryExport({ ...base, phases: [] }, { target: TARGET, origin: 'x' })).toThrow(/at least one phase/);
    expect(() => buildArtilleryExport({ ...base, phases: [{ name: 'p', durationSec: 2.5, arrivalRate: 1 }] }, { target: TARGET, origin: 'x' })).toThrow(/whole number/);
    expect(() => buildArtilleryExport({ ...base, flows: [{ name: 'f', weight: 1, steps: [{ kind: 'vary', variable: 'u', rule: { kind: 'unique', prefix: 'Bad-Prefix' } }] }] }, { target: TARGET, origin: 'x' })).toThrow(/prefix/);
  });
});

describe('gauntlet export-artillery (CLI)', () => {
  it('writes the files and says that only the traffic exports, with the target to start', async () => {
    const out = join(dir, 'cli');
    const run = await runGauntlet(['export-artillery', '--scenario', 'family-creation', '--profile', 'smoke', '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Only the traffic exports, not the checks');
    // The variable alone still lets Artillery 2.0.21 send its event: the hint preloads telemetry-off.cjs too.
    expect(run.stdout).toContain(`Then: ARTILLERY_DISABLE_TELEMETRY=true NODE_OPTIONS='--require "${TELEMETRY_OFF_PRELOAD}"' npx artillery run ${join(out, 'script.json')}`);
    expect(run.stdout).toContain('gauntlet target --port 8080 --instances 2 --family-limit 3');
    const script = JSON.parse(await readFile(join(out, 'script.json'), 'utf8')) as { config: { processor: string } };
    expect(script.config.processor).toBe(`./${ARTILLERY_PROCESSOR_FILE}`);
  });

  it('list marks the scenarios that export; --help names the command and the engine options', async () => {
    const list = await runGauntlet(['list', '--json']);
    const listed = JSON.parse(list.stdout) as { id: string; artillery: boolean }[];
    expect(listed.filter((s) => s.artillery).map((s) => s.id).sort()).toEqual(EXPORTING);
    const help = await runGauntlet(['--help']);
    expect(help.stdout).toContain('gauntlet export-artillery');
    const runHelp = await runGauntlet(['run', '--help']);
    for (const flag of ['--engine', '--artillery-platform', '--count', '--region']) expect(runHelp.stdout).toContain(flag);
    expect(runHelp.stdout).toContain('"local", "aws:lambda", "aws:ecs", "az:aci"');
  });

  it('--target is the base URL of the script; one that is not an http(s) URL is exit 2 and nothing is written', async () => {
    const out = join(dir, 'remote');
    const ok = await runGauntlet(['export-artillery', '--scenario', 'db-query-performance', '--profile', 'smoke', '--out', out, '--target', 'https://staging.example/ignored/path']);
    expect(ok.code).toBe(0);
    expect((JSON.parse(await readFile(join(out, 'script.json'), 'utf8')) as { config: { target: string } }).config.target).toBe('https://staging.example');
    const bad = await runGauntlet(['export-artillery', '--scenario', 'db-query-performance', '--out', join(dir, 'bad'), '--target', 'ftp://staging.example']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--target must be an http(s) URL, got 'ftp:'");
    await expect(readFile(join(dir, 'bad', 'script.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('exit 2 for a scenario without Artillery traffic (a module of your own), naming the ones that export', async () => {
    const run = await runGauntlet(['export-artillery', '--scenarios-dir', new URL('../fixtures/scenarios/', import.meta.url).pathname, '--scenario', 'fixture-healthz', '--out', join(dir, 'nope')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("scenario 'fixture-healthz' has no Artillery traffic: its module describes no Artillery traffic");
    for (const id of EXPORTING) expect(run.stderr).toContain(id);
  });
});
