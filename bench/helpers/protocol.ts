/** Messages between the benchmark and its tool children: one JSON line each way. */

export type ToolName = 'gauntlet' | 'gauntlet-no-hdr' | 'autocannon' | 'gauntlet-open' | 'gauntlet-hdr-ab';

export interface ToolJob {
  tool: ToolName;
  url: string;
  connections: number;
  durationSec: number;
  /** Open model only. */
  ratePerSec?: number;
  /** HDR A/B only: on/off pairs, each run `durationSec` long. */
  pairs?: number;
}

export interface ToolReport {
  tool: ToolName;
  responses: number;
  errors: number;
  elapsedMs: number;
  /** User + system CPU of the tool's process during the run. */
  cpuUs: number;
  /** Open model only. */
  achievedRate?: number;
  latenessP99Ms?: number | null;
  saturated?: boolean;
  reasons?: string[];
  /** HDR A/B only: paired runs in one process, recording on and off, and the isolated cost. */
  hdr?: { onUsPerReq: number; offUsPerReq: number; pairedDeltaPct: number; pairs: number; isolatedNsPerReq: number };
}
