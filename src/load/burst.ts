/**
 * Burst: open N connections first, then release N requests at the same instant (one synchronous
 * loop, one per connection), to provoke the races that spread-out traffic never does.
 */
import { LOAD_DEFAULTS } from './defaults.ts';
import type { Exchange } from './exchange.ts';
import type { RequestSpec } from './request.ts';
import { RunContext } from './run-context.ts';
import type { CommonLoadOptions, LoadResult } from './run-context.ts';
import type { ExchangeHandler, Transport } from './transport.ts';

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
  const warmupFailures = await warmUp(ctx.transport, options.warmupRequest ?? LOAD_DEFAULTS.burstWarmupRequest, size, options.signal);
  const warmedConnections = ctx.transport.connectedSockets();

  const exchanges: Exchange[] = [];
  for (let i = 0; i < size; i++) exchanges.push(ctx.newExchange());
  // Rates and duration count from the release, not from the start of the warm-up.
  let release = ctx.clock.now();
  await new Promise<void>((resolve) => {
    ctx.onEnded = () => {
      if (ctx.inFlight === 0) resolve();
    };
    ctx.watchAbort(resolve);
    if (ctx.stopped) return;
    release = ctx.clock.now();
    exchanges.forEach((ex, i) => {
      ex.reset(i, release, release);
      ctx.dispatch(ex);
    });
    ctx.stopped = true;
  });
  await ctx.drain();
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

/** Sends `n` warm-up requests at once and waits for all; resolves with how many failed. */
function warmUp(transport: Transport, spec: RequestSpec, n: number, signal: AbortSignal | undefined): Promise<number> {
  return new Promise<number>((resolve) => {
    let pending = n;
    let failed = 0;
    const ended = (ok: boolean): void => {
      if (!ok) failed++;
      if (--pending === 0) resolve(failed);
    };
    const handler: ExchangeHandler = {
      onConnect: () => undefined,
      onHeaders: () => true,
      onData: () => true,
      onComplete: () => ended(true),
      onError: () => ended(false),
    };
    if (signal?.aborted === true) {
      resolve(0);
      return;
    }
    for (let i = 0; i < n; i++) transport.dispatch(spec, handler, i);
  });
}
