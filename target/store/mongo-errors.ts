/** Maps MongoDB driver errors onto domain errors. */
import {
  MongoClientClosedError, MongoError, MongoNetworkError, MongoNotConnectedError, MongoOperationTimeoutError,
  MongoServerError, MongoServerSelectionError, MongoTopologyClosedError,
} from 'mongodb';
import { DomainError } from '../domain.ts';

/** Server code for a unique-index violation. */
export const DUPLICATE_KEY = 11000;
/** Server code when creating a collection that exists (another instance won the race). */
export const NAMESPACE_EXISTS = 48;

/** True for an E11000 on the named index (or on any index when `index` is omitted). */
export function isDuplicateKey(error: unknown, index?: string): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY
    && (index === undefined || error.message.includes(`index: ${index}`));
}

// Pool errors (MongoPoolClearedError, WaitQueueTimeoutError) are not exported by the driver's typings: matched by name.
const UNAVAILABLE_NAMES = new Set(['MongoPoolClearedError', 'MongoWaitQueueTimeoutError', 'WaitQueueTimeoutError']);

function isUnavailable(error: Error): boolean {
  if (
    error instanceof MongoNetworkError || error instanceof MongoServerSelectionError
    || error instanceof MongoNotConnectedError || error instanceof MongoTopologyClosedError
    || error instanceof MongoClientClosedError || error instanceof MongoOperationTimeoutError
  ) return true;
  // withTransaction gives up on a transient error (write conflicts) only after its own retry budget: overload.
  if (error instanceof MongoError && error.hasErrorLabel('TransientTransactionError')) return true;
  return UNAVAILABLE_NAMES.has(error.name);
}

/** A domain error for anything the store cannot name more precisely; other errors pass through. */
export function toStoreError(error: unknown): Error {
  if (error instanceof DomainError) return error;
  if (!(error instanceof Error)) return new Error(`MongoDB store failed: ${String(error)}`);
  if (isUnavailable(error)) {
    return new DomainError('store_unavailable',
      `MongoDB is unavailable or overloaded (${error.name}: ${error.message}); check that it runs and is reachable, then retry`);
  }
  return error;
}
