// The API contract of issue 2, route by route, on a real instance over a SQLite temp file.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_INITIAL_BALANCE } from '../../target/config.ts';
import type { Family, Invitation, Transfer } from '../../target/domain.ts';
import {
  createUser, errorCode, header, startService, tempDb, type RunningService, type TempDb, type TestClient, type TestUser,
} from './helpers/service-harness.ts';

const FAMILY_LIMIT = 3;
const anyString = expect.any(String) as unknown;
let db: TempDb;
let running: RunningService;
let client: TestClient;
let owner: TestUser;

beforeAll(async () => {
  db = await tempDb();
  // A generous limit: rate limiting has its own test file.
  running = await startService({ dbPath: db.path, config: { familyLimit: FAMILY_LIMIT, rateLimit: { limit: 1000, windowMs: 60_000 } } });
  client = running.client;
});

// A fresh owner per test: the family limit is small.
beforeEach(async () => {
  owner = await createUser(client, 'owner');
});

afterAll(async () => {
  await running.close();
  await db.remove();
});

async function newFamily(user: TestUser, name: string): Promise<Family> {
  const result = await client.call('POST', '/families', { token: user.token, json: { name } });
  expect(result.status, result.text).toBe(201);
  return result.body as Family;
}

async function join(family: Family, admin: TestUser, role: 'member' | 'admin', prefix = role): Promise<TestUser> {
  const user = await createUser(client, prefix);
  const invited = await client.call('POST', `/families/${family.id}/invitations`, { token: admin.token, json: { username: user.username, role } });
  expect(invited.status, invited.text).toBe(201);
  const accepted = await client.call('POST', `/invitations/${(invited.body as Invitation).id}/accept`, { token: user.token });
  expect(accepted.status, accepted.text).toBe(200);
  return user;
}

describe('users', () => {
  it('POST /users creates a user with a token; the name is then taken', async () => {
    const created = await client.call('POST', '/users', { json: { username: 'contract_alice' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: anyString, username: 'contract_alice', token: anyString });
    const again = await client.call('POST', '/users', { json: { username: 'contract_alice' } });
    expect([again.status, errorCode(again)]).toEqual([409, 'username_taken']);
  });

  it('GET /me answers id, username and balance', async () => {
    const me = await client.call('GET', '/me', { token: owner.token });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: owner.id, username: owner.username, balance: 0 });
  });
});

describe('families', () => {
  it('POST /families answers the family with its sbd username, owner, balance and version 1', async () => {
    const family = await newFamily(owner, 'The Smiths!');
    expect(family).toEqual({
      id: anyString, name: 'The Smiths!', sbdUsername: 'family_the_smiths', ownerId: owner.id,
      admins: [owner.id], members: [owner.id], balance: DEFAULT_INITIAL_BALANCE, version: 1, createdAt: anyString,
    });
    const second = await newFamily(await createUser(client, 'other'), 'the smiths');
    expect(second.sbdUsername).toBe('family_the_smiths_2');
  });

  it('refuses the family beyond the per-user limit with family_limit', async () => {
    const user = await createUser(client, 'limited');
    for (let i = 0; i < FAMILY_LIMIT; i++) await newFamily(user, `limited ${i}`);
    const over = await client.call('POST', '/families', { token: user.token, json: { name: 'one too many' } });
    expect([over.status, errorCode(over)]).toEqual([409, 'family_limit']);
    const mine = await client.call('GET', '/me/families', { token: user.token });
    expect((mine.body as Family[]).map((f) => f.name).sort()).toEqual(['limited 0', 'limited 1', 'limited 2']);
  });

  it('GET /families/:id serves members through the cache, 404 for an unknown ID', async () => {
    const family = await newFamily(owner, 'Readers');
    const first = await client.call('GET', `/families/${family.id}`, { token: owner.token });
    expect([first.status, header(first, 'x-cache')]).toEqual([200, 'miss']);
    expect(first.body).toEqual(family);
    const second = await client.call('GET', `/families/${family.id}`, { token: owner.token });
    expect([second.status, header(second, 'x-cache')]).toEqual([200, 'hit']);
    const unknown = await client.call('GET', '/families/00000000-0000-4000-8000-000000000000', { token: owner.token });
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'not_found']);
  });

  it('PATCH /families/:id renames with version + 1 and honours If-Match', async () => {
    const family = await newFamily(owner, 'Before');
    const renamed = await client.call('PATCH', `/families/${family.id}`, { token: owner.token, json: { name: 'After' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: family.id, name: 'After', version: 2, sbdUsername: family.sbdUsername });
    expect(header(renamed, 'etag')).toBe('"2"');
    const stale = await client.call('PATCH', `/families/${family.id}`, { token: owner.token, json: { name: 'Stale' }, headers: { 'if-match': '"1"' } });
    expect([stale.status, errorCode(stale)]).toEqual([412, 'version_mismatch']);
    const current = await client.call('PATCH', `/families/${family.id}`, { token: owner.token, json: { name: 'Current' }, headers: { 'if-match': '"2"' } });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ name: 'Current', version: 3 });
    const read = await client.call('GET', `/families/${family.id}`, { token: owner.token });
    expect(read.body).toMatchObject({ name: 'Current', version: 3 });
  });

  it('GET /me/families lists exactly the caller\'s families', async () => {
    const user = await createUser(client, 'lister');
    expect((await client.call('GET', '/me/families', { token: user.token })).body).toEqual([]);
    const family = await newFamily(user, 'Listed');
    const listed = await client.call('GET', '/me/families', { token: user.token });
    expect(listed.status).toBe(200);
    expect((listed.body as Family[]).map((f) => f.id)).toEqual([family.id]);
  });
});

