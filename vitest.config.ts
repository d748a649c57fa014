import { defineConfig } from 'vitest/config';

/**
 * Two groups: unit and integration tests in parallel first, then the scenario tests one file at a
 * time. A scenario test runs a load generator beside real target processes on a 2-core machine; in
 * parallel with other files its generator falls behind schedule and (rightly) fails its self-check.
 */
export default defineConfig({
  test: {
    // Integration tests start real servers and child processes; a 2-core CI machine needs room.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        // Vitest's default is one worker fewer than the cores: a single one on a 2-core CI machine.
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/scenarios/**'], maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'scenarios', include: ['test/scenarios/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
