import { describe, expect, it } from 'vitest';
import overload, { DEFAULT_ADMITTED_P99_MS, DEFAULT_MAX_RSS_GROWTH_MIB } from '../../scenarios/reliability/overload.ts';
import type { OverloadParams } from '../../scenarios/reliability/overload.ts';
import { DEFAULT_MAX_RECOVERY_MS } from '../../scenarios/lib/recovery-bound.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import type { DeploymentNeeds } from '../../src/scenario/deployment-needs.ts';
import { findCheck, runScenarioOn } from './helpers/scenario-harness.ts';

const scenario = overload as unknown as ScenarioDefinition;
const MIB = 1024 * 1024;
/** A broken variant's phases: only as long as the check it must fail needs (every other phase short). */
const SHORT: Partial<OverloadParams> = { families: 8, probeMs: 400, baselineMs: 500, settleMs: 250, overloadMs: 500, recoveryMs: 500 };
/**
 * Bytes an instance keeps per request it receives, in the leaking variant. A saturated instance still
 * reads over a thousand requests a second (refusing is cheap); even a few hundred in the judged
 * second of overload keep several times the bound, however busy the machine.
 */
const KEPT_PER_REQUEST = 256 * 1024;

/** overload against the embedded deployment with `change` applied to what the scenario asks for. */
function variant(change: (needs: DeploymentNeeds) => DeploymentNeeds): ScenarioDefinition {
  return { ...scenario, deployment: (p) => change(overload.deployment?.(p as OverloadParams) ?? {}) };
}

describe('overload scenario', () => {
  it('passes at the smoke profile: sheds with 503 + Retry-After, bounded admitted latency and memory, recovers', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons, JSON.stringify({ checks: result.checks, loadRuns: result.loadRuns, tables: result.tables })).toEqual([]);
    expect(result.status).toBe('passed');
    const m = result.metrics;
    expect(m['overload.factor']).toBeGreaterThanOrEqual(1.5);
    expect(m['overload.shed_rate']).toBeGreaterThan(0);
    expect(m['overload.unclear']).toBe(0);
    // Not p99 <= all_p99: a subset's percentile may exceed the whole's.
    expect(m['overload.admitted.latency.p50']).toBeLessThanOrEqual(m['overload.admitted.latency.p99'] ?? 0);
    expect(m['overload.admitted.latency.all_p99']).toBeGreaterThan(0);
    expect(m['rss.overload_peak']).toBeGreaterThan(0);
    expect(m['recovery.ms']).toBeLessThanOrEqual(DEFAULT_MAX_RECOVERY_MS);
  }, 60_000);

  it('catches a service without admission control: nothing is shed and admitted latency grows without bound', async () => {
    const unguarded = variant((needs) => ({ ...needs, service: { ...needs.service, admission: { maxInFlight: 0, lagTargetMs: 0, lagIntervalMs: 0 } } }));
    // 1.5 s of overload: the backlog of an unshed queue passes the admitted bound even on a machine where capacity is half the overload rate.
    const result = await runScenarioOn(unguarded, { profile: 'smoke', params: { ...SHORT, settleMs: 500, overloadMs: 1_000 } });
    expect(result.status).toBe('failed');
    const shed = findCheck(result, 'under overload the service sheds the excess');
    expect(shed.passed, JSON.stringify(shed)).toBe(false);
    expect(shed.detail).toMatch(/nothing was refused: the service queued all \d+ requests/);
    const admitted = findCheck(result, 'latency of admitted requests stays bounded');
    expect(admitted.passed, JSON.stringify(admitted)).toBe(false);
    expect(result.metrics['overload.admitted.latency.p99']).toBeGreaterThan(DEFAULT_ADMITTED_P99_MS);
  }, 60_000);

  it('catches an instance that does not come back once it has shed (from its first 503 on, its event loop stalls)', async () => {
    // A preloaded module: after the first 503 the instance busy-waits 150 ms of every 200, for good, as a service stuck in a retry storm would.
    const stuck = `--import=data:text/javascript,import http from 'node:http';let armed=false;const head=http.ServerResponse.prototype.writeHead;http.ServerResponse.prototype.writeHead=function(status,...a){if(status===503&&!armed){armed=true;setInterval(()=>{const t=Date.now();while(Date.now()-t<150);},200)}return head.call(this,status,...a)}`;
    const degraded = variant((needs) => ({ ...needs, instanceNodeArgs: [...(needs.instanceNodeArgs ?? []), stuck] }));
    // Overload long enough for the first 503 (the lag must persist for the service's 1 s interval), then a recovery that must find failures going on.
    const result = await runScenarioOn(degraded, { profile: 'smoke', params: { ...SHORT, settleMs: 500, overloadMs: 1_000, recoveryMs: 1_500 } });
    expect(result.status).toBe('failed');
    const recovery = findCheck(result, 'when the rate drops the service is back to normal');
    expect(recovery.passed, JSON.stringify(recovery)).toBe(false);
  }, 60_000);

  it('catches an instance whose memory grows with the requests it receives', async () => {
    // A preloaded module that keeps a buffer per request received: memory that grows with the arrival rate, as an unbounded in-memory queue's would.
    const keep = `--import=data:text/javascript,import http from 'node:http';const kept=[];const emit=http.Server.prototype.emit;http.Server.prototype.emit=function(e,...a){if(e==='request')kept.push(Buffer.alloc(${KEPT_PER_REQUEST},1));return emit.call(this,e,...a)}`;
    const leaking = variant((needs) => ({ ...needs, instanceNodeArgs: [...(needs.instanceNodeArgs ?? []), keep] }));
    // A baseline long enough for a few RSS scrapes, and a judged overload of 1 s.
    const result = await runScenarioOn(leaking, { profile: 'smoke', params: { ...SHORT, baselineMs: 750, overloadMs: 750 } });
    expect(result.status).toBe('failed');
    const memory = findCheck(result, 'resident memory stays bounded under overload');
    expect(memory.passed, JSON.stringify(memory)).toBe(false);
    expect(result.metrics['rss.growth']).toBeGreaterThan(DEFAULT_MAX_RSS_GROWTH_MIB * MIB);
  }, 60_000);
});