describe('invitations', () => {
  it('invites, refuses a second pending invitation, accepts into the family, refuses a second answer', async () => {
    const family = await newFamily(owner, 'Inviters');
    const invitee = await createUser(client, 'invitee');
    const invited = await client.call('POST', `/families/${family.id}/invitations`, { token: owner.token, json: { username: invitee.username, role: 'admin' } });
    expect(invited.status).toBe(201);
    const invitation = invited.body as Invitation;
    expect(invitation).toMatchObject({ familyId: family.id, inviteeId: invitee.id, role: 'admin', status: 'pending' });
    const twice = await client.call('POST', `/families/${family.id}/invitations`, { token: owner.token, json: { username: invitee.username, role: 'member' } });
    expect([twice.status, errorCode(twice)]).toEqual([409, 'invitation_pending']);

    const accepted = await client.call('POST', `/invitations/${invitation.id}/accept`, { token: invitee.token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ id: invitation.id, status: 'accepted' });
    const seen = await client.call('GET', `/families/${family.id}`, { token: invitee.token });
    expect(seen.status).toBe(200);
    expect((seen.body as Family).admins).toContain(invitee.id);
    expect((seen.body as Family).members).toContain(invitee.id);

    const again = await client.call('POST', `/invitations/${invitation.id}/decline`, { token: invitee.token });
    expect([again.status, errorCode(again)]).toEqual([409, 'invitation_closed']);
    const member = await client.call('POST', `/families/${family.id}/invitations`, { token: owner.token, json: { username: invitee.username, role: 'member' } });
    expect([member.status, errorCode(member)]).toEqual([409, 'already_member']);
  });

  it('declining leaves the family unchanged; unknown invitees are 404', async () => {
    const family = await newFamily(owner, 'Decliners');
    const invitee = await createUser(client, 'decliner');
    const invited = await client.call('POST', `/families/${family.id}/invitations`, { token: owner.token, json: { username: invitee.username, role: 'member' } });
    const declined = await client.call('POST', `/invitations/${(invited.body as Invitation).id}/decline`, { token: invitee.token, json: {} });
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ status: 'declined' });
    const read = await client.call('GET', `/families/${family.id}`, { token: owner.token });
    expect((read.body as Family).members).toEqual([owner.id]);
    const nobody = await client.call('POST', `/families/${family.id}/invitations`, { token: owner.token, json: { username: 'nobody_here', role: 'member' } });
    expect([nobody.status, errorCode(nobody)]).toEqual([404, 'not_found']);
  });

  it('GET /families/:id/invitations lists every invitation, any status, oldest first; 404 for an unknown family', async () => {
    const family = await newFamily(owner, 'Listers');
    const [declining, pending] = [await createUser(client, 'declining'), await createUser(client, 'pending')];
    const invite = async (user: TestUser): Promise<Invitation> =>
      (await client.call('POST', `/families/${family.id}/invitations`, { token: owner.token, json: { username: user.username, role: 'member' } })).body as Invitation;
    const first = await invite(declining);
    const declined = await client.call('POST', `/invitations/${first.id}/decline`, { token: declining.token });
    const second = await invite(pending);
    const listed = await client.call('GET', `/families/${family.id}/invitations`, { token: owner.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([declined.body, second]);
    const unknown = await client.call('GET', '/families/00000000-0000-4000-8000-000000000000/invitations', { token: owner.token });
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'not_found']);
  });
});

