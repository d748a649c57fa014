/**
 * The service a fuzz run attacks (an attacker with a real token, a victim whose data it must never
 * reach) and the properties every answer must keep. Shared by the fuzz suite and its proofs that
 * each property fails on a deliberately broken service.
 */
import fc from 'fast-check';
import { DEFAULT_ADMISSION, DEFAULT_SERVICE_CONFIG } from '../../../target/config.ts';
import type { Family, Invitation, Transfer } from '../../../target/domain.ts';
import type { FamilyCache } from '../../../target/service/family-cache.ts';
import type { ServiceMetrics } from '../../../target/service/metrics.ts';
import { buildRoutes } from '../../../target/service/routes.ts';
import type { Store } from '../../../target/store/store.ts';
import { caseArb, type FuzzCase, type FuzzRoute, type FuzzWorld } from './fuzz-inputs.ts';
import { sendRaw, type RawOutcome } from './raw-http.ts';
import { createUser, startService, tempDb, type RunningService, type TestUser } from './service-harness.ts';

/** A request the service has not answered within this long is a hang. */
export const FUZZ_REQUEST_TIMEOUT_MS = 5_000;

export interface Victim {
  readonly user: TestUser;
  readonly member: TestUser;
  readonly family: Family;
  readonly invitation: Invitation;
  readonly transfer: Transfer;
}

export interface FuzzTarget {
  readonly running: RunningService;
  readonly port: number;
  readonly world: FuzzWorld;
  /** Every route of the service, with a valid body to mutate. */
  readonly routes: readonly FuzzRoute[];
  readonly victim: Victim;
  /** What only the victim's side may see: no answer may hold one its request did not. */
  readonly secrets: readonly string[];
  /** The service's own log lines (it logs only unexpected failures). */
  readonly logs: readonly string[];
  /** Cases sent so far, by `METHOD pattern`. */
  readonly sent: Map<string, number>;
  /** Secrets an earlier request carried: the attacker knows them (it may have named its family after one). */
  readonly exposed: Set<string>;
  close(): Promise<void>;
}

