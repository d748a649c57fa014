/**
 * Finds the Artillery CLI, an optional dependency loaded only when asked for (`--engine artillery`).
 * The resolver is a parameter so a test can present a machine without it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UsageError } from '../exit-codes.ts';

/** The Artillery major version gauntlet builds command lines and reads reports for. */
export const ARTILLERY_MAJOR = 2;
/** What to install: the last 2.0.x whose engines accept Node 20 (2.0.22 and later ask for Node 22). */
export const ARTILLERY_INSTALL_SPEC = 'artillery@2.0.21';

export interface ArtilleryInstall {
  /** The CLI's entry script, run with this Node.js. */
  readonly bin: string;
  readonly version: string;
}

/** Returns the installed CLI, or null when the package cannot be found. */
export type ArtilleryResolver = () => ArtilleryInstall | null;

/** Artillery as installed beside gauntlet (node_modules), resolved the way Node resolves a package. */
export const resolveInstalledArtillery: ArtilleryResolver = () => {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('artillery/package.json');
  } catch {
    return null;
  }
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string; bin: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.artillery;
  if (bin === undefined) return null;
  return { bin: path.join(path.dirname(manifest), bin), version: pkg.version };
};

export const ARTILLERY_MISSING_MESSAGE =
  `--engine artillery needs the Artillery CLI, an optional dependency of gauntlet that is not installed here. ` +
  `Install it in gauntlet's directory with \`npm install --save-optional ${ARTILLERY_INSTALL_SPEC}\` (Node 20; Node 22 can take a later 2.x), ` +
  'or run without --engine to use gauntlet\'s own engine';

/** The CLI, or a UsageError (exit 2) saying how to install it; a major other than 2 is refused the same way. */
export function requireArtillery(resolve: ArtilleryResolver = resolveInstalledArtillery): ArtilleryInstall {
  const found = resolve();
  if (found === null) throw new UsageError(ARTILLERY_MISSING_MESSAGE);
  if (Number(found.version.split('.')[0]) !== ARTILLERY_MAJOR) {
    throw new UsageError(`Artillery ${found.version} is installed; gauntlet drives Artillery ${ARTILLERY_MAJOR}.x: install ${ARTILLERY_INSTALL_SPEC}`);
  }
  return found;
}
