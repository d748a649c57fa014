/** The `run` command's options, validated once at the edge into a plain RunOptions. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { StoreChoice } from '../../target/config.ts';
import { LOOPBACK_HOSTS } from '../config/defaults.ts';
import type { Profile, Suite } from '../config/defaults.ts';
import { UsageError } from '../exit-codes.ts';
import { DEFAULT_REGRESSION_TOLERANCE } from '../report/compare.ts';
import { loadResults } from '../report/load-results.ts';
import type { RunResults } from '../results/schema.ts';
import type { TargetMode } from '../runner/target-session.ts';
import { DEFAULT_ARTILLERY_PLATFORM, validatePlatformOptions } from '../artillery/platform-args.ts';
import type { ArtilleryPlatform, PlatformOptions } from '../artillery/platform-args.ts';

/** Who generates the load: gauntlet's own engine, or Artillery (locally or on a cloud platform). */
export type EngineChoice = 'gauntlet' | 'artillery';
export const ENGINES: readonly EngineChoice[] = ['gauntlet', 'artillery'];
export const DEFAULT_ENGINE: EngineChoice = 'gauntlet';

export type RunEngine = { readonly kind: 'gauntlet' } | { readonly kind: 'artillery'; readonly platform: PlatformOptions };

export interface RunOptions {
  readonly suite: Suite;
  readonly scenarioIds: readonly string[];
  readonly profile: Profile;
  readonly mode: TargetMode;
  readonly outDir: string | undefined;
  readonly thresholdFile: Readonly<Record<string, readonly string[]>> | undefined;
  readonly thresholdArgs: readonly string[];
  readonly json: boolean;
  /** A saved run to compare against (--baseline), with the tolerance of a regression. */
  readonly baseline: { readonly file: string; readonly results: RunResults; readonly tolerance: number } | undefined;
  readonly junitFile: string | undefined;
  readonly engine: RunEngine;
}

export interface RawRunArgs {
  readonly suite: Suite;
  readonly scenario: readonly string[];
  readonly profile: Profile;
  readonly target: string | undefined;
  readonly allowRemote: boolean;
  readonly out: string | undefined;
  readonly thresholds: string | undefined;
  readonly threshold: readonly string[];
  readonly json: boolean;
  readonly store: StoreChoice;
  readonly mongoUri: string | undefined;
  readonly scenariosDir: string | undefined;
  readonly baseline: string | undefined;
  readonly junit: string | undefined;
  readonly regressionTolerance: string | undefined;
  readonly engine?: EngineChoice;
  readonly artilleryPlatform?: ArtilleryPlatform | undefined;
  readonly count?: number | undefined;
  readonly region?: string | undefined;
}

const thresholdFileShape = z.record(z.string(), z.array(z.string()));

export async function resolveRunOptions(args: RawRunArgs): Promise<RunOptions> {
  const mode = targetMode(args);
  return {
    suite: args.suite,
    scenarioIds: args.scenario,
    profile: args.profile,
    mode,
    engine: runEngine(args, mode),
    outDir: args.out,
    thresholdFile: args.thresholds === undefined ? undefined : await readThresholdFile(args.thresholds),
    thresholdArgs: args.threshold,
    json: args.json,
    baseline: await resolveBaseline(args),
    junitFile: args.junit,
  };
}

function runEngine(args: RawRunArgs, mode: TargetMode): RunEngine {
  if ((args.engine ?? DEFAULT_ENGINE) === 'gauntlet') {
    const given = [args.artilleryPlatform === undefined ? null : '--artillery-platform', args.count === undefined ? null : '--count', args.region === undefined ? null : '--region'].filter((f) => f !== null);
    if (given.length > 0) throw new UsageError(`${given.join(', ')} ${given.length === 1 ? 'configures' : 'configure'} the Artillery engine: add --engine artillery, or drop ${given.length === 1 ? 'it' : 'them'}`);
    return { kind: 'gauntlet' };
  }
  const platform: PlatformOptions = { platform: args.artilleryPlatform ?? DEFAULT_ARTILLERY_PLATFORM, count: args.count, region: args.region };
  validatePlatformOptions(platform);
  const loopbackTarget = onThisMachine(mode);
  if (platform.platform !== 'local' && loopbackTarget !== null) {
    throw new UsageError(
      `--artillery-platform ${platform.platform} runs the load on cloud workers, which cannot reach ${loopbackTarget} on this machine's loopback: ` +
        'give --target with the URL of a deployment they can reach (and --allow-remote), or use --artillery-platform local',
    );
  }
  return { kind: 'artillery', platform };
}

/** The target, in words, when cloud workers could not reach it (it is on this machine's loopback); else null. */
function onThisMachine(mode: TargetMode): string | null {
  if (mode.kind === 'embedded') return 'the embedded target';
  return LOOPBACK_HOSTS.includes(new URL(mode.url).hostname) ? `--target ${mode.url}` : null;
}

async function resolveBaseline(args: RawRunArgs): Promise<RunOptions['baseline']> {
  if (args.baseline === undefined) {
    if (args.regressionTolerance !== undefined) throw new UsageError('--regression-tolerance applies to a comparison: give --baseline <results.json> too');
    return undefined;
  }
  const tolerance = parseTolerance(args.regressionTolerance, '--regression-tolerance');
  const loaded = await loadResults(args.baseline);
  if (!loaded.ok) throw new UsageError(`--baseline ${loaded.error}`);
  return { file: args.baseline, results: loaded.results, tolerance };
}

/** `10%` or a fraction like `0.1` -> 0.1; absent -> DEFAULT_REGRESSION_TOLERANCE. */
export function parseTolerance(text: string | undefined, flag: string): number {
  if (text === undefined) return DEFAULT_REGRESSION_TOLERANCE;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const value = match === null ? NaN : Number(match[1]) / (match[2] === '%' ? 100 : 1);
  if (!Number.isFinite(value) || (match?.[2] !== '%' && value > 1)) {
    throw new UsageError(`${flag} '${text}' is not a tolerance; write a percentage like 10% or a fraction like 0.1`);
  }
  return value;
}

function targetMode(args: RawRunArgs): TargetMode {
  if (args.target === undefined) {
    return { kind: 'embedded', store: args.store, ...(args.mongoUri === undefined ? {} : { mongoUri: args.mongoUri }) };
  }
  if (args.mongoUri !== undefined) throw new UsageError('--mongo-uri configures the embedded target; it cannot be used with --target');
  const url = parseTargetUrl(args.target);
  if (!args.allowRemote && !LOOPBACK_HOSTS.includes(url.hostname)) {
    throw new UsageError(
      `--target host '${url.hostname}' is not a loopback address; a load tool pointed at the wrong host is a denial of service. ` +
        'Pass --allow-remote if you own that service and mean it.',
    );
  }
  return { kind: 'external', url: url.origin };
}

/** A --target as an http(s) URL (run and export-artillery), or a UsageError showing how to write one. */
export function parseTargetUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--target '${text}' is not a URL; write it like http://127.0.0.1:3000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--target must be an http(s) URL, got '${url.protocol}'`);
  return url;
}

async function readThresholdFile(file: string): Promise<Record<string, string[]>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--thresholds ${file} cannot be read: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--thresholds ${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = thresholdFileShape.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(`--thresholds ${file} must map scenario ids to lists of thresholds, e.g. {"family-creation": ["latency.p99 < 50ms"]}`);
  }
  return parsed.data;
}
