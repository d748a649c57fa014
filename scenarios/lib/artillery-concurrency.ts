/**
 * Artillery traffic of the concurrency scenarios (ScenarioDefinition.artillery): their requests as
 * flows, built from artillery-flows.ts. Only the traffic exports: every one of these scenarios judges
 * what the service did by reading it back afterwards, which needs gauntlet's bookkeeping, and each
 * says so in `notExported`.
 */
import type { ArtilleryTraffic, TrafficStep } from '../../src/artillery/traffic.ts';
import {
  accept, concurrentUsersPhase, createFamily, familyWithMember, invite, MEMBER, mixedRound, pacedReads, READS_PER_VU, readFamily, renameFamily, signUp, transfer, wholeSeconds,
} from './artillery-flows.ts';

/** What the transaction-safety scenario sends: the fault header marks the transfers it fails mid-transaction. */
const FAULT_HEADER = { 'x-fault': 'fail-mid-transaction' } as const;
/** Amounts: odd for clean transfers, even for faulted ones (as transfer-plan.ts), small enough for the default balance (1,000). */
const CLEAN_AMOUNT = 1;
const FAULTED_AMOUNT = 2;

/**
 * One virtual user per family: it signs up, creates its family, signs up a member, invites it and the
 * member accepts; then the family's transfers to that member, in rounds of transfers sent at once
 * (the scenario's `concurrency` spread over the families), a faultFraction of each round with
 * `x-fault: fail-mid-transaction`.
 */
export function transactionSafetyTraffic(p: { readonly families: number; readonly transfersPerFamily: number; readonly faultFraction: number; readonly concurrency: number }): ArtilleryTraffic {
  const atOnce = Math.max(1, Math.min(p.transfersPerFamily, Math.floor(p.concurrency / p.families)));
  const rounds = Math.max(1, Math.ceil(p.transfersPerFamily / atOnce));
  const perRound = Math.ceil(p.transfersPerFamily / rounds);
  const faulted = Math.round(perRound * p.faultFraction);
  const race: TrafficStep[] = [
    ...Array.from({ length: perRound - faulted }, () => transfer({ to: MEMBER, amount: CLEAN_AMOUNT })),
    // 500 injected_fault where fault injection is on (the embedded target under the scenario's deployment); 201 where the header is ignored.
    ...Array.from({ length: faulted }, () => transfer({ to: MEMBER, amount: FAULTED_AMOUNT, requestName: 'POST /families/:id/transfers (faulted)', headers: FAULT_HEADER, expect: [500, 201] })),
  ];
  return {
    phases: [{ name: 'families', durationSec: 1, arrivalCount: p.families }],
    flows: [{ name: 'family', weight: 1, steps: [...familyWithMember('tx', 'transactions x'), { kind: 'loop', count: rounds, steps: [{ kind: 'parallel', steps: race }] }] }],
    // Each family's round races on the pool, as the scenario's transfers are in flight together.
    connectionPool: Math.max(2, p.families * perRound),
    notExported:
      'the read-back (every ledger and balance: exactly the clean transfers committed, tokens conserved, nothing of a faulted transfer visible) needs gauntlet\'s engine; ' +
      'the faulted transfers fail only on a service started with fault injection (--faults), elsewhere they commit; each virtual user also makes its own family and member (sign-up, invitation, acceptance)',
  };
}

/**
 * One virtual user per family: it signs up and creates its family, then for each invitee signs that
 * user up, invites it and has it accept; racedAccepts of them send their acceptance twice at once
 * (one 200, one 409 invitation_closed).
 */
export function memberInvitationsTraffic(p: { readonly families: number; readonly invitees: number; readonly racedAccepts: number }): ArtilleryTraffic {
  const raced = Math.min(p.racedAccepts, p.invitees);
  const joining = (accepts: TrafficStep): TrafficStep[] => [...signUp('inv', MEMBER), invite(MEMBER), accepts];
  const steps: TrafficStep[] = [...signUp('invadmin'), createFamily({ name: 'invitations x', captureId: true })];
  if (raced > 0) {
    steps.push({ kind: 'loop', count: raced, steps: joining({ kind: 'parallel', steps: [accept(MEMBER, [200, 409], 'POST /invitations/:id/accept (race)'), accept(MEMBER, [200, 409], 'POST /invitations/:id/accept (race)')] }) });
  }
  if (p.invitees > raced) steps.push({ kind: 'loop', count: p.invitees - raced, steps: joining(accept(MEMBER)) });
  steps.push(readFamily());
  return {
    phases: [{ name: 'families', durationSec: 1, arrivalCount: p.families }],
    flows: [{ name: 'family', weight: 1, steps }],
    connectionPool: Math.max(2, p.families * 2),
    notExported:
      'the read-backs (one pending invitation per family and invitee, exact membership, one 200 and one 409 per raced acceptance) and the invite burst of several admins at the same instant need gauntlet\'s engine; ' +
      'here each family\'s owner invites its invitees one after another, and a raced acceptance expects 200 or 409 without checking that exactly one won',
  };
}

