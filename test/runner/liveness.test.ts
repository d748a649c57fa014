/** An external target's liveness: TCP probes, a run of failures to declare death, and only while watched. */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.ts';
import { externalSession } from '../../src/runner/external-session.ts';
import { confirmDeath, tcpConnectProbe, watchLiveness } from '../../src/runner/liveness.ts';
import type { Probe, ProbeOutcome } from '../../src/runner/liveness.ts';
import { neverAnswer, startRawServer } from '../load/helpers/misbehaving-servers.ts';
import type { MisbehavingServer } from '../load/helpers/misbehaving-servers.ts';
import { closedPort } from '../load/helpers/servers.ts';

const URL_ = 'http://127.0.0.1:1';
const settings = { intervalMs: 100, connectTimeoutMs: 50, failuresToDie: 3 };

/** A probe that answers from a script (then keeps the last answer), counting its calls. */
function scripted(outcomes: readonly boolean[]): Probe & { calls: number } {
  const probe = Object.assign(
    (): Promise<ProbeOutcome> => {
      const ok = outcomes[Math.min(probe.calls, outcomes.length - 1)] ?? true;
      probe.calls++;
      return Promise.resolve(ok ? { ok: true } : { ok: false, reason: `refused #${probe.calls}` });
    },
    { calls: 0 },
  );
  return probe;
}

/** Moves the fake clock one interval and lets the probe's promise settle. */
async function tick(clock: FakeClock, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    clock.advance(settings.intervalMs);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('watchLiveness', () => {
  it('declares death after failuresToDie failed probes in a row, once, and stops probing', async () => {
    const clock = new FakeClock();
    const probe = scripted([true, false, false, true, false, false, false]);
    const deaths: string[] = [];
    watchLiveness(URL_, probe, (m) => deaths.push(m), settings, clock);
    await tick(clock, 6);
    // Two failures, an answer, two failures: a blip is not a death.
    expect(deaths).toEqual([]);
    await tick(clock);
    expect(deaths).toHaveLength(1);
    expect(deaths[0]).toMatch(/^the target http:\/\/127\.0\.0\.1:1 died: 3 connection attempts in a row failed over 200 ms \(last: refused #7\); check that it is running/);
    await tick(clock, 5);
    expect(probe.calls).toBe(7);
    expect(clock.pendingTimers).toBe(0);
  });

  it('probes nothing more once stopped', async () => {
    const clock = new FakeClock();
    const probe = scripted([false]);
    const deaths: string[] = [];
    const stop = watchLiveness(URL_, probe, (m) => deaths.push(m), settings, clock);
    await tick(clock, 2);
    stop();
    await tick(clock, 5);
    expect(probe.calls).toBe(2);
    expect(deaths).toEqual([]);
  });
});

describe('confirmDeath (between scenarios)', () => {
  it('is null after one probe when the target accepts a connection', async () => {
    const probe = scripted([true]);
    expect(await confirmDeath(URL_, probe, settings, new FakeClock())).toBeNull();
    expect(probe.calls).toBe(1);
  });

  it('gives a refusal failuresToDie chances before it says died', async () => {
    const probe = scripted([false, false, true]);
    const clock = new FakeClock();
    const pending = confirmDeath(URL_, probe, settings, clock);
    await tick(clock, 3);
    expect(await pending).toBeNull();
    const dead = scripted([false]);
    const verdict = confirmDeath(URL_, dead, settings, clock);
    await tick(clock, 3);
    expect(await verdict).toMatch(/died: 3 connection attempts in a row failed/);
  });

  it('stops confirming at Ctrl-C: the run is interrupted, not a dead target', async () => {
    const dead = scripted([false]);
    const clock = new FakeClock();
    const controller = new AbortController();
    const verdict = confirmDeath(URL_, dead, settings, clock, controller.signal);
    await tick(clock, 1);
    controller.abort();
    expect(await verdict).toBeNull();
    expect(dead.calls).toBeLessThan(settings.failuresToDie);
  });
});

describe('tcpConnectProbe (real sockets)', () => {
  let server: MisbehavingServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it('a target that accepts but never answers HTTP is alive; one nothing listens on is not', async () => {
    server = await startRawServer(neverAnswer);
    expect(await tcpConnectProbe(server.origin)()).toEqual({ ok: true });
    expect(server.requests()).toBe(0);
    const refused = await tcpConnectProbe(`http://127.0.0.1:${await closedPort()}`)();
    expect(refused).toEqual({ ok: false, reason: expect.stringMatching(/ECONNREFUSED/) as unknown });
  });
});

describe('externalSession', () => {
  it('probes only while someone listens for its death, and tells every listener', async () => {
    const clock = new FakeClock();
    const probe = scripted([true, true, false]);
    const session = externalSession(URL_, { probe, clock, liveness: settings });
    await tick(clock, 3);
    expect(probe.calls).toBe(0);
    const heard: string[] = [];
    const unwatch = session.onDeath((m) => heard.push(`a: ${m}`));
    const unwatchB = session.onDeath((m) => heard.push(`b: ${m}`));
    await tick(clock, 2);
    unwatch();
    unwatchB();
    await tick(clock, 3);
    expect(probe.calls).toBe(2);
    session.onDeath((m) => heard.push(`c: ${m}`));
    await tick(clock, 4);
    expect(heard).toEqual([expect.stringMatching(/^c: the target .* died: 3 connection attempts/) as unknown]);
    await session.stop();
  });
});