describe('transfers', () => {
  it('debits the family, credits the member and appends to the ledger', async () => {
    const family = await newFamily(owner, 'Payers');
    const member = await join(family, owner, 'member');
    const sent = await client.call('POST', `/families/${family.id}/transfers`, { token: owner.token, json: { to: member.id, amount: 150 } });
    expect(sent.status, sent.text).toBe(201);
    const transfer = sent.body as Transfer;
    expect(transfer).toMatchObject({ id: anyString, from: family.id, to: member.id, amount: 150 });

    const after = await client.call('GET', `/families/${family.id}`, { token: member.token });
    expect((after.body as Family).balance).toBe(DEFAULT_INITIAL_BALANCE - 150);
    expect((await client.call('GET', '/me', { token: member.token })).body).toMatchObject({ balance: 150 });
    const ledger = await client.call('GET', `/families/${family.id}/ledger`, { token: member.token });
    expect(ledger.status).toBe(200);
    expect(ledger.body).toEqual([transfer]);
  });

  it('refuses overdrafts (insufficient_funds) and non-members (not_a_member)', async () => {
    const family = await newFamily(owner, 'Savers');
    const member = await join(family, owner, 'member');
    const over = await client.call('POST', `/families/${family.id}/transfers`, { token: owner.token, json: { to: member.id, amount: DEFAULT_INITIAL_BALANCE + 1 } });
    expect([over.status, errorCode(over)]).toEqual([409, 'insufficient_funds']);
    const stranger = await createUser(client, 'stranger');
    const outside = await client.call('POST', `/families/${family.id}/transfers`, { token: owner.token, json: { to: stranger.id, amount: 1 } });
    expect([outside.status, errorCode(outside)]).toEqual([409, 'not_a_member']);
    const ledger = await client.call('GET', `/families/${family.id}/ledger`, { token: owner.token });
    expect(ledger.body).toEqual([]);
  });
});

