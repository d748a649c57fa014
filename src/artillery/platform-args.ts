/**
 * The Artillery 2 command line for each platform gauntlet drives (checked against artillery 2.0.21:
 * lib/cmds/run.js, run-lambda.js, run-fargate.js, run-aci.js). Pure: options in, argv out.
 */
import { UsageError } from '../exit-codes.ts';

export type ArtilleryPlatform = 'local' | 'aws:lambda' | 'aws:ecs' | 'az:aci';
export const ARTILLERY_PLATFORMS: readonly ArtilleryPlatform[] = ['local', 'aws:lambda', 'aws:ecs', 'az:aci'];
export const DEFAULT_ARTILLERY_PLATFORM: ArtilleryPlatform = 'local';

/** Artillery's own command per platform: `run` locally, its dedicated launcher for each cloud. */
const COMMANDS: Readonly<Record<ArtilleryPlatform, string>> = {
  local: 'run',
  'aws:lambda': 'run-lambda',
  'aws:ecs': 'run-fargate',
  'az:aci': 'run-aci',
};

export interface PlatformOptions {
  readonly platform: ArtilleryPlatform;
  /** Load-generating workers on a cloud platform (Lambda functions, Fargate tasks, ACI containers). */
  readonly count: number | undefined;
  /** The cloud region (Artillery's default for the platform when absent). */
  readonly region: string | undefined;
}

/** Checks --count and --region against the platform once, at the edge. */
export function validatePlatformOptions(options: PlatformOptions): void {
  if (options.platform === 'local') {
    if (options.count !== undefined || options.region !== undefined) {
      throw new UsageError('--count and --region size and place cloud workers; with --artillery-platform local they do not apply: drop them, or pick aws:lambda, aws:ecs or az:aci');
    }
    return;
  }
  if (options.count !== undefined && !(Number.isInteger(options.count) && options.count >= 1)) {
    throw new UsageError(`--count must be a whole number of workers >= 1, got ${String(options.count)}`);
  }
  if (options.region !== undefined && !/^[a-z0-9-]+$/.test(options.region)) {
    throw new UsageError(`--region '${options.region}' is not a region name such as us-east-1 or eastus`);
  }
}

/** `artillery <command> [--count N] [--region R] --output <report> <script>` for the platform. */
export function artilleryArgv(options: PlatformOptions, files: { readonly script: string; readonly report: string }): string[] {
  validatePlatformOptions(options);
  return [
    COMMANDS[options.platform],
    ...(options.count === undefined ? [] : ['--count', String(options.count)]),
    ...(options.region === undefined ? [] : ['--region', options.region]),
    '--output',
    files.report,
    files.script,
  ];
}
