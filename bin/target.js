#!/usr/bin/env node
// Launcher for the reference family service (`npm run target -- --help`).
import { register } from 'tsx/esm/api';

register();
await import('../target/cli.ts');
