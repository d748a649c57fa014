// Property-based fuzzing of every route of a real service (SQLite, port 0, this process): whatever the
// request, never a 5xx, never a hang, the service keeps answering, and hostile input never
// authenticates or reaches another user's data. FUZZ_RUNS (total cases) and FUZZ_SEED tune it; `npm run fuzz` runs 50,000.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../target/domain.ts';
import { SHUTDOWN_GRACE_MS } from '../../target/service/create-service.ts';
import type { Store } from '../../target/store/store.ts';
import type { FuzzCase, FuzzRoute } from './helpers/fuzz-inputs.ts';
import {
  checkCase, routeProperty, serverSideFailures, serviceRouteTable, startFuzzTarget, victimChanges, type FuzzTarget,
} from './helpers/fuzz-target.ts';
import { storeWith } from '../scenarios/helpers/scenario-harness.ts';

/** Cases per `npm test` run, over all routes: a few thousand, ~5 s here and well under 30 s on a loaded 2-core box. */
const DEFAULT_FUZZ_RUNS = 4_200;

const totalRuns = Number(process.env.FUZZ_RUNS ?? DEFAULT_FUZZ_RUNS);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
if (!Number.isInteger(totalRuns) || totalRuns < 1) throw new Error(`FUZZ_RUNS must be a positive integer (got ${process.env.FUZZ_RUNS})`);
const ROUTE_COUNT = 14;
const perRoute = Math.ceil(totalRuns / ROUTE_COUNT);
/** The most cases a proof on a broken service sends before it gives up (the rarest failure needs ~1 in 100). */
const PROOF_RUNS = 3_000;

let target: FuzzTarget;

beforeAll(async () => {
  target = await startFuzzTarget();
});

afterAll(async () => {
  await target.close();
});

function routeOf(t: FuzzTarget, key: string): FuzzRoute {
  const route = t.routes.find((r) => `${r.method} ${r.pattern}` === key);
  if (route === undefined) throw new Error(`no route ${key}`);
  return route;
}

