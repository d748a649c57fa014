import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResults } from '../../src/results/schema.ts';
import { GAUNTLET_BIN, runGauntlet } from '../helpers/run-cli.ts';
import type { CliRun } from '../helpers/run-cli.ts';
import { startServiceInTest } from '../scenarios/helpers/scenario-harness.ts';
import type { ServiceInTest } from '../scenarios/helpers/scenario-harness.ts';

const FIXTURES = new URL('../fixtures/scenarios', import.meta.url).pathname;
const BAD_FIXTURES = new URL('../fixtures/bad-scenarios', import.meta.url).pathname;

/** The CLI as a user runs it, bounded in time. */
function gauntlet(args: string[], timeoutMs = 60_000): Promise<CliRun> {
  return runGauntlet(args, { timeoutMs });
}

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'gauntlet-cli-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

async function readResults(dir: string): Promise<RunResults> {
  return JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunResults;
}

describe('gauntlet run exit codes', () => {
  it('0 when every check and threshold passes; results.json written', async () => {
    const dir = join(out, 'pass');
    const run = await gauntlet(['run', '--scenarios-dir', FIXTURES, '--scenario', 'fixture-healthz', '--profile', 'smoke', '--out', dir]);
    expect(run.stderr).toContain('1 passed, 0 failed');
    expect(run.code).toBe(0);
    const results = await readResults(dir);
    expect(results.schemaVersion).toBe(1);
    expect(results.exitCode).toBe(0);
    expect(results.target.kind).toBe('embedded');
    expect(results.scenarios.map((s) => [s.id, s.status])).toEqual([['fixture-healthz', 'passed']]);
    expect(results.scenarios[0]?.metrics.users).toBe(3);
    expect(results.environment.cpu.logicalCores).toBeGreaterThan(0);
  });

  it('1 when a threshold fails, naming it', async () => {
    const dir = join(out, 'fail');
    const run = await gauntlet([
      'run', '--scenarios-dir', FIXTURES, '--scenario', 'fixture-healthz', '--profile', 'smoke', '--out', dir,
      '--threshold', 'fixture-healthz:latency.p99 < 1us',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('threshold failed: fixture-healthz:latency.p99 < 1us');
    const results = await readResults(dir);
    expect(results.scenarios[0]?.status).toBe('failed');
    expect(results.scenarios[0]?.thresholds.find((t) => t.metric === 'latency.p99')?.state).toBe('failed');
  });

  it.each([
    [['run', '--profile', 'fast'], /Invalid values|choices/i],
    [['run', '--scenario', 'no-such-scenario'], /unknown scenario 'no-such-scenario'/],
    [['run', '--scenarios-dir', FIXTURES, '--threshold', 'fixture-healthz:latency.p101 < 5ms'], /unknown metric 'latency.p101'/],
    [['run', '--scenarios-dir', FIXTURES, '--threshold', 'fixture-healthz:latency.p99 < 5'], /give a unit/],
    [['run', '--scenarios-dir', FIXTURES, '--threshold', 'latency.p99 < 5ms'], /names no scenario/],
    [['run', '--target', 'http://10.1.2.3:8080'], /not a loopback address.*--allow-remote/],
    [['run', '--target', 'not a url'], /is not a URL/],
    [['run', '--scenarios-dir', BAD_FIXTURES], /no-run\.ts has no valid default-exported definition \(run:/],
    [['frobnicate'], /Unknown argument|Name a command/],
  ])('2 for bad input: %j', async (args, message) => {
    const run = await gauntlet(args, 30_000);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
  });

  it('3 when the --target cannot be reached, before any load', async () => {
    const run = await gauntlet(['run', '--scenarios-dir', FIXTURES, '--scenario', 'fixture-healthz', '--profile', 'smoke', '--target', 'http://127.0.0.1:9', '--out', join(out, 'unreachable')]);
    expect(run.stderr).toMatch(/could not be reached/);
    expect(run.code).toBe(3);
  });
});

describe('gauntlet run --target (an external service started in this test)', () => {
  let service: ServiceInTest;
  beforeAll(async () => {
    service = await startServiceInTest();
  });
  afterAll(async () => {
    await service.close();
  });

  it('runs the scenario against it and says so in results.json', async () => {
    const dir = join(out, 'external');
    const run = await gauntlet(['run', '--scenarios-dir', FIXTURES, '--scenario', 'fixture-healthz', '--profile', 'smoke', '--target', service.url, '--out', dir]);
    expect(run.code).toBe(0);
    const results = await readResults(dir);
    expect(results.target).toEqual({ kind: 'external', url: service.url, store: null });
    expect(results.scenarios[0]?.loadRuns[0]?.completed).toBe(200);
  });
});

describe('gauntlet run interrupted (Ctrl-C)', () => {
  it('stops cleanly and still writes what was measured', async () => {
    const dir = join(out, 'interrupted');
    const child = spawn(process.execPath, [GAUNTLET_BIN, 'run', '--scenarios-dir', FIXTURES, '--scenario', 'fixture-healthz', '--scenario', 'connection-pooling', '--profile', 'standard', '--out', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Interrupt once the second scenario is under way (the first has finished and must be kept).
      if (stderr.includes('connection-pooling: load') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`run did not stop after SIGINT\n${stderr}`));
      }, 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(stderr, stderr).toContain('interrupted');
    expect(code).toBe(1);
    const results = await readResults(dir);
    expect(results.interrupted).toMatch(/interrupted/);
    expect(results.scenarios.map((s) => s.id)).toEqual(['fixture-healthz', 'connection-pooling']);
    expect(results.scenarios[0]?.status).toBe('passed');
    expect(results.scenarios[1]?.status).toBe('errored');
  });
});

describe('gauntlet list and --help', () => {
  it('lists the scenarios with their thresholds', async () => {
    const run = await gauntlet(['list', '--scenarios-dir', FIXTURES, '--json'], 30_000);
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout) as { id: string; thresholds: string[] }[];
    expect(listed.find((s) => s.id === 'fixture-healthz')?.thresholds).toEqual(['errors.rate == 0']);
  });

  it('run --help names every option with its default', async () => {
    const run = await gauntlet(['run', '--help'], 30_000);
    expect(run.code).toBe(0);
    for (const flag of ['--suite', '--scenario', '--profile', '--target', '--allow-remote', '--out', '--thresholds', '--threshold', '--json', '--store', '--scenarios-dir']) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toContain('[default: "standard"]');
  });
});