/** Starts a service over a fresh SQLite file with an attacker, a victim family and its ledger and invitations. */
export async function startFuzzTarget(options: { wrapStore?: (store: Store) => Store } = {}): Promise<FuzzTarget> {
  const db = await tempDb();
  const logs: string[] = [];
  const running = await startService({
    dbPath: db.path,
    // Limits off: a fuzzed write that the service accepts should keep being accepted, so acknowledged writes get read back.
    // No lag-based shedding: this process's own work (and a loaded CI box) would get requests shed; overload has its own scenario.
    config: { rateLimit: { limit: 1_000_000_000, windowMs: 60_000 }, familyLimit: 1_000_000_000, admission: { ...DEFAULT_ADMISSION, lagTargetMs: 0 } },
    log: (line) => logs.push(line),
    ...(options.wrapStore === undefined ? {} : { wrapStore: options.wrapStore }),
  });
  const client = running.client;
  const post = async <T>(path: string, token: string, json: unknown): Promise<T> => {
    const res = await client.call('POST', path, { token, json });
    if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${res.text}`);
    return res.body as T;
  };
  const attacker = await createUser(client, 'attacker');
  const bystander = await createUser(client, 'bystander');
  const victimUser = await createUser(client, 'victim');
  const victimMember = await createUser(client, 'vmember');
  const attackerFamily = await post<Family>('/families', attacker.token, { name: 'Attacker family' });
  const attackerInvitation = await post<Invitation>(`/families/${attackerFamily.id}/invitations`, attacker.token, { username: bystander.username, role: 'member' });
  const victimFamily = await post<Family>('/families', victimUser.token, { name: `Victim secret ${victimUser.token.slice(0, 12)}` });
  const joined = await post<Invitation>(`/families/${victimFamily.id}/invitations`, victimUser.token, { username: victimMember.username, role: 'member' });
  await post(`/invitations/${joined.id}/accept`, victimMember.token, {});
  const transfer = await post<Transfer>(`/families/${victimFamily.id}/transfers`, victimUser.token, { to: victimMember.id, amount: 7 });
  const invitation = await post<Invitation>(`/families/${victimFamily.id}/invitations`, victimUser.token, { username: bystander.username, role: 'admin' });
  const family = (await client.call('GET', `/families/${victimFamily.id}`, { token: victimUser.token })).body as Family;
  return {
    running,
    port: Number(new URL(running.url).port),
    world: {
      attackerToken: attacker.token,
      knownIds: [attackerFamily.id, attackerInvitation.id, attacker.id, victimFamily.id, invitation.id, joined.id, transfer.id, victimUser.id, victimMember.id, bystander.id],
      knownUsernames: [attacker.username, bystander.username, victimUser.username, victimMember.username],
    },
    routes: fuzzRoutes(attacker, bystander),
    victim: { user: victimUser, member: victimMember, family, invitation, transfer },
    secrets: [victimUser.token, victimMember.token, bystander.token, family.name, family.sbdUsername, transfer.id, invitation.id, joined.id],
    logs,
    sent: new Map(),
    exposed: new Set(),
    async close() {
      await running.close();
      await db.remove();
    },
  };
}

function fuzzRoutes(attacker: TestUser, bystander: TestUser): FuzzRoute[] {
  return [
    { method: 'POST', pattern: '/users', access: 'public', validBody: { username: 'fuzz_user' } },
    { method: 'GET', pattern: '/me', access: 'user', validBody: null },
    { method: 'GET', pattern: '/me/families', access: 'user', validBody: null },
    { method: 'POST', pattern: '/families', access: 'user', validBody: { name: 'Fuzzed family' } },
    { method: 'GET', pattern: '/families/:id', access: 'user', validBody: null },
    { method: 'PATCH', pattern: '/families/:id', access: 'user', validBody: { name: 'Renamed' } },
    { method: 'POST', pattern: '/families/:id/invitations', access: 'user', validBody: { username: bystander.username, role: 'member' } },
    { method: 'GET', pattern: '/families/:id/invitations', access: 'user', validBody: null },
    { method: 'POST', pattern: '/invitations/:id/accept', access: 'user', validBody: {} },
    { method: 'POST', pattern: '/invitations/:id/decline', access: 'user', validBody: {} },
    { method: 'POST', pattern: '/families/:id/transfers', access: 'user', validBody: { to: attacker.id, amount: 1 } },
    { method: 'GET', pattern: '/families/:id/ledger', access: 'user', validBody: null },
    { method: 'GET', pattern: '/healthz', access: 'public', validBody: null },
    { method: 'GET', pattern: '/metrics', access: 'public', validBody: null },
  ];
}

/** `METHOD pattern` and access of every route the service itself builds (faults off). */
export function serviceRouteTable(store: Store): { key: string; access: string }[] {
  // Building the table reads no dependency: these stand-ins are never called.
  const table = buildRoutes({ store, config: DEFAULT_SERVICE_CONFIG, cache: null as unknown as FamilyCache, metrics: null as unknown as ServiceMetrics, instanceId: 'x' });
  return table.map((r) => ({ key: `${r.method} ${r.pattern}`, access: r.access }));
}

/** Why `outcome` breaks a property of one answer, or null. */
export function answerViolation(target: FuzzTarget, c: FuzzCase, outcome: RawOutcome, timeoutMs: number): string | null {
  if (outcome.kind === 'timeout') return `no answer within ${timeoutMs} ms (received ${JSON.stringify(outcome.received)})`;
  if (outcome.kind === 'closed') return `connection closed without an answer${outcome.error === null ? '' : ` (${outcome.error})`}`;
  const { status, headers, body } = outcome;
  if (status >= 500) return `answered ${status}: ${body.slice(0, 300)}`;
  if (headers['x-instance-id'] === undefined) return `answered ${status} without x-instance-id`;
  if (status >= 400 && c.request.method !== 'HEAD' && !isErrorBody(body)) return `answered ${status} without an error body: ${body.slice(0, 200)}`;
  // node:http refuses these before any route runs: no token is looked at.
  const refusedBeforeRouting = status === 431 || status === 417 || body.includes('"malformed HTTP request');
  if (c.route.access === 'user' && c.auth !== 'valid' && !refusedBeforeRouting && ![401, 404, 405].includes(status)) {
    return `a request without a valid token got ${status} on a user route: ${body.slice(0, 200)}`;
  }
  const sent = requestText(c);
  const leaked = target.secrets.find((secret) => body.includes(secret) && !sent.includes(secret) && !target.exposed.has(secret));
  if (leaked !== undefined) return `the answer leaks the victim's ${JSON.stringify(leaked)}: ${body.slice(0, 300)}`;
  return null;
}

function requestText(c: FuzzCase): string {
  return c.request.target + c.request.headers.map(([, v]) => v).join('\n') + (c.request.body?.toString('latin1') ?? '');
}

function isErrorBody(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string';
  } catch {
    return false;
  }
}

