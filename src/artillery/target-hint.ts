/**
 * The `gauntlet target` command line that starts the reference service shaped as a scenario asks
 * (its DeploymentNeeds), printed beside an exported script so its run meets the same service.
 */
import { DEFAULT_RATE_LIMIT } from '../../target/config.ts';
import { formatRateLimit } from '../../target/deployment/target-args.ts';
import type { DeploymentNeeds } from '../scenario/deployment-needs.ts';

/** The port exported scripts point at by default, and the hint starts the target on. */
export const EXPORT_TARGET_PORT = 8080;
export const DEFAULT_EXPORT_TARGET = `http://127.0.0.1:${EXPORT_TARGET_PORT}`;

export function targetCommandFor(needs: DeploymentNeeds | undefined): string {
  const flags = [`--port ${EXPORT_TARGET_PORT}`];
  if (needs?.instances !== undefined) flags.push(`--instances ${needs.instances}`);
  if (needs?.strategy !== undefined) flags.push(`--lb ${needs.strategy}`);
  if (needs?.faults === true || needs?.service?.faults === true) flags.push('--faults');
  const service = needs?.service;
  if (service?.familyLimit !== undefined) flags.push(`--family-limit ${service.familyLimit}`);
  if (service?.rateLimit !== undefined) flags.push(`--rate-limit ${formatRateLimit({ ...DEFAULT_RATE_LIMIT, ...service.rateLimit })}`);
  if (service?.cache?.maxEntries !== undefined) flags.push(`--cache-size ${service.cache.maxEntries}`);
  if (service?.cache?.ttlMs !== undefined) flags.push(`--cache-ttl-ms ${service.cache.ttlMs}`);
  return `npx gauntlet target ${flags.join(' ')}`;
}
