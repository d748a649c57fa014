import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireArtillery } from '../../src/artillery/locate-artillery.ts';
import { artilleryArgv } from '../../src/artillery/platform-args.ts';
import { ARTILLERY_KILL_GRACE_MS, spawnArtillery } from '../../src/artillery/spawn-artillery.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gauntlet-artillery-spawn-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('spawning Artillery', () => {
  it('a cancelled run stops within the kill grace, and its output is in the log', async () => {
    // One virtual user a second for a minute, at a port nothing listens on (loopback: refused at once).
    const script = join(dir, 'long.json');
    await writeFile(script, JSON.stringify({ config: { target: 'http://127.0.0.1:9', phases: [{ duration: 60, arrivalRate: 1 }] }, scenarios: [{ flow: [{ get: { url: '/' } }] }] }));
    const cancel = new AbortController();
    const log = join(dir, 'artillery.log');
    const started = Date.now();
    const running = spawnArtillery({ install: requireArtillery(), argv: artilleryArgv({ platform: 'local', count: undefined, region: undefined }, { script, report: join(dir, 'r.json') }), cwd: dir, logFile: log, signal: cancel.signal });
    // Cancel once the load is under way (a loaded machine may take seconds to start Artillery).
    while (!(await readFile(log, 'utf8').catch(() => '')).includes('Phase started')) {
      if (Date.now() - started > 20_000) throw new Error('Artillery did not start its phase in 20 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const cancelledAt = Date.now();
    cancel.abort();
    const outcome = await running;
    expect(outcome.cancelled).toBe(true);
    // Well before the phase's 60 s: SIGTERM, then SIGKILL after the grace at the latest.
    expect(Date.now() - cancelledAt).toBeLessThan(ARTILLERY_KILL_GRACE_MS + 3_000);
  }, 30_000);
});
