/** What a scenario asks of the embedded deployment; the runner starts or restarts to match. */
import type { AdmissionConfig, BalancerStrategy } from '../../target/config.ts';
import type { ServiceOverrides } from '../../target/deployment/options.ts';

export interface DeploymentNeeds {
  /** Instance processes (a balancer goes in front of more than one). */
  readonly instances?: number;
  readonly strategy?: BalancerStrategy;
  /** Fault injection (`x-fault`, `/_faults/*`). */
  readonly faults?: boolean;
  readonly service?: ServiceOverrides;
  /** Extra Node.js options for every instance process, e.g. `--max-old-space-size=64` (memory pressure). */
  readonly instanceNodeArgs?: readonly string[];
}

/**
 * A rate limit no scenario reaches: scenarios that are not about rate limiting ask the embedded
 * target for it, so its 5-per-minute default never shapes what they measure.
 */
export const RATE_LIMIT_NEVER_REACHED = 1_000_000;

/**
 * Admission control that never sheds. The burst scenarios release thousands of requests at one
 * instant to provoke races; a protecting service rightly sheds part of such a burst (the overload
 * scenario checks that it does), but there every request must reach the code whose races are tested.
 */
export const ADMISSION_NEVER_SHEDS: AdmissionConfig = { maxInFlight: 0, lagTargetMs: 0, lagIntervalMs: 0 };