/** A family write the service acknowledged must be what a read returns (nothing lost or altered on the way to the store). */
async function readBackViolation(target: FuzzTarget, c: FuzzCase, outcome: RawOutcome): Promise<string | null> {
  if (outcome.kind !== 'answered' || outcome.status >= 300 || c.request.method !== c.route.method) return null;
  if (!['POST /families', 'PATCH /families/:id'].includes(`${c.route.method} ${c.route.pattern}`)) return null;
  const written = JSON.parse(outcome.body) as Family;
  const read = await target.running.client.call('GET', `/families/${written.id}`, { token: target.world.attackerToken });
  const stored = (read.body as Family | undefined)?.name;
  return stored === written.name ? null : `acknowledged name ${JSON.stringify(written.name)} but the store holds ${JSON.stringify(stored)}`;
}

async function healthViolation(target: FuzzTarget): Promise<string | null> {
  if (!target.running.service.server.listening) return 'the server stopped listening';
  const health = await target.running.client.call('GET', '/healthz');
  return health.status === 200 ? null : `GET /healthz answered ${health.status} afterwards: ${health.text}`;
}

/** Sends one case and checks its answer, a read-back of what it wrote, and that the service still answers. */
export async function checkCase(target: FuzzTarget, c: FuzzCase, timeoutMs: number = FUZZ_REQUEST_TIMEOUT_MS): Promise<string | null> {
  const key = `${c.route.method} ${c.route.pattern}`;
  target.sent.set(key, (target.sent.get(key) ?? 0) + 1);
  const outcome = await sendRaw(target.port, c.request, timeoutMs);
  const problem = answerViolation(target, c, outcome, timeoutMs) ?? (await readBackViolation(target, c, outcome)) ?? (await healthViolation(target));
  const sent = requestText(c);
  for (const secret of target.secrets) if (sent.includes(secret)) target.exposed.add(secret);
  return problem;
}

/** The property over every hostile request to `route`. */
export function routeProperty(target: FuzzTarget, route: FuzzRoute, timeoutMs: number = FUZZ_REQUEST_TIMEOUT_MS): fc.IAsyncPropertyWithHooks<[FuzzCase]> {
  return fc.asyncProperty(caseArb(route, target.world), async (c) => {
    const problem = await checkCase(target, c, timeoutMs);
    if (problem !== null) throw new Error(problem);
  });
}

/** Failures the clients never saw: 5xx the service counted (a client that had gone) and lines it logged. */
export async function serverSideFailures(target: FuzzTarget): Promise<string[]> {
  const metrics = (await target.running.client.call('GET', '/metrics')).text;
  const counted = metrics.split('\n').filter((line) => /^gauntlet_http_requests_total\{.*status="5\d\d".*\} [1-9]/.test(line));
  return [...counted, ...target.logs];
}

/** How the victim's family, ledger and pending invitation differ from before the fuzzing ([] when untouched). */
export async function victimChanges(target: FuzzTarget): Promise<string[]> {
  const { client } = target.running;
  const { victim } = target;
  const changes: string[] = [];
  const family = await client.call('GET', `/families/${victim.family.id}`, { token: victim.user.token });
  if (JSON.stringify(family.body) !== JSON.stringify(victim.family)) changes.push(`family now ${family.text}`);
  const ledger = await client.call('GET', `/families/${victim.family.id}/ledger`, { token: victim.member.token });
  if (JSON.stringify(ledger.body) !== JSON.stringify([victim.transfer])) changes.push(`ledger now ${ledger.text}`);
  const invitations = await client.call('GET', `/families/${victim.family.id}/invitations`, { token: victim.user.token });
  const pending = (invitations.body as Invitation[]).find((i) => i.id === victim.invitation.id);
  if (pending?.status !== 'pending') changes.push(`invitation ${victim.invitation.id} now ${JSON.stringify(pending)}`);
  return changes;
}
