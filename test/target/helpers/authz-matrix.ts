/**
 * The authorization matrix of the family service: every route x every kind of caller -> the status it
 * must answer. This table is the one source: the README's "Who may call what" table is rendered from
 * it (and checked), and the matrix test sends every cell to a real service.
 */
import { randomBytes } from 'node:crypto';
import type { Family, Invitation } from '../../../target/domain.ts';
import { createUser, type TestClient, type TestUser } from './service-harness.ts';

export const ACTORS = ['no token', 'unknown token', 'non-member', 'member', 'admin', 'invitee'] as const;
export type Actor = (typeof ACTORS)[number];

export interface MatrixRow {
  /** `METHOD pattern`, as the service's route table names it. */
  readonly route: string;
  /** In ACTORS order. */
  readonly statuses: readonly [number, number, number, number, number, number];
}

/**
 * `member` joined the family as a member, `admin` as an admin (promoted, not the owner), `invitee` has a
 * pending invitation to it and is not yet a member, `non-member` is a user with no tie to it.
 */
export const AUTHZ_MATRIX: readonly MatrixRow[] = [
  { route: 'POST /users', statuses: [201, 201, 201, 201, 201, 201] },
  { route: 'GET /me', statuses: [401, 401, 200, 200, 200, 200] },
  { route: 'GET /me/families', statuses: [401, 401, 200, 200, 200, 200] },
  { route: 'POST /families', statuses: [401, 401, 201, 201, 201, 201] },
  { route: 'GET /families/:id', statuses: [401, 401, 403, 200, 200, 403] },
  { route: 'PATCH /families/:id', statuses: [401, 401, 403, 403, 200, 403] },
  { route: 'POST /families/:id/invitations', statuses: [401, 401, 403, 403, 201, 403] },
  { route: 'GET /families/:id/invitations', statuses: [401, 401, 403, 403, 200, 403] },
  { route: 'POST /invitations/:id/accept', statuses: [401, 401, 403, 403, 403, 200] },
  { route: 'POST /invitations/:id/decline', statuses: [401, 401, 403, 403, 403, 200] },
  { route: 'POST /families/:id/transfers', statuses: [401, 401, 403, 403, 201, 403] },
  { route: 'GET /families/:id/ledger', statuses: [401, 401, 403, 200, 200, 403] },
  { route: 'GET /healthz', statuses: [200, 200, 200, 200, 200, 200] },
  { route: 'GET /metrics', statuses: [200, 200, 200, 200, 200, 200] },
];

/** The README table, rendered from AUTHZ_MATRIX. */
export function renderMatrixTable(): string {
  const header = `| route | ${ACTORS.join(' | ')} |`;
  const rule = `| --- |${ACTORS.map(() => ' --- |').join('')}`;
  const rows = AUTHZ_MATRIX.map((row) => `| \`${row.route}\` | ${row.statuses.join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}

/** One family with a caller of every kind, made through the API. */
export interface Scene {
  readonly family: Family;
  readonly owner: TestUser;
  /** Token per actor (undefined: no Authorization header). */
  readonly tokens: Readonly<Record<Actor, string | undefined>>;
  readonly member: TestUser;
  readonly invitation: Invitation;
  /** A user no one has invited yet: the invitee of a POST /families/:id/invitations cell. */
  readonly invitable: TestUser;
}

export async function makeScene(client: TestClient): Promise<Scene> {
  const post = async <T>(path: string, token: string, json: unknown): Promise<T> => {
    const res = await client.call('POST', path, { token, json });
    if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${res.text}`);
    return res.body as T;
  };
  const [owner, member, admin, nonMember, invitee, invitable] = await Promise.all(
    ['owner', 'member', 'admin', 'nonmember', 'invitee', 'invitable'].map((label) => createUser(client, label)),
  );
  if (owner === undefined || member === undefined || admin === undefined || nonMember === undefined || invitee === undefined || invitable === undefined) {
    throw new Error('scene users missing');
  }
  const family = await post<Family>('/families', owner.token, { name: 'Matrix family' });
  for (const [user, role] of [[member, 'member'], [admin, 'admin']] as const) {
    const invited = await post<Invitation>(`/families/${family.id}/invitations`, owner.token, { username: user.username, role });
    await post(`/invitations/${invited.id}/accept`, user.token, {});
  }
  const invitation = await post<Invitation>(`/families/${family.id}/invitations`, owner.token, { username: invitee.username, role: 'member' });
  const tokens: Record<Actor, string | undefined> = {
    'no token': undefined,
    'unknown token': randomBytes(32).toString('base64url'),
    'non-member': nonMember.token,
    member: member.token,
    admin: admin.token,
    invitee: invitee.token,
  };
  return { family, owner, tokens, member, invitation, invitable };
}

