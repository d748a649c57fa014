import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TELEMETRY_OFF_PRELOAD } from '../../src/artillery/spawn-artillery.ts';

const ARTILLERY_DIR = new URL('../../node_modules/artillery/', import.meta.url).pathname;
/** Loads Artillery's telemetry module as its CLI does and prints whether a real client was made. */
const PROBE = "const t = require('./lib/telemetry.js').init(); process.stdout.write(t.capture.toString().includes('eventPayload') ? 'client' : 'noop')";

function probe(nodeArgs: string[]): string {
  return execFileSync(process.execPath, [...nodeArgs, '-e', PROBE], { cwd: ARTILLERY_DIR, env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true' }, encoding: 'utf8', timeout: 20_000 });
}

describe("Artillery's telemetry under gauntlet", () => {
  it('makes a sending client even with ARTILLERY_DISABLE_TELEMETRY set, and none with the preload', () => {
    expect(probe([])).toBe('client');
    expect(probe(['--require', TELEMETRY_OFF_PRELOAD])).toBe('noop');
  });
});
