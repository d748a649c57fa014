/**
 * Burst: open N connections first, then release N requests at the same instant (one synchronous
 * loop, one per connection), to provoke the races that spread-out traffic never does.
 */
import { LOAD_DEFAULTS } from './defaults.ts';
import type { Exchange } from './exchange.ts';
import type { RequestSpec } from './request.ts';
import { RunContext } from './run-context.ts';
import type { CommonLoadOptions, LoadResult } from './run-context.ts';
import type { ExchangeHandler } from './transport.ts';

export interface BurstOptions extends CommonLoadOptions {
  /** Requests released together; also the connections opened (unless `connections` says otherwise). */
  size: number;
  /** Sent `size` times at once before the barrier, to open the connections; must be harmless. */
  warmupRequest?: RequestSpec;
}

export interface BurstFigures {
  size: number;
  /** Sockets connected when the barrier was released. */
  warmedConnections: number;
  warmupFailures: number;
  /** Spread of the wire send times of the burst (last - first). */
  sendSpreadMs: number;
}

export type BurstResult = LoadResult & { burst: BurstFigures };

/** Warms the connections, releases the burst and resolves with the result. */
export async function runBurst(options: BurstOptions): Promise<BurstResult> {
  const { size } = options;
  if (!(Number.isInteger(size) && size > 0)) throw new Error(`burst size must be a positive integer, got ${size}`);
  const ctx = new RunContext({ connections: size, pipelining: 1, ...options }, true);
  const waitLimitMs = options.drainTimeoutMs ?? LOAD_DEFAULTS.drainTimeoutMs;
  const warm = await warmUp(ctx, options.warmupRequest ?? LOAD_DEFAULTS.burstWarmupRequest, size, options.signal, waitLimitMs);
  // A target that never finishes answering the warm-up would hold the connections the burst needs.
  if (!warm.finished) ctx.abort(new Error(`the ${size} warm-up requests were not all answered within ${waitLimitMs} ms (drainTimeoutMs); the target is not answering`));
  const warmedConnections = ctx.transport.connectedSockets();

  const exchanges: Exchange[] = [];
  for (let i = 0; i < size; i++) exchanges.push(ctx.newExchange());
  // Rates and duration count from the release, not from the start of the warm-up.
  let release = ctx.clock.now();
  ctx.watchAbort(() => undefined);
  if (!ctx.stopped) {
    release = ctx.clock.now();
    exchanges.forEach((ex, i) => {
      ex.reset(i, release, release);
      ctx.dispatch(ex);
    });
    ctx.stopped = true;
  }
  // Everything is sent at once, so waiting for the answers is a drain, bounded like every generator's.
  await ctx.drain();
  const warmupFailures = warm.failed;
  const elapsedMs = Math.max(Number.MIN_VALUE, (ctx.recorder.lastDoneMs || release) - release);
  const result = ctx.finish('burst', { achievedRate: (ctx.recorder.completed - ctx.recorder.errors) / (elapsedMs / 1000), targetRate: null });
  return { ...result, durationMs: elapsedMs, burst: { size, warmedConnections, warmupFailures, sendSpreadMs: spread(exchanges) } };
}

function spread(exchanges: Exchange[]): number {
  let min = Infinity;
  let max = -Infinity;
  for (const ex of exchanges) {
    if (Number.isNaN(ex.sentMs)) continue;
    min = Math.min(min, ex.sentMs);
    max = Math.max(max, ex.sentMs);
  }
  return max >= min ? max - min : 0;
}

/** Sends `n` warm-up requests at once and waits for all, at most `limitMs`; says how many failed. */
function warmUp(ctx: RunContext, spec: RequestSpec, n: number, signal: AbortSignal | undefined, limitMs: number): Promise<{ failed: number; finished: boolean }> {
  return new Promise((resolve) => {
    let pending = n;
    let failed = 0;
    const done = (result: { failed: number; finished: boolean }): void => {
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    // Cancelled: the run's abort handling (watchAbort) takes over from here.
    const onAbort = (): void => done({ failed, finished: true });
    const timer = ctx.clock.setTimeout(() => done({ failed: failed + pending, finished: false }), limitMs);
    const ended = (ok: boolean): void => {
      if (!ok) failed++;
      if (--pending === 0) done({ failed, finished: true });
    };
    const handler: ExchangeHandler = {
      onConnect: () => undefined,
      onHeaders: () => true,
      onData: () => true,
      onComplete: () => ended(true),
      onError: () => ended(false),
    };
    if (signal?.aborted === true) {
      done({ failed: 0, finished: true });
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    for (let i = 0; i < n; i++) ctx.transport.dispatch(spec, handler, i);
  });
}
