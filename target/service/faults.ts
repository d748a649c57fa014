/** Opt-in fault injection (`--faults`): the `x-fault` request header and the event-loop stall. */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../domain.ts';
import { MAX_FAULT_MS } from './schemas.ts';

export interface RequestFaults {
  /** Make the store fail after the first write of the transaction. */
  readonly failMidTransaction: boolean;
  /** Delay the response by this many ms. */
  readonly delayMs: number;
}

export const NO_FAULTS: RequestFaults = { failMidTransaction: false, delayMs: 0 };

/**
 * The faults an `x-fault` header asks for: a comma-separated list of `fail-mid-transaction` and
 * `delay-ms=N`. Without fault injection enabled the header is ignored.
 */
export function parseFaultHeader(header: string | undefined, enabled: boolean): RequestFaults {
  if (!enabled || header === undefined) return NO_FAULTS;
  let failMidTransaction = false;
  let delayMs = 0;
  for (const directive of header.split(',').map((part) => part.trim())) {
    const delay = /^delay-ms=(\d{1,6})$/.exec(directive)?.[1];
    if (directive === 'fail-mid-transaction') {
      failMidTransaction = true;
    } else if (delay !== undefined && Number(delay) <= MAX_FAULT_MS) {
      delayMs = Number(delay);
    } else {
      throw new DomainError(
        'invalid_request',
        `x-fault must be "fail-mid-transaction" or "delay-ms=N" with 0 <= N <= ${MAX_FAULT_MS} (got "${directive}")`,
      );
    }
  }
  return { failMidTransaction, delayMs };
}

/** Waits out a requested response delay. */
export async function applyDelay(faults: RequestFaults): Promise<void> {
  if (faults.delayMs > 0) await sleep(faults.delayMs);
}

/** Busy-blocks the event loop for `ms` (a stand-in for a long GC pause) and returns how long it blocked. */
export function stallEventLoop(ms: number): number {
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    // Spinning on purpose: nothing else on this instance may run until the stall is over.
  }
  return performance.now() - start;
}
