/**
 * The instance-failure oracle for data: judges each write's answer against what was read back
 * afterwards, by its client key. Acknowledged writes must be there once; writes no backend received
 * or the service refused must not be there; writes in doubt (the backend died after receiving them)
 * may be there, once. Tokens must be conserved across ledger and balances. Pure.
 */
import type { Check } from '../../src/scenario/definition.ts';
import { classifyAnswer } from './failover-answers.ts';
import type { Delivery } from './failover-answers.ts';
import type { CapturedAnswer } from './failover-capture.ts';
import type { Balances, ReadBack } from './failover-readback.ts';
import type { WriteKind } from './failover-workload.ts';
import { judgeConservation } from './transfer-oracle.ts';

/** Offending items quoted in a failed check's detail. */
const EVIDENCE = 5;
const WRITE_KINDS: readonly WriteKind[] = ['family', 'invitation', 'transfer'];

export interface WriteRow {
  readonly kind: WriteKind;
  readonly sent: number;
  readonly acked: number;
  readonly notDelivered: number;
  readonly inDoubt: number;
  /** In-doubt writes the read-back shows applied. */
  readonly inDoubtApplied: number;
  readonly conflicts: number;
  readonly rejected: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Read back though no backend received it, the service refused it, or nobody sent it. */
  readonly refusedVisible: number;
}

export interface WriteVerdict {
  readonly checks: readonly Check[];
  readonly rows: readonly WriteRow[];
  readonly lost: number;
  readonly duplicates: number;
  readonly refusedVisible: number;
  readonly conservationViolations: number;
}

type Counts = { -readonly [K in keyof Omit<WriteRow, 'kind'>]: number };

export function judgeWrites(answers: readonly CapturedAnswer[], readBack: ReadBack, before: Balances, after: Balances): WriteVerdict {
  const lost: string[] = [];
  const duplicates: string[] = [];
  const visible: string[] = [];
  const counts = new Map<WriteKind, Counts>(WRITE_KINDS.map((k) => [k, emptyCounts()]));
  const sentKeys = new Map<WriteKind, Set<string>>(WRITE_KINDS.map((k) => [k, new Set<string>()]));
  for (const a of answers) {
    const kind = a.op.kind;
    if (kind === 'read') continue;
    const c = counts.get(kind);
    if (c === undefined) continue;
    sentKeys.get(kind)?.add(a.op.key);
    const verdict = classifyAnswer(a);
    const ids = readBack.found.get(kind)?.get(a.op.key) ?? [];
    const what = `${kind} ${a.op.key}`;
    c.sent += 1;
    tallyDelivery(c, verdict.delivery);
    if (verdict.delivery === 'acked' && (verdict.ackedId === null || !ids.includes(verdict.ackedId))) {
      c.lost += 1;
      lost.push(`${what} was acknowledged as ${verdict.ackedId ?? '(no id)'} but ${ids.length === 0 ? 'is not read back' : `reads back as ${ids.join(', ')}`}`);
    }
    if ((verdict.delivery === 'not-delivered' || verdict.delivery === 'rejected') && ids.length > 0) {
      c.refusedVisible += 1;
      visible.push(`${what} was answered ${verdict.errorDetail ?? '?'} but is read back as ${ids.join(', ')}`);
    }
    if (verdict.delivery === 'in-doubt' && ids.length > 0) c.inDoubtApplied += 1;
    if (verdict.delivery === 'conflict') {
      c.duplicates += 1;
      duplicates.push(`${what} was sent once and answered 409 ${verdict.errorDetail ?? ''}: the service already had it from another delivery`);
    } else if (ids.length > 1) {
      c.duplicates += 1;
      duplicates.push(`${what} is applied ${ids.length} times (${ids.join(', ')})`);
    }
  }
  for (const kind of WRITE_KINDS) {
    for (const [key, ids] of readBack.found.get(kind) ?? []) {
      if (sentKeys.get(kind)?.has(key) === true) continue;
      const c = counts.get(kind);
      if (c !== undefined) c.refusedVisible += 1;
      visible.push(`${kind} ${key} is read back (${ids.join(', ')}) but was never sent`);
    }
  }
  const conservation = judgeConservation(readBack.ledger, {
    familiesBefore: before.families,
    familiesAfter: after.families,
    usersBefore: before.users,
    usersAfter: after.users,
  });
  const rows = WRITE_KINDS.map((kind): WriteRow => ({ kind, ...(counts.get(kind) ?? emptyCounts()) }));
  return {
    checks: [
      check('every acknowledged write is read back', 0, lost),
      check('no write is applied twice (each carries a unique client key)', 0, duplicates),
      check('nothing is applied that no backend received or the service refused', 0, visible),
      check('no transfer half-applied: balances agree with the ledger, tokens conserved', 0, conservation),
    ],
    rows,
    lost: lost.length,
    duplicates: duplicates.length,
    refusedVisible: visible.length,
    conservationViolations: conservation.length,
  };
}

function tallyDelivery(c: Counts, delivery: Delivery): void {
  switch (delivery) {
    case 'acked':
      c.acked += 1;
      return;
    case 'not-delivered':
      c.notDelivered += 1;
      return;
    case 'in-doubt':
      c.inDoubt += 1;
      return;
    case 'conflict':
      c.conflicts += 1;
      return;
    case 'rejected':
      c.rejected += 1;
      return;
  }
}

function emptyCounts(): Counts {
  return { sent: 0, acked: 0, notDelivered: 0, inDoubt: 0, inDoubtApplied: 0, conflicts: 0, rejected: 0, lost: 0, duplicates: 0, refusedVisible: 0 };
}

function check(name: string, expected: number, problems: readonly string[]): Check {
  if (problems.length === 0) return { name, expected, actual: 0, passed: true };
  const more = problems.length > EVIDENCE ? `; +${problems.length - EVIDENCE} more` : '';
  return { name, expected, actual: problems.length, passed: false, detail: problems.slice(0, EVIDENCE).join('; ') + more };
}
