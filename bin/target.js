#!/usr/bin/env node
// Launcher for the reference family service (`npm run target -- --help`).
import { register } from 'tsx/esm/api';

register();
const { runTargetCli } = await import('../target/cli.ts');
process.exit(await runTargetCli(process.argv.slice(2)));
