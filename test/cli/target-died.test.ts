/**
 * `gauntlet run --target URL` against a server that dies mid-run: exit 3, results.json still written
 * with what was measured before the death, and the run says so — during a scenario (the liveness
 * watch) and after one (the check between scenarios).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/exit-codes.ts';
import type { RunResults } from '../../src/results/schema.ts';
import { runGauntlet } from '../helpers/run-cli.ts';
import { answer, neverAnswer, resetOnRequest, startDyingServer, startRawServer } from '../load/helpers/misbehaving-servers.ts';
import { TARGET_PROBE_TIMEOUT_MS } from '../../src/runner/run.ts';
import type { MisbehavingServer } from '../load/helpers/misbehaving-servers.ts';

const FIXTURES = new URL('../fixtures/dying-target-scenarios', import.meta.url).pathname;
/** The steady fixture would load the target for 30 s: finishing well before proves the death cut it short. */
const STEADY_LOAD_MS = 30_000;
/** The CLI is killed past this, and each test given a little more, so a hang fails as an assertion. */
const CLI_TIMEOUT_MS = 40_000;
const TEST_TIMEOUT_MS = CLI_TIMEOUT_MS + 10_000;

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'gauntlet-died-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});
let server: MisbehavingServer | undefined;
afterEach(async () => {
  await server?.close();
});

async function runAgainst(target: MisbehavingServer, scenario: string): Promise<{ code: number | null; stderr: string; elapsedMs: number; results: RunResults; report: string }> {
  server = target;
  const dir = join(out, scenario);
  const t0 = performance.now();
  const run = await runGauntlet(['run', '--scenarios-dir', FIXTURES, '--scenario', scenario, '--profile', 'smoke', '--target', target.origin, '--out', dir], { timeoutMs: CLI_TIMEOUT_MS });
  const elapsedMs = performance.now() - t0;
  const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunResults;
  return { code: run.code, stderr: run.stderr, elapsedMs, results, report: await readFile(join(dir, 'report.md'), 'utf8') };
}

describe('gauntlet run --target, the target dies', () => {
  it('during a scenario: the liveness watch stops the run, exit 3, the answers before the death kept', async () => {
    // One answer goes to the reachability check before the scenario; the rest to its load.
    const answerFirst = 40;
    let diedAt = NaN;
    const { code, stderr, elapsedMs, results } = await runAgainst(await startDyingServer(answerFirst, () => (diedAt = performance.now())), 'fixture-steady-load');
    const exitAfterDeathMs = performance.now() - diedAt;
    console.info(`target died; gauntlet exited ${Math.round(exitAfterDeathMs)} ms later (whole run ${Math.round(elapsedMs)} ms)`);
    expect(code, stderr).toBe(EXIT_CODES.target);
    expect(elapsedMs).toBeLessThan(STEADY_LOAD_MS / 2);
    // Three failed probes 0.5 s apart, then a clean stop: a few seconds at most on a loaded machine.
    expect(exitAfterDeathMs).toBeLessThan(10_000);
    expect(stderr).toMatch(/stopped: the target http:\/\/127\.0\.0\.1:\d+ died: 3 connection attempts in a row failed/);
    expect(results.exitCode).toBe(EXIT_CODES.target);
    expect(results.interrupted).toMatch(/died/);
    const scenario = results.scenarios[0];
    expect(scenario?.status).toBe('errored');
    expect(scenario?.reasons[0]).toMatch(/died: .*ECONNREFUSED/);
    const load = scenario?.loadRuns[0];
    expect(load?.outcome).toMatch(/^aborted: the target .* died/);
    expect((load?.completed ?? 0) - (load?.errors ?? 0)).toBe(answerFirst - 1);
    expect(load?.errors).toBeGreaterThan(0);
  }, TEST_TIMEOUT_MS);

  it('between scenarios: a scenario that failed fast on refusals is followed by a check that finds it dead, exit 3', async () => {
    const answerFirst = 11;
    const { code, stderr, results, report } = await runAgainst(await startDyingServer(answerFirst), 'fixture-quick-load');
    expect(code, stderr).toBe(EXIT_CODES.target);
    expect(results.exitCode).toBe(EXIT_CODES.target);
    expect(results.interrupted).toMatch(/^stopped: the target .* died/);
    const scenario = results.scenarios[0];
    expect(scenario?.status).toBe('failed');
    const load = scenario?.loadRuns[0];
    expect(load?.outcome).toBe('completed');
    expect((load?.completed ?? 0) - (load?.errors ?? 0)).toBe(answerFirst - 1);
    // Why the requests failed is in results.json and in the report's load-run table.
    const kinds = load?.errorKinds ?? {};
    expect((kinds.refused ?? 0) + (kinds.reset ?? 0)).toBe(load?.errors);
    expect(kinds.refused).toBeGreaterThan(0);
    expect(report).toMatch(new RegExp(`\\| ${String(load?.errors)} \\(refused ${String(kinds.refused)}(, reset \\d+)?\\) \\|`));
  }, TEST_TIMEOUT_MS);

  it('a target that fails every request but still accepts connections has not died: exit 1, not 3', async () => {
    // The counter-case: errors alone must not read as a death, or every failing run would say "target died".
    const answerFirst = 11;
    const { code, stderr, results } = await runAgainst(await startRawServer((socket, i, wrote) => (i < answerFirst ? answer()(socket, i, wrote) : resetOnRequest(socket, i, wrote))), 'fixture-quick-load');
    expect(code, stderr).toBe(EXIT_CODES.failed);
    expect(results.interrupted).toBeNull();
    const load = results.scenarios[0]?.loadRuns[0];
    expect(load?.errors).toBeGreaterThan(0);
    expect((load?.completed ?? 0) - (load?.errors ?? 0)).toBe(answerFirst - 1);
  }, TEST_TIMEOUT_MS);
});

describe('gauntlet run --target, the target accepts connections but never answers', () => {
  it('exit 3 once the reachability check times out, saying what it saw; no load is sent', async () => {
    server = await startRawServer(neverAnswer);
    const t0 = performance.now();
    const run = await runGauntlet(['run', '--scenarios-dir', FIXTURES, '--scenario', 'fixture-quick-load', '--profile', 'smoke', '--target', server.origin, '--out', join(out, 'silent')], { timeoutMs: CLI_TIMEOUT_MS });
    const elapsedMs = performance.now() - t0;
    expect(run.code, run.stderr).toBe(EXIT_CODES.target);
    expect(run.stderr).toContain(`got no answer within ${TARGET_PROBE_TIMEOUT_MS} ms`);
    expect(elapsedMs).toBeGreaterThanOrEqual(TARGET_PROBE_TIMEOUT_MS);
    expect(elapsedMs).toBeLessThan(TARGET_PROBE_TIMEOUT_MS + 15_000);
    expect(server.requests()).toBe(1);
  }, TEST_TIMEOUT_MS);
});
