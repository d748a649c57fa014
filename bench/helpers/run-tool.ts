/**
 * One load tool in its own process, so its CPU time is its own: reads a ToolJob (argv[2], JSON),
 * runs it against the server, prints a ToolReport as one JSON line.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { runClosedModel } from '../../src/load/closed-model.ts';
import { runOpenModel } from '../../src/load/open-model.ts';
import { fixedRequest } from '../../src/load/request.ts';
import { hdrAb } from './hdr-ab.ts';
import type { ToolJob, ToolReport } from './protocol.ts';

interface AutocannonResult {
  requests: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => unknown;

const job = JSON.parse(process.argv[2] ?? '{}') as ToolJob;
const request = fixedRequest({ method: 'GET', path: '/' });

async function run(): Promise<Omit<ToolReport, 'cpuUs' | 'elapsedMs'>> {
  switch (job.tool) {
    case 'gauntlet':
    case 'gauntlet-no-hdr': {
      const r = await runClosedModel({
        target: job.url, request, concurrency: job.connections, end: { durationMs: job.durationSec * 1000 },
        recordHistograms: job.tool === 'gauntlet', instanceHeader: '',
      });
      return { tool: job.tool, responses: r.completed - r.errors, errors: r.errors };
    }
    case 'gauntlet-open': {
      const rate = job.ratePerSec ?? 1000;
      const r = await runOpenModel({
        target: job.url, request, connections: job.connections, schedule: { kind: 'constant', ratePerSec: rate },
        end: { durationMs: job.durationSec * 1000 }, instanceHeader: '',
      });
      const s = r.generatorSaturated;
      return { tool: job.tool, responses: r.completed - r.errors, errors: r.errors, achievedRate: r.achievedRate, latenessP99Ms: s.latenessP99Ms, saturated: s.saturated, reasons: s.reasons };
    }
    case 'gauntlet-hdr-ab': {
      const hdr = await hdrAb(job.url, job.connections, job.pairs ?? 6, job.durationSec * 1000);
      return { tool: job.tool, responses: 0, errors: 0, hdr };
    }
    case 'autocannon': {
      // autocannon ships no types; its callback API is the documented programmatic interface.
      const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
      const r = await new Promise<AutocannonResult>((resolve, reject) => {
        autocannon({ url: job.url, connections: job.connections, duration: job.durationSec, pipelining: 1 }, (err, result) => (err ? reject(err) : resolve(result)));
      });
      return { tool: job.tool, responses: r.requests.total, errors: r.errors + r.timeouts };
    }
  }
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const report = await run();
const elapsedMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ ...report, elapsedMs, cpuUs: cpu.user + cpu.system } satisfies ToolReport)}\n`);
