/**
 * A scenario's traffic as plain data, for Artillery: arrival phases and the flows each new virtual
 * user runs. Scenarios describe it (ScenarioDefinition.artillery); src/artillery/export-script.ts
 * turns it into an Artillery script. Nothing here knows Artillery's file format.
 */

/** One arrival phase: `arrivals` new virtual users over `durationSec`, or a rate (optionally ramping). */
export type TrafficPhase =
  | { readonly name: string; readonly durationSec: number; readonly arrivalCount: number }
  | { readonly name: string; readonly durationSec: number; readonly arrivalRate: number; readonly rampTo?: number };

/** How a per-request value is made, by the processor file, before the step that uses it. */
export type VaryRule =
  /**
   * A value no other virtual user (on any worker or machine) gets: `<prefix>_<random>_<n>`, at most 32
   * of [a-z0-9_] — a valid username, and a family name whose sbd base no other creation shares.
   */
  | { readonly kind: 'unique'; readonly prefix: string }
  /** The values in turn, one per virtual user that reaches the step. */
  | { readonly kind: 'cycle'; readonly values: readonly string[] };

/**
 * One step of a flow. Strings may use `{{ name }}` for a variable set by an earlier `vary` step or
 * captured from an earlier response.
 */
export type TrafficStep =
  | { readonly kind: 'vary'; readonly variable: string; readonly rule: VaryRule }
  | {
      readonly kind: 'request';
      /** Groups the request in per-endpoint metrics, e.g. `GET /families/:id`. */
      readonly name: string;
      readonly method: 'GET' | 'POST' | 'PATCH';
      readonly url: string;
      /** The variable holding a bearer token for `Authorization`. */
      readonly tokenVariable?: string;
      readonly json?: Readonly<Record<string, string | number>>;
      readonly headers?: Readonly<Record<string, string>>;
      /** Variables to set from the JSON answer: variable -> JSONPath such as `$.token`. */
      readonly capture?: Readonly<Record<string, string>>;
      /** The statuses this request may answer; any other counts as an error. */
      readonly expect: readonly number[];
    }
  | { readonly kind: 'loop'; readonly count: number; readonly steps: readonly TrafficStep[] }
  /** A pause inside the flow, so one virtual user's requests spread over time instead of going back to back. */
  | { readonly kind: 'think'; readonly seconds: number }
  /** Requests sent at the same time by one virtual user (a race); each waits for all. */
  | { readonly kind: 'parallel'; readonly steps: readonly TrafficStep[] };

export interface TrafficFlow {
  readonly name: string;
  /** Relative chance that a new virtual user runs this flow. */
  readonly weight: number;
  readonly steps: readonly TrafficStep[];
}

export interface ArtilleryTraffic {
  readonly phases: readonly TrafficPhase[];
  readonly flows: readonly TrafficFlow[];
  /**
   * Connections shared by all virtual users (Artillery's `http.pool`). Absent: Artillery's default,
   * one connection per virtual user — on which a `parallel` step queues, so a race needs a pool.
   */
  readonly connectionPool?: number;
  /**
   * What the export leaves out, said to the user on export: the checks that need gauntlet's own
   * bookkeeping (reading everything back, per-node counts, ...) run only under gauntlet's engine.
   */
  readonly notExported: string;
}

/** One line for people: the phases and the flows with their weights. */
export function describeTraffic(t: ArtilleryTraffic): string {
  const phases = t.phases.map((p) =>
    'arrivalCount' in p ? `${p.arrivalCount} virtual users over ${p.durationSec} s` : `${p.arrivalRate}${p.rampTo === undefined ? '' : `->${p.rampTo}`} virtual users/s for ${p.durationSec} s`);
  return `${phases.join(', then ')}; flows ${t.flows.map((f) => `'${f.name}' (weight ${f.weight})`).join(', ')}`;
}