let usernames = 0;

/** The request a cell sends: valid in every way but who sends it, so the status is the authorization's alone. */
export function cellRequest(route: string, scene: Scene): { method: string; path: string; json?: unknown } {
  const id = scene.family.id;
  const requests: Record<string, { method: string; path: string; json?: unknown }> = {
    'POST /users': { method: 'POST', path: '/users', json: { username: `matrix_${process.pid}_${++usernames}` } },
    'GET /me': { method: 'GET', path: '/me' },
    'GET /me/families': { method: 'GET', path: '/me/families' },
    'POST /families': { method: 'POST', path: '/families', json: { name: 'Another family' } },
    'GET /families/:id': { method: 'GET', path: `/families/${id}` },
    'PATCH /families/:id': { method: 'PATCH', path: `/families/${id}`, json: { name: 'Renamed' } },
    'POST /families/:id/invitations': { method: 'POST', path: `/families/${id}/invitations`, json: { username: scene.invitable.username, role: 'member' } },
    'GET /families/:id/invitations': { method: 'GET', path: `/families/${id}/invitations` },
    'POST /invitations/:id/accept': { method: 'POST', path: `/invitations/${scene.invitation.id}/accept` },
    'POST /invitations/:id/decline': { method: 'POST', path: `/invitations/${scene.invitation.id}/decline` },
    'POST /families/:id/transfers': { method: 'POST', path: `/families/${id}/transfers`, json: { to: scene.member.id, amount: 1 } },
    'GET /families/:id/ledger': { method: 'GET', path: `/families/${id}/ledger` },
    'GET /healthz': { method: 'GET', path: '/healthz' },
    'GET /metrics': { method: 'GET', path: '/metrics' },
  };
  const request = requests[route];
  if (request === undefined) throw new Error(`the matrix has no request for ${route}`);
  return request;
}

export interface CellResult {
  readonly route: string;
  readonly actor: Actor;
  readonly expected: number;
  readonly actual: number;
}

/** Sends every cell, each on a fresh scene (so a write in one cell cannot change another's answer). */
export async function runMatrix(client: TestClient): Promise<CellResult[]> {
  const results: CellResult[] = [];
  for (const row of AUTHZ_MATRIX) {
    const cells = await Promise.all(ACTORS.map(async (actor, index) => {
      const scene = await makeScene(client);
      const { method, path, json } = cellRequest(row.route, scene);
      const token = scene.tokens[actor];
      const res = await client.call(method, path, { ...(token === undefined ? {} : { token }), ...(json === undefined ? {} : { json }) });
      return { route: row.route, actor, expected: row.statuses[index] ?? NaN, actual: res.status };
    }));
    results.push(...cells);
  }
  return results;
}

/** The cells that answered something else than the matrix says, as `route × actor: expected -> actual`. */
export function wrongCells(results: readonly CellResult[]): string[] {
  return results.filter((r) => r.actual !== r.expected).map((r) => `${r.route} × ${r.actor}: ${r.expected} -> ${r.actual}`);
}
