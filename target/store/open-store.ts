/** Opens the store a `StoreSpec` names, initialised and ready. */
import type { ServiceConfig, StoreSpec } from '../config.ts';
import { MongoStore } from './mongo-store.ts';
import { withScalarInputs } from './scalar-inputs.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

/** Opens and initialises (`init()`) the store; on failure nothing stays open. */
export async function openStore(spec: StoreSpec, config: ServiceConfig): Promise<Store> {
  const store: Store = spec.kind === 'sqlite'
    ? new SqliteStore({
      path: spec.path, busyTimeoutMs: config.dbBusyTimeoutMs, lockWaitMs: config.storeWaitMs, synchronous: config.sqliteSynchronous,
    })
    : new MongoStore({
      uri: spec.uri, dbName: spec.dbName, poolSize: config.dbPoolSize, rateLimitWindowMs: config.rateLimit.windowMs,
      waitQueueTimeoutMs: config.storeWaitMs,
    });
  await store.init();
  // Mongo builds query documents from these values: an object among them must never become an operator.
  return spec.kind === 'mongo' ? withScalarInputs(store) : store;
}
