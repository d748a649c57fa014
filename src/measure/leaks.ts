/**
 * Leak tracking: snapshots of named resources (client sockets, target FDs, DB pool connections,
 * active handles, ...) at baseline, under load and after drain; after drain every resource must
 * be back within a tolerance of its baseline.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';

/** Allowed excess over baseline after drain, for resources without their own tolerance: none. */
export const DEFAULT_LEAK_TOLERANCE = 0;
/** How long waitForDrain polls before it settles for the last snapshot: 5 s. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5000;
/** Pause between drain polls: 100 ms. */
export const DEFAULT_DRAIN_POLL_MS = 100;

export interface ResourceSnapshot {
  phase: 'baseline' | 'under-load' | 'after-drain';
  atMs: number;
  resources: Record<string, number>;
}

interface VerdictFigures {
  resource: string;
  baseline: number;
  underLoad: number | null;
  afterDrain: number;
  tolerance: number;
}

export type ResourceVerdict =
  | (VerdictFigures & { state: 'returned-to-baseline' })
  | (VerdictFigures & { state: 'leaked'; leaked: number })
  | { resource: string; state: 'missing'; missingFrom: 'baseline' | 'after-drain' };

export interface LeakReport {
  /** True only when every resource returned to baseline (a missing reading is not a pass). */
  allReturned: boolean;
  verdicts: ResourceVerdict[];
}

export interface LeakCheckOptions {
  /** Per-resource tolerance; others get `defaultTolerance`. */
  tolerance?: Readonly<Record<string, number>>;
  defaultTolerance?: number;
}

/** Judges each resource of the baseline: returned within tolerance, or leaked N (the excess over baseline). */
export function checkLeaks(
  baseline: ResourceSnapshot,
  afterDrain: ResourceSnapshot,
  underLoad: ResourceSnapshot | null = null,
  options: LeakCheckOptions = {},
): LeakReport {
  const names = [...new Set([...Object.keys(baseline.resources), ...Object.keys(afterDrain.resources)])].sort();
  const verdicts = names.map((resource): ResourceVerdict => {
    const before = baseline.resources[resource];
    const after = afterDrain.resources[resource];
    if (before === undefined) return { resource, state: 'missing', missingFrom: 'baseline' };
    if (after === undefined) return { resource, state: 'missing', missingFrom: 'after-drain' };
    const tolerance = options.tolerance?.[resource] ?? options.defaultTolerance ?? DEFAULT_LEAK_TOLERANCE;
    const figures: VerdictFigures = { resource, baseline: before, underLoad: underLoad?.resources[resource] ?? null, afterDrain: after, tolerance };
    const excess = after - before;
    return excess > tolerance ? { ...figures, state: 'leaked', leaked: excess } : { ...figures, state: 'returned-to-baseline' };
  });
  return { allReturned: verdicts.every((v) => v.state === 'returned-to-baseline'), verdicts };
}

export interface DrainOptions extends LeakCheckOptions {
  timeoutMs?: number;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Takes after-drain snapshots until every resource is back to baseline or `timeoutMs` passes
 * (sockets and FDs close asynchronously), and returns the last one. Bounded in time and polls.
 */
export async function waitForDrain(
  take: () => Promise<Readonly<Record<string, number>>>,
  baseline: ResourceSnapshot,
  options: DrainOptions = {},
): Promise<ResourceSnapshot> {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? sleepMs;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const pollMs = options.pollMs ?? DEFAULT_DRAIN_POLL_MS;
  const deadline = now() + timeoutMs;
  const maxPolls = Math.ceil(timeoutMs / pollMs) + 1;
  let snapshot: ResourceSnapshot = { phase: 'after-drain', atMs: now(), resources: { ...(await take()) } };
  for (let poll = 1; poll < maxPolls; poll++) {
    if (checkLeaks(baseline, snapshot, null, options).allReturned || now() + pollMs > deadline) break;
    await sleep(pollMs);
    snapshot = { phase: 'after-drain', atMs: now(), resources: { ...(await take()) } };
  }
  return snapshot;
}
