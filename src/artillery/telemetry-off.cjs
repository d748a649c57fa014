/*
 * Preloaded (--require) into the Artillery CLI and its workers. Artillery 2.0.21 still sends an
 * anonymised event to its telemetry service when ARTILLERY_DISABLE_TELEMETRY is set (lib/telemetry.js
 * strips the payload but keeps the call), and on a machine without internet access the call holds
 * the process for ~12 s at exit. Artillery catches a failure to load its telemetry client and falls
 * back to a no-op, so refusing that one module turns the call off entirely.
 */
'use strict';
const Module = require('node:module');

const BLOCKED = 'posthog-node';
const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveWithoutTelemetry(request, ...rest) {
  if (request === BLOCKED) {
    const error = new Error(`gauntlet keeps Artillery's telemetry client (${BLOCKED}) unloaded`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
