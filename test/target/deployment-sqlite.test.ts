import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMIT } from '../../target/config.ts';
import { startDeployment } from '../../target/deployment/deployment.ts';
import type { Deployment } from '../../target/deployment/deployment.ts';
import { call, createUser, testAgent } from './helpers/deploy-client.ts';

interface FamilyBody {
  id: string;
  sbdUsername: string;
}

describe('two instances on one SQLite file, behind the balancer', () => {
  let deployment: Deployment;
  beforeAll(async () => {
    deployment = await startDeployment({ instances: 2, store: 'sqlite' });
  });
  afterAll(async () => {
    await deployment.stop();
    await testAgent.close();
  });

  it('runs two instances and a balancer on one sqlite store', () => {
    expect(deployment.instances.map((i) => i.instanceId)).toEqual(['i1', 'i2']);
    expect(deployment.balancer?.strategy).toBe('round-robin');
    expect(deployment.store.kind).toBe('sqlite');
  });

  it('200 concurrent creations with colliding names get unique IDs and sbd usernames, read back via GET', async () => {
    const users = await Promise.all(Array.from({ length: 200 }, (_, i) => createUser(deployment.url, `racer_${i}`)));
    const names = ['Smith', 'Jones', 'Smith ', 'smith'];
    const created = await Promise.all(users.map((u, i) => call(deployment.url, 'POST', '/families', { token: u.token, body: { name: names[i % names.length] } })));
    expect(created.map((r) => r.status)).toEqual(Array<number>(200).fill(201));
    expect(new Set(created.map((r) => r.instance))).toEqual(new Set(['i1', 'i2']));

    const readBack = await Promise.all(created.map((r, i) => call(deployment.url, 'GET', `/families/${(r.body as FamilyBody).id}`, { token: users[i]?.token ?? '' })));
    expect(readBack.map((r) => r.status)).toEqual(Array<number>(200).fill(200));
    const families = readBack.map((r) => r.body as FamilyBody);
    expect(families.map((f) => f.id)).toEqual(created.map((r) => (r.body as FamilyBody).id));
    expect(new Set(families.map((f) => f.id)).size).toBe(200);
    expect(new Set(families.map((f) => f.sbdUsername)).size).toBe(200);
    expect(families.every((f) => /^family_[a-z0-9_]+$/.test(f.sbdUsername))).toBe(true);
  });

  it('admits exactly the rate limit for one user whose requests are spread over both instances', async () => {
    const user = await createUser(deployment.url, 'limited_user');
    const attempts = DEFAULT_RATE_LIMIT.limit * 4;
    const results = await Promise.all(
      Array.from({ length: attempts }, (_, i) => call(deployment.url, 'POST', '/families', { token: user.token, body: { name: `limited ${i}` } })),
    );
    const byStatus = new Map<number, number>();
    for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    expect(Object.fromEntries(byStatus)).toEqual({ 201: DEFAULT_RATE_LIMIT.limit, 429: attempts - DEFAULT_RATE_LIMIT.limit });
    expect(new Set(results.map((r) => r.instance))).toEqual(new Set(['i1', 'i2']));
    const mine = await call(deployment.url, 'GET', '/me/families', { token: user.token });
    expect(mine.body).toHaveLength(DEFAULT_RATE_LIMIT.limit);
  });
});
