/**
 * Runs the Artillery CLI as a child process: telemetry off (the environment variable, and its
 * client kept unloaded: telemetry-off.cjs), output to a log file, bounded in time, killed by its PID
 * when the run is cancelled.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ArtilleryInstall } from './locate-artillery.ts';

/** Preloaded into Artillery and its workers so its telemetry call never leaves the machine. */
export const TELEMETRY_OFF_PRELOAD = fileURLToPath(new URL('./telemetry-off.cjs', import.meta.url));
/** After SIGTERM, how long Artillery gets to stop its workers before SIGKILL. */
export const ARTILLERY_KILL_GRACE_MS = 5_000;
/** Characters of Artillery's output kept for an error message. */
const TAIL_CHARS = 2_000;

export interface SpawnRequest {
  readonly install: ArtilleryInstall;
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Artillery's stdout and stderr go here. */
  readonly logFile: string;
  readonly signal: AbortSignal;
  /** Extra environment (e.g. cloud credentials the user exported are inherited anyway). */
  readonly env?: NodeJS.ProcessEnv;
  /** Receives Artillery's stdout as it comes (for live counts). */
  readonly onStdout?: (text: string) => void;
}

export interface SpawnOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether the run was cancelled (signal) rather than ending by itself. */
  readonly cancelled: boolean;
  /** The end of Artillery's output, for messages. */
  readonly tail: string;
}

/** The NODE_OPTIONS entry that preloads telemetry-off.cjs (quoted: the path may hold spaces). */
export const TELEMETRY_OFF_NODE_OPTION = `--require ${JSON.stringify(TELEMETRY_OFF_PRELOAD)}`;

/** The environment to run Artillery with by hand, as a shell prefix: the variable alone still lets 2.0.21 send its event. */
export function telemetryOffShellPrefix(): string {
  return `ARTILLERY_DISABLE_TELEMETRY=true NODE_OPTIONS='${TELEMETRY_OFF_NODE_OPTION}'`;
}

/** The child's environment: always ARTILLERY_DISABLE_TELEMETRY, and the preload in NODE_OPTIONS for its workers. */
export function artilleryEnv(base: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const nodeOptions = [base.NODE_OPTIONS, extra.NODE_OPTIONS, TELEMETRY_OFF_NODE_OPTION].filter((o) => o !== undefined && o !== '').join(' ');
  return { ...base, ...extra, ARTILLERY_DISABLE_TELEMETRY: 'true', NODE_OPTIONS: nodeOptions };
}

export function spawnArtillery(req: SpawnRequest): Promise<SpawnOutcome> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(req.logFile);
    let tail = '';
    const child = spawn(process.execPath, ['--require', TELEMETRY_OFF_PRELOAD, req.install.bin, ...req.argv], {
      cwd: req.cwd,
      env: artilleryEnv(process.env, req.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      log.write(chunk);
      tail = (tail + chunk.toString()).slice(-TAIL_CHARS);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      req.onStdout?.(chunk.toString());
    });
    child.stderr.on('data', keep);
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const cancel = (): void => {
      cancelled = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), ARTILLERY_KILL_GRACE_MS);
      killTimer.unref();
    };
    if (req.signal.aborted) cancel();
    else req.signal.addEventListener('abort', cancel, { once: true });
    child.on('error', (error) => {
      req.signal.removeEventListener('abort', cancel);
      log.end();
      reject(error);
    });
    child.on('close', (code, signal) => {
      req.signal.removeEventListener('abort', cancel);
      clearTimeout(killTimer);
      log.end(() => resolve({ code, signal, cancelled, tail }));
    });
  });
}