describe('fuzzing every route', () => {
  it('fuzzes exactly the service\'s own routes (faults off)', () => {
    const table = serviceRouteTable(target.running.store);
    expect(target.routes.map((r) => ({ key: `${r.method} ${r.pattern}`, access: r.access })).sort((a, b) => a.key.localeCompare(b.key)))
      .toEqual(table.sort((a, b) => a.key.localeCompare(b.key)));
    expect(table).toHaveLength(ROUTE_COUNT);
  });

  for (let index = 0; index < ROUTE_COUNT; index++) {
    it(`route ${index + 1}/${ROUTE_COUNT}: no 5xx, hang, lost answer, token bypass, leak or altered write (${perRoute} cases)`, async () => {
      const route = target.routes[index];
      if (route === undefined) throw new Error(`route ${index} missing`);
      await fc.assert(routeProperty(target, route), { numRuns: perRoute, ...(seed === undefined ? {} : { seed }) });
    }, 60_000 + perRoute * 60);
  }

  it('afterwards: every case was sent, no 5xx was counted or logged server-side, the victim\'s data is untouched', async () => {
    expect([...target.sent.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(perRoute * ROUTE_COUNT);
    expect(await serverSideFailures(target)).toEqual([]);
    expect(await victimChanges(target)).toEqual([]);
  });
});

describe('the counterexamples the fuzzer found, kept as regressions', () => {
  const cases = (t: FuzzTarget): { name: string; fuzzCase: FuzzCase }[] => {
    const valid = `Bearer ${t.world.attackerToken}`;
    return [
      {
        name: 'CONNECT got no answer, and with a body its socket stayed open so close() never finished',
        fuzzCase: { route: routeOf(t, 'GET /healthz'), auth: 'none', malformedHttp: false, request: { method: 'CONNECT', target: '/healthz?$where=1', headers: [['Content-Type', 'application/json']], body: Buffer.alloc(88_000, 0x6e) } },
      },
      {
        name: 'an unknown Expect got node:http\'s own 417, without x-instance-id',
        fuzzCase: { route: routeOf(t, 'POST /families'), auth: 'valid', malformedHttp: true, request: { method: 'POST', target: '/families?$where=1', headers: [['Authorization', valid], ['Expect', 'ponies']], body: Buffer.from('{}') } },
      },
      {
        name: 'a body cut short by a client that went away was a 500 internal (logged and counted)',
        fuzzCase: { route: routeOf(t, 'POST /users'), auth: 'none', malformedHttp: true, request: { method: 'POST', target: '/users', headers: [['Content-Type', 'application/json']], body: Buffer.from('{"username":"cut_short"}'), cutBodyAt: 5 } },
      },
      {
        name: 'a family name with a lone surrogate was acknowledged as sent but stored as U+FFFD',
        fuzzCase: { route: routeOf(t, 'POST /families'), auth: 'valid', malformedHttp: false, request: { method: 'POST', target: '/families', headers: [['Authorization', valid], ['Content-Type', 'application/json']], body: Buffer.from('{"name":"\\ud800"}') } },
      },
    ];
  };

  it('each passes every property, nothing failed server-side, and the service then closes promptly', async () => {
    const t = await startFuzzTarget();
    try {
      for (const { name, fuzzCase } of cases(t)) expect(await checkCase(t, fuzzCase), name).toBeNull();
      expect(await serverSideFailures(t)).toEqual([]);
    } finally {
      const started = performance.now();
      await t.close();
      expect(performance.now() - started).toBeLessThan(SHUTDOWN_GRACE_MS);
    }
  });
});

describe('each property fails on a deliberately broken service', () => {
  /** Fuzzes one route of a broken service until a property fails (no shrinking: the first failure is proof enough). */
  async function firstFailure(wrap: (store: Store) => Store, key: string, timeoutMs?: number): Promise<{ message: string; target: FuzzTarget }> {
    const t = await startFuzzTarget({ wrapStore: wrap });
    try {
      // Stops at the first failure, so the cases are a bound, not a cost.
      const details = await fc.check(routeProperty(t, routeOf(t, key), timeoutMs), { numRuns: PROOF_RUNS, endOnFailure: true });
      return { message: details.failed ? String((details.errorInstance as Error | undefined)?.message) : `no failure in ${PROOF_RUNS} cases`, target: t };
    } catch (error) {
      await t.close();
      throw error;
    }
  }

  it('a 5xx: a store read that throws (and the 500 is counted and logged server-side)', async () => {
    const { message, target: t } = await firstFailure((s) => storeWith(s, { listLedger: () => Promise.reject(new TypeError('broken ledger')) }), 'GET /families/:id/ledger');
    try {
      expect(message).toMatch(/^answered 500/);
      expect((await serverSideFailures(t)).join('\n')).toMatch(/status="500"[\s\S]*500 internal on GET \/families\/:id\/ledger/);
    } finally {
      await t.close();
    }
  });

  it('a token bypass: a user lookup that matches any token (as {"$ne": null} would)', async () => {
    let anyone: User | null = null;
    const { message, target: t } = await firstFailure((s) => storeWith(s, {
      async findUserByTokenHash(hash, ctx) {
        const found = await s.findUserByTokenHash(hash, ctx);
        anyone ??= found;
        return found ?? anyone;
      },
    }), 'GET /me');
    await t.close();
    expect(message).toMatch(/without a valid token got 200/);
  });

  it('a leak, and a write to another user\'s family: a membership test that matches everyone', async () => {
    const everyone = (ids: readonly string[]): readonly string[] => Object.assign([...ids], { includes: () => true });
    const { message, target: t } = await firstFailure((s) => storeWith(s, {
      async getFamily(id, ctx) {
        const family = await s.getFamily(id, ctx);
        return family === null ? null : { ...family, members: everyone(family.members), admins: everyone(family.admins) };
      },
    }), 'GET /families/:id');
    try {
      expect(message).toMatch(/leaks the victim's/);
      const renamed = await t.running.client.call('PATCH', `/families/${t.victim.family.id}`, { token: t.world.attackerToken, json: { name: 'Taken over' } });
      expect(renamed.status).toBe(200);
      expect((await victimChanges(t)).join('\n')).toMatch(/^family now .*Taken over/);
    } finally {
      await t.close();
    }
  });

  it('a hang: a store read that never settles', async () => {
    const { message, target: t } = await firstFailure((s) => storeWith(s, { listInvitations: () => new Promise(() => undefined) }), 'GET /families/:id/invitations', 300);
    await t.close();
    expect(message).toMatch(/^no answer within 300 ms/);
  });

  it('an altered write: a store that saves another name than it acknowledges', async () => {
    const { message, target: t } = await firstFailure((s) => storeWith(s, {
      async createFamily(input, ctx) {
        const stored = await s.createFamily({ ...input, name: `${input.name} (altered)` }, ctx);
        return { ...stored, name: input.name };
      },
    }), 'POST /families');
    await t.close();
    expect(message).toMatch(/^acknowledged name .* but the store holds .*\(altered\)/);
  });
});
