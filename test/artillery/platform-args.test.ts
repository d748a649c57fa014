import { describe, expect, it } from 'vitest';
import { artilleryArgv, validatePlatformOptions } from '../../src/artillery/platform-args.ts';
import type { PlatformOptions } from '../../src/artillery/platform-args.ts';
import { artilleryEnv, TELEMETRY_OFF_PRELOAD } from '../../src/artillery/spawn-artillery.ts';
import { UsageError } from '../../src/exit-codes.ts';

const files = { script: '/out/artillery/x/script.json', report: '/out/artillery/x/artillery-report.json' };

describe('the Artillery command line per platform', () => {
  it.each<[PlatformOptions, string[]]>([
    [{ platform: 'local', count: undefined, region: undefined }, ['run', '--output', files.report, files.script]],
    [{ platform: 'aws:lambda', count: undefined, region: undefined }, ['run-lambda', '--output', files.report, files.script]],
    [{ platform: 'aws:lambda', count: 10, region: 'eu-west-1' }, ['run-lambda', '--count', '10', '--region', 'eu-west-1', '--output', files.report, files.script]],
    [{ platform: 'aws:ecs', count: 4, region: 'us-east-1' }, ['run-fargate', '--count', '4', '--region', 'us-east-1', '--output', files.report, files.script]],
    [{ platform: 'az:aci', count: 2, region: 'eastus' }, ['run-aci', '--count', '2', '--region', 'eastus', '--output', files.report, files.script]],
    [{ platform: 'az:aci', count: undefined, region: 'westeurope' }, ['run-aci', '--region', 'westeurope', '--output', files.report, files.script]],
  ])('%o -> artillery %o', (options, argv) => {
    expect(artilleryArgv(options, files)).toEqual(argv);
  });

  it.each<[PlatformOptions, RegExp]>([
    [{ platform: 'local', count: 3, region: undefined }, /--count and --region .* local/],
    [{ platform: 'local', count: undefined, region: 'eu-west-1' }, /--count and --region .* local/],
    [{ platform: 'aws:lambda', count: 0, region: undefined }, /--count must be a whole number/],
    [{ platform: 'aws:ecs', count: 2.5, region: undefined }, /--count must be a whole number/],
    [{ platform: 'az:aci', count: undefined, region: 'East US; rm -rf' }, /--region .* is not a region name/],
  ])('%o is a usage error', (options, message) => {
    expect(() => validatePlatformOptions(options)).toThrow(UsageError);
    expect(() => artilleryArgv(options, files)).toThrow(message);
  });
});

describe("Artillery's environment", () => {
  it('always disables telemetry and preloads the telemetry guard, keeping the caller\'s NODE_OPTIONS', () => {
    const env = artilleryEnv({ PATH: '/bin', NODE_OPTIONS: '--max-old-space-size=512', ARTILLERY_DISABLE_TELEMETRY: undefined });
    expect(env.ARTILLERY_DISABLE_TELEMETRY).toBe('true');
    expect(env.PATH).toBe('/bin');
    expect(env.NODE_OPTIONS).toBe(`--max-old-space-size=512 --require ${JSON.stringify(TELEMETRY_OFF_PRELOAD)}`);
    expect(artilleryEnv({}, { ARTILLERY_DISABLE_TELEMETRY: 'false' }).ARTILLERY_DISABLE_TELEMETRY).toBe('true');
  });
});
