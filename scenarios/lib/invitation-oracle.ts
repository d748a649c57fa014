/**
 * The member-invitations oracle: pure functions from the answers of the invite and accept bursts,
 * the invitations read back between them and the families read back afterwards to checks.
 */
import type { Check } from '../../src/scenario/definition.ts';
import { describeAnswer, errorCode } from './creation-captured-burst.ts';
import type { CapturedAnswer } from './creation-captured-burst.ts';
import { EVIDENCE_ITEMS, tally } from './creation-oracle.ts';

/** One (family, invitee): the invitations sent for it at the same instant and their answers. */
export interface InvitePair {
  readonly familyId: string;
  readonly inviteeId: string;
  /** More than one admin invited at once. */
  readonly contested: boolean;
  readonly answers: readonly CapturedAnswer[];
}

/** The accepts sent for one invitation (two when raced) and their answers. */
export interface AcceptRecord {
  readonly invitationId: string;
  readonly familyId: string;
  readonly inviteeId: string;
  readonly answers: readonly CapturedAnswer[];
}

/** A family as read back after the accepts. */
export interface FamilyMembers {
  readonly familyId: string;
  readonly members: readonly string[];
  /** Owner + promoted admins + every invitee (each invited once per family and accepted). */
  readonly expected: readonly string[];
}

/** A family's invitations as read back after the invite burst, before any accept. */
export interface FamilyInvitations {
  readonly familyId: string;
  readonly invitations: readonly { readonly inviteeId: string; readonly status: string }[];
}

export interface InvitationEvidence {
  readonly pairs: readonly InvitePair[];
  readonly invitations: readonly FamilyInvitations[];
  readonly accepts: readonly AcceptRecord[];
  readonly families: readonly FamilyMembers[];
}

export interface InvitationVerdict {
  readonly checks: Check[];
  readonly created: number;
  /** Pairs holding more than one pending invitation, read back before the accepts. */
  readonly duplicates: number;
  readonly lost: number;
  readonly doubles: number;
  readonly mismatches: number;
  readonly unexpectedInvites: number;
  readonly unexpectedAccepts: number;
}

/** Judges the invite and accept bursts from their answers and the membership read back. */
export function judgeInvitations(ev: InvitationEvidence): InvitationVerdict {
  const idsOf = (p: InvitePair): string[] => [...new Set(p.answers.filter(is201).map(bodyId).filter((id) => id !== null))];
  const dupPairs = ev.pairs.filter((p) => idsOf(p).length > 1);
  const contestedOff = ev.pairs.filter((p) => p.contested && !oneWinner(p.answers));
  const singlesOff = ev.pairs.filter((p) => !p.contested && !(p.answers.length === 1 && p.answers.every(is201)));
  const created = ev.pairs.reduce((n, p) => n + idsOf(p).length, 0);
  const pendingOff = pendingReadBack(ev);
  const unexpectedInvites = ev.pairs.flatMap((p) => p.answers.filter((a) => !is201(a) && !(p.contested && isCode(a, 409, 'invitation_pending'))));

  const membersOf = new Map(ev.families.map((f) => [f.familyId, new Set(f.members)]));
  const lost = ev.accepts.filter((r) => r.answers.some(is200) && membersOf.get(r.familyId)?.has(r.inviteeId) !== true);
  const raced = ev.accepts.filter((r) => r.answers.length > 1);
  const doubles = raced.filter((r) => !oneAccept(r.answers));
  const unexpectedAccepts = ev.accepts.flatMap((r) =>
    r.answers.filter((a) => !is200(a) && !(r.answers.length > 1 && isCode(a, 409, 'invitation_closed'))));
  const mismatched = ev.families.filter((f) => !sameSet(f.members, f.expected));

  const checks: Check[] = [
    countCheck('one pending invitation per (family, invitee)', dupPairs.length,
      dupPairs.slice(0, EVIDENCE_ITEMS).map((p) => `family ${p.familyId} / invitee ${p.inviteeId}: ${idsOf(p).length} invitations ${idsOf(p).join(', ')}`).join('; ')),
    countCheck('exactly one pending invitation per invited (family, invitee), read back before the accepts', pendingOff.length,
      pendingOff.slice(0, EVIDENCE_ITEMS).map((c) =>
        `family ${c.familyId} / invitee ${c.inviteeId}: ${c.count} pending${c.invited ? '' : ', never invited'}`).join('; ')),
    countCheck('simultaneous invitations: exactly one 201, the rest 409 invitation_pending', contestedOff.length,
      contestedOff.slice(0, EVIDENCE_ITEMS).map((p) => `family ${p.familyId} / invitee ${p.inviteeId}: ${tally(p.answers)}`).join('; ')),
    countCheck('single invitations answered 201', singlesOff.length,
      singlesOff.slice(0, EVIDENCE_ITEMS).map((p) => `family ${p.familyId} / invitee ${p.inviteeId}: ${tally(p.answers)}`).join('; ')),
    countCheck('no lost acceptance (every 200 accept is a member, read back)', lost.length,
      lost.slice(0, EVIDENCE_ITEMS).map((r) => `invitation ${r.invitationId}: ${r.inviteeId} not in family ${r.familyId}`).join('; ')),
    countCheck('raced accepts: one 200, the other 409 invitation_closed', doubles.length,
      doubles.slice(0, EVIDENCE_ITEMS).map((r) => `invitation ${r.invitationId}: ${r.answers.map(describeAnswer).join(' + ')}`).join('; ')),
    countCheck('membership exact: owner + admins + every invitee, all accepted (read back)', mismatched.length,
      mismatched.slice(0, EVIDENCE_ITEMS).map(describeMismatch).join('; ')),
  ];
  return {
    checks,
    created,
    duplicates: pendingOff.filter((c) => c.count > 1).length,
    lost: lost.length,
    doubles: doubles.length,
    mismatches: mismatched.length,
    unexpectedInvites: unexpectedInvites.length,
    unexpectedAccepts: unexpectedAccepts.length,
  };
}

