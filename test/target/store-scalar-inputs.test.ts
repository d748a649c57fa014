// The Mongo store's operator-injection guard, without a mongod: a store that was never connected
// answers `store_unavailable` to anything that reaches it, so which error comes back tells whether
// the guard stopped a value or let it through to the query.
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../target/domain.ts';
import { MongoStore } from '../../target/store/mongo-store.ts';
import { DATA_METHODS, withScalarInputs, type DataMethod } from '../../target/store/scalar-inputs.ts';
import type { OpContext, Store } from '../../target/store/store.ts';

const ctx: OpContext = { timings: [] };
const unconnected = (): MongoStore => new MongoStore({ uri: 'mongodb://127.0.0.1:1', dbName: 'never', poolSize: 1, rateLimitWindowMs: 1000 });

/** A valid first argument of every data method. */
const SAMPLES: Record<DataMethod, unknown> = {
  createUser: { username: 'alice', tokenHash: 'ab'.repeat(32) },
  findUserByTokenHash: 'ab'.repeat(32),
  findUserByUsername: 'alice',
  createFamily: { ownerId: 'u1', name: 'Fam', familyLimit: 10, initialBalance: 1000 },
  getFamily: 'f1',
  listFamiliesOf: 'u1',
  renameFamily: { familyId: 'f1', name: 'New', expectedVersion: 2 },
  createInvitation: { familyId: 'f1', inviteeId: 'u2', invitedBy: 'u1', role: 'member' },
  getInvitation: 'i1',
  answerInvitation: { invitationId: 'i1', userId: 'u2', accept: true },
  listInvitations: 'f1',
  transfer: { familyId: 'f1', toUserId: 'u2', amount: 5, byUserId: 'u1' },
  listLedger: 'f1',
  hitRateLimit: { key: 'u1:families', windowStartMs: 0 },
  familyChangesSince: '3',
};

const INJECTIONS: readonly unknown[] = [{ $ne: null }, { $gt: '' }, { $where: 'true' }, ['a', 'b'], { $regex: '.*' }, { nested: { $ne: 1 } }];
const METHODS = Object.keys(DATA_METHODS) as DataMethod[];

/** Every first argument with one value replaced by an injection: the whole argument, or one field of a record. */
function injected(sample: unknown): readonly unknown[] {
  if (typeof sample !== 'object' || sample === null) return INJECTIONS;
  const fields = Object.keys(sample).flatMap((field) => INJECTIONS.map((bad) => ({ ...sample, [field]: bad })));
  return [...fields, { ...sample, $where: 'true' }, 'a string where a record belongs', INJECTIONS];
}

async function codeOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'resolved';
  } catch (error) {
    return error instanceof DomainError ? error.code : `${(error as Error).name}: ${(error as Error).message}`;
  }
}

const invoke = (store: Store, method: DataMethod, arg: unknown): Promise<unknown> =>
  (store[method] as (a: unknown, c: OpContext) => Promise<unknown>).call(store, arg, ctx);

describe('operator injection into the Mongo store', () => {
  it('guards every MongoStore method that takes request data (those with an OpContext: two parameters)', () => {
    const withCtx = Object.getOwnPropertyNames(MongoStore.prototype).filter((name) => {
      const method: unknown = Object.getOwnPropertyDescriptor(MongoStore.prototype, name)?.value;
      return typeof method === 'function' && method.length >= 2;
    });
    expect(withCtx.sort()).toEqual([...METHODS].sort());
  });

  it('refuses an operator or array in place of any value with invalid_request, before the query', async () => {
    const store = withScalarInputs(unconnected());
    for (const method of METHODS) {
      for (const arg of injected(SAMPLES[method])) {
        expect(`${method}(${JSON.stringify(arg)}): ${await codeOf(() => invoke(store, method, arg))}`).toBe(`${method}(${JSON.stringify(arg)}): invalid_request`);
      }
    }
  });

  it('lets scalar values through to the store (which, unconnected, is unavailable)', async () => {
    const store = withScalarInputs(unconnected());
    for (const method of METHODS) {
      expect(`${method}: ${await codeOf(() => invoke(store, method, SAMPLES[method]))}`).toBe(`${method}: store_unavailable`);
    }
    expect(store.kind).toBe('mongo');
    expect(store.poolStats().max).toBe(1);
  });

  it('without the guard the same injection reaches the query (the guard is what refuses it)', async () => {
    expect(await codeOf(() => invoke(unconnected(), 'findUserByTokenHash', { $ne: null }))).toBe('store_unavailable');
  });
});
