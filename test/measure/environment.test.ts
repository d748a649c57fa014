import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { captureEnvironment, type EnvironmentSource } from '../../src/measure/environment.ts';

describe('captureEnvironment', () => {
  it('captures sane values from this machine', async () => {
    const env = await captureEnvironment();
    expect(env.cpu.logicalCores).toBe(os.cpus().length);
    expect(env.cpu.physicalCores).toBeGreaterThanOrEqual(1);
    expect(env.cpu.physicalCores).toBeLessThanOrEqual(env.cpu.logicalCores);
    expect(env.cpu.brand.length).toBeGreaterThan(0);
    if (env.cpu.speedGHz !== null) expect(env.cpu.speedGHz).toBeGreaterThan(0);
    expect(Math.abs(env.memory.totalBytes - os.totalmem())).toBeLessThanOrEqual(os.totalmem() * 0.01);
    expect(env.os.platform).toBe(process.platform);
    expect(env.os.kernel).toBe(os.release());
    expect(env.node).toEqual({ version: process.version, arch: process.arch });
    expect(new Date(env.capturedAt).toISOString()).toBe(env.capturedAt);
    expect(JSON.parse(JSON.stringify(env))).toEqual(env);
  });

  it('maps an injected source exactly, and a speed of 0 to unknown', async () => {
    const source = {
      cpu: () => Promise.resolve({ manufacturer: 'Acme', brand: 'Rocket 9', speed: 0, cores: 8, physicalCores: 4 }),
      mem: () => Promise.resolve({ total: 16 * 2 ** 30 }),
      osInfo: () => Promise.resolve({ platform: 'linux', distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0', arch: 'x64' }),
    } as unknown as EnvironmentSource; // only the fields read are provided
    expect(await captureEnvironment({ source, wallClock: () => Date.UTC(2026, 0, 2, 3, 4, 5) })).toEqual({
      capturedAt: '2026-01-02T03:04:05.000Z',
      cpu: { manufacturer: 'Acme', brand: 'Rocket 9', physicalCores: 4, logicalCores: 8, speedGHz: null },
      memory: { totalBytes: 16 * 2 ** 30 },
      os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0', arch: 'x64' },
      node: { version: process.version, arch: process.arch },
    });
  });
});
