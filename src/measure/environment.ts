/**
 * The machine a run measured on, captured once per run through `systeminformation`: figures from
 * different machines are not comparable, so every result carries this.
 */
import * as systeminformation from 'systeminformation';

export interface EnvironmentInfo {
  capturedAt: string;
  cpu: { manufacturer: string; brand: string; physicalCores: number; logicalCores: number; speedGHz: number | null };
  memory: { totalBytes: number };
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  node: { version: string; arch: string };
}

/** The systeminformation calls used; tests pass their own. */
export type EnvironmentSource = Pick<typeof systeminformation, 'cpu' | 'mem' | 'osInfo'>;

export interface CaptureEnvironmentOptions {
  source?: EnvironmentSource;
  /** Wall clock in epoch ms, for `capturedAt`. */
  wallClock?: () => number;
}

/** Captures CPU, memory, OS and Node facts as plain data. */
export async function captureEnvironment(options: CaptureEnvironmentOptions = {}): Promise<EnvironmentInfo> {
  const source = options.source ?? systeminformation;
  const wallClock = options.wallClock ?? Date.now;
  const [cpu, mem, os] = await Promise.all([source.cpu(), source.mem(), source.osInfo()]);
  return {
    capturedAt: new Date(wallClock()).toISOString(),
    cpu: {
      manufacturer: cpu.manufacturer,
      brand: cpu.brand,
      physicalCores: cpu.physicalCores,
      logicalCores: cpu.cores,
      // Virtual machines often report 0: unknown, not zero.
      speedGHz: cpu.speed > 0 ? cpu.speed : null,
    },
    memory: { totalBytes: mem.total },
    os: { platform: os.platform, distro: os.distro, release: os.release, kernel: os.kernel, arch: os.arch },
    node: { version: process.version, arch: process.arch },
  };
}
