/**
 * Transaction safety: many token transfers at once, a fraction of them failed mid-transaction by
 * fault injection. Read back afterwards: exactly the clean ones committed, tokens conserved, the
 * ledger equals the acknowledged set, and nothing of an aborted transfer is visible.
 */
import { createLatencyHistogram, encodeHistogram, recordMillis } from '../../src/measure/histogram.ts';
import { summarize } from '../../src/measure/summary.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { ScenarioDefinition, ScenarioOutput } from '../../src/scenario/definition.ts';
import { FIXTURE_CONCURRENCY, expectBody, mapLimit } from '../../src/scenario/fixtures.ts';
import type { TestUser } from '../../src/scenario/fixtures.ts';
import type { LedgerEntry } from '../lib/transfer-oracle.ts';
import { judgeTransfers } from '../lib/transfer-oracle.ts';
import { MAX_TRANSFER_AMOUNT, classifyTransfer, planTransfers } from '../lib/transfer-plan.ts';
import type { PlannedTransfer, TransferFamily, TransferOutcome } from '../lib/transfer-plan.ts';
import { RATE_LIMIT_NEVER_REACHED } from '../../src/scenario/deployment-needs.ts';
import { latencyMetricSpecs, latencyMetricValues } from '../../src/scenario/latency-metrics.ts';
import { transactionSafetyTraffic } from '../lib/artillery-concurrency.ts';

interface TransferParams {
  readonly [key: string]: number;
  readonly instances: number;
  readonly families: number;
  /** Members per family that receive transfers (the first only faulted ones): at least 2. */
  readonly members: number;
  readonly transfersPerFamily: number;
  /** Share of transfers sent with `x-fault: fail-mid-transaction`, 0..1. */
  readonly faultFraction: number;
  /** Transfers in flight at once (all of them when it is at least the total). */
  readonly concurrency: number;
}

/** Tokens each new family starts with: far more than any plan can move, so no transfer meets insufficient funds. */
const INITIAL_BALANCE = 1_000_000;
const FAULT_HEADER = { 'x-fault': 'fail-mid-transaction' } as const;

interface Setup {
  readonly admins: readonly TestUser[];
  readonly families: readonly (TransferFamily & { readonly members: readonly TestUser[] })[];
}

const definition: ScenarioDefinition<TransferParams> = {
  id: 'transaction-safety',
  group: 'concurrency',
  title: 'Transaction safety',
  objective: 'Transfers failed mid-transaction leave no trace: exactly the others commit, tokens are conserved, the ledger matches.',
  profiles: {
    smoke: { instances: 1, families: 3, members: 3, transfersPerFamily: 10, faultFraction: 0.5, concurrency: 30 },
    standard: { instances: 2, families: 10, members: 4, transfersPerFamily: 60, faultFraction: 0.5, concurrency: 64 },
    soak: { instances: 2, families: 40, members: 6, transfersPerFamily: 500, faultFraction: 0.5, concurrency: 64 },
  },
  metrics: [
    { name: 'committed', dimension: 'count', description: 'transfers answered 201' },
    { name: 'aborted', dimension: 'count', description: 'transfers answered 500 injected_fault' },
    { name: 'conservation.violations', dimension: 'count', description: 'accounts whose balance disagrees with the ledger, plus 1 if the total changed' },
    { name: 'ledger.mismatches', dimension: 'count', description: 'acknowledged transfers missing from the ledger, entries never acknowledged or with other content' },
    { name: 'aborted.visible', dimension: 'count', description: 'ledger entries with the amount or recipient only faulted transfers had' },
    ...latencyMetricSpecs('latency', 'transfer latency'),
    { name: 'errors.rate', dimension: 'ratio', description: 'transfers answered neither 201 nor 500 injected_fault' },
  ],
  thresholds: ['conservation.violations == 0', 'ledger.mismatches == 0', 'errors.rate == 0', 'latency.p99 < 2s'],
  describe: (p) =>
    `${p.families * p.transfersPerFamily} transfers, ${p.concurrency} at a time, across ${p.families} families of ${p.members} members ` +
    `(${Math.round(p.faultFraction * 100)}% with x-fault: fail-mid-transaction), then ledgers and balances read back`,
  deployment: (p) => ({ instances: p.instances, faults: true, service: { initialBalance: INITIAL_BALANCE, rateLimit: { limit: RATE_LIMIT_NEVER_REACHED } } }),
  needsEmbeddedTarget: 'it injects failures mid-transaction (x-fault: fail-mid-transaction), which only the embedded target started with faults on honours',
  run,
  artillery: (p) => transactionSafetyTraffic(p),
};
export default definition;

