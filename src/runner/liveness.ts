/**
 * Is an external target still there? gauntlet has no process of its own to watch, so it asks the
 * network: a TCP connect to the target's host and port, closed at once (no HTTP request, so nothing
 * the target counts). Only a run of failed connects in a row means "died": one refused connect can
 * be a restart blip, and a target that accepts connections but answers slowly is alive (its
 * requests' own timeouts deal with that).
 */
import { connect } from 'node:net';
import { sleep, systemClock } from '../clock.ts';
import type { Clock, TimerHandle } from '../clock.ts';

/** How an external target's liveness is probed while a scenario runs. */
export const LIVENESS_DEFAULTS = {
  /** Pause between the end of one probe and the start of the next. */
  intervalMs: 500,
  /** A connect not established within this is a failed probe (a host that vanished drops SYNs). */
  connectTimeoutMs: 2_000,
  /** Failed probes in a row that declare the target dead: about 1.5 s of refusals at the defaults. */
  failuresToDie: 3,
} as const;

export interface LivenessSettings {
  readonly intervalMs: number;
  readonly connectTimeoutMs: number;
  readonly failuresToDie: number;
}

export type ProbeOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };
export type Probe = () => Promise<ProbeOutcome>;

/** A probe that opens a TCP connection to `url`'s host and port and closes it again. */
export function tcpConnectProbe(url: string, connectTimeoutMs: number = LIVENESS_DEFAULTS.connectTimeoutMs, clock: Clock = systemClock): Probe {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  return () =>
    new Promise<ProbeOutcome>((resolve) => {
      const socket = connect({ host, port });
      const done = (outcome: ProbeOutcome): void => {
        timer.cancel();
        socket.destroy();
        resolve(outcome);
      };
      // Socket events and the timer fire on later turns, after `timer` is set.
      const timer = clock.setTimeout(() => done({ ok: false, reason: `no TCP connection to ${host}:${port} within ${connectTimeoutMs} ms` }), connectTimeoutMs);
      socket.once('connect', () => done({ ok: true }));
      socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, reason: `connecting to ${host}:${port}: ${error.code ?? error.message}` }));
    });
}

/** What was learned from a run of failed probes. */
function deathMessage(url: string, failures: number, sinceMs: number, lastReason: string): string {
  return `the target ${url} died: ${failures} connection attempts in a row failed over ${Math.round(sinceMs)} ms (last: ${lastReason}); check that it is running and reachable, then run again`;
}

/**
 * Probes every `intervalMs` until stopped; after `failuresToDie` failures in a row calls `onDead`
 * once with a message saying what was seen, and stops. Returns the stop function.
 */
export function watchLiveness(url: string, probe: Probe, onDead: (message: string) => void, settings: LivenessSettings = LIVENESS_DEFAULTS, clock: Clock = systemClock): () => void {
  let stopped = false;
  let timer: TimerHandle | undefined;
  let failures = 0;
  let firstFailureMs = 0;
  const round = async (): Promise<void> => {
    timer = undefined;
    const outcome = await probe();
    if (stopped) return;
    if (outcome.ok) {
      failures = 0;
    } else {
      if (failures === 0) firstFailureMs = clock.now();
      failures++;
      if (failures >= settings.failuresToDie) {
        stopped = true;
        onDead(deathMessage(url, failures, clock.now() - firstFailureMs, outcome.reason));
        return;
      }
    }
    timer = clock.setTimeout(() => void round(), settings.intervalMs);
  };
  timer = clock.setTimeout(() => void round(), settings.intervalMs);
  return () => {
    stopped = true;
    timer?.cancel();
  };
}

/**
 * One check, for between scenarios: null when the target accepts a connection; otherwise probes up
 * to `failuresToDie` times, `intervalMs` apart, and returns the death message if every one failed.
 */
export async function confirmDeath(
  url: string,
  probe: Probe,
  settings: LivenessSettings = LIVENESS_DEFAULTS,
  clock: Clock = systemClock,
  signal?: AbortSignal,
): Promise<string | null> {
  const first = clock.now();
  // Ctrl-C during the confirmation: the run stops as interrupted, not as a dead target.
  const aborted = (): boolean => signal?.aborted === true;
  let last: ProbeOutcome = await probe();
  for (let failures = 1; !last.ok; failures++) {
    if (failures >= settings.failuresToDie) return deathMessage(url, failures, clock.now() - first, last.reason);
    if (aborted()) return null;
    await sleep(clock, settings.intervalMs, signal).catch(() => undefined);
    if (aborted()) return null;
    last = await probe();
  }
  return null;
}
