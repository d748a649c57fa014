/**
 * The transaction-safety oracle: judges what the service answered and what it shows afterwards
 * (ledgers, family and member balances read back) against the plan. Pure: tests feed it values.
 */
import type { Check } from '../../src/scenario/definition.ts';
import type { PlannedTransfer, TransferOutcome } from './transfer-plan.ts';
import { isFaultPattern } from './transfer-plan.ts';

/** Offending items quoted in a failed check's detail. */
const EVIDENCE = 5;

export interface LedgerEntry {
  readonly id: string;
  readonly familyId: string;
  readonly to: string;
  readonly amount: number;
}

/** Balances read back from the service, before and after the transfers. */
export interface BalanceReadings {
  readonly familiesBefore: ReadonlyMap<string, number>;
  readonly familiesAfter: ReadonlyMap<string, number>;
  readonly usersBefore: ReadonlyMap<string, number>;
  readonly usersAfter: ReadonlyMap<string, number>;
  /** Members that only faulted transfers target. */
  readonly decoys: ReadonlySet<string>;
}

export interface TransferVerdict {
  readonly checks: Check[];
  readonly committed: number;
  readonly aborted: number;
  readonly unexpected: number;
  readonly conservationViolations: number;
  readonly ledgerMismatches: number;
  readonly abortedVisible: number;
}

/** Judges answers, ledgers and balances; every check carries evidence when it fails. */
export function judgeTransfers(
  plan: readonly PlannedTransfer[],
  outcomes: readonly TransferOutcome[],
  ledger: readonly LedgerEntry[],
  balances: BalanceReadings,
): TransferVerdict {
  const wrongAnswers: string[] = [];
  let committed = 0;
  let aborted = 0;
  let unexpected = 0;
  const acked = new Map<string, PlannedTransfer>();
  plan.forEach((t, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) throw new Error(`transfer #${t.index} has no recorded outcome`);
    if (outcome.kind === 'committed') {
      committed += 1;
      acked.set(outcome.id, t);
    } else if (outcome.kind === 'aborted') {
      aborted += 1;
    } else {
      unexpected += 1;
    }
    const expected = t.faulted ? 'aborted' : 'committed';
    if (outcome.kind !== expected) {
      const got = outcome.kind === 'unexpected' ? `${outcome.status ?? 'no answer'} ${outcome.what}` : outcome.kind;
      wrongAnswers.push(`#${t.index} (${t.faulted ? 'faulted' : 'clean'}, ${t.amount} to ${t.to}) was ${got}`);
    }
  });
  const expectedCommitted = plan.filter((t) => !t.faulted).length;

  // Ledger against the acknowledged set, by ID and content.
  const ledgerIds = new Set(ledger.map((e) => e.id));
  const ledgerProblems: string[] = [];
  for (const [id, t] of acked) {
    if (!ledgerIds.has(id)) ledgerProblems.push(`acknowledged ${id} (#${t.index}) is not in the ledger`);
  }
  for (const entry of ledger) {
    const t = acked.get(entry.id);
    if (t === undefined) ledgerProblems.push(`ledger entry ${entry.id} (${entry.amount} to ${entry.to}) was never acknowledged`);
    else if (t.to !== entry.to || t.amount !== entry.amount || t.familyId !== entry.familyId) {
      ledgerProblems.push(`ledger entry ${entry.id} says ${entry.amount} to ${entry.to}, the request was ${t.amount} to ${t.to}`);
    }
  }

  const visible = ledger.filter((e) => isFaultPattern(e.amount) || balances.decoys.has(e.to));
  const conservation = judgeConservation(ledger, balances);

  const checks: Check[] = [
    check('exactly the non-faulted transfers committed', `${expectedCommitted} committed, ${plan.length - expectedCommitted} aborted`,
      `${committed} committed, ${aborted} aborted${unexpected > 0 ? `, ${unexpected} other` : ''}`, wrongAnswers),
    check('ledger equals the acknowledged transfers', 0, ledgerProblems.length, ledgerProblems),
    check('tokens conserved', 0, conservation.length, conservation),
    check('nothing of an aborted transfer visible', 0, visible.length,
      visible.map((e) => `ledger entry ${e.id}: ${e.amount} to ${e.to} has the pattern only faulted transfers had`)),
  ];
  return {
    checks, committed, aborted, unexpected,
    conservationViolations: conservation.length,
    ledgerMismatches: ledgerProblems.length,
    abortedVisible: visible.length,
  };
}

/**
 * Each family's balance = before - its ledger's outflows; each member's = before + inflows; and the
 * total over families and members unchanged. One problem per account that is off, one for the total.
 * A half-applied transfer (a debit without its credit or ledger entry, or the reverse) shows here.
 */
export function judgeConservation(ledger: readonly LedgerEntry[], b: Omit<BalanceReadings, 'decoys'>): string[] {
  const outflow = new Map<string, number>();
  const inflow = new Map<string, number>();
  for (const e of ledger) {
    outflow.set(e.familyId, (outflow.get(e.familyId) ?? 0) + e.amount);
    inflow.set(e.to, (inflow.get(e.to) ?? 0) + e.amount);
  }
  const problems: string[] = [];
  for (const [id, before] of b.familiesBefore) {
    const expected = before - (outflow.get(id) ?? 0);
    const after = b.familiesAfter.get(id);
    if (after !== expected) problems.push(`family ${id} holds ${after ?? 'nothing'}, expected ${before} - ${outflow.get(id) ?? 0} = ${expected}`);
  }
  for (const [id, before] of b.usersBefore) {
    const expected = before + (inflow.get(id) ?? 0);
    const after = b.usersAfter.get(id);
    if (after !== expected) problems.push(`member ${id} holds ${after ?? 'nothing'}, expected ${before} + ${inflow.get(id) ?? 0} = ${expected}`);
  }
  const total = (m: ReadonlyMap<string, number>): number => [...m.values()].reduce((s, v) => s + v, 0);
  const before = total(b.familiesBefore) + total(b.usersBefore);
  const after = total(b.familiesAfter) + total(b.usersAfter);
  if (before !== after) problems.unshift(`total of families and members went from ${before} to ${after} tokens`);
  return problems;
}

function check(name: string, expected: string | number, actual: string | number, problems: readonly string[]): Check {
  if (problems.length === 0) return { name, expected, actual, passed: true };
  const more = problems.length > EVIDENCE ? `; +${problems.length - EVIDENCE} more` : '';
  return { name, expected, actual, passed: false, detail: problems.slice(0, EVIDENCE).join('; ') + more };
}
