/**
 * The balancer's active health check: while any backend is ejected, asks each one's health route
 * every interval and re-admits it on a 2xx. Runs only while something is ejected, so an idle
 * balancer keeps no timer busy.
 */
import type { Pool } from 'undici';

/** How often an ejected backend is asked whether it is back. */
export const BALANCER_PROBE_INTERVAL_MS = 250;
/** A probe not answered within this failed (the backend stays ejected). */
export const BALANCER_PROBE_TIMEOUT_MS = 1_000;
/** The reference service's public health route. */
export const BALANCER_PROBE_PATH = '/healthz';

export interface ProbedBackend {
  readonly pool: Pool;
}

export interface HealthProbeHooks {
  /** Indices of the backends out of rotation now. */
  ejected(): readonly number[];
  readmit(index: number): void;
}

export interface HealthProbe {
  /** A backend was ejected: start probing (no-op when already running). */
  wake(): void;
  stop(): void;
}

/** Probes `backends[i]` for every ejected i, every `intervalMs`, one probe per backend at a time. */
export function createHealthProbe(backends: readonly ProbedBackend[], hooks: HealthProbeHooks, intervalMs: number): HealthProbe {
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) throw new RangeError(`the probe interval must be a positive number of ms, got ${intervalMs}`);
  const probing = new Set<number>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const probeOne = async (index: number): Promise<void> => {
    const backend = backends[index];
    if (backend === undefined) return;
    probing.add(index);
    try {
      const res = await backend.pool.request({
        path: BALANCER_PROBE_PATH,
        method: 'GET',
        headersTimeout: BALANCER_PROBE_TIMEOUT_MS,
        bodyTimeout: BALANCER_PROBE_TIMEOUT_MS,
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300 && !stopped) hooks.readmit(index);
    } catch {
      // Refused, reset or timed out: still down; the next tick asks again.
    } finally {
      probing.delete(index);
    }
  };

  const tick = (): void => {
    const ejected = hooks.ejected();
    if (ejected.length === 0 || stopped) {
      if (timer !== null) clearInterval(timer);
      timer = null;
      return;
    }
    for (const index of ejected) if (!probing.has(index)) void probeOne(index);
  };

  return {
    wake() {
      if (timer !== null || stopped) return;
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}
