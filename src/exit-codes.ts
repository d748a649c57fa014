/** The process exit codes of gauntlet (ARCHITECTURE.md, "Exit codes"). */
export const EXIT_CODES = {
  /** Every threshold and check passed. */
  ok: 0,
  /** A threshold or check failed, or the generator fell behind its schedule. */
  failed: 1,
  /** Bad input: arguments, config, a scenario module, a threshold expression. */
  badInput: 2,
  /** The target could not be started or reached, or died. */
  target: 3,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Bad input from the user: the message says what to change. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = EXIT_CODES.badInput;
}

/** The target could not be started or reached, or died. Exit code 3. */
export class TargetUnavailableError extends Error {
  override readonly name = 'TargetUnavailableError';
  readonly exitCode = EXIT_CODES.target;
}
