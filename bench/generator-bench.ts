/**
 * `npm run bench:generator`: gauntlet's closed-model generator against autocannon (and wrk when
 * installed) on a trivial server, each tool in its own process so its CPU time is its own; runs
 * alternate over several rounds and the medians are compared. Then HDR recording on vs off, and
 * the open model at 5,000/s. Prints a table, then the figures as one JSON line (the last line).
 */
import { cpus } from 'node:os';
import { firstLine, runToCompletion, stop } from './helpers/child.ts';
import type { ToolJob, ToolName, ToolReport } from './helpers/protocol.ts';
import { runWrk, wrkPath } from './helpers/wrk.ts';

/** Every knob of the benchmark, in one place. */
const BENCH = {
  connections: 10,
  durationSec: 5,
  rounds: 5,
  hdr: { pairs: 6, runSec: 3 },
  open: { ratePerSec: 5_000, durationSec: 10, connections: 20 },
  goals: { reqPerSecVsAutocannon: 0.95, cpuPerRequestVsAutocannon: 1.1, hdrCpuOverheadPct: 3, openRateWithinPct: 1 },
} as const;

interface Sample {
  reqPerSec: number;
  cpuUsPerReq: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};

async function runTool(job: ToolJob): Promise<ToolReport> {
  const runs = job.pairs === undefined ? 1 : 2 * job.pairs + 1;
  const line = await runToCompletion('./run-tool.ts', [JSON.stringify(job)], (runs * job.durationSec + 30) * 1000);
  const report = JSON.parse(line) as ToolReport;
  if (report.errors > 0) throw new Error(`${job.tool} saw ${report.errors} errors against the trivial server: the numbers would not compare`);
  return report;
}

const toSample = (r: { responses: number; elapsedMs: number; cpuUs: number }): Sample => ({
  reqPerSec: (r.responses * 1000) / r.elapsedMs,
  cpuUsPerReq: r.cpuUs / r.responses,
});

