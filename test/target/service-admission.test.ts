import { describe, expect, it } from 'vitest';
import { AdmissionControl } from '../../target/service/admission.ts';

const CONFIG = { maxInFlight: 2, lagTargetMs: 50, lagIntervalMs: 1_000 };
const PERIOD = 10;

/** A fake clock and a sampler driven by hand: `tick(lag)` is the sampler's timer running `lag` ms late. */
function harness(config = CONFIG): { control: AdmissionControl; advance: (ms: number) => void; tick: (lagMs: number) => void } {
  let t = 0;
  const control = new AdmissionControl(config, () => t);
  let due = PERIOD;
  control.sampled(0, due);
  return {
    control,
    advance: (ms) => (t += ms),
    tick: (lagMs) => {
      t = due + lagMs;
      control.sampled(due, t + PERIOD);
      due = t + PERIOD;
    },
  };
}

describe('AdmissionControl', () => {
  it('refuses past maxInFlight and admits again once one is released', () => {
    const { control } = harness();
    expect(control.tryAdmit()).toEqual({ admitted: true });
    expect(control.tryAdmit()).toEqual({ admitted: true });
    expect(control.tryAdmit()).toEqual({ admitted: false, reason: 'in_flight' });
    control.release();
    expect(control.inFlight).toBe(1);
    expect(control.tryAdmit()).toEqual({ admitted: true });
  });

  it('tolerates lag above the target for less than the interval (a burst that drains)', () => {
    const { control, tick } = harness({ ...CONFIG, maxInFlight: 0 });
    for (let i = 0; i < 9; i++) tick(100); // ~990 ms above target
    expect(control.tryAdmit()).toEqual({ admitted: true });
    tick(0);
    expect(control.tryAdmit()).toEqual({ admitted: true });
  });

  it('sheds once the lag stayed above the target for the interval, and stops when it falls under', () => {
    const { control, tick } = harness({ ...CONFIG, maxInFlight: 0 });
    for (let i = 0; i < 12; i++) tick(100);
    expect(control.tryAdmit()).toEqual({ admitted: false, reason: 'lag' });
    tick(5);
    expect(control.tryAdmit()).toEqual({ admitted: true });
  });

  it('resumes shedding at once when the lag rises again right after shedding stopped (a standing overload)', () => {
    const { control, tick } = harness({ ...CONFIG, maxInFlight: 0 });
    for (let i = 0; i < 12; i++) tick(100);
    expect(control.tryAdmit().admitted).toBe(false);
    tick(5);
    tick(80);
    expect(control.tryAdmit()).toEqual({ admitted: false, reason: 'lag' });
  });

  it('a lag that alternates above and under the target (long and short turns of a saturated loop) persists', () => {
    const { control, tick } = harness({ ...CONFIG, maxInFlight: 0 });
    for (let i = 0; i < 8; i++) {
      tick(100);
      tick(20);
    }
    tick(100);
    expect(control.tryAdmit()).toEqual({ admitted: false, reason: 'lag' });
  });

  it('a lone lag spike after the resume window (a fifth of the interval) is tolerated again', () => {
    const { control, tick } = harness({ ...CONFIG, maxInFlight: 0 });
    for (let i = 0; i < 12; i++) tick(100);
    expect(control.tryAdmit().admitted).toBe(false);
    for (let i = 0; i < 30; i++) tick(0); // 300 ms on time: cleared after 50 ms, then past the 200 ms window
    tick(80);
    expect(control.tryAdmit()).toEqual({ admitted: true });
  });

  it('sees a loop busy right now from how overdue the sampler is, before the sampler can run', () => {
    const { control, tick, advance } = harness({ ...CONFIG, maxInFlight: 0 });
    for (let i = 0; i < 12; i++) tick(100);
    expect(control.tryAdmit().admitted).toBe(false);
    tick(5); // recovered: admits, but within an interval of shedding
    expect(control.tryAdmit().admitted).toBe(true);
    advance(PERIOD + 60); // the next tick is 60 ms overdue: the loop is stuck in one long turn
    expect(control.lagMs()).toBe(60);
    expect(control.tryAdmit()).toEqual({ admitted: false, reason: 'lag' });
  });

  it('a long single turn of the loop sheds once it has lasted the interval, even with no sample above target', () => {
    const { control, advance } = harness({ ...CONFIG, maxInFlight: 0 });
    advance(PERIOD + 500);
    expect(control.tryAdmit().admitted).toBe(true);
    advance(600);
    expect(control.tryAdmit()).toEqual({ admitted: false, reason: 'lag' });
  });

  it('lag target 0 turns lag shedding off; maxInFlight 0 the in-flight limit', () => {
    const { control, tick } = harness({ maxInFlight: 0, lagTargetMs: 0, lagIntervalMs: 1_000 });
    expect(control.watchesLag).toBe(false);
    for (let i = 0; i < 300; i++) tick(500);
    for (let i = 0; i < 5_000; i++) expect(control.tryAdmit().admitted).toBe(true);
  });

  it('refuses a config that cannot work', () => {
    expect(() => new AdmissionControl({ ...CONFIG, maxInFlight: -1 }, () => 0)).toThrow(/maxInFlight must be an integer >= 0/);
    expect(() => new AdmissionControl({ ...CONFIG, lagTargetMs: -5 }, () => 0)).toThrow(/lagTargetMs and lagIntervalMs must be >= 0/);
  });
});
