/**
 * Artillery traffic of the reliability scenarios: the load they keep up while a fault is injected,
 * never the fault (killing an instance, stalling the store) nor the oracle that judges the service
 * through it — both need gauntlet's embedded deployment and bookkeeping, as each `notExported` says.
 */
import type { ArtilleryTraffic, TrafficStep } from '../../src/artillery/traffic.ts';
import { createFamily, invite, MEMBER, OWNER, pacedReads, READS_PER_VU, readFamily, signUp, transfer, wholeSeconds } from './artillery-flows.ts';
import { OP_CYCLE } from './failover-workload.ts';
import type { OpKind } from './failover-workload.ts';
import { isFaulted as isSpreadEvenly } from './transfer-plan.ts';

/** A family owned by the virtual user, who receives its transfers (the owner is a member of its own family). */
function ownFamily(prefix: string, name: string): TrafficStep[] {
  return [...signUp(prefix, OWNER), createFamily({ name, captureId: true })];
}

/**
 * The instance-failure workload's cycle (failover-workload.ts: create a family, invite a new user,
 * transfer tokens, and reads between them) at about ratePerSec for the scenario's whole run.
 */
export function instanceFailureTraffic(p: { readonly ratePerSec: number; readonly beforeMs: number; readonly outageMs: number; readonly afterMs: number }): ArtilleryTraffic {
  const step = (kind: OpKind): TrafficStep[] => {
    switch (kind) {
      case 'family':
        return [createFamily({ name: 'failover x' })];
      case 'invitation':
        return [...signUp('foinv', MEMBER), invite(MEMBER, { capture: false })];
      case 'transfer':
        return [transfer({ to: OWNER, amount: 1 })];
      case 'read':
        return [readFamily()];
    }
  };
  return {
    phases: [{ name: 'mixed writes', durationSec: wholeSeconds(p.beforeMs + p.outageMs + p.afterMs), arrivalRate: p.ratePerSec / READS_PER_VU }],
    flows: [{ name: 'writer', weight: 1, steps: [...ownFamily('fo', 'failover home x'), pacedReads(OP_CYCLE.flatMap(step))] }],
    notExported:
      'the fault does not export: killing an instance under load and restarting it needs gauntlet\'s embedded deployment; so do the checks (routing away from the dead instance and back, every acknowledged write read back exactly once) and the writes held by x-fault; ' +
      'the export is the mixed write workload only, through whatever balancer is running: kill an instance of your own deployment during it to see what Artillery counts',
  };
}

/** Reads and transfers (to the owner itself) in the scenario's write share at about ratePerSec; 503 with Retry-After is a right answer while a store is stalled. */
export function dbStallTraffic(p: { readonly ratePerSec: number; readonly writeFraction: number; readonly beforeMs: number; readonly stallMs: number; readonly afterMs: number }): ArtilleryTraffic {
  const round = Array.from({ length: READS_PER_VU }, (_, i) =>
    isSpreadEvenly(i, p.writeFraction) ? transfer({ to: OWNER, amount: 1, expect: [201, 503] }) : readFamily(undefined, 'GET /families/:id', { expect: [200, 503] }));
  return {
    phases: [{ name: 'reads and transfers', durationSec: wholeSeconds(p.beforeMs + p.stallMs + p.afterMs), arrivalRate: p.ratePerSec / READS_PER_VU }],
    flows: [{ name: 'user', weight: 1, steps: [...ownFamily('stall', 'stall x'), pacedReads(round)] }],
    notExported:
      'the stall does not export: POST /_faults/db-stall holds the target\'s store, which only a target started with fault injection offers; nor do the checks (failing fast during the stall, no acknowledged transfer lost, recovery on its own); ' +
      'the export is the traffic, with 503 accepted as an answer: stall your own store during it to see what Artillery counts',
  };
}

/**
 * Durable transfers at a baseline rate, then at the scenario's overload rate, then the baseline again.
 * The baseline is a share of the capacity gauntlet's probe measures at run time, so the export assumes
 * the highest capacity the scenario still overloads: overloadRate / minOverloadFactor; scale it to yours.
 */
export function overloadTraffic(
  p: { readonly belowFactor: number; readonly overloadRate: number; readonly baselineMs: number; readonly settleMs: number; readonly overloadMs: number; readonly recoveryMs: number },
  minOverloadFactor: number,
): ArtilleryTraffic {
  const capacity = p.overloadRate / minOverloadFactor;
  const vusPerSec = (rate: number): number => Math.max(1, Math.round(rate / READS_PER_VU));
  // Shedding answers 503 overloaded (admission control) or 429 (rate limit), both with Retry-After.
  const shed = [503, 429];
  return {
    phases: [
      { name: 'baseline', durationSec: wholeSeconds(p.baselineMs), arrivalRate: vusPerSec(capacity * p.belowFactor) },
      { name: 'overload', durationSec: wholeSeconds(p.settleMs + p.overloadMs), arrivalRate: vusPerSec(p.overloadRate) },
      { name: 'recovery', durationSec: wholeSeconds(p.recoveryMs), arrivalRate: vusPerSec(capacity * p.belowFactor) },
    ],
    flows: [{ name: 'transferrer', weight: 1, steps: [...ownFamily('over', 'overload x'), pacedReads([transfer({ to: OWNER, amount: 1, expect: [201, ...shed] })])] }],
    notExported:
      `the capacity probe does not export, so the baseline and recovery assume a capacity of ${String(Math.round(capacity))} transfers/s (the overload rate ${String(p.overloadRate)}/s over ${String(minOverloadFactor)}, the least overload the scenario accepts): scale them to your target's; ` +
      'nor do the checks (the excess shed with Retry-After, admitted p99 bounded, resident memory bounded, back to normal after the drop); a virtual user whose sign-up or family is shed stops there (vusers.failed)',
  };
}
