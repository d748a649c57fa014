/** The target CLI's flags: defined once from config.ts, parsed and validated with yargs, mapped to DeploymentOptions. */
import yargs from 'yargs';
import {
  BALANCER_STRATEGIES,
  DEFAULT_BALANCER_STRATEGY,
  DEFAULT_PORT,
  DEFAULT_SERVICE_CONFIG,
  DEFAULT_CACHE,
  DEFAULT_FAMILY_LIMIT,
  DEFAULT_INITIAL_BALANCE,
  DEFAULT_INSTANCES,
  DEFAULT_RATE_LIMIT,
  DEFAULT_SQLITE_SYNCHRONOUS,
  DEFAULT_STORE_CHOICE,
  SQLITE_SYNCHRONOUS_MODES,
} from '../config.ts';
import type { RateLimitConfig, StoreChoice } from '../config.ts';
import { DEFAULT_READY_TIMEOUT_MS, MAX_INSTANCES } from './options.ts';
import type { DeploymentOptions } from './options.ts';

const STORE_CHOICES: readonly StoreChoice[] = ['auto', 'mongo', 'sqlite'];
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const RATE_LIMIT_PATTERN = /^(\d+)\/(\d+)(ms|s|m|h)$/;

/** `5/60s` -> { limit: 5, windowMs: 60000 }; units ms, s, m, h. Returns an error message for anything else. */
export function parseRateLimit(text: string): RateLimitConfig | string {
  const match = RATE_LIMIT_PATTERN.exec(text.trim());
  const unit = match?.[3] as keyof typeof UNIT_MS | undefined;
  if (match === null || unit === undefined) return `--rate-limit "${text}" is not LIMIT/WINDOW, e.g. 5/60s or 100/500ms`;
  const limit = Number(match[1]);
  const windowMs = Number(match[2]) * UNIT_MS[unit];
  if (limit < 1 || windowMs < 1) return `--rate-limit "${text}" needs a limit and a window of at least 1`;
  return { limit, windowMs };
}

/** The `5/60s` form of a rate limit (whole seconds when it divides, else milliseconds). */
export function formatRateLimit(rate: RateLimitConfig): string {
  return rate.windowMs % 1_000 === 0 ? `${rate.limit}/${rate.windowMs / 1_000}s` : `${rate.limit}/${rate.windowMs}ms`;
}

export type ParsedTargetArgs =
  | { readonly kind: 'run'; readonly options: DeploymentOptions }
  /** --help or --version was printed. */
  | { readonly kind: 'exit' }
  | { readonly kind: 'invalid'; readonly message: string };

function checkInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): string | null {
  return Number.isInteger(value) && value >= min && value <= max ? null : `--${name} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got ${value}`;
}

/** Parses `argv` (without node and script); never exits the process itself. */
export async function parseTargetArgs(argv: readonly string[]): Promise<ParsedTargetArgs> {
  const outcome: { failure: string | null } = { failure: null };
  const parser = yargs([...argv])
    .scriptName('npm run target --')
    .usage('$0 [options]\n\nStarts the reference family service: N instance processes, with a load balancer in front when N > 1.')
    .options({
      instances: { type: 'number', default: DEFAULT_INSTANCES, describe: `Instance processes (1-${MAX_INSTANCES})` },
      port: { type: 'number', default: DEFAULT_PORT, describe: 'Port of the balancer (or of the single instance); 0 picks a free one' },
      store: { choices: STORE_CHOICES, default: DEFAULT_STORE_CHOICE, describe: 'auto: MongoDB when a URI or mongod is at hand, else SQLite' },
      'mongo-uri': { type: 'string', describe: 'MongoDB connection string (default: $MONGODB_URI when set)' },
      faults: { type: 'boolean', default: DEFAULT_SERVICE_CONFIG.faults, describe: 'Enable x-fault headers and /_faults/* (fault injection)' },
      lb: { choices: BALANCER_STRATEGIES, default: DEFAULT_BALANCER_STRATEGY, describe: 'Balancing strategy for N > 1' },
      'family-limit': { type: 'number', default: DEFAULT_FAMILY_LIMIT, describe: 'Most families one user may own' },
      'initial-balance': { type: 'number', default: DEFAULT_INITIAL_BALANCE, describe: "Tokens in a new family's account" },
      'rate-limit': { type: 'string', default: formatRateLimit(DEFAULT_RATE_LIMIT), describe: 'Per-user limit on creations, invitations, transfers: LIMIT/WINDOW (ms|s|m|h)' },
      'cache-size': { type: 'number', default: DEFAULT_CACHE.maxEntries, describe: 'Most families in each instance cache' },
      'cache-ttl-ms': { type: 'number', default: DEFAULT_CACHE.ttlMs, describe: 'How long a cached family stays fresh' },
      'sqlite-sync': { choices: SQLITE_SYNCHRONOUS_MODES, default: DEFAULT_SQLITE_SYNCHRONOUS, describe: 'SQLite synchronous pragma: off survives process crashes (WAL), normal/full also OS crashes' },
      'ready-timeout-ms': { type: 'number', default: DEFAULT_READY_TIMEOUT_MS, describe: 'How long each process may take to start' },
    })
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((message: string | null, error: Error | null) => {
      outcome.failure = message ?? error?.message ?? 'invalid arguments';
    })
    .wrap(null);
  const args = await parser.parse();
  if (outcome.failure !== null) return { kind: 'invalid', message: outcome.failure };
  if (args.help === true) return { kind: 'exit' };

  const rate = parseRateLimit(args['rate-limit']);
  const problems = [
    checkInt('instances', args.instances, 1, MAX_INSTANCES),
    checkInt('port', args.port, 0, 65_535),
    checkInt('family-limit', args['family-limit'], 1),
    checkInt('initial-balance', args['initial-balance'], 0),
    checkInt('cache-size', args['cache-size'], 1),
    checkInt('cache-ttl-ms', args['cache-ttl-ms'], 1),
    checkInt('ready-timeout-ms', args['ready-timeout-ms'], 1),
    typeof rate === 'string' ? rate : null,
  ].filter((p): p is string => p !== null);
  const mongoUri = args['mongo-uri'];
  if (args['mongo-uri'] !== undefined && args.store === 'sqlite') {
    problems.push('--mongo-uri was given with --store sqlite; drop one of them');
  }
  if (problems.length > 0 || typeof rate === 'string') return { kind: 'invalid', message: problems.join('\n') };

  return {
    kind: 'run',
    options: {
      instances: args.instances,
      port: args.port,
      store: args.store,
      ...(mongoUri === undefined ? {} : { mongoUri }),
      faults: args.faults,
      strategy: args.lb,
      readyTimeoutMs: args['ready-timeout-ms'],
      service: {
        familyLimit: args['family-limit'],
        initialBalance: args['initial-balance'],
        rateLimit: rate,
        cache: { maxEntries: args['cache-size'], ttlMs: args['cache-ttl-ms'] },
        sqliteSynchronous: args['sqlite-sync'],
      },
    },
  };
}
