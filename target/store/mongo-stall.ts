/**
 * Fault injection for the MongoDB store: every connection of this instance's pool held by the server
 * for a while, as slow queries from a neighbour would, so the service's own operations wait in the
 * driver's queue (waitQueueTimeoutMS) and fail with `store_unavailable`.
 */
import { MongoServerError } from 'mongodb';
import type { Db } from 'mongodb';
import { NAMESPACE_EXISTS, isDuplicateKey } from './mongo-errors.ts';
import type { StoreStall } from './store.ts';

/** A capped collection, because only those take tailable cursors. */
export const STALL_COLLECTION = 'faults_stall';
const STALL_COLLECTION_BYTES = 4_096;
const ANCHOR_ID = 'anchor';

/**
 * Opens `connections` tailable awaitData cursors on a capped collection holding one document: each
 * first batch returns it, and each following getMore is held by the server for up to `ms` (no new
 * document arrives), one pooled connection each.
 */
export async function exhaustPool(db: Db, connections: number, ms: number): Promise<StoreStall> {
  try {
    await db.createCollection(STALL_COLLECTION, { capped: true, size: STALL_COLLECTION_BYTES });
  } catch (error) {
    if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
  }
  const collection = db.collection<{ _id: string }>(STALL_COLLECTION);
  await collection.insertOne({ _id: ANCHOR_ID }).catch((error: unknown) => {
    if (!isDuplicateKey(error)) throw error;
  });
  const cursors = Array.from({ length: connections }, () =>
    collection.find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: ms }));
  await Promise.all(cursors.map((cursor) => cursor.next()));
  for (const cursor of cursors) {
    // Settles when the server gives up waiting (after `ms`); the cursor is then closed, its connection back in the pool.
    void cursor.tryNext().catch(() => null).finally(() => void cursor.close().catch(() => undefined));
  }
  return { scope: 'instance', how: `${connections} tailable cursors each hold one of this instance's ${connections} pooled MongoDB connections in a getMore for ${ms} ms` };
}
