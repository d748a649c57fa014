// Every route x {no token, unknown token, non-member, member, admin, invitee} -> the documented status,
// on a real service with real tokens made through the API; and the same matrix catching a service
// whose router skips the membership check on one route.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_ADMISSION } from '../../target/config.ts';
import { Router, type RouteMatch } from '../../target/service/router.ts';
import type { RouteDef, UserCall } from '../../target/service/routes.ts';
import { AUTHZ_MATRIX, renderMatrixTable, runMatrix, wrongCells } from './helpers/authz-matrix.ts';
import { serviceRouteTable } from './helpers/fuzz-target.ts';
import { startService, tempDb, type RunningService, type TempDb } from './helpers/service-harness.ts';

// No rate limit, family limit or lag-based shedding (a loaded CI box): the status must be the authorization's alone.
const GENEROUS = { rateLimit: { limit: 1_000_000, windowMs: 60_000 }, familyLimit: 1_000_000, admission: { ...DEFAULT_ADMISSION, lagTargetMs: 0 } };
let db: TempDb;
let running: RunningService;

beforeAll(async () => {
  db = await tempDb();
  running = await startService({ dbPath: db.path, config: GENEROUS });
});

afterAll(async () => {
  await running.close();
  await db.remove();
});

describe('authorization matrix', () => {
  it('covers every route of the service (faults off)', () => {
    expect(AUTHZ_MATRIX.map((r) => r.route).sort()).toEqual(serviceRouteTable(running.store).map((r) => r.key).sort());
  });

  it('the README documents exactly this matrix', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme, `README.md must hold this table (from test/target/helpers/authz-matrix.ts):\n${renderMatrixTable()}`).toContain(renderMatrixTable());
  });

  it('every cell answers its documented status', async () => {
    const results = await runMatrix(running.client);
    expect(results).toHaveLength(AUTHZ_MATRIX.length * 6);
    expect(wrongCells(results)).toEqual([]);
  });

  it('reports the cells of a route whose membership check is skipped, and only those', async () => {
    const brokenDb = await tempDb();
    const broken = await startService({ dbPath: brokenDb.path, config: GENEROUS });
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with each router as `this`
    const match = Router.prototype.match;
    const skipped: RouteDef = {
      method: 'GET',
      pattern: '/families/:id/ledger',
      access: 'user',
      handle: async (call: UserCall) => ({ status: 200, json: await broken.store.listLedger(call.params.id ?? '', call.op) }),
    };
    // A router that hands the ledger to whoever asks: the check familyFor() makes is left out for that one route.
    const spy = vi.spyOn(Router.prototype, 'match').mockImplementation(function (this: Router<RouteDef>, method: string, path: string) {
      const found: RouteMatch<RouteDef> = match.call(this, method, path);
      return found.kind === 'found' && found.route.pattern === skipped.pattern && found.route.method === skipped.method ? { ...found, route: skipped } : found;
    });
    try {
      expect(wrongCells(await runMatrix(broken.client))).toEqual([
        'GET /families/:id/ledger × non-member: 403 -> 200',
        'GET /families/:id/ledger × invitee: 403 -> 200',
      ]);
    } finally {
      spy.mockRestore();
      await broken.close();
      await brokenDb.remove();
    }
  });
});
