/**
 * Open model: requests go out on a schedule fixed in advance, never waiting for earlier ones.
 * Latency is kept from the intended send time (coordinated-omission corrected, as in wrk2) and
 * from the wire send; a due request finding `maxInFlight` outstanding is counted `dropped`.
 */
import type { TimerHandle } from '../clock.ts';
import { LOAD_DEFAULTS } from './defaults.ts';
import type { Exchange } from './exchange.ts';
import { RunContext } from './run-context.ts';
import type { CommonLoadOptions, LoadResult } from './run-context.ts';
import { arrivalsBefore, intendedSendMs, isPastEnd, validateSchedule } from './schedule.ts';
import type { ArrivalSchedule, RunEnd } from './schedule.ts';

export interface OpenModelOptions extends CommonLoadOptions {
  schedule: ArrivalSchedule;
  end: RunEnd;
  maxInFlight?: number;
  maxRunMs?: number;
}

/** Runs an open-model load and resolves with its result (also when aborted). */
export async function runOpenModel(options: OpenModelOptions): Promise<LoadResult> {
  const { schedule, end } = options;
  validateSchedule(schedule, end);
  const maxInFlight = options.maxInFlight ?? LOAD_DEFAULTS.maxInFlight;
  const maxRunMs = options.maxRunMs ?? LOAD_DEFAULTS.maxRunMs;
  if (!(Number.isInteger(maxInFlight) && maxInFlight > 0)) throw new Error(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  const ctx = new RunContext(options, true);
  const { clock, startMs } = ctx;
  const free: Exchange[] = [];
  ctx.onEnded = (ex) => free.push(ex);

  let index = 0;
  let lastIntended = 0;
  let lastDispatchOffset = 0;
  let stopOffset = 0;
  let timer: TimerHandle | undefined;

  await new Promise<void>((resolve) => {
    const finishSending = (): void => {
      timer?.cancel();
      timer = undefined;
      stopOffset = clock.now() - startMs;
      ctx.stopped = true;
      resolve();
    };
    const tick = (): void => {
      timer = undefined;
      if (ctx.stopped) return;
      let now = clock.now();
      // Bounded: each pass takes the next index, and the schedule is finite (validated end).
      for (;;) {
        const intended = intendedSendMs(schedule, index);
        if (isPastEnd(end, index, intended) || now - startMs >= maxRunMs) {
          finishSending();
          return;
        }
        const due = startMs + intended;
        if (due > now) {
          timer = clock.setTimeout(tick, due - now);
          return;
        }
        if (ctx.inFlight >= maxInFlight) {
          ctx.recorder.recordDropped(now);
        } else {
          const ex = free.pop() ?? ctx.newExchange();
          ex.reset(index, due, now);
          ctx.selfCheck.lateness(now - due);
          lastIntended = intended;
          lastDispatchOffset = now - startMs;
          ctx.dispatch(ex);
        }
        index++;
        now = clock.now();
      }
    };
    ctx.watchAbort(finishSending);
    tick();
  });
  await ctx.drain();

  const aborted = ctx.outcome.state === 'aborted';
  const scheduledSpan = Math.min(end.durationMs ?? Infinity, intendedSendMs(schedule, index));
  const spanMs = aborted ? Math.max(stopOffset, Number.MIN_VALUE) : scheduledSpan;
  const elapsedMs = aborted ? spanMs : Math.max(spanMs, lastDispatchOffset + (spanMs - lastIntended));
  return ctx.finish('open', {
    targetRate: arrivalsBefore(schedule, spanMs) / (spanMs / 1000),
    achievedRate: ctx.recorder.sent / (elapsedMs / 1000),
  });
}