async function main(): Promise<void> {
  const server = firstLine('./trivial-server.ts', [], 15_000);
  try {
    const { port } = JSON.parse(await server.line) as { port: number };
    const url = `http://127.0.0.1:${port}`;
    const wrk = wrkPath();
    const tools: ToolName[] = ['gauntlet', 'autocannon'];
    const samples = new Map<string, Sample[]>();
    const add = (name: string, s: Sample): void => void samples.set(name, [...(samples.get(name) ?? []), s]);
    console.log(`generator benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`);
    console.log(`closed model, ${BENCH.connections} connections, ${BENCH.durationSec} s per run, ${BENCH.rounds} rounds, tools alternating`);
    if (wrk === null) console.log('wrk not installed (apt-get install wrk): skipped');
    for (let round = 0; round < BENCH.rounds; round++) {
      // Rotate the order so no tool always runs first (or right after the same neighbour).
      const order = tools.map((_, i) => tools[(i + round) % tools.length] ?? 'gauntlet');
      for (const tool of order) {
        const r = await runTool({ tool, url, connections: BENCH.connections, durationSec: BENCH.durationSec });
        const s = toSample(r);
        add(tool, s);
        console.log(`  round ${round + 1} ${tool.padEnd(16)} ${s.reqPerSec.toFixed(0).padStart(7)} req/s ${s.cpuUsPerReq.toFixed(2).padStart(7)} µs CPU/req`);
      }
      if (wrk !== null) {
        const s = toSample(await runWrk(wrk, url, BENCH.connections, BENCH.durationSec));
        add('wrk', s);
        console.log(`  round ${round + 1} ${'wrk'.padEnd(16)} ${s.reqPerSec.toFixed(0).padStart(7)} req/s ${s.cpuUsPerReq.toFixed(2).padStart(7)} µs CPU/req`);
      }
    }
    const med = (name: string): Sample => {
      const xs = samples.get(name) ?? [];
      return { reqPerSec: median(xs.map((x) => x.reqPerSec)), cpuUsPerReq: median(xs.map((x) => x.cpuUsPerReq)) };
    };
    const g = med('gauntlet');
    const a = med('autocannon');
    const w = wrk === null ? null : med('wrk');

    console.log(`HDR recording on vs off: ${BENCH.hdr.pairs} alternating pairs of ${BENCH.hdr.runSec} s runs in one process`);
    const ab = await runTool({ tool: 'gauntlet-hdr-ab', url, connections: BENCH.connections, durationSec: BENCH.hdr.runSec, pairs: BENCH.hdr.pairs });
    if (ab.hdr === undefined) throw new Error('the HDR A/B child returned no figures');
    const hdr = ab.hdr;

    const open = await runTool({ tool: 'gauntlet-open', url, connections: BENCH.open.connections, durationSec: BENCH.open.durationSec, ratePerSec: BENCH.open.ratePerSec });
    const openRate = open.achievedRate ?? NaN;
    const openDeviationPct = (100 * Math.abs(openRate - BENCH.open.ratePerSec)) / BENCH.open.ratePerSec;

    // Each round ran both tools back to back: the median of per-round ratios cancels most of the
    // drift in machine load that the medians of each tool alone still carry.
    const gs = samples.get('gauntlet') ?? [];
    const as = samples.get('autocannon') ?? [];
    const reqRatio = median(gs.map((x, i) => x.reqPerSec / (as[i]?.reqPerSec ?? NaN)));
    const cpuRatio = median(gs.map((x, i) => x.cpuUsPerReq / (as[i]?.cpuUsPerReq ?? NaN)));
    const hdrPct = hdr.pairedDeltaPct;
    const isolatedPct = (100 * hdr.isolatedNsPerReq) / 1000 / hdr.offUsPerReq;
    console.log('\nmedians           req/s    µs CPU/req');
    const rows: [string, Sample][] = [['gauntlet', g], ['autocannon', a]];
    if (w !== null) rows.push(['wrk (1 thread)', w]);
    for (const [name, s] of rows) {
      console.log(`  ${name.padEnd(18)} ${s.reqPerSec.toFixed(0).padStart(7)} ${s.cpuUsPerReq.toFixed(2).padStart(10)}`);
    }
    console.log(`gauntlet/autocannon, median of per-round ratios: req/s x${reqRatio.toFixed(3)} (goal >= ${BENCH.goals.reqPerSecVsAutocannon}), CPU/req x${cpuRatio.toFixed(3)} (goal <= ${BENCH.goals.cpuPerRequestVsAutocannon})`);
    console.log(`  (ratio of medians: req/s x${(g.reqPerSec / a.reqPerSec).toFixed(3)}, CPU/req x${(g.cpuUsPerReq / a.cpuUsPerReq).toFixed(3)})`);
    if (w !== null) console.log(`gauntlet/wrk: req/s x${(g.reqPerSec / w.reqPerSec).toFixed(3)}, CPU/req x${(g.cpuUsPerReq / w.cpuUsPerReq).toFixed(3)}`);
    console.log(`HDR recording: on ${hdr.onUsPerReq.toFixed(2)} vs off ${hdr.offUsPerReq.toFixed(2)} µs CPU/req, median paired delta ${hdrPct >= 0 ? '+' : ''}${hdrPct.toFixed(2)}% (goal < ${BENCH.goals.hdrCpuOverheadPct}%); recorder alone: ${hdr.isolatedNsPerReq.toFixed(0)} ns/req = ${isolatedPct.toFixed(2)}%`);
    console.log(`open model ${BENCH.open.ratePerSec}/s for ${BENCH.open.durationSec} s: achieved ${openRate.toFixed(1)}/s (${openDeviationPct.toFixed(2)}% off; goal within ${BENCH.goals.openRateWithinPct}%), p99 lateness ${open.latenessP99Ms?.toFixed(3) ?? 'n/a'} ms, saturated: ${open.saturated ?? 'n/a'}${open.reasons?.length ? ` (${open.reasons.join('; ')})` : ''}`);
    console.log('note: this machine is shared; figures are noisy, and medians of alternating runs are the fairest comparison it allows.');
    console.log(JSON.stringify({
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? null, node: process.version, shared: true },
      config: BENCH,
      gauntlet: g, autocannon: a, wrk: w ?? 'wrk not installed (apt-get install wrk)',
      ratios: {
        reqPerSecVsAutocannon: reqRatio, cpuPerRequestVsAutocannon: cpuRatio,
        ofMedians: { reqPerSecVsAutocannon: g.reqPerSec / a.reqPerSec, cpuPerRequestVsAutocannon: g.cpuUsPerReq / a.cpuUsPerReq }, ...(w === null ? {} : { reqPerSecVsWrk: g.reqPerSec / w.reqPerSec, cpuPerRequestVsWrk: g.cpuUsPerReq / w.cpuUsPerReq }) },
      hdr: { ...hdr, isolatedPct },
      hdrCpuOverheadPct: hdrPct,
      open: { askedRate: BENCH.open.ratePerSec, achievedRate: openRate, deviationPct: openDeviationPct, latenessP99Ms: open.latenessP99Ms ?? null, saturated: open.saturated ?? null },
      met: {
        reqPerSecVsAutocannon: reqRatio >= BENCH.goals.reqPerSecVsAutocannon,
        cpuPerRequestVsAutocannon: cpuRatio <= BENCH.goals.cpuPerRequestVsAutocannon,
        hdrCpuOverhead: hdrPct < BENCH.goals.hdrCpuOverheadPct,
        openRateWithin1Pct: openDeviationPct <= BENCH.goals.openRateWithinPct,
      },
    }));
  } finally {
    await stop(server.child);
  }
}

await main();
