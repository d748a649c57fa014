/** Checks over the load-balancing cells: even spread, every node used, slow requests avoided, all 2xx. */
import type { Check } from '../../src/scenario/definition.ts';
import type { CellMeasurement } from './balance-traffic.ts';

export interface BalanceJudgement {
  /** Jain's index round-robin must reach on the uniform workload. */
  readonly minJain: number;
  readonly expectedNodes: readonly string[];
}

/** The checks the present cells allow (a test may measure only round-robin uniform). */
export function balanceChecks(cells: readonly CellMeasurement[], j: BalanceJudgement): Check[] {
  const checks: Check[] = [];
  const rrUniform = find(cells, 'round-robin', 'uniform');
  if (rrUniform !== undefined) {
    const jain = rrUniform.stats.state === 'measured' ? rrUniform.stats.jainIndex : 0;
    checks.push({
      name: `round-robin, uniform: Jain's index >= ${j.minJain}`,
      expected: `>= ${j.minJain}`,
      actual: round(jain),
      passed: jain >= j.minJain,
      ...(jain >= j.minJain ? {} : { detail: `per node: ${countsOf(rrUniform)}` }),
    });
    const unserved = j.expectedNodes.filter((n) => (rrUniform.instanceCounts[n] ?? 0) === 0);
    checks.push({
      name: 'round-robin, uniform: every node served',
      expected: j.expectedNodes.length,
      actual: j.expectedNodes.length - unserved.length,
      passed: unserved.length === 0 && j.expectedNodes.length > 0,
      ...(unserved.length === 0 ? {} : { detail: `no response from ${unserved.join(', ')}; per node: ${countsOf(rrUniform)}` }),
    });
  }
  const rrSkewed = find(cells, 'round-robin', 'skewed');
  const lcSkewed = find(cells, 'least-connections', 'skewed');
  if (rrSkewed?.busyLandingShare != null && lcSkewed?.busyLandingShare != null) {
    const rr = rrSkewed.busyLandingShare;
    const lc = lcSkewed.busyLandingShare;
    checks.push({
      name: 'least-connections, skewed: fewer requests land on a node busy with a slow one than with round-robin',
      expected: `< ${round(rr)}`,
      actual: round(lc),
      passed: lc < rr,
      ...(lc < rr ? {} : { detail: `least-connections ${pct(lc)} vs round-robin ${pct(rr)}; slow per node: lc ${slowOf(lcSkewed)}, rr ${slowOf(rrSkewed)}` }),
    });
  }
  const bad = cells.filter((c) => c.errors > 0 || non2xx(c) > 0);
  const answered = cells.reduce((s, c) => s + c.sent, 0);
  checks.push({
    name: 'every response 2xx',
    expected: answered,
    actual: answered - cells.reduce((s, c) => s + c.errors + non2xx(c), 0),
    passed: bad.length === 0 && cells.length > 0,
    ...(bad.length === 0 ? {} : { detail: bad.map((c) => `${c.strategy} ${c.workload}: status ${JSON.stringify(c.statusCounts)}, ${c.errors} errors`).join(' | ') }),
  });
  return checks;
}

/** Requests answered with a status outside 2xx. */
export function non2xx(c: CellMeasurement): number {
  return Object.entries(c.statusCounts).reduce((s, [status, n]) => (status.startsWith('2') ? s : s + n), 0);
}

export function find(cells: readonly CellMeasurement[], strategy: string, workload: string): CellMeasurement | undefined {
  return cells.find((c) => c.strategy === strategy && c.workload === workload);
}

function countsOf(c: CellMeasurement): string {
  return c.nodes.map((n) => `${n.node}=${n.count}`).join(', ');
}

function slowOf(c: CellMeasurement): string {
  return c.nodes.map((n) => `${n.node}=${n.slow}`).join(', ');
}

function pct(x: number): string {
  return `${round(x * 100)}%`;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Per node and strategy: responses the harness saw from it vs requests its own counter recorded. */
export interface CounterRow {
  readonly strategy: string;
  readonly node: string;
  readonly seen: number;
  readonly counted: number | null;
}

/** The harness's per-node counts (x-instance-id) must equal each node's own request counter. */
export function counterAgreement(rows: readonly CounterRow[]): Check {
  const off = rows.filter((r) => r.counted !== r.seen);
  return {
    name: "per-node counts (x-instance-id) equal each node's own request counter",
    expected: rows.length,
    actual: rows.length - off.length,
    passed: off.length === 0 && rows.length > 0,
    ...(off.length === 0 ? {} : { detail: off.slice(0, 5).map((r) => `${r.strategy} ${r.node}: seen ${r.seen}, counted ${r.counted ?? 'none'}`).join('; ') }),
  };
}
