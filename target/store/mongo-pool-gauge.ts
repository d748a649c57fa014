/** Connection-pool gauges from the MongoDB driver's CMAP events. */
import type { MongoClient } from 'mongodb';
import type { PoolStats } from './store.ts';

/** Counts open and checked-out pool connections of `client`; monitoring connections are not pooled and not counted. */
export function watchPool(client: MongoClient, max: number): () => PoolStats {
  let open = 0;
  let checkedOut = 0;
  const pooled = (event: { connectionId: number | '<monitor>' }) => event.connectionId !== '<monitor>';
  client.on('connectionCreated', (e) => { if (pooled(e)) open += 1; });
  client.on('connectionClosed', (e) => { if (pooled(e)) open = Math.max(0, open - 1); });
  client.on('connectionCheckedOut', (e) => { if (pooled(e)) checkedOut += 1; });
  client.on('connectionCheckedIn', (e) => { if (pooled(e)) checkedOut = Math.max(0, checkedOut - 1); });
  return () => ({ open, checkedOut, max });
}
