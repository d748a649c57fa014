/**
 * The bounds every scenario runs under, whichever engine runs it: the run's Ctrl-C, the target's
 * death, and the profile's time limit, as one signal, with why it fired.
 */
import { SCENARIO_TIME_LIMIT_MS } from '../config/defaults.ts';
import type { Profile } from '../config/defaults.ts';
import { TargetUnavailableError } from '../exit-codes.ts';
import type { TargetSession } from './target-session.ts';

export interface ScenarioBounds {
  /** Fires on Ctrl-C, on the target's death and at the time limit: pass it to everything the scenario starts. */
  readonly signal: AbortSignal;
  readonly timeLimitMs: number;
  /** An object, not a `let`: the compiler cannot see the death callback set it between awaits. */
  readonly death: { message: string | null };
  /** Why `signal` fired (the target's death first), or null when it did not. */
  cutReason(): string | null;
  /** Stops watching the target; call once the scenario is over. */
  dispose(): void;
}

export function boundScenario(deps: {
  readonly session: TargetSession;
  readonly signal: AbortSignal;
  readonly profile: Profile;
  readonly timeLimitMs?: number | undefined;
}): ScenarioBounds {
  const died = new AbortController();
  const death: { message: string | null } = { message: null };
  const unwatch = deps.session.onDeath((message) => {
    death.message = message;
    died.abort(new TargetUnavailableError(message));
  });
  const timeLimitMs = deps.timeLimitMs ?? SCENARIO_TIME_LIMIT_MS[deps.profile];
  const signal = AbortSignal.any([deps.signal, died.signal, AbortSignal.timeout(timeLimitMs)]);
  return {
    signal,
    timeLimitMs,
    death,
    cutReason: () => death.message ?? abortReason(signal, deps.signal, timeLimitMs),
    dispose: unwatch,
  };
}

/** Why a scenario's signal fired (the run was interrupted, or its time limit passed); null when it did not. */
export function abortReason(signal: AbortSignal, runSignal: AbortSignal, timeLimitMs: number): string | null {
  if (!signal.aborted) return null;
  if (runSignal.aborted) return 'interrupted before the scenario finished';
  return `aborted after its time limit of ${timeLimitMs / 1000}s`;
}
