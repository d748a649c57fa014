/**
 * Closed model: N workers, each sending its next request when its last one ends, each on its own
 * connection. With no schedule there is nothing to correct against: `latency.corrected` is null
 * and the latency is measured from the wire send (use the open model for coordinated omission).
 */
import type { TimerHandle } from '../clock.ts';
import { LOAD_DEFAULTS } from './defaults.ts';
import type { Exchange } from './exchange.ts';
import { RunContext } from './run-context.ts';
import type { CommonLoadOptions, LoadResult } from './run-context.ts';
import { validateEnd } from './schedule.ts';
import type { RunEnd } from './schedule.ts';

export interface ClosedModelOptions extends CommonLoadOptions {
  /** Workers, each with one request in flight at a time. */
  concurrency: number;
  end: RunEnd;
  maxRunMs?: number;
}

/** Runs a closed-model load and resolves with its result (also when aborted). */
export async function runClosedModel(options: ClosedModelOptions): Promise<LoadResult> {
  const { concurrency, end } = options;
  if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
  validateEnd(end, 'closed model');
  const ctx = new RunContext({ connections: concurrency, ...options }, false, true);
  const { clock, startMs } = ctx;
  const deadline = startMs + Math.min(end.durationMs ?? Infinity, options.maxRunMs ?? LOAD_DEFAULTS.maxRunMs);
  const count = end.count ?? Infinity;
  let next = 0;
  let timer: TimerHandle | undefined;

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      timer?.cancel();
      ctx.stopped = true;
      resolve();
    };
    const issue = (ex: Exchange): void => {
      if (ctx.stopped) return;
      const now = clock.now();
      if (next >= count || now >= deadline) {
        stop();
        return;
      }
      ex.reset(next++, now, now);
      ctx.dispatch(ex);
      // The last request is out: from here the drain (bounded) waits for it, not the run's deadline.
      if (next >= count) stop();
    };
    // After an error undici may still be failing the rest of that client's queue: re-entering it
    // from its error callback breaks its invariants, so the next request waits a microtask.
    ctx.onEnded = (ex, failed) => {
      if (failed) queueMicrotask(() => issue(ex));
      else issue(ex);
    };
    ctx.watchAbort(stop);
    timer = clock.setTimeout(stop, deadline - startMs);
    for (let w = 0; w < concurrency && !ctx.stopped; w++) issue(ctx.newExchange(w));
  });
  await ctx.drain();

  const responses = ctx.recorder.completed - ctx.recorder.errors;
  const elapsedMs = Math.max(Number.MIN_VALUE, (ctx.recorder.lastDoneMs || startMs) - startMs);
  return ctx.finish('closed', { achievedRate: responses / (elapsedMs / 1000), targetRate: null });
}
