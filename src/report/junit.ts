/**
 * JUnit XML for CI test views: a testsuite per scenario group, a testcase per scenario, a
 * <failure> per failed check, threshold or saturated load run, <error> for an errored scenario,
 * <skipped> for a skipped one; in a soak, a `resources` suite with a failure per growing trend; with a
 * comparison, a `baseline` suite with a failure per regression.
 */
import type { ResourceTrend } from '../measure/resource-trend.ts';
import type { RunResults, ScenarioResult } from '../results/schema.ts';
import { SCENARIO_GROUPS } from '../scenario/definition.ts';
import type { Comparison } from './compare.ts';
import { formatChange, formatPercent, formatValue } from './format.ts';

interface Case {
  readonly classname: string;
  readonly name: string;
  readonly seconds: number;
  readonly failures: readonly { readonly type: string; readonly message: string; readonly body: string }[];
  readonly error: string | null;
  readonly skipped: string | null;
  readonly out: string;
}

/** The run (and its comparison, if any) as a JUnit XML document. */
export function renderJUnit(results: RunResults, comparison: Comparison | null = null): string {
  const suites: { name: string; cases: Case[] }[] = SCENARIO_GROUPS.map((group) => ({ name: group, cases: results.scenarios.filter((s) => s.group === group).map(scenarioCase) })).filter(
    (s) => s.cases.length > 0,
  );
  if (results.resources?.enforced === true) suites.push({ name: 'resources', cases: trendCases(results.resources.trends, results.resources.confidence) });
  if (comparison !== null) suites.push({ name: 'baseline', cases: comparisonCases(comparison) });
  const all = suites.flatMap((s) => s.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gauntlet" ${counts(all)} time="${seconds(results.durationMs)}">`,
    ...suites.flatMap((suite) => [
      `  <testsuite name="${xml(suite.name)}" ${counts(suite.cases)} time="${sum(suite.cases)}" timestamp="${xml(results.startedAt)}">`,
      ...suite.cases.flatMap(caseXml),
      '  </testsuite>',
    ]),
    '</testsuites>',
  ];
  return `${lines.join('\n')}\n`;
}

function scenarioCase(s: ScenarioResult): Case {
  const failures = [
    ...s.checks.filter((c) => !c.passed).map((c) => ({
      type: 'check',
      message: `check failed: ${c.name}`,
      body: `expected ${c.expected}, actual ${c.actual}${c.detail === undefined ? '' : `\n${c.detail}`}`,
    })),
    ...s.thresholds.filter((t) => t.state !== 'passed').map((t) => ({
      type: 'threshold',
      message: t.state === 'failed' ? `threshold failed: ${t.source}` : `threshold not measured: ${t.source}`,
      body: `expected ${t.op} ${formatValue(t.expected, t.dimension)}, actual ${t.actual === null ? 'none' : formatValue(t.actual, t.dimension)}`,
    })),
    ...s.loadRuns.filter((r) => r.saturated).map((r) => ({
      type: 'generator',
      message: `generator saturated in '${r.label}'`,
      body: r.saturationReasons.join('\n'),
    })),
  ];
  // Failed for a reason none of the above names (the target died, a load run did not complete): still a failure.
  if (s.status === 'failed' && failures.length === 0) {
    failures.push({ type: 'scenario', message: s.reasons[0] ?? 'failed', body: s.reasons.join('\n') });
  }
  return {
    classname: `gauntlet.${s.group}`,
    name: `${s.id}: ${s.title}`,
    seconds: s.durationMs / 1000,
    failures: s.status === 'failed' || s.status === 'passed' ? failures : [],
    error: s.status === 'errored' ? s.reasons.join('; ') || 'errored' : null,
    skipped: s.status === 'skipped' ? s.reasons.join('; ') || 'skipped' : null,
    out: s.executed,
  };
}

/** Where the profile enforces resource trends (soak), a testcase per process and resource. */
function trendCases(trends: readonly ResourceTrend[], confidence: number): Case[] {
  return trends.map((t) => ({
    classname: 'gauntlet.resources',
    name: `${t.process} ${t.resource} over the run`,
    seconds: 0,
    failures:
      t.verdict === 'growing'
        ? [{ type: 'trend', message: `${t.process} ${t.resource} grew ${String(t.slopePerMinute)}/min`, body: `${formatPercent(confidence)} CI [${String(t.ci?.low)}, ${String(t.ci?.high)}] per minute; flat below ${String(t.flatBoundPerMinute)}/min` }]
        : [],
    error: null,
    skipped: t.verdict === 'insufficient-data' ? (t.reason ?? 'insufficient data') : null,
    out: `${String(t.samples)} samples in ${String(t.segments)} segment(s)`,
  }));
}

function comparisonCases(c: Comparison): Case[] {
  return c.scenarios.map((s) => ({
    classname: 'gauntlet.baseline',
    name: `${s.id}: ${s.title}`,
    seconds: 0,
    failures: [
      ...(s.statusRegressed ? [{ type: 'status', message: `${s.baselineStatus} in the baseline, ${s.currentStatus} now`, body: '' }] : []),
      ...s.metrics.filter((m) => m.verdict === 'regression').map((m) => ({
        type: 'regression',
        message: `regression: ${m.metric} ${formatValue(m.baseline, m.dimension)} -> ${formatValue(m.current, m.dimension)} (${formatChange(m.change)})`,
        body: m.evidence,
      })),
    ],
    error: null,
    skipped: null,
    out: `compared with the baseline of ${c.baseline.startedAt}, tolerance ${formatChange(c.tolerance)}`,
  }));
}

function caseXml(c: Case): string[] {
  const open = `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="${c.seconds.toFixed(3)}">`;
  return [
    open,
    ...c.failures.map((f) => `      <failure type="${xml(f.type)}" message="${xml(f.message)}">${xml(f.body)}</failure>`),
    ...(c.error === null ? [] : [`      <error type="errored" message="${xml(c.error)}">${xml(c.error)}</error>`]),
    ...(c.skipped === null ? [] : [`      <skipped message="${xml(c.skipped)}"/>`]),
    `      <system-out>${xml(c.out)}</system-out>`,
    '    </testcase>',
  ];
}

function counts(cases: readonly Case[]): string {
  const failures = cases.filter((c) => c.failures.length > 0).length;
  const errors = cases.filter((c) => c.error !== null).length;
  const skipped = cases.filter((c) => c.skipped !== null).length;
  return `tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}"`;
}

function sum(cases: readonly Case[]): string {
  return cases.reduce((t, c) => t + c.seconds, 0).toFixed(3);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** XML text/attribute escaping; characters XML 1.0 cannot hold at all are replaced with U+FFFD. */
export function xml(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex -- these are exactly the characters XML 1.0 forbids
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
