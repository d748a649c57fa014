import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import scenario from '../../scenarios/reliability/instance-failure.ts';
import { classifyAnswer } from '../../scenarios/lib/failover-answers.ts';
import type { CapturedAnswer } from '../../scenarios/lib/failover-capture.ts';
import { analyzeTimeline, timelineChecks } from '../../scenarios/lib/failover-timeline.ts';
import type { StatsSample } from '../../scenarios/lib/failover-timeline.ts';
import { FAMILY_KEY_PREFIX, OP_CYCLE, invitationsIn, planOp } from '../../scenarios/lib/failover-workload.ts';
import type { PlannedOp, WorkloadFixtures } from '../../scenarios/lib/failover-workload.ts';
import type { BalancerBehaviour } from '../../target/balancer/proxy.ts';
import type { Store } from '../../target/store/store.ts';
import type { ScenarioResult } from '../../src/results/schema.ts';
import type { ScenarioParams } from '../../src/scenario/definition.ts';
import { findCheck, runScenarioOn, runScenarioWithSession, storeWith } from './helpers/scenario-harness.ts';
import { serviceConfigFor } from './helpers/shared-sqlite-cluster.ts';
import { startInProcessFailover } from './helpers/in-process-failover.ts';
import type { InProcessFailover } from './helpers/in-process-failover.ts';

const DATA_CHECKS = ['every acknowledged write', 'no write is applied twice', 'nothing is applied that', 'no transfer half-applied'] as const;
const ROUTING_CHECK = 'the balancer stops routing to the dead instance';
const RECOVERY_CHECK = 'the restarted instance serves again';

const fixtures: WorkloadFixtures = {
  families: [
    { familyId: 'f1', admin: { id: 'a1', username: 'a1', token: 't1' }, members: [{ id: 'm1', username: 'm1', token: 'tm1' }] },
    { familyId: 'f2', admin: { id: 'a2', username: 'a2', token: 't2' }, members: [{ id: 'm2', username: 'm2', token: 'tm2' }] },
  ],
  invitees: Array.from({ length: 10 }, (_, i) => ({ id: `u${i}`, username: `u${i}`, token: `tu${i}` })),
};

describe('failover workload', () => {
  it('gives every write a key no other write of the run has, and needs one invitee per invitation', () => {
    const requests = 60;
    const ops = Array.from({ length: requests }, (_, i) => planOp(i, fixtures, { slowWriteShare: 0.5, slowWriteDelayMs: 100 }));
    const writes = ops.filter((op) => op.kind !== 'read');
    expect(writes).toHaveLength(3 * Math.ceil(requests / OP_CYCLE.length) - 1);
    expect(new Set(writes.map((op) => `${op.kind} ${op.key}`)).size).toBe(writes.length);
    expect(ops.filter((op) => op.kind === 'invitation')).toHaveLength(invitationsIn(requests));
    expect(writes.filter((op) => op.held).length).toBeGreaterThan(0);
    expect(ops.filter((op) => op.kind === 'read' && op.held)).toEqual([]);
    expect(writes.find((op) => op.kind === 'family')?.key.startsWith(FAMILY_KEY_PREFIX)).toBe(true);
    expect(() => planOp(OP_CYCLE.indexOf('invitation') + OP_CYCLE.length * 10, fixtures, { slowWriteShare: 0, slowWriteDelayMs: 0 })).toThrow(/has no invitee/);
  });
});

