/** Failures of a deployment, each saying which process failed and what to look at next. */

/** A child process of the deployment could not start (exited, failed or was not ready in time). The target CLI exits 3. */
export class TargetStartError extends Error {
  override readonly name = 'TargetStartError';

  constructor(
    message: string,
    /** The last lines the child wrote to stderr, for the report. */
    readonly stderrTail: string,
  ) {
    super(stderrTail === '' ? message : `${message}\n--- stderr (last lines) ---\n${stderrTail}`);
  }
}
