/** Starts the target's database stall (`POST /_faults/db-stall`) on every instance it must reach. */
import type { ScenarioContext } from '../../src/scenario/context-types.ts';

export interface StartedStall {
  /** When the first fault request was sent and when the last one answered, ms from `originMs`. */
  readonly sentMs: number;
  readonly answeredMs: number;
  readonly scope: 'database' | 'instance';
  readonly how: string;
  readonly store: string;
  /** Instances the fault was asked of. */
  readonly instances: number;
}

interface StallAnswer {
  readonly scope?: unknown;
  readonly how?: unknown;
  readonly store?: unknown;
}

/**
 * One request stalls a shared database (SQLite: every instance uses the one file); a stall scoped
 * to the instance (MongoDB: its own connection pool) is asked of each instance in turn.
 */
export async function startStall(ctx: ScenarioContext, ms: number, originMs: number): Promise<StartedStall> {
  const origins = ctx.target.instances.length > 0 ? ctx.target.instances.map((i) => i.url) : [ctx.target.url];
  const sentMs = ctx.clock.now() - originMs;
  const first = await ask(ctx, origins[0] ?? ctx.target.url, ms);
  if (first.scope === 'instance') for (const origin of origins.slice(1)) await ask(ctx, origin, ms);
  return {
    sentMs,
    answeredMs: ctx.clock.now() - originMs,
    scope: first.scope,
    how: first.how,
    store: first.store,
    instances: first.scope === 'instance' ? origins.length : 1,
  };
}

async function ask(ctx: ScenarioContext, origin: string, ms: number): Promise<{ scope: 'database' | 'instance'; how: string; store: string }> {
  const res = await ctx.http.send({ method: 'POST', path: '/_faults/db-stall', body: { ms }, origin });
  if (res.status === 404) {
    throw new Error(`${origin} has no POST /_faults/db-stall: start the target with fault injection on (npm run target -- --faults), or let gauntlet start the embedded one`);
  }
  const body = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as StallAnswer;
  if (res.status !== 200 || (body.scope !== 'database' && body.scope !== 'instance')) {
    throw new Error(`POST ${origin}/_faults/db-stall answered ${res.status} ${JSON.stringify(res.body).slice(0, 200)}; expected 200 with a scope`);
  }
  return { scope: body.scope, how: typeof body.how === 'string' ? body.how : '', store: typeof body.store === 'string' ? body.store : '?' };
}
