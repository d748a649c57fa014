/**
 * Entry of one service instance process: reads InstanceOptions from GAUNTLET_INSTANCE_OPTIONS, opens
 * the store, listens on 127.0.0.1 and reports `ready` over IPC. Shuts down on `shutdown`, SIGTERM,
 * SIGINT, or when the parent's IPC channel goes away (the parent died: no orphans).
 */
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { SQLITE_SYNCHRONOUS_MODES, TARGET_HOST } from './config.ts';
import { INSTANCE_OPTIONS_ENV, type ChildToParent, type InstanceOptions, type ParentToChild } from './deployment/protocol.ts';
import { createService } from './service/create-service.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';

/** Exit code for options that cannot be used (the parent's bug or a hand-written env variable). */
const EXIT_BAD_OPTIONS = 2;
/** Exit code when the store cannot be opened or the port cannot be bound. */
const EXIT_START_FAILED = 1;

const positiveInt = z.int().positive();
const instanceOptionsSchema = z.strictObject({
  instanceId: z.string().min(1).max(100),
  port: z.int().min(0).max(65_535),
  store: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('sqlite'), path: z.string().min(1) }),
    z.strictObject({ kind: z.literal('mongo'), uri: z.string().min(1), dbName: z.string().min(1) }),
  ]),
  service: z.strictObject({
    familyLimit: positiveInt,
    initialBalance: z.int().min(0),
    rateLimit: z.strictObject({ limit: positiveInt, windowMs: positiveInt }),
    cache: z.strictObject({ maxEntries: positiveInt, ttlMs: positiveInt }),
    maxBodyBytes: positiveInt,
    dbPoolSize: positiveInt,
    dbBusyTimeoutMs: z.int().min(0),
    storeWaitMs: z.int().min(0),
    storeBreaker: z.strictObject({ enabled: z.boolean(), failureThreshold: positiveInt, coolDownMs: positiveInt }),
    admission: z.strictObject({ maxInFlight: z.int().min(0), lagTargetMs: z.int().min(0), lagIntervalMs: z.int().min(0) }),
    sqliteSynchronous: z.enum(SQLITE_SYNCHRONOUS_MODES),
    faults: z.boolean(),
  }),
}) satisfies z.ZodType<InstanceOptions>;

function parseOptions(raw: string | undefined): { ok: true; options: InstanceOptions } | { ok: false; message: string } {
  if (raw === undefined) return { ok: false, message: `${INSTANCE_OPTIONS_ENV} is not set; start instances through the deployment (npm run target)` };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, message: `${INSTANCE_OPTIONS_ENV} is not JSON: ${(error as Error).message}` };
  }
  const parsed = instanceOptionsSchema.safeParse(json);
  return parsed.success
    ? { ok: true, options: parsed.data }
    : { ok: false, message: `${INSTANCE_OPTIONS_ENV} is invalid: ${z.prettifyError(parsed.error)}` };
}

function sendToParent(message: ChildToParent): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined || !process.connected) return Promise.resolve();
  return new Promise((resolve) => {
    send(message, undefined, {}, (error: Error | null) => {
      if (error) process.stderr.write(`[instance] could not report ${message.type} to the parent: ${error.message}\n`);
      resolve();
    });
  });
}

async function fatal(message: string, code: number): Promise<never> {
  process.stderr.write(`[instance] ${message}\n`);
  await sendToParent({ type: 'fatal', message });
  process.exit(code);
}

async function main(): Promise<void> {
  const parsed = parseOptions(process.env[INSTANCE_OPTIONS_ENV]);
  if (!parsed.ok) return fatal(parsed.message, EXIT_BAD_OPTIONS);
  const { instanceId, port, store: spec, service: config } = parsed.options;

  let store: Store;
  try {
    store = await openStore(spec, config);
  } catch (error) {
    return fatal(`instance ${instanceId} could not open the ${spec.kind} store: ${(error as Error).message}`, EXIT_START_FAILED);
  }
  const service = createService({ store, config, instanceId });
  try {
    await new Promise<void>((resolve, reject) => {
      service.server.once('error', reject);
      service.server.listen(port, TARGET_HOST, () => {
        service.server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await store.close();
    return fatal(`instance ${instanceId} could not listen on ${TARGET_HOST}:${port}: ${(error as Error).message}`, EXIT_START_FAILED);
  }

  let stopping = false;
  const shutdown = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      let code = 0;
      try {
        await service.close();
      } catch (error) {
        process.stderr.write(`[instance] ${instanceId}: closing the server after ${reason} failed: ${(error as Error).message}\n`);
        code = 1;
      }
      try {
        await store.close();
      } catch (error) {
        process.stderr.write(`[instance] ${instanceId}: closing the store after ${reason} failed: ${(error as Error).message}\n`);
        code = 1;
      }
      process.exit(code);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('message', (message: ParentToChild) => {
    if (message.type === 'shutdown') shutdown('the shutdown message');
  });
  process.on('disconnect', () => shutdown('the parent disconnected'));
  // 'disconnect' fires once: a parent that died while the store opened (Mongo server selection can
  // take seconds) was missed by the handler above, and this detached process would live on.
  if (process.send !== undefined && !process.connected) shutdown('the parent disconnected during start-up');

  const bound = (service.server.address() as AddressInfo).port;
  if (process.send === undefined) {
    process.stdout.write(`instance ${instanceId} listening on http://${TARGET_HOST}:${bound}\n`);
  } else {
    await sendToParent({ type: 'ready', port: bound });
  }
}

await main();