/**
 * New users at about `families` at once, each renaming its own family (PATCH, a new name) and reading it
 * back three times, paced: reads that follow an acknowledged write, through whatever balancer is in front.
 */
export function cacheCoherenceTraffic(p: { readonly families: number; readonly durationMs: number }): ArtilleryTraffic {
  const round: TrafficStep[] = [...renameFamily('coh'), readFamily(), readFamily(), readFamily()];
  const flow = pacedReads(round);
  return {
    phases: [{ name: 'renames and reads', durationSec: wholeSeconds(p.durationMs), arrivalRate: p.families }],
    flows: [{ name: 'writer-reader', weight: 1, steps: [...signUp('coh'), createFamily({ name: 'coherence x', captureId: true }), flow] }],
    notExported:
      'the coherence oracle (every read placed against the writes acknowledged before it started, each instance read directly as well as through the balancer, staleness) needs gauntlet\'s engine; ' +
      'here each virtual user renames and reads only its own family, through the one target URL',
  };
}

/**
 * Per user, more than the limit of the limited action (POST /families): bursts of limit x overLimitFactor
 * at once, the same spread over spreadFraction of a window, and exactly the limit; the bursting users
 * send one more after a window has passed (admitted again). 429 is a right answer above the limit.
 */
export function rateLimitingTraffic(p: {
  readonly limit: number; readonly windowMs: number; readonly rounds: number; readonly overLimitFactor: number; readonly spreadFraction: number;
  readonly burstDirectUsers: number; readonly burstBalancedUsers: number; readonly spreadUsers: number; readonly underLimitUsers: number;
}): ArtilleryTraffic {
  const over = p.limit * p.overLimitFactor;
  const limited = (expect: readonly number[], name = 'POST /families'): TrafficStep => createFamily({ name: 'limited x', requestName: name, expect });
  const bursting = p.burstDirectUsers + p.burstBalancedUsers;
  const perRound = bursting + p.spreadUsers + p.underLimitUsers;
  const flows = [
    {
      name: 'burst', weight: bursting,
      steps: [...signUp('rlburst'), { kind: 'parallel', steps: Array.from({ length: over }, () => limited([201, 429], 'POST /families (burst)')) }, { kind: 'think', seconds: p.windowMs / 1000 }, limited([201], 'POST /families (after reset)')],
    },
    { name: 'spread', weight: p.spreadUsers, steps: [...signUp('rlspread'), { kind: 'loop', count: over, steps: [limited([201, 429], 'POST /families (spread)'), { kind: 'think', seconds: (p.windowMs * p.spreadFraction) / over / 1000 }] }] },
    { name: 'under limit', weight: p.underLimitUsers, steps: [...signUp('rlunder'), { kind: 'loop', count: p.limit, steps: [limited([201], 'POST /families (under limit)')] }] },
  ] satisfies ArtilleryTraffic['flows'];
  return {
    phases: [{ name: 'users', durationSec: wholeSeconds(p.rounds * p.windowMs), arrivalCount: p.rounds * perRound }],
    flows: flows.filter((f) => f.weight > 0),
    connectionPool: Math.max(2, bursting * over),
    notExported:
      'the oracle (every request placed in the server\'s fixed windows: exactly the limit admitted per user and window, every 429 with Retry-After, coherent RateLimit-* headers, families read back) needs gauntlet\'s engine; ' +
      `the export expects the scenario's deployment (limit ${p.limit} per ${p.windowMs / 1000} s, a family limit far above the requests), and bursts through one target URL rather than at one instance and through the balancer`,
  };
}

/** Requests of one pooling user's paced round: 5, so a 20% write share is one rename a round. */
const POOL_ROUND = 5;

/**
 * About `concurrency` virtual users active for durationMs, each on its own family: reads (GET the
 * family, list my families) and renames in the scenario's write share, paced.
 */
export function connectionPoolingTraffic(p: { readonly concurrency: number; readonly durationMs: number; readonly writeFraction: number }): ArtilleryTraffic {
  const round = mixedRound(p.writeFraction, POOL_ROUND, 'pool');
  return {
    phases: [concurrentUsersPhase('mixed', p.concurrency, READS_PER_VU, { durationSec: wholeSeconds(p.durationMs) })],
    flows: [{ name: 'pool user', weight: 1, steps: [...signUp('pool'), createFamily({ name: 'pool family x', captureId: true }), pacedReads(round)] }],
    notExported:
      'the pool gauges sampled under load, the drain back to baseline (no connection checked out, no FD or socket leaked) need gauntlet\'s engine and the target\'s /metrics and /proc; ' +
      `gauntlet's closed model keeps ${p.concurrency} requests in flight, Artillery here about ${p.concurrency} users who pause between requests, so fewer are in flight`,
  };
}
