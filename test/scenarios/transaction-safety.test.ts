import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import scenario from '../../scenarios/concurrency/transaction-safety.ts';
import { isFaulted, planTransfers } from '../../scenarios/lib/transfer-plan.ts';
import { DomainError } from '../../target/domain.ts';
import type { Store } from '../../target/store/store.ts';
import { runScenarioOn, storeWith } from './helpers/scenario-harness.ts';
import { runScenarioOnCluster, serviceConfigFor, startSharedSqliteCluster } from './helpers/shared-sqlite-cluster.ts';
import type { SharedSqliteCluster } from './helpers/shared-sqlite-cluster.ts';

describe('transfer plan', () => {
  it('faults round(count * fraction) transfers, spread evenly', () => {
    const faults = (count: number, fraction: number): number => Array.from({ length: count }, (_, j) => isFaulted(j, fraction)).filter(Boolean).length;
    expect(faults(10, 0.5)).toBe(5);
    expect(faults(10, 0)).toBe(0);
    expect(faults(10, 1)).toBe(10);
    expect(faults(7, 0.3)).toBe(2);
  });

  it('gives faulted transfers even amounts and the decoy only faulted transfers', () => {
    const plan = planTransfers([{ familyId: 'f', adminToken: 't', memberIds: ['decoy', 'a', 'b'] }], 20, 0.5);
    expect(plan.filter((t) => t.faulted)).toHaveLength(10);
    for (const t of plan) {
      expect(t.amount % 2 === 0).toBe(t.faulted);
      if (t.to === 'decoy') expect(t.faulted).toBe(true);
    }
    expect(plan.some((t) => t.to === 'decoy')).toBe(true);
  });
});

describe('transaction-safety scenario', () => {
  it('passes at the smoke profile against the embedded deployment with faults on', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('passed');
    expect(result.checks.map((c) => c.passed)).toEqual([true, true, true, true]);
    expect(result.checks[0]?.actual).toBe('15 committed, 15 aborted');
    expect(result.metrics).toMatchObject({ committed: 15, aborted: 15, 'conservation.violations': 0, 'ledger.mismatches': 0, 'aborted.visible': 0, 'errors.rate': 0 });
    expect(result.metrics['latency.p50']).toBeGreaterThan(0);
    expect(result.metrics['latency.p50']).toBeLessThanOrEqual(result.metrics['latency.p99'] ?? 0);
  }, 30_000);

  it('is skipped, not passed, against an external target', async () => {
    const result = await runScenarioOn(scenario, { mode: { kind: 'external', url: 'http://127.0.0.1:9' } });
    expect(result.status).toBe('skipped');
    expect(result.reasons[0]).toMatch(/needs the embedded target: it injects failures/);
  });

  describe('against broken services', () => {
    let cluster: SharedSqliteCluster | undefined;
    afterEach(async () => {
      await cluster?.close();
      cluster = undefined;
    });
    const start = async (wrap: (inner: Store, index: number, dbPath: string) => Store): Promise<SharedSqliteCluster> => {
      const { config } = serviceConfigFor(scenario, scenario.profiles.smoke);
      cluster = await startSharedSqliteCluster({ instances: 1, config, wrap });
      return cluster;
    };

    it('catches a transfer that is not atomic (the debit commits on its own, the credit never happens)', async () => {
      const c = await start((inner, _i, dbPath) => {
        const side = new Database(dbPath);
        side.pragma('busy_timeout = 2000');
        const debit = side.prepare<[number, string]>('UPDATE families SET balance = balance - ? WHERE id = ?');
        return storeWith(inner, {
          transfer: async (input, ctx) => {
            if (ctx.failMidTransaction !== true) return inner.transfer(input, ctx);
            debit.run(input.amount, input.familyId);
            throw new DomainError('injected_fault', 'injected fault after a debit committed outside the transaction');
          },
          close: async () => {
            side.close();
            await inner.close();
          },
        });
      });
      const result = await runScenarioOnCluster(scenario, c);
      expect(result.status).toBe('failed');
      const conserved = result.checks.find((check) => check.name === 'tokens conserved');
      expect(conserved?.passed).toBe(false);
      expect(conserved?.detail).toMatch(/total of families and members went from \d+ to \d+ tokens; family \S+ holds \d+, expected/);
      expect(result.metrics['conservation.violations']).toBe(4); // the total and each of the 3 families
      // The answers and the ledger were right: only the balances give it away.
      expect(result.checks.find((check) => check.name === 'exactly the non-faulted transfers committed')?.passed).toBe(true);
      expect(result.metrics['ledger.mismatches']).toBe(0);
    }, 30_000);

    it('catches a service that acknowledges a faulted transfer it rolled back', async () => {
      const c = await start((inner) =>
        storeWith(inner, {
          transfer: async (input, ctx) => {
            try {
              return await inner.transfer(input, ctx);
            } catch (error) {
              if (!(error instanceof DomainError && error.code === 'injected_fault')) throw error;
              return { id: randomUUID(), familyId: input.familyId, from: input.familyId, to: input.toUserId, amount: input.amount, byUserId: input.byUserId, createdAt: new Date().toISOString() };
            }
          },
        }),
      );
      const result = await runScenarioOnCluster(scenario, c);
      expect(result.status).toBe('failed');
      const ledger = result.checks.find((check) => check.name === 'ledger equals the acknowledged transfers');
      expect(ledger?.passed).toBe(false);
      expect(ledger?.detail).toMatch(/acknowledged [0-9a-f-]{36} \(#\d+\) is not in the ledger/);
      expect(result.metrics['ledger.mismatches']).toBe(15);
      expect(result.checks.find((check) => check.name === 'exactly the non-faulted transfers committed')?.actual).toBe('30 committed, 0 aborted');
      expect(result.metrics['conservation.violations']).toBe(0);
    }, 30_000);

    it('catches a service that ignores the fault and commits the transfer', async () => {
      const c = await start((inner) =>
        storeWith(inner, { transfer: (input, ctx) => inner.transfer(input, { timings: ctx.timings }) }),
      );
      const result = await runScenarioOnCluster(scenario, c);
      expect(result.status).toBe('failed');
      const answers = result.checks.find((check) => check.name === 'exactly the non-faulted transfers committed');
      expect(answers?.passed).toBe(false);
      expect(answers?.detail).toMatch(/#\d+ \(faulted, \d+ to \S+\) was committed/);
      const visible = result.checks.find((check) => check.name === 'nothing of an aborted transfer visible');
      expect(visible?.passed).toBe(false);
      expect(visible?.detail).toMatch(/ledger entry \S+: \d*[02468] to \S+ has the pattern only faulted transfers had/);
      expect(result.metrics['aborted.visible']).toBe(15);
      // Consistent with itself: every acknowledged transfer is in the ledger and the balances add up.
      expect(result.metrics['ledger.mismatches']).toBe(0);
      expect(result.metrics['conservation.violations']).toBe(0);
    }, 30_000);
  });
});