describe('failover timeline (exact, on synthetic times)', () => {
  const op = (index: number, kind: PlannedOp['kind'] = 'family'): PlannedOp => ({ ...planOp(index, fixtures, { slowWriteShare: 0, slowWriteDelayMs: 0 }), kind });
  const answer = (o: PlannedOp, doneAt: number, status: number | null, instance: string | null, body: unknown = null): CapturedAnswer => ({
    op: o, dispatchedAt: doneAt - 1, doneAt, status, errorKind: status === null ? 'reset' : null, instance, body,
  });
  const badGateway = (cause: string) => ({ error: { code: 'bad_gateway', backend: 'i1', cause } });
  const sample = (at: number, total: number, active: boolean): StatsSample => ({
    at, backends: [{ instanceId: 'i1', url: 'x', active, ejected: !active, ejections: 0, readmissions: 0, inFlight: 0, total, errors: 0 }],
  });
  const times = { killAt: 1_000, readyAt: 3_000, endAt: 5_000 };

  it('measures routing to the dead instance, ejection, recovery and errors per phase', () => {
    const answers = [
      answer(op(0), 900, 201, 'i1', { id: 'a' }),
      answer(op(1), 1_004, 502, null, badGateway('UND_ERR_SOCKET')),
      answer(op(2), 1_030, 502, null, badGateway('ECONNREFUSED')),
      answer(op(3, 'read'), 1_500, 200, 'i2'),
      answer(op(4), 2_000, null, null),
      answer(op(5, 'read'), 3_120, 200, 'i1'),
      answer(op(6, 'read'), 3_200, 200, 'i2'),
    ];
    const samples = [sample(950, 10, true), sample(1_050, 12, true), sample(1_150, 13, false), sample(1_250, 13, false), sample(3_100, 13, false), sample(3_200, 14, true)];
    const f = analyzeTimeline(answers, samples, times, 'i1', (index) => 800 + index);
    expect(f.requests).toEqual({ before: 1, outage: 4, after: 2 });
    expect(f.errors).toEqual({ before: 0, outage: 3, after: 0 });
    expect(f.deadRoutingMs).toBe(30);
    expect(f.deadRoutingBalancerMs).toBe(150);
    expect(f.ejectionMs).toBe(150);
    expect(f.recoveryMs).toBe(120);
    expect(f.servedAfterRestart).toBe(1);
    expect(f.tallies.map((t) => [t.phase, t.label, t.detail, t.count])).toEqual([
      ['outage', '502', 'bad_gateway UND_ERR_SOCKET', 1],
      ['outage', '502', 'bad_gateway ECONNREFUSED', 1],
      ['outage', 'reset', 'reset', 1],
    ]);
    expect(f.latency.before.totalCount + f.latency.outage.totalCount + f.latency.after.totalCount).toBe(4);
    expect(timelineChecks(f, times, 'i1', 100).map((c) => c.passed)).toEqual([false, true]);
    expect(timelineChecks(f, times, 'i1', 150).map((c) => c.passed)).toEqual([true, true]);
  });

  it('fails recovery when the restarted instance is never routed to, or errors follow it', () => {
    const never = analyzeTimeline([answer(op(0, 'read'), 3_500, 200, 'i2')], [], times, 'i1', () => 0);
    expect(never.recoveryMs).toBeNull();
    expect(timelineChecks(never, times, 'i1', 1_000)[1]).toMatchObject({ passed: false, detail: expect.stringMatching(/not re-admitted/) as unknown });
    const late = analyzeTimeline([answer(op(0, 'read'), 3_100, 200, 'i1'), answer(op(1), 3_400, 503, null, { error: { code: 'no_backend' } })], [], times, 'i1', () => 0);
    expect(late.recoveryMs).toBe(400);
    expect(timelineChecks(late, times, 'i1', 1_000)[1]?.passed).toBe(false);
  });

  it('classifies what a write may have done from the answer', () => {
    const o = op(0);
    const delivery = (status: number | null, body: unknown): string => classifyAnswer(answer(o, 1, status, null, body)).delivery;
    expect(delivery(201, { id: 'x' })).toBe('acked');
    expect(delivery(502, badGateway('ECONNREFUSED'))).toBe('not-delivered');
    expect(delivery(503, { error: { code: 'no_backend' } })).toBe('not-delivered');
    expect(delivery(502, badGateway('UND_ERR_SOCKET'))).toBe('in-doubt');
    expect(delivery(null, null)).toBe('in-doubt');
    expect(delivery(409, { error: { code: 'invitation_pending' } })).toBe('conflict');
    expect(delivery(503, { error: { code: 'store_unavailable' } })).toBe('rejected');
  });
});