describe('authorization, per route and caller', () => {
  type Caller = 'none' | 'unknown' | 'outsider' | 'member' | 'admin' | 'invitee';
  interface Case {
    readonly route: string;
    readonly call: (token: string | undefined) => ReturnType<TestClient['call']>;
    /** The status each caller gets. */
    readonly expected: Record<Caller, number>;
  }
  const tokens = {} as Record<Exclude<Caller, 'none'>, string>;
  let family: Family;
  let invitationId: string;
  let memberId: string;

  beforeAll(async () => {
    const familyOwner = await createUser(client, 'owner');
    family = await newFamily(familyOwner, 'Authz');
    const admin = await join(family, familyOwner, 'admin');
    const member = await join(family, familyOwner, 'member');
    memberId = member.id;
    const outsider = await createUser(client, 'outsider');
    const invitee = await createUser(client, 'pending');
    const invited = await client.call('POST', `/families/${family.id}/invitations`, { token: familyOwner.token, json: { username: invitee.username, role: 'member' } });
    invitationId = (invited.body as Invitation).id;
    Object.assign(tokens, { unknown: 'not-a-real-token', outsider: outsider.token, member: member.token, admin: admin.token, invitee: invitee.token });
  });

  const opts = (token: string | undefined, json?: unknown): Parameters<TestClient['call']>[2] => ({
    ...(token === undefined ? {} : { token }),
    ...(json === undefined ? {} : { json }),
  });
  const cases: Case[] = [
    { route: 'GET /me', call: (t) => client.call('GET', '/me', opts(t)), expected: { none: 401, unknown: 401, outsider: 200, member: 200, admin: 200, invitee: 200 } },
    { route: 'GET /me/families', call: (t) => client.call('GET', '/me/families', opts(t)), expected: { none: 401, unknown: 401, outsider: 200, member: 200, admin: 200, invitee: 200 } },
    { route: 'POST /families', call: (t) => client.call('POST', '/families', opts(t, { name: 'authz new' })), expected: { none: 401, unknown: 401, outsider: 201, member: 201, admin: 201, invitee: 201 } },
    { route: 'GET /families/:id', call: (t) => client.call('GET', `/families/${family.id}`, opts(t)), expected: { none: 401, unknown: 401, outsider: 403, member: 200, admin: 200, invitee: 403 } },
    { route: 'PATCH /families/:id', call: (t) => client.call('PATCH', `/families/${family.id}`, opts(t, { name: 'Authz' })), expected: { none: 401, unknown: 401, outsider: 403, member: 403, admin: 200, invitee: 403 } },
    { route: 'GET /families/:id/invitations', call: (t) => client.call('GET', `/families/${family.id}/invitations`, opts(t)), expected: { none: 401, unknown: 401, outsider: 403, member: 403, admin: 200, invitee: 403 } },
    { route: 'GET /families/:id/ledger', call: (t) => client.call('GET', `/families/${family.id}/ledger`, opts(t)), expected: { none: 401, unknown: 401, outsider: 403, member: 200, admin: 200, invitee: 403 } },
    { route: 'POST /families/:id/transfers', call: (t) => client.call('POST', `/families/${family.id}/transfers`, opts(t, { to: memberId, amount: 1 })), expected: { none: 401, unknown: 401, outsider: 403, member: 403, admin: 201, invitee: 403 } },
    // Runs after the invitee's pending invitation exists; the admin's invitation of a fresh user succeeds.
    { route: 'POST /families/:id/invitations', call: async (t) => client.call('POST', `/families/${family.id}/invitations`, opts(t, { username: (await createUser(client, 'target')).username, role: 'member' })), expected: { none: 401, unknown: 401, outsider: 403, member: 403, admin: 201, invitee: 403 } },
  ];

  for (const testCase of cases) {
    it(testCase.route, async () => {
      const got: Record<string, number> = {};
      for (const caller of Object.keys(testCase.expected) as Caller[]) {
        got[caller] = (await testCase.call(caller === 'none' ? undefined : tokens[caller])).status;
      }
      expect(got).toEqual(testCase.expected);
    });
  }

  it('POST /invitations/:id/accept and /decline: the invitee only', async () => {
    const got: Record<string, number> = {};
    for (const caller of ['none', 'unknown', 'outsider', 'member', 'admin'] as const) {
      for (const verb of ['accept', 'decline']) {
        got[`${caller} ${verb}`] = (await client.call('POST', `/invitations/${invitationId}/${verb}`, opts(caller === 'none' ? undefined : tokens[caller]))).status;
      }
    }
    expect(got).toEqual({
      'none accept': 401, 'none decline': 401, 'unknown accept': 401, 'unknown decline': 401,
      'outsider accept': 403, 'outsider decline': 403, 'member accept': 403, 'member decline': 403, 'admin accept': 403, 'admin decline': 403,
    });
    const accepted = await client.call('POST', `/invitations/${invitationId}/accept`, { token: tokens.invitee });
    expect(accepted.status).toBe(200);
  });

  it('GET /healthz and GET /metrics need no token', async () => {
    const health = await client.call('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok', instance: 'test-instance', store: 'sqlite' });
    expect((await client.call('GET', '/metrics')).status).toBe(200);
  });
});
