/**
 * Artillery traffic of the scalability scenarios that measure the target from inside (memory and GC,
 * the cache's hits, resource pressure): their workloads as flows, built from artillery-flows.ts. What
 * they measure (heap slopes, hit rates against a model, the target restarted under pressure) needs
 * gauntlet's engine and the target's own figures, and each says so in `notExported`.
 */
import type { ArtilleryTraffic, TrafficStep } from '../../src/artillery/traffic.ts';
import {
  closedWorkersPhase, concurrentUsersPhase, createFamily, invite, listOwnFamilies, MEMBER, mixedRound, pacedRounds, readFamily, renameFamily, signUp,
} from './artillery-flows.ts';
import { operationAt } from './memory-workload.ts';
import type { MemoryOperation } from './memory-workload.ts';

/** Operations of one memory-and-GC user: long enough that the workload's 10% shares come out whole. */
const MEMORY_OPS_PER_VU = 20;

/**
 * The memory-and-GC mix (memory-workload.ts: creations, invitations, renames, listings, reads, in its
 * golden-ratio order) in rounds of MEMORY_OPS_PER_VU, each invitation to a user signed up for it, by
 * `concurrency` virtual users working back to back (a closed model) through the scenario's operations.
 */
export function memoryGcTraffic(p: { readonly warmUpOperations: number; readonly batches: number; readonly batchSize: number; readonly concurrency: number }): ArtilleryTraffic {
  const step = (op: MemoryOperation): TrafficStep[] => {
    switch (op) {
      case 'create':
        return [createFamily({ name: 'mem x' })];
      case 'invite':
        return [...signUp('memin', MEMBER), invite(MEMBER, { capture: false })];
      case 'rename':
        return renameFamily('mem');
      case 'list':
        return [listOwnFamilies()];
      case 'read':
        return [readFamily()];
    }
  };
  const ops = Array.from({ length: MEMORY_OPS_PER_VU }, (_, i) => operationAt(i));
  const rounds = Math.ceil((p.warmUpOperations + p.batches * p.batchSize) / (MEMORY_OPS_PER_VU * p.concurrency));
  return {
    phases: [closedWorkersPhase('mixed', p.concurrency)],
    flows: [{ name: 'worker', weight: 1, steps: [...signUp('mem'), createFamily({ name: 'mem family x', captureId: true }), { kind: 'loop', count: rounds, steps: ops.flatMap(step) }] }],
    notExported:
      'the heap and GC measurements (heap per operation in batches, its slope and confidence interval, the settle back to baseline, GC pauses by kind) need gauntlet\'s engine and the target\'s /metrics; ' +
      'each worker works on its own family (the scenario spreads its operations over shared fixtures), its invitations going to users it signs up for them, its creations counting against the family limit (the scenario\'s deployment raises it)',
  };
}

/** Reads one cache-hit user spreads over its hot family and its cold ones. */
const CACHE_READS_PER_VU = 10;

/**
 * Users that each create familiesPerUser families (together more than the cache holds: the cold ones
 * are evicted) and read them, mixedHotShare of the reads on their first ("hot") family, the rest on the
 * others in turn; about `concurrency` users active at once.
 */
export function cacheHitRatesTraffic(p: { readonly cacheEntries: number; readonly scanFactor: number; readonly familiesPerUser: number; readonly mixedHotShare: number; readonly concurrency: number }): ArtilleryTraffic {
  const cold = Array.from({ length: Math.max(1, p.familiesPerUser - 1) }, (_, i) => `coldId${String(i + 1)}`);
  const hotReads = Math.round(CACHE_READS_PER_VU * p.mixedHotShare);
  const reads: TrafficStep[] = Array.from({ length: CACHE_READS_PER_VU }, (_, i) =>
    // Hot reads spread through the cold ones, as the scenario's mixed phase interleaves them.
    Math.floor(((i + 1) * hotReads) / CACHE_READS_PER_VU) > Math.floor((i * hotReads) / CACHE_READS_PER_VU)
      ? readFamily(undefined, 'GET /families/:id (hot)')
      : readFamily(undefined, 'GET /families/:id (cold)', { idVariable: cold[i % cold.length] ?? 'familyId' }));
  const vus = Math.ceil((p.cacheEntries * p.scanFactor) / p.familiesPerUser);
  return {
    phases: [concurrentUsersPhase('hot and cold reads', p.concurrency, CACHE_READS_PER_VU, { vus })],
    flows: [{
      name: 'reader', weight: 1,
      steps: [...signUp('cache'), createFamily({ name: 'cache hot x', captureId: true }), ...cold.map((id) => createFamily({ name: 'cache cold x', captureAs: id })), pacedRounds(reads, 1)],
    }],
    notExported:
      'the hit rates per phase (sequential scan, hot set, mix, TTL expiry) judged against an LRU+TTL model of the size and TTL the target reports, and the agreement of x-cache with the target\'s counters, need gauntlet\'s engine; ' +
      `here ${vus} users each read their own hot family and their cold ones (${p.familiesPerUser} families per user, ${Math.round(p.mixedHotShare * 100)}% of reads hot); the cache size and TTL are whatever the target runs with`,
  };
}

/** Requests of one pressure user's round: 20, so a 15% write share is three renames a round. */
const PRESSURE_ROUND = 20;

/** The fixed workload (renames in the write share, the rest reads), warm-up and measured requests together, by `concurrency` closed-model workers. */
export function resourceConstraintsTraffic(p: { readonly requests: number; readonly warmUpRequests: number; readonly writeFraction: number; readonly concurrency: number }): ArtilleryTraffic {
  const rounds = Math.ceil((p.requests + p.warmUpRequests) / (PRESSURE_ROUND * p.concurrency));
  return {
    phases: [closedWorkersPhase('workload', p.concurrency)],
    flows: [{ name: 'worker', weight: 1, steps: [...signUp('press'), createFamily({ name: 'pressure x', captureId: true }), { kind: 'loop', count: rounds, steps: mixedRound(p.writeFraction, PRESSURE_ROUND, 'press') }] }],
    notExported:
      'the pressure cannot export: restarting the target with small V8 heap limits and ballast, and running CPU-burning processes beside it, act on the target\'s machine, which only gauntlet\'s embedded deployment controls; ' +
      'the export is the workload of one condition (run it against a target you have constrained yourself), and the comparison of conditions (success rates, 5xx, slowdown) needs gauntlet\'s engine',
  };
}
