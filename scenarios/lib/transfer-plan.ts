/**
 * The transfers of the transaction-safety scenario, planned so that anything a faulted (aborted)
 * transfer leaves behind is recognisable: faulted transfers carry even amounts and are the only
 * ones to reach each family's "decoy" member; clean transfers carry odd amounts.
 */

/** One family with its admin and the members that may receive transfers (index 0 is the decoy). */
export interface TransferFamily {
  readonly familyId: string;
  readonly adminToken: string;
  readonly memberIds: readonly string[];
}

export interface PlannedTransfer {
  /** Position in the whole plan: stable evidence in messages. */
  readonly index: number;
  readonly familyId: string;
  readonly adminToken: string;
  readonly to: string;
  readonly amount: number;
  readonly faulted: boolean;
}

/** Distinct amounts per parity: clean 1, 3, ..., 9; faulted 2, 4, ..., 10. */
const AMOUNT_STEPS = 5;
/** The largest amount a plan uses (for the balance a family needs). */
export const MAX_TRANSFER_AMOUNT = 2 * AMOUNT_STEPS;

/** Whether transfer `j` of a family is faulted: spreads round(count * fraction) faults evenly. */
export function isFaulted(j: number, fraction: number): boolean {
  return Math.floor((j + 1) * fraction + 0.5) > Math.floor(j * fraction + 0.5);
}

/** An amount a faulted transfer would carry and a clean one never does. */
export function isFaultPattern(amount: number): boolean {
  return amount % 2 === 0;
}

/**
 * `perFamily` transfers for each family, interleaved across families (so any window of concurrent
 * requests spans them); the first `memberIds` entry of each family receives only faulted ones.
 */
export function planTransfers(families: readonly TransferFamily[], perFamily: number, faultFraction: number): PlannedTransfer[] {
  for (const family of families) {
    if (family.memberIds.length < 2) {
      throw new Error(`family ${family.familyId} needs at least 2 members (a decoy and a regular recipient) for the transfer plan`);
    }
  }
  const plan: PlannedTransfer[] = [];
  for (let j = 0; j < perFamily; j++) {
    const faulted = isFaulted(j, faultFraction);
    const step = j % AMOUNT_STEPS;
    for (const family of families) {
      const ids = family.memberIds;
      // Faulted: any member, the decoy (index 0) included; clean: never the decoy.
      const to = faulted ? ids[j % ids.length] : ids[1 + (j % (ids.length - 1))];
      if (to === undefined) throw new Error(`no recipient for transfer ${j} of family ${family.familyId}`);
      plan.push({
        index: plan.length, familyId: family.familyId, adminToken: family.adminToken, to,
        amount: faulted ? 2 * step + 2 : 2 * step + 1, faulted,
      });
    }
  }
  return plan;
}

/** How one transfer was answered. */
export type TransferOutcome =
  | { readonly kind: 'committed'; readonly id: string; readonly to: unknown; readonly amount: unknown }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'unexpected'; readonly status: number | null; readonly what: string };

/** Classifies an answer: 201 with an ID, 500 `injected_fault`, or anything else. */
export function classifyTransfer(status: number, body: unknown): TransferOutcome {
  const b = body as { id?: unknown; to?: unknown; amount?: unknown; error?: { code?: unknown } } | null;
  if (status === 201 && typeof b?.id === 'string') return { kind: 'committed', id: b.id, to: b.to, amount: b.amount };
  if (status === 500 && b?.error?.code === 'injected_fault') return { kind: 'aborted' };
  const code = typeof b?.error?.code === 'string' ? b.error.code : JSON.stringify(body).slice(0, 80);
  return { kind: 'unexpected', status, what: code };
}
