import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.ts';
import { runClosedModel } from '../../src/load/closed-model.ts';
import { runOpenModel } from '../../src/load/open-model.ts';
import { fixedRequest } from '../../src/load/request.ts';
import { intendedSendMs } from '../../src/load/schedule.ts';
import { ManualTransport } from './helpers/manual-transport.ts';

const request = fixedRequest({ method: 'GET', path: '/' });

describe('open model on a fake clock', () => {
  it('sends at exactly the intended times of a ramp, then stops', async () => {
    const clock = new FakeClock();
    const transport = new ManualTransport(clock, 1);
    const schedule = { kind: 'ramp', fromPerSec: 10, toPerSec: 30, overMs: 2000 } as const;
    const run = runOpenModel({ target: transport, request, clock, schedule, end: { durationMs: 3000 }, keepRecords: true });
    clock.advance(3_100);
    const result = await run;
    const expected = Array.from({ length: 70 }, (_, i) => intendedSendMs(schedule, i));
    expect(transport.dispatched.map((d) => d.atMs)).toEqual(expected);
    expect(result.records?.intendedMs).toEqual(expected);
    expect(result.sent).toBe(70);
    expect(result.generatorSaturated.latenessP99Ms).toBe(0);
    expect(result.targetRate).toBeCloseTo(70 / 3, 9);
    expect(result.achievedRate).toBeCloseTo(70 / 3, 9);
    expect(result.outcome).toEqual({ state: 'completed' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends a count-bounded run after exactly that many sends', async () => {
    const clock = new FakeClock();
    const transport = new ManualTransport(clock, 5);
    const run = runOpenModel({ target: transport, request, clock, schedule: { kind: 'constant', ratePerSec: 100 }, end: { count: 7 } });
    clock.advance(1_000);
    const result = await run;
    expect(transport.dispatched.map((d) => d.atMs)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(result.sent).toBe(7);
    expect(result.targetRate).toBeCloseTo(100, 9);
  });

  it('counts requests due while maxInFlight are outstanding as dropped, and measures from the intended time', async () => {
    const clock = new FakeClock(1_000);
    const transport = new ManualTransport(clock);
    const run = runOpenModel({
      target: transport, request, clock, keepRecords: true,
      schedule: { kind: 'constant', ratePerSec: 10 }, end: { durationMs: 1000 }, maxInFlight: 3,
    });
    clock.advance(250);
    expect(transport.dispatched.map((d) => d.atMs)).toEqual([1000, 1100, 1200]);
    const first = transport.dispatched[0];
    if (first === undefined) throw new Error('nothing dispatched');
    transport.respond(first, 200, 'a');
    clock.advance(750);
    expect(transport.dispatched.map((d) => d.atMs)).toEqual([1000, 1100, 1200, 1300]);
    for (const d of transport.inFlight()) transport.respond(d, 503, 'b');
    clock.advance(100);
    const result = await run;
    expect(result.sent).toBe(4);
    expect(result.dropped).toBe(6);
    expect(result.series[0]).toMatchObject({ sent: 4, dropped: 6, completed: 1, errors: 0, latencyMaxMs: 250 });
    expect(result.series[1]).toMatchObject({ sent: 0, dropped: 0, completed: 3, errors: 0, latencyMaxMs: 900 });
    expect(result.statusCounts).toEqual({ 200: 1, 503: 3 });
    expect(result.instanceCounts).toEqual({ a: 1, b: 3 });
    expect(result.records?.doneMs).toEqual([250, 1000, 1000, 1000]);
    expect(result.records?.intendedMs).toEqual([0, 100, 200, 300]);
    // 4 of 10 asked requests went out: the result must say the run is not valid.
    expect(result.achievedRate).toBeCloseTo(4, 9);
    expect(result.generatorSaturated.saturated).toBe(true);
    expect(result.generatorSaturated.reasons.join()).toMatch(/achieved 4\.0\/s is 40\.0% of the asked 10\.0\/s/);
  });

  it('stops on abort and leaves no timer behind', async () => {
    const clock = new FakeClock();
    const transport = new ManualTransport(clock, 1);
    const controller = new AbortController();
    const run = runOpenModel({ target: transport, request, clock, signal: controller.signal, schedule: { kind: 'constant', ratePerSec: 10 }, end: { durationMs: 10_000 } });
    clock.advance(450);
    controller.abort(new Error('user cancelled'));
    const result = await run;
    expect(result.outcome).toEqual({ state: 'aborted', reason: 'user cancelled' });
    expect(result.sent).toBe(5);
    clock.advance(1_000);
    expect(transport.dispatched).toHaveLength(5);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('closed model on a fake clock', () => {
  it('keeps exactly `concurrency` requests in flight until the duration ends', async () => {
    const clock = new FakeClock();
    const transport = new ManualTransport(clock, 10);
    const run = runClosedModel({ target: transport, request, clock, concurrency: 2, end: { durationMs: 100 } });
    clock.advance(200);
    const result = await run;
    const times = transport.dispatched.map((d) => d.atMs);
    expect(times).toEqual([0, 0, 10, 10, 20, 20, 30, 30, 40, 40, 50, 50, 60, 60, 70, 70, 80, 80, 90, 90]);
    expect(result.completed).toBe(20);
    expect(result.achievedRate).toBeCloseTo(20 / 0.1, 6);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops after a count', async () => {
    const clock = new FakeClock();
    const transport = new ManualTransport(clock, 3);
    const run = runClosedModel({ target: transport, request, clock, concurrency: 4, end: { count: 10 } });
    clock.advance(100);
    const result = await run;
    expect(transport.dispatched).toHaveLength(10);
    expect(result.completed).toBe(10);
  });
});
