/**
 * The family-creation oracle: pure functions from what the service answered and what it shows when
 * read back to checks. Kept apart from the scenario so each rule can be tested on crafted data.
 */
import { slugify } from '../../target/domain.ts';
import type { Check } from '../../src/scenario/definition.ts';
import type { FamilyView } from '../../src/scenario/fixtures.ts';
import { describeAnswer, errorCode } from './creation-captured-burst.ts';
import type { CapturedAnswer } from './creation-captured-burst.ts';

/** How many offending items a check's evidence lists. */
export const EVIDENCE_ITEMS = 5;

export type CreatorRole = 'creator' | 'racer';

/** One user of the burst and what the service shows they own after it. */
export interface OwnerReadBack {
  readonly userId: string;
  readonly role: CreatorRole;
  /** Families they owned before the burst. */
  readonly preOwned: number;
  /** Answers to their creations in the burst. */
  readonly answers: readonly CapturedAnswer[];
  /** Families they own, read back (GET /me/families, filtered on ownerId). */
  readonly owned: readonly FamilyView[];
}

export interface CreationEvidence {
  readonly owners: readonly OwnerReadBack[];
  readonly familyLimit: number;
  /** Creations a racer is still allowed when the burst starts. */
  readonly headroom: number;
  /** IDs whose GET /families/:id disagreed with the listing (or failed), with why. */
  readonly byIdMismatches: readonly string[];
}

export interface CreationVerdict {
  readonly checks: Check[];
  readonly created: number;
  readonly duplicateIds: number;
  readonly duplicateSbd: number;
  readonly limitViolations: number;
  readonly sbdViolations: number;
  /** Answers other than 201 (and, for racers, 409 family_limit). */
  readonly unexpected: number;
  readonly admitted: number;
}

/** Judges a family-creation burst from the answers and the read-back. */
export function judgeCreation(ev: CreationEvidence): CreationVerdict {
  const families = ev.owners.flatMap((o) => o.owned);
  const ids = duplicates(families.map((f) => f.id));
  const sbds = duplicates(families.map((f) => f.sbdUsername));
  const sbdBad = sbdViolations(families);
  const over = ev.owners.filter((o) => o.owned.length > ev.familyLimit);
  const racers = ev.owners.filter((o) => o.role === 'racer');
  const racersOff = racers.filter((o) => o.owned.length !== ev.familyLimit);
  const racerAnswersOff = racers.filter((o) => !racerAnswersRight(o.answers, ev.headroom));
  const creatorAnswers = ev.owners.filter((o) => o.role === 'creator').flatMap((o) => o.answers);
  const creatorFailures = creatorAnswers.filter((a) => !is201(a));
  const unexpected = ev.owners.flatMap((o) => o.answers.filter((a) => !expectedAnswer(a, o.role)));
  const acked = ev.owners.flatMap((o) => o.answers.filter(is201).map(bodyId));
  const preOwned = ev.owners.reduce((n, o) => n + o.preOwned, 0);
  const created = families.length - preOwned;
  const readIds = new Set(families.map((f) => f.id));
  const ackedMissing = acked.filter((id) => id === null || !readIds.has(id));

  const checks: Check[] = [
    countCheck('family IDs unique (read back)', ids.count, `repeated: ${ids.examples.join(', ')}`),
    countCheck('sbdUsernames unique (read back)', sbds.count, `repeated: ${sbds.examples.join(', ')}`),
    countCheck('sbdUsernames are family_<slug>[_n], lowest free per name', sbdBad.length, sbdBad.slice(0, EVIDENCE_ITEMS).join('; ')),
    countCheck(`no owner above the family limit of ${ev.familyLimit}`, over.length,
      over.slice(0, EVIDENCE_ITEMS).map((o) => `${o.userId} owns ${o.owned.length}`).join(', ')),
    countCheck('racing owners own exactly the limit', racersOff.length,
      racersOff.slice(0, EVIDENCE_ITEMS).map((o) => `${o.userId} owns ${o.owned.length}`).join(', ')),
    countCheck(`racing creations: ${ev.headroom} x 201, the rest 409 family_limit`, racerAnswersOff.length,
      racerAnswersOff.slice(0, EVIDENCE_ITEMS).map((o) => `${o.userId}: ${tally(o.answers)}`).join('; ')),
    {
      name: 'non-racing creations succeed (201)',
      expected: creatorAnswers.length,
      actual: creatorAnswers.length - creatorFailures.length,
      passed: creatorFailures.length === 0,
      ...(creatorFailures.length === 0 ? {} : { detail: `answers: ${tally(creatorFailures)}` }),
    },
    {
      name: 'families read back = creations acknowledged',
      expected: acked.length,
      actual: created,
      passed: created === acked.length && ackedMissing.length === 0,
      ...(ackedMissing.length === 0 ? {} : { detail: `acknowledged but not listed: ${ackedMissing.slice(0, EVIDENCE_ITEMS).map(String).join(', ')}` }),
    },
    countCheck('GET /families/:id agrees with GET /me/families', ev.byIdMismatches.length, ev.byIdMismatches.slice(0, EVIDENCE_ITEMS).join('; ')),
  ];
  return {
    checks,
    created,
    duplicateIds: ids.count,
    duplicateSbd: sbds.count,
    limitViolations: over.length,
    sbdViolations: sbdBad.length,
    unexpected: unexpected.length,
    admitted: acked.length,
  };
}

