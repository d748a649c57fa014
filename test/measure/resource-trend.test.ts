import { describe, expect, it } from 'vitest';
import { failingTrends, judgeResourceTrends, TREND_FLAT_BOUNDS_PER_MINUTE } from '../../src/measure/resource-trend.ts';
import type { ResourceSample, ResourceTrend } from '../../src/measure/resource-trend.ts';

const MiB = 1024 * 1024;

/** One sample every 2 s for `minutes`, RSS climbing `rssPerMin` and FDs `fdsPerMin`, with a little jitter. */
function series(process: ResourceSample['process'], minutes: number, rssPerMin: number, fdsPerMin: number, segment = 'a'): ResourceSample[] {
  return Array.from({ length: minutes * 30 + 1 }, (_, i) => {
    const atSec = i * 2;
    const jitter = ((i * 7919) % 13) - 6;
    return { process, atSec, segment, rssBytes: 80 * MiB + (rssPerMin * atSec) / 60 + jitter * 64 * 1024, openFds: 30 + Math.floor((fdsPerMin * atSec) / 60) + (i % 2) };
  });
}

function find(trends: readonly ResourceTrend[], process: string, resource: string): ResourceTrend {
  const t = trends.find((x) => x.process === process && x.resource === resource);
  if (t === undefined) throw new Error(`no ${process} ${resource} trend`);
  return t;
}

describe('judgeResourceTrends', () => {
  it('calls a steady process flat', () => {
    const trends = judgeResourceTrends(series('gauntlet', 5, 0, 0));
    expect(find(trends, 'gauntlet', 'rss').verdict).toBe('flat');
    expect(find(trends, 'gauntlet', 'fds').verdict).toBe('flat');
    expect(trends).toHaveLength(2);
  });

  it('catches a leak of 8 MiB and 3 FDs a minute, and measures its rate', () => {
    const trends = judgeResourceTrends(series('target', 5, 8 * MiB, 3));
    const rss = find(trends, 'target', 'rss');
    expect(rss.verdict).toBe('growing');
    expect(rss.slopePerMinute).toBeGreaterThan(7.5 * MiB);
    expect(rss.slopePerMinute).toBeLessThan(8.5 * MiB);
    expect(rss.ci?.low).toBeGreaterThan(0);
    expect(find(trends, 'target', 'fds').verdict).toBe('growing');
  });

  it('calls a slope below the flat bound flat even when its interval excludes 0 (warm-up is not a leak)', () => {
    const rss = find(judgeResourceTrends(series('gauntlet', 10, TREND_FLAT_BOUNDS_PER_MINUTE.rss / 4, 0)), 'gauntlet', 'rss');
    expect(rss.ci?.low).toBeGreaterThan(0);
    expect(rss.verdict).toBe('flat');
  });

  it('does not read a restart onto a bigger process as growth', () => {
    const samples = [...series('target', 2, 0, 0, 'old'), ...series('target', 2, 0, 0, 'new').map((s) => ({ ...s, atSec: s.atSec + 130, rssBytes: s.rssBytes + 60 * MiB, openFds: s.openFds + 20 }))];
    const trends = judgeResourceTrends(samples);
    expect(find(trends, 'target', 'rss').verdict).toBe('flat');
    expect(find(trends, 'target', 'rss').segments).toBe(2);
    expect(find(trends, 'target', 'fds').verdict).toBe('flat');
  });

  it('says insufficient-data, with why, for too few samples', () => {
    const rss = find(judgeResourceTrends(series('gauntlet', 0, 0, 0)), 'gauntlet', 'rss');
    expect(rss.verdict).toBe('insufficient-data');
    expect(rss.reason).toMatch(/need at least/);
  });

  it('fails a run only where the profile enforces trends', () => {
    const trends = judgeResourceTrends([...series('gauntlet', 5, 0, 0), ...series('target', 5, 8 * MiB, 0)]);
    expect(failingTrends({ enforced: true, trends }).map((t) => `${t.process} ${t.resource}`)).toEqual(['target rss']);
    expect(failingTrends({ enforced: false, trends })).toEqual([]);
  });
});