interface PendingCount {
  readonly familyId: string;
  readonly inviteeId: string;
  readonly invited: boolean;
  readonly count: number;
}

/** Pairs read back with a pending count off: not exactly 1 for an invited pair, not 0 for any other. */
function pendingReadBack(ev: InvitationEvidence): PendingCount[] {
  const counts = new Map<string, PendingCount>();
  const keyOf = (familyId: string, inviteeId: string): string => `${familyId}/${inviteeId}`;
  for (const p of ev.pairs) counts.set(keyOf(p.familyId, p.inviteeId), { familyId: p.familyId, inviteeId: p.inviteeId, invited: true, count: 0 });
  for (const f of ev.invitations) {
    for (const inv of f.invitations.filter((i) => i.status === 'pending')) {
      const key = keyOf(f.familyId, inv.inviteeId);
      const known = counts.get(key) ?? { familyId: f.familyId, inviteeId: inv.inviteeId, invited: false, count: 0 };
      counts.set(key, { ...known, count: known.count + 1 });
    }
  }
  return [...counts.values()].filter((c) => c.count !== (c.invited ? 1 : 0));
}

function oneWinner(answers: readonly CapturedAnswer[]): boolean {
  const won = answers.filter(is201).length;
  const pending = answers.filter((a) => isCode(a, 409, 'invitation_pending')).length;
  return won === 1 && won + pending === answers.length;
}

function oneAccept(answers: readonly CapturedAnswer[]): boolean {
  const ok = answers.filter(is200).length;
  const closed = answers.filter((a) => isCode(a, 409, 'invitation_closed')).length;
  return ok === 1 && ok + closed === answers.length;
}

function describeMismatch(f: FamilyMembers): string {
  const have = new Set(f.members);
  const want = new Set(f.expected);
  const missing = f.expected.filter((m) => !have.has(m));
  const extra = f.members.filter((m) => !want.has(m));
  return `family ${f.familyId}: ${f.members.length} members, expected ${f.expected.length}` +
    `${missing.length > 0 ? `; missing ${missing.slice(0, 3).join(', ')}` : ''}${extra.length > 0 ? `; unexpected ${extra.slice(0, 3).join(', ')}` : ''}`;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return a.length === b.length && sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

function isCode(a: CapturedAnswer, status: number, code: string): boolean {
  return a.kind === 'response' && a.status === status && errorCode(a) === code;
}

function is201(a: CapturedAnswer): boolean {
  return a.kind === 'response' && a.status === 201;
}

function is200(a: CapturedAnswer): boolean {
  return a.kind === 'response' && a.status === 200;
}

/** The `id` of a JSON body, or null. */
export function bodyId(a: CapturedAnswer): string | null {
  if (a.kind !== 'response' || typeof a.body !== 'object' || a.body === null) return null;
  const id = (a.body as { id?: unknown }).id;
  return typeof id === 'string' ? id : null;
}

function countCheck(name: string, count: number, evidence: string): Check {
  return { name, expected: 0, actual: count, passed: count === 0, ...(count === 0 ? {} : { detail: evidence }) };
}
