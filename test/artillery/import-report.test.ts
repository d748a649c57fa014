import { describe, expect, it } from 'vitest';
import { ARTILLERY_METRIC_SPECS, importArtilleryReport } from '../../src/artillery/import-report.ts';

const summary = (p99: number, count = 10) => ({ min: 1, max: p99 + 5, count, mean: 3.5, p50: 3, median: 3, p75: 4, p90: 6, p95: 8, p99, p999: p99 + 1 });

/** The shape of an Artillery 2.0.21 report, cut down: two periods, expectations failed, one request unanswered. */
function report(): unknown {
  const aggregate = {
    counters: {
      'http.requests': 100,
      'http.responses': 99,
      'http.codes.201': 80,
      'http.codes.409': 15,
      'http.codes.500': 4,
      'errors.ECONNRESET': 1,
      'plugins.expect.ok': 95,
      'plugins.expect.failed': 4,
      'plugins.expect.failed.statusCode': 4,
      'vusers.created': 20,
      'vusers.completed': 19,
      'vusers.failed': 1,
      'vusers.created_by_name.creator': 18,
      'vusers.created_by_name.racer': 2,
      'plugins.metrics-by-endpoint.POST /families.codes.201': 80,
      'plugins.metrics-by-endpoint.POST /families.codes.500': 4,
      'plugins.metrics-by-endpoint.POST /families (race).codes.409': 15,
      'plugins.metrics-by-endpoint.POST /families (race).errors.ECONNRESET': 1,
    },
    rates: { 'http.request_rate': 50 },
    summaries: { 'http.response_time': summary(42, 99), 'http.total': summary(44, 99), 'http.tls': { min: null, max: null, count: 0, mean: null }, 'plugins.metrics-by-endpoint.response_time.POST /families': summary(40, 84) },
    firstMetricAt: 1_000,
    lastMetricAt: 3_000,
    period: 0,
  };
  const period = (at: number, p99: number) => ({ ...aggregate, summaries: { 'http.response_time': summary(p99) }, firstMetricAt: at, lastMetricAt: at + 900 });
  return { aggregate, intermediate: [period(1_000, 30), period(11_000, 50), period(21_000, 40)] };
}

describe("importing Artillery's JSON report", () => {
  it('reads the metrics Artillery gives under gauntlet names', () => {
    const outcome = importArtilleryReport(JSON.stringify(report()));
    if (!outcome.ok) throw new Error(outcome.error);
    const { metrics } = outcome.report;
    // Unexpected statuses (4) plus the unanswered request (100 sent, 99 answered), over requests sent.
    expect(metrics['errors.rate']).toBeCloseTo(5 / 100, 10);
    expect(metrics).toMatchObject({ 'http.requests': 100, 'http.responses': 99, 'http.request_rate': 50, 'vusers.created': 20, 'vusers.failed': 1, 'latency.p99': 42, 'latency.p50': 3, 'latency.max': 47, 'latency.total.p99': 44 });
    expect(Object.keys(metrics).every((name) => ARTILLERY_METRIC_SPECS.some((m) => m.name === name))).toBe(true);
  });

  it('tables codes, errors, flows and per-endpoint figures; a series per period', () => {
    const outcome = importArtilleryReport(JSON.stringify(report()));
    if (!outcome.ok) throw new Error(outcome.error);
    const { tables, series } = outcome.report;
    expect(tables.codes).toEqual([{ status: '201', count: 80 }, { status: '409', count: 15 }, { status: '500', count: 4 }]);
    expect(tables.errors).toEqual([{ error: 'ECONNRESET', count: 1 }]);
    expect(tables.flows).toEqual([{ flow: 'creator', count: 18 }, { flow: 'racer', count: 2 }]);
    expect(tables.endpoints).toEqual([
      { endpoint: 'POST /families', responses: 84, codes: '201: 80, 500: 4', errors: 0, p50Ms: 3, p95Ms: 8, p99Ms: 40, maxMs: 45 },
      { endpoint: 'POST /families (race)', responses: 15, codes: '409: 15', errors: 1, p50Ms: null, p95Ms: null, p99Ms: null, maxMs: null },
    ]);
    expect(series.map((p) => [p.x, p['latency.p99']])).toEqual([[0, 30], [10, 50], [20, 40]]);
  });

  it('keeps no series of fewer than three periods (a short run\'s are cut-off windows)', () => {
    const twoPeriods = report() as { intermediate: unknown[] };
    twoPeriods.intermediate = twoPeriods.intermediate.slice(0, 2);
    const outcome = importArtilleryReport(JSON.stringify(twoPeriods));
    expect(outcome.ok && outcome.report.series).toEqual([]);
  });

  it('reports no latency when nothing was answered, so latency thresholds read "not measured"', () => {
    const empty = { aggregate: { counters: { 'http.requests': 3 }, rates: {}, summaries: {} }, intermediate: [] };
    const outcome = importArtilleryReport(JSON.stringify(empty));
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.report.metrics['latency.p99']).toBeUndefined();
    expect(outcome.report.metrics['errors.rate']).toBe(1);
  });

  it.each([
    ['not json', /not JSON/],
    ['{"intermediate": []}', /unexpected shape .*aggregate/],
    ['{"aggregate": {"counters": {"http.requests": "many"}}}', /unexpected shape/],
  ])('%s is an error that says what is wrong', (text, message) => {
    const outcome = importArtilleryReport(text);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatch(message);
  });
});
