/** The shared Artillery steps and a traffic-only scenario's export, in the terms the scenarios use. */
import { describe, expect, it } from 'vitest';
import type { ArtilleryTraffic, TrafficStep } from '../../src/artillery/traffic.ts';
import { closedWorkersPhase, concurrentUsersPhase, mixedRound, READ_PACING_SEC, wholeSeconds } from '../../scenarios/lib/artillery-flows.ts';
import { memoryGcTraffic, resourceConstraintsTraffic } from '../../scenarios/lib/artillery-scalability.ts';
import transactionSafety from '../../scenarios/concurrency/transaction-safety.ts';

function requests(steps: readonly TrafficStep[]): Extract<TrafficStep, { kind: 'request' }>[] {
  return steps.flatMap((s) => (s.kind === 'request' ? [s] : s.kind === 'loop' || s.kind === 'parallel' ? requests(s.steps) : []));
}

/** Operations one virtual user's loops send (a sign-up for an invitee is not one of the scenario's operations). */
function exported(t: ArtilleryTraffic): number {
  const ops = (steps: readonly TrafficStep[]): number => requests(steps).filter((r) => r.name !== 'POST /users').length;
  return t.flows.reduce((n, f) => n + f.steps.reduce((m, s) => m + (s.kind === 'loop' ? s.count * ops(s.steps) : 0), 0), 0);
}

describe('Artillery flow steps', () => {
  it('rounds a phase to whole seconds, never below one', () => {
    expect([wholeSeconds(0), wholeSeconds(400), wholeSeconds(1_500), wholeSeconds(2_499), wholeSeconds(60_000)]).toEqual([1, 1, 2, 2, 60]);
  });

  it.each([[0, 0], [0.15, 3], [0.2, 4], [0.5, 10], [1, 20]])('a mixed round of 20 at write share %d has %d renames, spread through it', (share, renames) => {
    const round = requests(mixedRound(share, 20, 'mix'));
    expect(round).toHaveLength(20);
    expect(round.filter((r) => r.method === 'PATCH')).toHaveLength(renames);
    if (renames > 1 && renames < 20) expect(round.findIndex((r) => r.method === 'PATCH')).toBeLessThan(20 / renames);
    expect(round.filter((r) => r.name === 'GET /me/families').length).toBe(Math.floor((20 - renames) / 2));
  });

  it('keeps about `users` paced users active, or starts `workers` closed-model workers at once', () => {
    const lifetime = 10 * READ_PACING_SEC;
    expect(concurrentUsersPhase('p', 8, 10, { durationSec: 5 })).toEqual({ name: 'p', durationSec: 5, arrivalRate: 8 / lifetime });
    expect(concurrentUsersPhase('p', 4, 10, { vus: 16 })).toEqual({ name: 'p', durationSec: Math.ceil((16 * lifetime) / 4), arrivalCount: 16 });
    expect(closedWorkersPhase('w', 8)).toEqual({ name: 'w', durationSec: 1, arrivalCount: 8 });
  });

  it('closed-model exports cover the scenario\'s operations, no fewer', () => {
    const memory = { warmUpOperations: 1500, batches: 8, batchSize: 300, concurrency: 8 };
    expect(exported(memoryGcTraffic(memory)) * memory.concurrency).toBeGreaterThanOrEqual(1500 + 8 * 300);
    expect(exported(memoryGcTraffic(memory)) * memory.concurrency).toBeLessThan(1500 + 8 * 300 + 20 * memory.concurrency);
    const pressure = { requests: 1500, warmUpRequests: 300, writeFraction: 0.15, concurrency: 8 };
    expect(exported(resourceConstraintsTraffic(pressure)) * pressure.concurrency).toBeGreaterThanOrEqual(1800);
  });
});

describe('transaction-safety export', () => {
  it('per family: a member signed up, invited and accepted, then its transfers racing in rounds with the faulted share', () => {
    const t = transactionSafety.artillery?.(transactionSafety.profiles.smoke);
    if (t === undefined) throw new Error('transaction-safety exports no traffic');
    expect(t.phases).toEqual([{ name: 'families', durationSec: 1, arrivalCount: 3 }]);
    const steps = t.flows[0]?.steps ?? [];
    expect(requests(steps.slice(0, 7)).map((r) => r.name)).toEqual(['POST /users', 'POST /families', 'POST /users', 'POST /families/:id/invitations', 'POST /invitations/:id/accept']);
    const loop = steps.at(-1);
    if (loop?.kind !== 'loop') throw new Error('no transfer rounds');
    expect(loop.count).toBe(1);
    const race = loop.steps[0];
    if (race?.kind !== 'parallel') throw new Error('transfers do not race');
    const sent = requests(race.steps);
    expect(sent.filter((r) => r.headers?.['x-fault'] === 'fail-mid-transaction').map((r) => [r.json?.amount, r.expect])).toEqual(Array.from({ length: 5 }, () => [2, [500, 201]]));
    expect(sent.filter((r) => r.headers === undefined).map((r) => [r.json?.amount, r.json?.to, r.expect])).toEqual(Array.from({ length: 5 }, () => [1, '{{ memberId }}', [201]]));
    // The pool holds every family's round at once: the transfers reach the service together.
    expect(t.connectionPool).toBe(30);
  });
});
