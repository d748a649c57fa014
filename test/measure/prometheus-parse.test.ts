import { describe, expect, it } from 'vitest';
import { parsePrometheusText, type PromExposition } from '../../src/measure/prometheus/parse.ts';

function parsed(text: string): PromExposition {
  const result = parsePrometheusText(text);
  if (result.state !== 'parsed') throw new Error(`expected to parse, got: line ${String(result.lineNumber)}: ${result.reason}`);
  return result.exposition;
}

describe('parsePrometheusText: samples', () => {
  const cases: [string, string, { name: string; labels: Record<string, string>; value: number; timestampMs: number | null }][] = [
    ['plain sample', 'up 1', { name: 'up', labels: {}, value: 1, timestampMs: null }],
    ['tabs and extra blanks', 'up \t  2.5\t', { name: 'up', labels: {}, value: 2.5, timestampMs: null }],
    ['colon in name, exponent', 'job:rate5m 1.5e-3', { name: 'job:rate5m', labels: {}, value: 0.0015, timestampMs: null }],
    ['timestamp', 'x 7 1712345678901', { name: 'x', labels: {}, value: 7, timestampMs: 1712345678901 }],
    ['negative timestamp', 'x 7 -5', { name: 'x', labels: {}, value: 7, timestampMs: -5 }],
    ['+Inf', 'x +Inf', { name: 'x', labels: {}, value: Number.POSITIVE_INFINITY, timestampMs: null }],
    ['-Inf', 'x -Inf', { name: 'x', labels: {}, value: Number.NEGATIVE_INFINITY, timestampMs: null }],
    ['labels', 'http_requests_total{method="post",code="200"} 1027', { name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027, timestampMs: null }],
    ['trailing comma and blanks in labels', 'x{ a = "1" , } 3', { name: 'x', labels: { a: '1' }, value: 3, timestampMs: null }],
    ['empty label set', 'x{} 3', { name: 'x', labels: {}, value: 3, timestampMs: null }],
    ['escaped quote, backslash, newline', 'msdos{path="C:\\\\DIR\\\\x",q="say \\"hi\\"",nl="a\\nb"} 1', { name: 'msdos', labels: { path: 'C:\\DIR\\x', q: 'say "hi"', nl: 'a\nb' }, value: 1, timestampMs: null }],
    ['braces and commas inside a label value', 'x{a="}{,=",b="2"} 1', { name: 'x', labels: { a: '}{,=', b: '2' }, value: 1, timestampMs: null }],
    ['empty label value', 'x{a=""} 0', { name: 'x', labels: { a: '' }, value: 0, timestampMs: null }],
  ];
  it.each(cases)('%s', (_title, line, expected) => {
    const [sample] = parsed(line).samples;
    expect(sample).toMatchObject(expected);
  });

  it('parses NaN', () => {
    expect(parsed('x NaN').samples[0]?.value).toBeNaN();
  });

  it('skips blank lines and free comments, accepts CRLF', () => {
    const { samples } = parsed('\n# just a comment\r\n  \r\na 1\r\n# EOF\n');
    expect(samples.map((s) => [s.name, s.value])).toEqual([['a', 1]]);
  });
});

describe('parsePrometheusText: metadata and families', () => {
  const text = [
    '# HELP rpc_duration_seconds A summary with a \\\\ backslash and a\\nnewline.',
    '# TYPE rpc_duration_seconds summary',
    'rpc_duration_seconds{quantile="0.5"} 4773',
    'rpc_duration_seconds_sum 1.7560473e+07',
    'rpc_duration_seconds_count 2693',
    '# TYPE http_request_duration_seconds histogram',
    'http_request_duration_seconds_bucket{le="0.05"} 24054',
    'http_request_duration_seconds_bucket{le="+Inf"} 144320',
    'http_request_duration_seconds_sum 53423',
    'http_request_duration_seconds_count 144320',
    '# TYPE requests counter',
    'requests_total 3',
    '# HELP lonely Only help, no type.',
    'lonely 1',
    'orphan_count 9',
  ].join('\n');

  it('reads HELP (unescaped) and TYPE per family', () => {
    const { families } = parsed(text);
    expect(families.rpc_duration_seconds).toEqual({
      name: 'rpc_duration_seconds',
      type: 'summary',
      help: 'A summary with a \\ backslash and a\nnewline.',
    });
    expect(families.http_request_duration_seconds?.type).toBe('histogram');
    expect(families.lonely).toEqual({ name: 'lonely', type: 'untyped', help: 'Only help, no type.' });
  });

  it('assigns _bucket/_sum/_count/_total samples to their declared family only', () => {
    const familyOf = Object.fromEntries(parsed(text).samples.map((s) => [s.name, s.family]));
    expect(familyOf).toMatchObject({
      rpc_duration_seconds: 'rpc_duration_seconds',
      rpc_duration_seconds_sum: 'rpc_duration_seconds',
      http_request_duration_seconds_bucket: 'http_request_duration_seconds',
      http_request_duration_seconds_count: 'http_request_duration_seconds',
      requests_total: 'requests',
      orphan_count: 'orphan_count',
    });
  });
});

describe('parsePrometheusText: invalid input names the line', () => {
  const cases: [string, string, RegExp][] = [
    ['missing value', 'up', /no value/],
    ['bad value', 'up one', /invalid value "one"/],
    ['bad timestamp', 'up 1 12.5', /invalid timestamp/],
    ['extra text', 'up 1 2 3', /unexpected text/],
    ['unterminated label value', 'x{a="1} 1', /unterminated/],
    ['unquoted label value', 'x{a=1} 1', /double quotes/],
    ['invalid escape', 'x{a="\\t"} 1', /invalid escape/],
    ['duplicate label', 'x{a="1",a="2"} 1', /duplicate label "a"/],
    ['missing separator', 'x{a="1" b="2"} 1', /expected "," or "}"/],
    ['bad label name', 'x{1a="1"} 1', /label name/],
    ['bad metric name', '1x 1', /metric name/],
    ['unknown type', '# TYPE x countr', /unknown metric type "countr"/],
    ['second TYPE', '# TYPE x gauge\n# TYPE x counter', /second # TYPE/],
  ];
  it.each(cases)('%s', (_title, text, reason) => {
    const result = parsePrometheusText(`ok 1\n${text}\n`);
    // The offending line is the last one of `text`.
    expect(result).toMatchObject({ state: 'invalid', lineNumber: 1 + text.split('\n').length, reason: expect.stringMatching(reason) as unknown });
  });
});
