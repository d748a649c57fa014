/**
 * The cost of HDR recording, two ways: closed-model runs with recording on and off, paired and
 * alternated inside one process (so process start-up and JIT warm-up cancel out); and the
 * recorder alone, fed synthetic exchanges, in ns per request.
 */
import { performance } from 'node:perf_hooks';
import { systemClock } from '../../src/clock.ts';
import { runClosedModel } from '../../src/load/closed-model.ts';
import { Exchange } from '../../src/load/exchange.ts';
import { Recorder } from '../../src/load/recorder.ts';
import { fixedRequest } from '../../src/load/request.ts';
import type { ToolReport } from './protocol.ts';

const request = fixedRequest({ method: 'GET', path: '/' });

async function cpuPerRequest(url: string, connections: number, ms: number, recordHistograms: boolean): Promise<number> {
  const cpu0 = process.cpuUsage();
  const r = await runClosedModel({ target: url, request, concurrency: connections, end: { durationMs: ms }, recordHistograms, instanceHeader: '' });
  const cpu = process.cpuUsage(cpu0);
  if (r.errors > 0) throw new Error(`HDR A/B saw ${r.errors} errors; the trivial server should never fail`);
  return (cpu.user + cpu.system) / (r.completed - r.errors);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};

/** Recorder cost per request, histograms on minus off, in ns. */
function isolatedNsPerRequest(n: number): number {
  const time = (recordHistograms: boolean): number => {
    const start = systemClock.now();
    const rec = new Recorder(start, { intervalMs: 1000, recordHistograms, keepRecords: false, maxRecords: 0, correctedLatency: false });
    const ex = new Exchange({ exchangeEnded: () => undefined }, systemClock, '');
    ex.status = 200;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      ex.intendedMs = ex.dispatchedMs = ex.sentMs = start + i * 0.01;
      rec.recordEnd(ex, start + i * 0.01 + 0.05 + (i % 977) * 0.003, 0, null);
    }
    const t1 = performance.now();
    rec.finish();
    return ((t1 - t0) * 1e6) / n;
  };
  const on: number[] = [];
  const off: number[] = [];
  for (let k = 0; k < 5; k++) {
    on.push(time(true));
    off.push(time(false));
  }
  return median(on) - median(off);
}

export async function hdrAb(url: string, connections: number, pairs: number, runMs: number): Promise<NonNullable<ToolReport['hdr']>> {
  await cpuPerRequest(url, connections, 1000, true); // JIT warm-up, not measured
  const on: number[] = [];
  const off: number[] = [];
  const deltas: number[] = [];
  for (let k = 0; k < pairs; k++) {
    const first = k % 2 === 0;
    const a = await cpuPerRequest(url, connections, runMs, first);
    const b = await cpuPerRequest(url, connections, runMs, !first);
    const [withHdr, without] = first ? [a, b] : [b, a];
    on.push(withHdr);
    off.push(without);
    deltas.push((100 * (withHdr - without)) / without);
  }
  return { onUsPerReq: median(on), offUsPerReq: median(off), pairedDeltaPct: median(deltas), pairs, isolatedNsPerReq: isolatedNsPerRequest(1_000_000) };
}
