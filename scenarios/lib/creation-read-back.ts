/** Reads back the families a set of users own: the listing per user, then each family by its ID. */
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import { FIXTURE_CONCURRENCY, mapLimit } from '../../src/scenario/fixtures.ts';
import type { FamilyView, TestUser } from '../../src/scenario/fixtures.ts';

export interface OwnedReadBack {
  /** Families each user owns (GET /me/families filtered on ownerId), by user ID. */
  readonly owned: Map<string, FamilyView[]>;
  /** Families whose GET /families/:id failed or disagreed with the listing, with why. */
  readonly byIdMismatches: string[];
}

/** Lists every user's families and re-reads each owned one by ID; a listing that fails throws (the oracle has no truth). */
export async function readOwned(ctx: ScenarioContext, users: readonly TestUser[]): Promise<OwnedReadBack> {
  const owned = new Map<string, FamilyView[]>();
  await mapLimit(users.length, FIXTURE_CONCURRENCY, async (i) => {
    const user = users[i] as TestUser;
    const res = await ctx.http.send({ method: 'GET', path: '/me/families', token: user.token });
    if (res.status !== 200 || !Array.isArray(res.body)) {
      throw new Error(`read-back failed: GET /me/families for ${user.username} answered ${res.status}; the oracle cannot judge without it`);
    }
    owned.set(user.id, (res.body as FamilyView[]).filter((f) => f.ownerId === user.id));
  });
  const pairs = users.flatMap((u) => (owned.get(u.id) ?? []).map((family) => ({ user: u, family })));
  const byIdMismatches: string[] = [];
  await mapLimit(pairs.length, FIXTURE_CONCURRENCY, async (i) => {
    const { user, family } = pairs[i] as { user: TestUser; family: FamilyView };
    const res = await ctx.fixtures.getFamily(user, family.id);
    const got = res.body as Partial<FamilyView> | null;
    if (res.status !== 200) byIdMismatches.push(`${family.id}: GET answered ${res.status}`);
    else if (got?.id !== family.id || got.sbdUsername !== family.sbdUsername || got.ownerId !== family.ownerId) {
      byIdMismatches.push(`${family.id}: listed as ${family.sbdUsername}, read as ${String(got?.sbdUsername)}`);
    }
  });
  return { owned, byIdMismatches };
}
