/**
 * A target gauntlet did not start (`--target URL`): used as it is, nothing can be reshaped, and its
 * death is noticed by probing it (liveness.ts) while anyone listens for it — a scenario is running.
 */
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import type { TargetView } from '../scenario/context-types.ts';
import { LIVENESS_DEFAULTS, tcpConnectProbe, watchLiveness } from './liveness.ts';
import type { LivenessSettings, Probe } from './liveness.ts';
import type { TargetSession } from './target-session.ts';

export interface ExternalSessionOptions {
  readonly liveness?: LivenessSettings;
  readonly probe?: Probe;
  readonly clock?: Clock;
}

export function externalSession(url: string, options: ExternalSessionOptions = {}): TargetSession {
  const view: TargetView = { url, embedded: false, store: null, instances: [], balancer: null };
  const settings = options.liveness ?? LIVENESS_DEFAULTS;
  const clock = options.clock ?? systemClock;
  const probe = options.probe ?? tcpConnectProbe(url, settings.connectTimeoutMs, clock);
  const listeners = new Set<(message: string) => void>();
  let stopWatch: (() => void) | null = null;
  const unwatchIfIdle = (): void => {
    if (listeners.size > 0 || stopWatch === null) return;
    stopWatch();
    stopWatch = null;
  };
  return {
    view: () => view,
    control: null,
    ensure: () => Promise.resolve(),
    onDeath(listener) {
      listeners.add(listener);
      stopWatch ??= watchLiveness(
        url,
        probe,
        (message) => {
          stopWatch = null;
          for (const l of [...listeners]) l(message);
        },
        settings,
        clock,
      );
      return () => {
        listeners.delete(listener);
        unwatchIfIdle();
      };
    },
    storeInfo: () => null,
    stop: () => {
      listeners.clear();
      unwatchIfIdle();
      return Promise.resolve();
    },
  };
}
