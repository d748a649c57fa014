import { describe, expect, it } from 'vitest';
import { ARTILLERY_MISSING_MESSAGE, requireArtillery, resolveInstalledArtillery } from '../../src/artillery/locate-artillery.ts';
import { planArtilleryRun } from '../../src/artillery/plan-artillery.ts';
import { runCommand } from '../../src/cli/run-command.ts';
import { resolveRunOptions } from '../../src/cli/run-options.ts';
import type { RawRunArgs } from '../../src/cli/run-options.ts';
import { UsageError } from '../../src/exit-codes.ts';
import { loadCatalog, loadFullCatalog } from '../../src/scenario/catalog.ts';
import type { PlanRequest } from '../../src/runner/plan.ts';
import { runGauntlet } from '../helpers/run-cli.ts';

const catalog = await loadCatalog();
/** The built-in scenarios (every one exports its traffic) and a test module without an `artillery` hook. */
const withHookless = await loadFullCatalog(new URL('../fixtures/scenarios/', import.meta.url).pathname);
/** `run --scenario family-creation --profile smoke --store sqlite`, as main() hands it on. */
const ARGS: RawRunArgs = {
  suite: 'all', scenario: ['family-creation'], profile: 'smoke', target: undefined, allowRemote: false, out: undefined, thresholds: undefined, threshold: [],
  json: false, store: 'sqlite', mongoUri: undefined, scenariosDir: undefined, baseline: undefined, junit: undefined, regressionTolerance: undefined,
};
const request = (over: Partial<PlanRequest>): PlanRequest => ({ catalog, suite: 'all', scenarioIds: ['family-creation'], profile: 'smoke', thresholdArgs: [], ...over });

describe('planning a run under the Artillery engine', () => {
  it("keeps the default thresholds Artillery can check and lists the others as unavailable", () => {
    const planned = planArtilleryRun(request({}));
    expect(planned.plan.map((p) => p.thresholds.map((t) => t.source))).toEqual([['errors.rate == 0', 'latency.p99 < 5s']]);
    expect(planned.droppedDefaults.get('family-creation')).toEqual(['duplicates.ids == 0', 'duplicates.sbd == 0', 'sbd.violations == 0', 'limit.violations == 0']);
    expect(planned.unavailable.get('family-creation')).toEqual(expect.arrayContaining(['created', 'duplicates.ids', 'throughput']));
    expect(planned.unavailable.get('family-creation')).not.toContain('latency.p99');
  });

  it('binds a threshold on a metric Artillery gives, overriding the default', () => {
    const planned = planArtilleryRun(request({ thresholdArgs: ['family-creation:latency.p99 < 250ms', 'family-creation:vusers.failed == 0'] }));
    expect(planned.plan[0]?.thresholds.map((t) => t.source)).toEqual(['errors.rate == 0', 'family-creation:latency.p99 < 250ms', 'family-creation:vusers.failed == 0']);
  });

  it.each([
    [{ thresholdArgs: ['family-creation:duplicates.ids == 0'] }, /threshold 'family-creation:duplicates.ids == 0' names 'duplicates.ids', which only gauntlet's engine measures/],
    [{ thresholdFile: { 'family-creation': ['throughput >= 100/s'] } }, /--thresholds file: .*'throughput'.*cannot be checked under --engine artillery/],
    [{ thresholdArgs: ['family-creation:nonsense.metric < 1'] }, /unknown metric|nonsense.metric/],
    [{ catalog: withHookless, scenarioIds: ['fixture-healthz'] }, /scenario 'fixture-healthz' has no Artillery traffic/],
  ])('%o is a configuration error, not a pass', (over, message) => {
    expect(() => planArtilleryRun(request(over))).toThrow(UsageError);
    expect(() => planArtilleryRun(request(over))).toThrow(message);
  });
});

describe('finding the Artillery CLI', () => {
  it('finds the installed 2.x', () => {
    const found = resolveInstalledArtillery();
    expect(found?.version).toMatch(/^2\./);
    expect(requireArtillery().bin).toMatch(/node_modules\/artillery\/bin\/run$/);
  });

  it('says how to install it when it is missing, or when another major is there', () => {
    expect(() => requireArtillery(() => null)).toThrow(UsageError);
    expect(() => requireArtillery(() => null)).toThrow(ARTILLERY_MISSING_MESSAGE);
    expect(ARTILLERY_MISSING_MESSAGE).toContain('npm install --save-optional artillery@2.0.21');
    expect(() => requireArtillery(() => ({ bin: '/x', version: '3.0.0' }))).toThrow(/Artillery 3\.0\.0 is installed; gauntlet drives Artillery 2\.x/);
  });

  it('run --engine artillery without it stops with that message before any target starts', async () => {
    const args: RawRunArgs = { ...ARGS, engine: 'artillery' };
    const started = Date.now();
    await expect(runCommand(args, { resolveArtillery: () => null })).rejects.toThrow(ARTILLERY_MISSING_MESSAGE);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('run --engine artillery: bad input is exit 2 before anything runs', () => {
  it.each([
    [['--threshold', 'family-creation:duplicates.ids == 0'], "only gauntlet's engine measures"],
    [['--count', '3'], '--count and --region size and place cloud workers'],
    [['--artillery-platform', 'aws:lambda'], 'cannot reach the embedded target'],
  ])('%o', async (extra, message) => {
    const run = await runGauntlet(['run', '--engine', 'artillery', '--scenario', 'family-creation', '--profile', 'smoke', ...extra]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toContain('target http');
  });

  it('Artillery options without --engine artillery', async () => {
    const run = await runGauntlet(['run', '--scenario', 'family-creation', '--profile', 'smoke', '--region', 'eu-west-1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--region configures the Artillery engine: add --engine artillery, or drop it');
  });

  it('a cloud platform with a --target on loopback (its workers cannot reach this machine) is exit 2; a reachable one is accepted', async () => {
    const run = await runGauntlet(['run', '--engine', 'artillery', '--artillery-platform', 'aws:ecs', '--target', 'http://127.0.0.1:9', '--scenario', 'family-creation', '--profile', 'smoke']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("aws:ecs runs the load on cloud workers, which cannot reach --target http://127.0.0.1:9 on this machine's loopback");
    // No probe of the target: nothing listens on port 9, and a probe would have made this exit 3.
    expect(run.stderr).not.toContain('could not be reached');
    const base: RawRunArgs = { ...ARGS, engine: 'artillery', artilleryPlatform: 'az:aci', allowRemote: true };
    await expect(resolveRunOptions({ ...base, target: 'http://[::1]:3000' })).rejects.toThrow(UsageError);
    const remote = await resolveRunOptions({ ...base, target: 'https://staging.example' });
    expect(remote.engine).toEqual({ kind: 'artillery', platform: { platform: 'az:aci', count: undefined, region: undefined } });
  });
});