/** Families whose sbdUsername breaks `family_<slug(name)>[_n]`, and names whose suffixes are not exactly 1..m. */
export function sbdViolations(families: readonly FamilyView[]): string[] {
  const bad: string[] = [];
  const byName = new Map<string, number[]>();
  for (const f of families) {
    const base = `family_${slugify(f.name)}`;
    const n = f.sbdUsername === base ? 1 : suffixOf(f.sbdUsername, base);
    if (n === null) {
      bad.push(`${f.id} "${f.name}" -> ${f.sbdUsername}`);
      continue;
    }
    const list = byName.get(f.name) ?? [];
    list.push(n);
    byName.set(f.name, list);
  }
  for (const [name, suffixes] of byName) {
    suffixes.sort((a, b) => a - b);
    const gap = suffixes.findIndex((n, i) => n !== i + 1);
    if (gap >= 0) bad.push(`"${name}": suffixes ${compact(suffixes)}, expected 1..${suffixes.length}`);
  }
  return bad;
}

/** How many values repeat an earlier one, and a few of them. */
export function duplicates(values: readonly string[]): { count: number; examples: string[] } {
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const v of values) {
    if (seen.has(v)) repeated.push(v);
    seen.add(v);
  }
  return { count: repeated.length, examples: [...new Set(repeated)].slice(0, EVIDENCE_ITEMS) };
}

/** `201 x3, 409 family_limit x2`: a tally of answers for evidence. */
export function tally(answers: readonly CapturedAnswer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(describeAnswer(a), (counts.get(describeAnswer(a)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} x${n}`).join(', ');
}

function racerAnswersRight(answers: readonly CapturedAnswer[], headroom: number): boolean {
  const admitted = answers.filter(is201).length;
  const limited = answers.filter((a) => a.kind === 'response' && a.status === 409 && errorCode(a) === 'family_limit').length;
  return admitted === Math.min(headroom, answers.length) && admitted + limited === answers.length;
}

function expectedAnswer(a: CapturedAnswer, role: CreatorRole): boolean {
  if (is201(a)) return true;
  return role === 'racer' && a.kind === 'response' && a.status === 409 && errorCode(a) === 'family_limit';
}

function is201(a: CapturedAnswer): boolean {
  return a.kind === 'response' && a.status === 201;
}

function bodyId(a: CapturedAnswer): string | null {
  if (a.kind !== 'response' || typeof a.body !== 'object' || a.body === null) return null;
  const id = (a.body as { id?: unknown }).id;
  return typeof id === 'string' ? id : null;
}

function suffixOf(sbd: string, base: string): number | null {
  if (!sbd.startsWith(`${base}_`)) return null;
  const rest = sbd.slice(base.length + 1);
  if (!/^[1-9]\d*$/.test(rest)) return null;
  const n = Number(rest);
  return n >= 2 ? n : null;
}

function compact(ns: readonly number[]): string {
  return ns.length <= 8 ? ns.join(',') : `${ns.slice(0, 4).join(',')},...,${ns.slice(-3).join(',')}`;
}

function countCheck(name: string, count: number, evidence: string): Check {
  return { name, expected: 0, actual: count, passed: count === 0, ...(count === 0 ? {} : { detail: evidence }) };
}
