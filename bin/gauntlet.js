#!/usr/bin/env node
// Launcher: registers tsx so the TypeScript sources run without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// Everything gauntlet opens it closes; should a handle linger anyway, do not hang CI on it.
setTimeout(() => {
  process.stderr.write('gauntlet: handles still open 5 s after the run ended; exiting anyway\n');
  process.exit();
}, 5_000).unref();
