/** Every default of a gauntlet run, once. The CLI's --help and the README are written from these. */

export type Profile = 'smoke' | 'standard' | 'soak';
export const PROFILES: readonly Profile[] = ['smoke', 'standard', 'soak'];
export const DEFAULT_PROFILE: Profile = 'standard';

export type Suite = 'concurrency' | 'scalability' | 'reliability' | 'all';
export const SUITES: readonly Suite[] = ['concurrency', 'scalability', 'reliability', 'all'];
export const DEFAULT_SUITE: Suite = 'all';

/** Where runs write results.json and report.md: `reports/<timestamp>/`. */
export const DEFAULT_REPORTS_DIR = 'reports';

/** Hosts a run may load without --allow-remote: a load tool pointed at the wrong host is a denial of service. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/** Hard bound on one scenario, per profile: past it the scenario is aborted and recorded as errored. */
export const SCENARIO_TIME_LIMIT_MS: Readonly<Record<Profile, number>> = {
  smoke: 120_000,
  standard: 300_000,
  soak: 1_800_000,
};
