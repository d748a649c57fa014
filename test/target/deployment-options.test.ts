import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_CONFIG } from '../../target/config.ts';
import { DEFAULT_READY_TIMEOUT_MS, mergeServiceConfig, resolveDeploymentOptions } from '../../target/deployment/options.ts';
import { formatRateLimit, parseRateLimit, parseTargetArgs } from '../../target/deployment/target-args.ts';

describe('rate limit flag', () => {
  it.each([
    ['5/60s', { limit: 5, windowMs: 60_000 }],
    ['100/500ms', { limit: 100, windowMs: 500 }],
    ['3/2m', { limit: 3, windowMs: 120_000 }],
    ['1/1h', { limit: 1, windowMs: 3_600_000 }],
  ])('parses %s', (text, expected) => {
    expect(parseRateLimit(text)).toEqual(expected);
  });

  it.each(['5', '5/60', '5/60x', '-5/60s', '0/60s', '5/0s', '5.5/60s', 'five/60s', ''])('rejects %j with a message', (text) => {
    expect(parseRateLimit(text)).toMatch(/--rate-limit/);
  });

  it('formats what it parses', () => {
    expect(formatRateLimit({ limit: 5, windowMs: 60_000 })).toBe('5/60s');
    expect(parseRateLimit(formatRateLimit({ limit: 7, windowMs: 1_500 }))).toEqual({ limit: 7, windowMs: 1_500 });
  });
});

describe('deployment options', () => {
  it('fills defaults and merges service overrides without mutating the inputs', () => {
    const overrides = { rateLimit: { limit: 50 }, cache: { ttlMs: 5 } };
    const frozen = JSON.stringify(overrides);
    const defaults = JSON.stringify(DEFAULT_SERVICE_CONFIG);
    const resolved = resolveDeploymentOptions({ service: overrides, faults: true });
    expect(resolved.service).toEqual({
      ...DEFAULT_SERVICE_CONFIG,
      faults: true,
      rateLimit: { ...DEFAULT_SERVICE_CONFIG.rateLimit, limit: 50 },
      cache: { ...DEFAULT_SERVICE_CONFIG.cache, ttlMs: 5 },
    });
    expect(resolved.readyTimeoutMs).toBe(DEFAULT_READY_TIMEOUT_MS);
    expect(JSON.stringify(overrides)).toBe(frozen);
    expect(JSON.stringify(DEFAULT_SERVICE_CONFIG)).toBe(defaults);
    expect(mergeServiceConfig(DEFAULT_SERVICE_CONFIG, undefined)).toBe(DEFAULT_SERVICE_CONFIG);
  });

  it.each([
    [{ instances: 1.5 }, /instances must be an integer/],
    [{ port: 70_000 }, /port must be an integer from 0 to 65535/],
    [{ service: { rateLimit: { limit: 0 } } }, /rateLimit.limit/],
    [{ store: 'sqlite' as const, mongoUri: 'mongodb://x' }, /drop the URI/],
  ])('rejects %j', (options, message) => {
    expect(() => resolveDeploymentOptions(options)).toThrow(message);
  });
});

describe('target CLI arguments', () => {
  it('maps every flag onto deployment options', async () => {
    const parsed = await parseTargetArgs(['--instances', '3', '--port', '8080', '--store', 'sqlite', '--faults', '--lb', 'least-connections',
      '--family-limit', '4', '--initial-balance', '0', '--rate-limit', '10/1s', '--cache-size', '50', '--cache-ttl-ms', '250', '--sqlite-sync', 'full']);
    expect(parsed).toEqual({
      kind: 'run',
      options: {
        instances: 3, port: 8080, store: 'sqlite', faults: true, strategy: 'least-connections', readyTimeoutMs: DEFAULT_READY_TIMEOUT_MS,
        service: { familyLimit: 4, initialBalance: 0, rateLimit: { limit: 10, windowMs: 1_000 }, cache: { maxEntries: 50, ttlMs: 250 }, sqliteSynchronous: 'full' },
      },
    });
  });

  it.each([
    [['--instances', '0'], /--instances must be an integer from 1/],
    [['--port', '-1'], /--port/],
    [['--cache-size', 'lots'], /--cache-size must be an integer/],
    [['--store', 'postgres'], /Invalid values/],
    [['--mongo-uri', 'mongodb://x', '--store', 'sqlite'], /drop one of them/],
    [['--bogus'], /Unknown argument/],
    [['--sqlite-sync', 'sometimes'], /Invalid values/],
  ])('rejects %j', async (argv, message) => {
    const parsed = await parseTargetArgs(argv);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' ? parsed.message : '').toMatch(message);
  });
});
