/** JUnit XML parsed back with a tiny parser written for the purpose (no XML package). */
import { describe, expect, it } from 'vitest';
import { compareRuns } from '../../src/report/compare.ts';
import { renderJUnit } from '../../src/report/junit.ts';
import { fixture, mutableFixture } from './fixtures.ts';

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
  text: string;
}

function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** Parses the element subset JUnit uses: tags, attributes, text; throws on anything unbalanced. */
function parseXml(xml: string): Element {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const root: Element = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: Element[] = [root];
  const token = /<(\/?)([\w-]+)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/g;
  let consumed = 0;
  for (const m of body.matchAll(token)) {
    if (m.index !== consumed) throw new Error(`unparseable XML at ${consumed}: ${body.slice(consumed, consumed + 40)}`);
    consumed += m[0].length;
    const top = stack[stack.length - 1];
    if (top === undefined) throw new Error('unbalanced XML');
    if (m[5] !== undefined) {
      top.text += unescape(m[5]);
      continue;
    }
    const [, closing, name = '', attrText = '', selfClosing] = m;
    if (closing === '/') {
      if (stack.pop()?.name !== name) throw new Error(`mismatched </${name}>`);
      continue;
    }
    const attrs = Object.fromEntries([...attrText.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1] ?? '', unescape(a[2] ?? '')]));
    const el: Element = { name, attrs, children: [], text: '' };
    top.children.push(el);
    if (selfClosing !== '/') stack.push(el);
  }
  if (consumed !== body.length || stack.length !== 1) throw new Error('XML ended inside an element');
  const [doc] = root.children;
  if (doc === undefined) throw new Error('empty XML');
  return doc;
}

const kids = (el: Element, name: string): Element[] => el.children.filter((c) => c.name === name);

describe('JUnit XML', () => {
  it('has a testsuite per group and a testcase per scenario, with counts that match the results', () => {
    const results = fixture('results');
    const doc = parseXml(renderJUnit(results));
    expect(doc.name).toBe('testsuites');
    const suites = kids(doc, 'testsuite');
    expect(suites.map((s) => s.attrs.name)).toEqual(['concurrency', 'scalability']);
    const cases = suites.flatMap((s) => kids(s, 'testcase'));
    expect(cases.map((c) => c.attrs.name?.split(':')[0])).toEqual(results.scenarios.map((s) => s.id));
    expect(doc.attrs).toMatchObject({ tests: '10', failures: '2', errors: '1', skipped: '1' });
    const concurrency = suites[0];
    expect(concurrency?.attrs).toMatchObject({ tests: '5', failures: '1', errors: '1', skipped: '1' });
  });

  it('has a <failure> per failed check or threshold, <error> for errored, <skipped> for skipped', () => {
    const doc = parseXml(renderJUnit(fixture('results')));
    const byId = new Map(kids(doc, 'testsuite').flatMap((s) => kids(s, 'testcase')).map((c) => [c.attrs.name?.split(':')[0] ?? '', c]));
    const rate = byId.get('rate-limiting');
    expect(kids(rate as Element, 'failure').map((f) => [f.attrs.type, f.attrs.message])).toEqual([
      ['check', 'check failed: exactly limit admitted per user per window'],
      ['threshold', 'threshold failed: over_admissions == 0'],
    ]);
    expect(kids(rate as Element, 'failure')[0]?.text).toBe('expected 0, actual 3\nuser u-7 window 3: 11 admitted | limit 10');
    expect(kids(byId.get('transaction-safety') as Element, 'error')[0]?.attrs.message).toBe('aborted after its time limit of 120s');
    expect(kids(byId.get('db-connection-pooling') as Element, 'skipped')).toHaveLength(1);
    expect(byId.get('family-creation')?.children.map((c) => c.name)).toEqual(['system-out']);
  });

  it('escapes markup in names, messages and details so they read back unchanged', () => {
    const r = mutableFixture('results');
    const check = r.scenarios[1]?.checks[0];
    if (check === undefined) throw new Error('fixture lost its check');
    check.name = `<b>"quotes" & 'apostrophes'</b> ]]>`;
    check.detail = 'a\u0001b & <c>';
    const doc = parseXml(renderJUnit(r));
    const failure = kids(kids(doc, 'testsuite')[0] as Element, 'testcase')[1]?.children.find((c) => c.name === 'failure');
    expect(failure?.attrs.message).toBe(`check failed: <b>"quotes" & 'apostrophes'</b> ]]>`);
    expect(failure?.text).toBe('expected 0, actual 3\na\uFFFDb & <c>');
  });

  it('adds a baseline suite with a failure per regression when given a comparison', () => {
    const comparison = compareRuns(fixture('results'), fixture('regression'));
    const doc = parseXml(renderJUnit(fixture('regression'), comparison));
    const baseline = kids(doc, 'testsuite').find((s) => s.attrs.name === 'baseline');
    const failures = kids(baseline as Element, 'testcase').flatMap((c) => kids(c, 'failure'));
    expect(failures.map((f) => f.attrs.message?.split(' ').slice(0, 2).join(' '))).toEqual([
      'regression: latency.p50',
      'regression: latency.p95',
      'regression: latency.p99',
      'regression: throughput',
    ]);
    expect(baseline?.attrs.failures).toBe('2');
  });
});