async function run(ctx: ScenarioContext, p: TransferParams): Promise<ScenarioOutput> {
  if (p.members < 2 || p.faultFraction < 0 || p.faultFraction > 1 || p.concurrency < 1) {
    throw new RangeError(`transaction-safety needs members >= 2, 0 <= faultFraction <= 1 and concurrency >= 1 (got ${p.members}, ${p.faultFraction}, ${p.concurrency})`);
  }
  ctx.phase('fixtures');
  const setup = await createFamilies(ctx, p);
  const plan = planTransfers(setup.families, p.transfersPerFamily, p.faultFraction);
  const familiesBefore = await familyBalances(ctx, setup);
  for (const [id, balance] of familiesBefore) {
    if (balance < p.transfersPerFamily * MAX_TRANSFER_AMOUNT) {
      throw new RangeError(`family ${id} starts with ${balance} tokens, fewer than the plan may move; lower transfersPerFamily`);
    }
  }
  const usersBefore = await userBalances(ctx, setup);

  ctx.phase(`${plan.length} transfers`);
  const latency = createLatencyHistogram();
  const outcomes: TransferOutcome[] = await mapLimit(plan.length, p.concurrency, (i) => {
    const t = plan[i];
    if (t === undefined) throw new Error(`no transfer ${i}`);
    return send(ctx, t, latency);
  });

  ctx.phase('read back');
  const ledger = await ledgers(ctx, setup);
  const verdict = judgeTransfers(plan, outcomes, ledger, {
    familiesBefore,
    familiesAfter: await familyBalances(ctx, setup),
    usersBefore,
    usersAfter: await userBalances(ctx, setup),
    decoys: new Set(setup.families.map((f) => f.memberIds[0] ?? '')),
  });
  const summary = summarize(latency);
  return {
    metrics: {
      committed: verdict.committed,
      aborted: verdict.aborted,
      'conservation.violations': verdict.conservationViolations,
      'ledger.mismatches': verdict.ledgerMismatches,
      'aborted.visible': verdict.abortedVisible,
      ...latencyMetricValues(summary, 'latency'),
      'errors.rate': plan.length === 0 ? 0 : verdict.unexpected / plan.length,
    },
    checks: verdict.checks,
    histograms: { latency: encodeHistogram(latency) },
    tables: {
      families: setup.families.map((f) => ({
        family: f.familyId,
        before: familiesBefore.get(f.familyId) ?? null,
        transfers: plan.filter((t) => t.familyId === f.familyId).length,
        faulted: plan.filter((t) => t.familyId === f.familyId && t.faulted).length,
        ledgerEntries: ledger.filter((e) => e.familyId === f.familyId).length,
      })),
    },
    notes: [
      'faulted transfers carry even amounts and are the only ones sent to each family\'s first member, so any trace of one in a ledger or balance is recognisable',
      `${p.concurrency} transfers are in flight at once; writes serialise in the store (one SQLite writer at a time), so latency includes that queueing`,
    ],
  };
}

async function createFamilies(ctx: ScenarioContext, p: TransferParams): Promise<Setup> {
  const admins = await ctx.fixtures.createUsers(p.families, 'txadmin');
  const families = await mapLimit(admins.length, Math.max(1, Math.floor(FIXTURE_CONCURRENCY / (p.members + 1))), async (i) => {
    const admin = admins[i];
    if (admin === undefined) throw new Error(`no admin ${i}`);
    const family = await ctx.fixtures.createFamily(admin, `transactions ${i}`);
    const members = await ctx.fixtures.createUsers(p.members, 'txmember');
    await Promise.all(members.map((m) => ctx.fixtures.addMember(family.id, admin, m)));
    return { familyId: family.id, adminToken: admin.token, memberIds: members.map((m) => m.id), members };
  });
  return { admins, families };
}

async function send(ctx: ScenarioContext, t: PlannedTransfer, latency: ReturnType<typeof createLatencyHistogram>): Promise<TransferOutcome> {
  const start = ctx.clock.now();
  try {
    const res = await ctx.http.send({
      method: 'POST', path: `/families/${t.familyId}/transfers`, token: t.adminToken,
      body: { to: t.to, amount: t.amount }, ...(t.faulted ? { headers: FAULT_HEADER } : {}),
    });
    recordMillis(latency, ctx.clock.now() - start);
    return classifyTransfer(res.status, res.body);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    // A transfer without an answer may or may not have committed: the read-back decides, this records it.
    return { kind: 'unexpected', status: null, what: error instanceof Error ? error.message : String(error) };
  }
}

async function familyBalances(ctx: ScenarioContext, setup: Setup): Promise<Map<string, number>> {
  const entries = await mapLimit(setup.families.length, FIXTURE_CONCURRENCY, async (i) => {
    const f = setup.families[i];
    if (f === undefined) throw new Error(`no family ${i}`);
    const res = await ctx.http.send({ method: 'GET', path: `/families/${f.familyId}`, token: f.adminToken });
    return [f.familyId, balanceOf(expectBody(res, 200, 'GET /families/:id'), `family ${f.familyId}`)] as const;
  });
  return new Map(entries);
}

/** Every admin's and member's balance (GET /me): admins too, so a misdirected credit is counted. */
async function userBalances(ctx: ScenarioContext, setup: Setup): Promise<Map<string, number>> {
  const users = [...setup.admins, ...setup.families.flatMap((f) => f.members)];
  const entries = await mapLimit(users.length, FIXTURE_CONCURRENCY, async (i) => {
    const u = users[i];
    if (u === undefined) throw new Error(`no user ${i}`);
    const res = await ctx.http.send({ method: 'GET', path: '/me', token: u.token });
    return [u.id, balanceOf(expectBody(res, 200, 'GET /me'), `user ${u.id}`)] as const;
  });
  return new Map(entries);
}

async function ledgers(ctx: ScenarioContext, setup: Setup): Promise<LedgerEntry[]> {
  const lists = await mapLimit(setup.families.length, FIXTURE_CONCURRENCY, async (i) => {
    const f = setup.families[i];
    if (f === undefined) throw new Error(`no family ${i}`);
    const res = await ctx.http.send({ method: 'GET', path: `/families/${f.familyId}/ledger`, token: f.adminToken });
    return expectBody(res, 200, 'GET /families/:id/ledger') as LedgerEntry[];
  });
  return lists.flat();
}

function balanceOf(body: unknown, what: string): number {
  const balance = (body as { balance?: unknown } | null)?.balance;
  if (typeof balance !== 'number') throw new TypeError(`the service answered no numeric balance for ${what}: ${JSON.stringify(body).slice(0, 120)}`);
  return balance;
}
