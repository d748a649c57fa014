import type Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import memberInvitations from '../../scenarios/concurrency/member-invitations.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import type { ScenarioResult } from '../../src/results/schema.ts';
import { DomainError } from '../../target/domain.ts';
import type { Store } from '../../target/store/store.ts';
import { findCheck, runScenarioOn, startServiceInTest, storeWith } from './helpers/scenario-harness.ts';
import type { ServiceInTest } from './helpers/scenario-harness.ts';

const definition = memberInvitations as unknown as ScenarioDefinition;
const SMALL = { instances: 1, families: 3, promotedAdmins: 2, invitees: 5, contested: 3, contenders: 2, racedAccepts: 2 };
const services: ServiceInTest[] = [];

afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
});

async function runAgainstBroken(wrap: (inner: Store) => Store): Promise<ScenarioResult> {
  const service = await startServiceInTest({ config: { rateLimit: { limit: 1_000_000, windowMs: 60_000 } }, wrap });
  services.push(service);
  return runScenarioOn(definition, { params: SMALL, mode: { kind: 'external', url: service.url } });
}


describe('member-invitations scenario', () => {
  it('passes at the smoke profile on the embedded target (2 instances), with sane metrics', async () => {
    const result = await runScenarioOn(definition, { profile: 'smoke' });
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('passed');
    const p = memberInvitations.profiles.smoke;
    const m = result.metrics;
    expect(m['invitations.created']).toBe(p.families * p.invitees);
    expect(m['invitations.duplicates']).toBe(0);
    expect(m['acceptances.lost']).toBe(0);
    expect(m['membership.mismatches']).toBe(0);
    expect(m['errors.rate']).toBe(0);
    for (const prefix of ['invite.latency', 'accept.latency']) {
      expect(m[`${prefix}.p50`]).toBeGreaterThan(0);
      expect(m[`${prefix}.p50`]).toBeLessThanOrEqual(m[`${prefix}.p99`] ?? NaN);
      expect(m[`${prefix}.p99`]).toBeLessThanOrEqual(m[`${prefix}.max`] ?? NaN);
    }
    expect(result.loadRuns.map((r) => r.sent)).toEqual([
      p.families * (p.contested * p.contenders + p.invitees - p.contested),
      p.families * (p.invitees + p.racedAccepts),
    ]);
    // Both instances answered: the simultaneous invitations and accepts crossed processes.
    expect(result.tables.instances?.length).toBe(2);
  }, 30_000);

  it('fails when the one-pending unique index is missing: two pending invitations for one (family, invitee)', async () => {
    const result = await runAgainstBroken((inner) => {
      // The SQLite store's connection is private; a test reaching it is how we drop the index a broken migration would lack.
      const db = (inner as unknown as { db: Database.Database }).db;
      db.exec('DROP INDEX invitations_one_pending');
      return inner;
    });
    expect(result.status).toBe('failed');
    const dup = findCheck(result, 'one pending invitation per');
    expect(dup.passed).toBe(false);
    expect(dup.actual).toBe(SMALL.families * SMALL.contested);
    expect(dup.detail).toMatch(/2 invitations/);
    expect(findCheck(result, 'simultaneous invitations').passed).toBe(false);
    expect(result.metrics['invitations.duplicates']).toBe(SMALL.families * SMALL.contested);
    expect(findCheck(result, 'exactly one pending invitation per invited').actual).toBe(SMALL.families * SMALL.contested);
  });

  it('fails on the read-back when a second pending invitation is committed but answered 409 invitation_pending', async () => {
    const result = await runAgainstBroken((inner) => {
      // As above, the index a broken migration would lack; the store then commits the duplicate and only pretends to refuse it.
      (inner as unknown as { db: Database.Database }).db.exec('DROP INDEX invitations_one_pending');
      let queue: Promise<unknown> = Promise.resolve();
      return storeWith(inner, {
        createInvitation(input, ctx) {
          // Serialized so "was one pending already?" is decided before this insert: exactly one 201 per pair.
          const run = queue.then(async () => {
            const before = (await inner.listInvitations(input.familyId, ctx))
              .filter((i) => i.inviteeId === input.inviteeId && i.status === 'pending');
            const created = await inner.createInvitation(input, ctx);
            if (before.length > 0) throw new DomainError('invitation_pending', `committed ${created.id} all the same`);
            return created;
          });
          // The chain only orders the calls; each caller gets its own outcome through `run`.
          queue = run.catch(() => undefined);
          return run;
        },
      });
    });
    expect(result.status).toBe('failed');
    const readBack = findCheck(result, 'exactly one pending invitation per invited');
    expect(readBack.passed).toBe(false);
    expect(readBack.actual).toBe(SMALL.families * SMALL.contested);
    expect(readBack.detail).toMatch(/^family [0-9a-f-]{36} \/ invitee [0-9a-f-]{36}: 2 pending(; |$)/);
    expect(result.metrics['invitations.duplicates']).toBe(SMALL.families * SMALL.contested);
    // The answers alone look right: only the read-back sees the duplicates.
    expect(result.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual([readBack.name]);
    expect(result.metrics['errors.rate']).toBe(0);
  });

  it('fails when an accept answers 200 but the membership is lost', async () => {
    const result = await runAgainstBroken((inner) =>
      storeWith(inner, {
        // On the plain-member path, closes the invitation without adding the member and reports it accepted
        // (admin promotions, which the fixtures need, keep working).
        async answerInvitation(input, ctx) {
          if ((await inner.getInvitation(input.invitationId, ctx))?.role !== 'member') return inner.answerInvitation(input, ctx);
          const closed = await inner.answerInvitation({ ...input, accept: false }, ctx);
          return { ...closed, status: input.accept ? 'accepted' : 'declined' };
        },
      }));
    expect(result.status).toBe('failed');
    const lost = findCheck(result, 'no lost acceptance');
    expect(lost.passed).toBe(false);
    expect(lost.actual).toBe(SMALL.families * SMALL.invitees);
    expect(lost.detail).toMatch(/not in family/);
    expect(findCheck(result, 'membership exact').passed).toBe(false);
    expect(result.metrics['acceptances.lost']).toBe(SMALL.families * SMALL.invitees);
  });

  it('fails when a second accept of a closed invitation answers 200 (double acceptance)', async () => {
    const result = await runAgainstBroken((inner) =>
      storeWith(inner, {
        // "Idempotent" accept: a closed, accepted invitation is answered as if this accept had won.
        async answerInvitation(input, ctx) {
          try {
            return await inner.answerInvitation(input, ctx);
          } catch (error) {
            const existing = await inner.getInvitation(input.invitationId, ctx);
            if (error instanceof DomainError && error.code === 'invitation_closed' && existing?.status === 'accepted') return existing;
            throw error;
          }
        },
      }));
    expect(result.status).toBe('failed');
    const doubles = findCheck(result, 'raced accepts');
    expect(doubles.passed).toBe(false);
    expect(doubles.actual).toBe(SMALL.families * SMALL.racedAccepts);
    expect(doubles.detail).toMatch(/200 \+ 200/);
    expect(findCheck(result, 'membership exact').passed).toBe(true);
  });
});