describe('instance-failure scenario', () => {
  it('passes at the smoke profile against the embedded deployment: SIGKILL, restart on the same port, nothing lost', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('passed');
    expect(result.checks).toHaveLength(6);
    const m = result.metrics;
    expect(m['writes.acked']).toBeGreaterThan(0);
    expect(m['dead_routing.ms']).toBeLessThanOrEqual(scenario.profiles.smoke.deadRoutingBoundMs);
    expect(m['restart.ms']).toBeGreaterThan(0);
    expect(m['recovery.ms']).toBeGreaterThanOrEqual(0);
    expect(m['latency.before.p50']).toBeLessThanOrEqual(m['latency.before.p99'] ?? 0);
    expect(m['latency.after.p50']).toBeGreaterThan(0);
    expect((m['writes.in_doubt_applied'] ?? 0)).toBeLessThanOrEqual(m['writes.in_doubt'] ?? 0);
  }, 60_000);

  it('is skipped, not passed, against an external target', async () => {
    const result = await runScenarioOn(scenario, { mode: { kind: 'external', url: 'http://127.0.0.1:9' } });
    expect(result.status).toBe('skipped');
    expect(result.reasons[0]).toMatch(/needs the embedded target: it kills and restarts an instance/);
  });

  describe('against broken deployments (in-process, the restart is instant)', () => {
    let deployment: InProcessFailover | undefined;
    afterEach(async () => {
      await deployment?.close();
      deployment = undefined;
    });
    const params = scenario.profiles.smoke;
    const runBroken = async (
      broken: { balancer?: BalancerBehaviour; wrap?: (store: Store, index: number, dbPath: string) => Store },
      overrides: Partial<ScenarioParams> = {},
    ): Promise<ScenarioResult> => {
      const { config, instances } = serviceConfigFor(scenario, params);
      deployment = await startInProcessFailover({ instances, config, ...broken });
      // Shorter phases than smoke's: nothing here waits for a process to start, and a second of outage holds a few hundred requests.
      return runScenarioWithSession(scenario, deployment.session, { params: { restartAllowanceMs: 0, beforeMs: 600, outageMs: 1_000, afterMs: 800, ...overrides } });
    };
    const expectPassed = (result: ScenarioResult, prefixes: readonly string[]): void => {
      for (const prefix of prefixes) {
        const check = findCheck(result, prefix);
        expect(check.passed, JSON.stringify({ check, loadRuns: result.loadRuns })).toBe(true);
      }
    };

    it('catches a balancer that never ejects the dead instance (routing bound)', async () => {
      const result = await runBroken({ balancer: { faults: { neverEject: true } } }, { outageMs: 2_000 });
      expect(result.status).toBe('failed');
      const routing = findCheck(result, ROUTING_CHECK);
      expect(routing.passed).toBe(false);
      expect(routing.detail).toMatch(/answers naming i1 as the failed backend came up to \d+ ms after the kill; .*it was never taken out of rotation/);
      expect(result.metrics['dead_routing.ms']).toBeGreaterThan(params.deadRoutingBoundMs);
      expect(result.metrics['ejection.ms']).toBeUndefined();
      expect(result.metrics['outage.errors.502']).toBeGreaterThan(0);
      // Not the recovery check: a balancer that never ejects sends to the dead port up to the instant of
      // the (in-process, instant) restart, and a 502 of that last moment may end just after it is ready.
      expectPassed(result, DATA_CHECKS);
    }, 30_000);

    it('catches a balancer that retries a POST after the dead instance had received (and committed) it', async () => {
      // Every write held after its commit: many are in flight on the instance when it dies.
      const result = await runBroken({ balancer: { faults: { retryAfterSend: true } } }, { slowWriteShare: 1 });
      expect(result.status).toBe('failed');
      const duplicates = findCheck(result, 'no write is applied twice');
      expect(duplicates.passed).toBe(false);
      expect(duplicates.detail).toMatch(/(is applied 2 times|was sent once and answered 409 invitation_pending)/);
      expect(result.metrics.duplicates).toBeGreaterThan(0);
      expectPassed(result, ['every acknowledged write', 'nothing is applied that', 'no transfer half-applied', ROUTING_CHECK]);
    }, 30_000);

    it('catches a store that acknowledges families it never committed', async () => {
      let calls = 0;
      const result = await runBroken({
        wrap: (inner) =>
          storeWith(inner, {
            createFamily: async (input, ctx) => {
              if (!input.name.startsWith(FAMILY_KEY_PREFIX) || calls++ % 4 !== 0) return inner.createFamily(input, ctx);
              const slug = input.name.replace(/\W+/g, '_');
              return { id: randomUUID(), name: input.name, sbdUsername: `family_${slug}`, ownerId: input.ownerId, admins: [input.ownerId], members: [input.ownerId], balance: input.initialBalance, version: 1, createdAt: new Date().toISOString() };
            },
          }),
      });
      expect(result.status).toBe('failed');
      const lost = findCheck(result, 'every acknowledged write');
      expect(lost.passed).toBe(false);
      expect(lost.detail).toMatch(/family failover \d+ was acknowledged as [0-9a-f-]{36} but is not read back/);
      expect(result.metrics['acked.lost']).toBeGreaterThan(0);
      expectPassed(result, ['no write is applied twice', 'nothing is applied that', 'no transfer half-applied', ROUTING_CHECK, RECOVERY_CHECK]);
    }, 30_000);

    it('catches a store that commits a family and then fails the request (refused, yet applied)', async () => {
      let calls = 0;
      const result = await runBroken({
        wrap: (inner) =>
          storeWith(inner, {
            createFamily: async (input, ctx) => {
              const family = await inner.createFamily(input, ctx);
              if (input.name.startsWith(FAMILY_KEY_PREFIX) && calls++ % 4 === 0) throw new Error('lost the answer after the commit');
              return family;
            },
          }),
      });
      expect(result.status).toBe('failed');
      const visible = findCheck(result, 'nothing is applied that');
      expect(visible.passed).toBe(false);
      expect(visible.detail).toMatch(/family failover \d+ was answered internal but is read back as [0-9a-f-]{36}/);
      expect(result.metrics['refused.visible']).toBeGreaterThan(0);
      expectPassed(result, ['every acknowledged write', 'no write is applied twice', 'no transfer half-applied', ROUTING_CHECK]);
    }, 30_000);

    it('catches a half-applied transfer (debited and in the ledger, never credited)', async () => {
      let transfers = 0;
      const sides: Database.Database[] = [];
      const result = await runBroken({
        wrap: (inner, _index, dbPath) => {
          const side = new Database(dbPath);
          side.pragma('busy_timeout = 2000');
          sides.push(side);
          const uncredit = side.prepare<[number, string]>('UPDATE users SET balance = balance - ? WHERE id = ?');
          return storeWith(inner, {
            transfer: async (input, ctx) => {
              const done = await inner.transfer(input, ctx);
              if (transfers++ % 5 === 0) uncredit.run(input.amount, input.toUserId);
              return done;
            },
          });
        },
      });
      for (const side of sides) side.close();
      expect(result.status).toBe('failed');
      const conserved = findCheck(result, 'no transfer half-applied');
      expect(conserved.passed).toBe(false);
      expect(conserved.detail).toMatch(/total of families and members went from \d+ to \d+ tokens; member \S+ holds \d+, expected \d+ \+ \d+ = \d+/);
      expect(result.metrics['conservation.violations']).toBeGreaterThan(0);
      // Answers and ledger agree with each other: only the balances give it away.
      expectPassed(result, ['every acknowledged write', 'no write is applied twice', 'nothing is applied that', ROUTING_CHECK, RECOVERY_CHECK]);
    }, 30_000);
  });
});
