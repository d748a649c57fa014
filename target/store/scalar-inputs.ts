/**
 * Operator injection guard for stores that build query documents (MongoDB). Every value a request
 * supplies (IDs, usernames, token hashes, names, amounts) reaches a store method as a string or a
 * number, or as a flat record of them. An object in that place — `{"$ne": null}` where a token hash
 * belongs — would become a query operator in a Mongo filter and match other users' documents. The
 * routes validate every value with zod or an ID pattern first; this is the second line, at the store's
 * edge, so a future route that forgets cannot open the hole.
 */
import { DomainError } from '../domain.ts';
import type { Store } from './store.ts';

/**
 * The Store methods that take request data, and the shape of their first argument: one value, or a flat
 * record of values. The last argument of each is the OpContext, which is not request data.
 */
export const DATA_METHODS = {
  createUser: 'record', findUserByTokenHash: 'value', findUserByUsername: 'value', createFamily: 'record', getFamily: 'value',
  listFamiliesOf: 'value', renameFamily: 'record', createInvitation: 'record', getInvitation: 'value', answerInvitation: 'record',
  listInvitations: 'value', transfer: 'record', listLedger: 'value', hitRateLimit: 'record', familyChangesSince: 'value',
} as const satisfies Partial<Record<keyof Store, 'value' | 'record'>>;

export type DataMethod = keyof typeof DATA_METHODS;

type Scalar = string | number | boolean | null | undefined;

function isScalar(value: unknown): value is Scalar {
  return value === null || value === undefined || ['string', 'number', 'boolean'].includes(typeof value);
}

/** The `invalid_request` to answer unless `arg` is a scalar (`value`) or a plain record of scalars without `$` keys (`record`). */
export function nonScalarInput(method: string, shape: 'value' | 'record', arg: unknown): DomainError | null {
  if (shape === 'value') return isScalar(arg) ? null : refused(method, 'its argument');
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg) || Object.getPrototypeOf(arg) !== Object.prototype) {
    return refused(method, 'its argument');
  }
  const bad = Object.entries(arg).find(([field, inner]) => field.startsWith('$') || !isScalar(inner));
  return bad === undefined ? null : refused(method, bad[0]);
}

function refused(method: string, field: string): DomainError {
  return new DomainError('invalid_request', `${method}: ${field} must be a string or a number, not an object or array (a query operator?)`);
}

/** `store`, with every data method refusing non-scalar inputs before the store sees them. */
export function withScalarInputs(store: Store): Store {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      const shape = Object.hasOwn(DATA_METHODS, prop) ? DATA_METHODS[prop as DataMethod] : undefined;
      if (shape === undefined) return method.bind(target);
      return (first: unknown, ...rest: unknown[]): unknown => {
        const refusal = nonScalarInput(String(prop), shape, first);
        return refusal === null ? method.call(target, first, ...rest) : Promise.reject(refusal);
      };
    },
  });
}
