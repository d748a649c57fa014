/** Test data made quickly and in parallel through the service's own API (so it works on any target). */
import type { Family } from '../../target/domain.ts';
import type { JsonClient, JsonResponse } from './json-client.ts';

/** Fixture requests in flight at once. */
export const FIXTURE_CONCURRENCY = 32;

export interface TestUser {
  readonly id: string;
  readonly username: string;
  /** Bearer token; never logged or written to results. */
  readonly token: string;
}

/** A family as the family API answers it (the reference service's `Family`; scenarios read no `createdAt`). */
export type FamilyView = Omit<Family, 'createdAt'>;

/** A fixture step the target refused: the message names the request and the answer. */
export class FixtureError extends Error {
  override readonly name = 'FixtureError';
}

export class Fixtures {
  readonly #client: JsonClient;
  readonly #runTag: string;
  #next = 0;

  constructor(client: JsonClient, runTag: string = uniqueTag()) {
    this.#client = client;
    this.#runTag = runTag;
  }

  /** A username no other fixture of this process or earlier runs has used (3-32 of [a-z0-9_]). */
  username(label: string): string {
    this.#next += 1;
    const clean = label.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8) || 'u';
    return `${clean}_${this.#runTag}_${this.#next.toString(36)}`.slice(0, 32);
  }

  async createUser(label = 'user'): Promise<TestUser> {
    const res = await this.#client.send({ method: 'POST', path: '/users', body: { username: this.username(label) } });
    return expectBody(res, 201, 'POST /users') as TestUser;
  }

  async createUsers(count: number, label = 'user'): Promise<TestUser[]> {
    return mapLimit(count, FIXTURE_CONCURRENCY, () => this.createUser(label));
  }

  async createFamily(owner: TestUser, name: string): Promise<FamilyView> {
    const res = await this.#client.send({ method: 'POST', path: '/families', token: owner.token, body: { name } });
    return expectBody(res, 201, 'POST /families') as FamilyView;
  }

  async getFamily(user: TestUser, familyId: string, origin?: string): Promise<JsonResponse> {
    return this.#client.send({ method: 'GET', path: `/families/${familyId}`, token: user.token, ...(origin === undefined ? {} : { origin }) });
  }

  /** Invites `user` into the family as `role` and accepts: a member in two requests. */
  async addMember(familyId: string, admin: TestUser, user: TestUser, role: 'member' | 'admin' = 'member'): Promise<void> {
    const invited = await this.#client.send({
      method: 'POST',
      path: `/families/${familyId}/invitations`,
      token: admin.token,
      body: { username: user.username, role },
    });
    const invitation = expectBody(invited, 201, 'POST /families/:id/invitations') as { id: string };
    const accepted = await this.#client.send({ method: 'POST', path: `/invitations/${invitation.id}/accept`, token: user.token });
    expectBody(accepted, 200, 'POST /invitations/:id/accept');
  }
}

/** Checks the status and returns the body; anything else is a FixtureError quoting the answer. */
export function expectBody(res: JsonResponse, status: number, what: string): unknown {
  if (res.status !== status) {
    const detail = typeof res.body === 'string' ? res.body.slice(0, 200) : JSON.stringify(res.body).slice(0, 200);
    const hint = res.status === 429 ? ' (rate limited: run against the embedded target, or raise the target\'s rate limit for test users)' : '';
    throw new FixtureError(`${what} answered ${res.status}, expected ${status}: ${detail}${hint}`);
  }
  return res.body;
}

/** Runs `count` tasks with at most `limit` at once; results in index order; the first failure rejects. */
export async function mapLimit<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

function uniqueTag(): string {
  return (Date.now() % 1e9).toString(36) + Math.floor(Math.random() * 1296).toString(36);
}
