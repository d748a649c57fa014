/**
 * Nothing acknowledged is lost: every transfer the service answered 2xx must be in its family's
 * ledger when read back afterwards. Transfers rather than renames because each has its own ID,
 * so the read-back names exactly which acknowledgement the service broke.
 */
import { sleep } from '../../src/clock.ts';
import type { Check } from '../../src/scenario/definition.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import type { TestUser } from '../../src/scenario/fixtures.ts';

/** Lost acknowledgements quoted in the check's detail. */
const EVIDENCE = 3;
/** A ledger read that answers 503 (a store still recovering) is tried again this many times... */
export const READ_BACK_ATTEMPTS = 5;
/** ...this long apart. */
export const READ_BACK_PAUSE_MS = 500;

export interface AckedWrite {
  readonly familyId: string;
  /** The transfer ID the acknowledgement carried; null when a 2xx carried none (itself a broken acknowledgement). */
  readonly transferId: string | null;
  readonly index: number;
}

export interface ReadBack {
  readonly acknowledged: number;
  readonly lost: readonly AckedWrite[];
  /** Families whose ledger could not be read at all (each still failing after every attempt). */
  readonly unreadable: readonly string[];
}

/** Reads every family's ledger once (with retries on 503) and finds the acknowledged transfers missing from it. */
export async function readBackTransfers(
  ctx: ScenarioContext,
  acked: readonly AckedWrite[],
  owners: ReadonlyMap<string, TestUser>,
): Promise<ReadBack> {
  const byFamily = new Map<string, AckedWrite[]>();
  for (const a of acked) byFamily.set(a.familyId, [...(byFamily.get(a.familyId) ?? []), a]);
  const families = [...byFamily.keys()];
  const ledgers = await mapLimit(families.length, FIXTURE_CONCURRENCY, async (i) => {
    const familyId = families[i] ?? '';
    const owner = owners.get(familyId);
    if (owner === undefined) return null;
    for (let attempt = 1; ; attempt++) {
      const res = await ctx.http.send({ method: 'GET', path: `/families/${familyId}/ledger`, token: owner.token });
      if (res.status === 200 && Array.isArray(res.body)) {
        return new Set((res.body as { id?: unknown }[]).map((t) => (typeof t.id === 'string' ? t.id : '')));
      }
      if (attempt >= READ_BACK_ATTEMPTS) return null;
      await sleep(ctx.clock, READ_BACK_PAUSE_MS, ctx.signal);
    }
  });
  const lost: AckedWrite[] = [];
  const unreadable: string[] = [];
  families.forEach((familyId, i) => {
    const ledger = ledgers[i];
    if (ledger === null || ledger === undefined) {
      unreadable.push(familyId);
      return;
    }
    for (const a of byFamily.get(familyId) ?? []) if (a.transferId === null || !ledger.has(a.transferId)) lost.push(a);
  });
  return { acknowledged: acked.length, lost, unreadable };
}

export function readBackCheck(result: ReadBack): Check {
  const passed = result.lost.length === 0 && result.unreadable.length === 0 && result.acknowledged > 0;
  const detail = [
    ...result.lost.slice(0, EVIDENCE).map((a) => `request ${a.index}: ${a.transferId === null ? '2xx without a transfer ID' : `transfer ${a.transferId}`} not in the ledger of family ${a.familyId}`),
    ...(result.unreadable.length > 0 ? [`${result.unreadable.length} ledger(s) could not be read back after ${READ_BACK_ATTEMPTS} attempts, e.g. family ${result.unreadable[0] ?? '?'}`] : []),
    ...(result.acknowledged === 0 ? ['no write was acknowledged: nothing to read back'] : []),
  ];
  return {
    name: 'every acknowledged write is read back afterwards',
    expected: 0,
    actual: result.lost.length,
    passed,
    ...(detail.length > 0 ? { detail: detail.join('; ') } : {}),
  };
}
