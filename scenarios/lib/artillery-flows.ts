/**
 * Steps of the family API for Artillery flows (src/artillery/traffic.ts): each virtual user signs up
 * through POST /users and sends its token on every later request, as the service requires. The
 * scenario-shaped flows built from these live beside them: artillery-concurrency.ts,
 * artillery-scalability.ts, artillery-reliability.ts.
 */
import type { TrafficPhase, TrafficStep } from '../../src/artillery/traffic.ts';
import { isFaulted as isSpreadEvenly } from './transfer-plan.ts';

/** Variable names the steps share. */
export const VARS = { username: 'username', token: 'token', userId: 'userId', familyId: 'familyId', familyName: 'familyName', invitationId: 'invitationId' } as const;

/** The variables one signed-up user's name, token and (when captured) id are kept in. */
export interface FlowUser {
  readonly username: string;
  readonly token: string;
  readonly id?: string;
}

/** The virtual user itself: the owner (an admin) of the families it creates. */
export const OWNER: FlowUser = { username: VARS.username, token: VARS.token, id: VARS.userId };
/** A second user of the same flow: invited into the owner's family, or receiving its transfers. */
export const MEMBER: FlowUser = { username: 'memberName', token: 'memberToken', id: 'memberId' };

/**
 * Requests one virtual user spreads its reads over, and the pause between them: Artillery sends a
 * flow's requests back to back otherwise, and a per-VU burst is not the steady rate asked for.
 */
export const READS_PER_VU = 10;
export const READ_PACING_SEC = 0.1;

/** A phase's duration in whole seconds (Artillery's, see export-script.ts), at least one. */
export function wholeSeconds(ms: number): number {
  return Math.max(1, Math.round(ms / 1000));
}

/** A new user with a unique username; its token (and, for a user with `id`, its id) captured. */
export function signUp(prefix: string, user: FlowUser = { username: VARS.username, token: VARS.token }): TrafficStep[] {
  return [
    { kind: 'vary', variable: user.username, rule: { kind: 'unique', prefix } },
    {
      kind: 'request', name: 'POST /users', method: 'POST', url: '/users', json: { username: `{{ ${user.username} }}` },
      capture: { [user.token]: '$.token', ...(user.id === undefined ? {} : { [user.id]: '$.id' }) }, expect: [201],
    },
  ];
}

/** POST /families as the signed-up user; `captureId` keeps the new family's id in `{{ familyId }}` (or `captureAs`). */
export function createFamily(options: { name: string; requestName?: string; captureId?: boolean; captureAs?: string; expect?: readonly number[] }): TrafficStep {
  const captureAs = options.captureAs ?? (options.captureId === true ? VARS.familyId : undefined);
  return {
    kind: 'request',
    name: options.requestName ?? 'POST /families',
    method: 'POST',
    url: '/families',
    tokenVariable: VARS.token,
    json: { name: options.name },
    ...(captureAs === undefined ? {} : { capture: { [captureAs]: '$.id' } }),
    expect: options.expect ?? [201],
  };
}

/** GET /families/:id of the captured family (the instance's cache answers repeats). */
export function readFamily(headers?: Readonly<Record<string, string>>, requestName = 'GET /families/:id', options: { idVariable?: string; expect?: readonly number[] } = {}): TrafficStep {
  return {
    kind: 'request', name: requestName, method: 'GET', url: `/families/{{ ${options.idVariable ?? VARS.familyId} }}`, tokenVariable: VARS.token,
    ...(headers === undefined ? {} : { headers }), expect: options.expect ?? [200],
  };
}

/** GET /me/families: the caller's families, a DB query every time. */
export function listOwnFamilies(): TrafficStep {
  return { kind: 'request', name: 'GET /me/families', method: 'GET', url: '/me/families', tokenVariable: VARS.token, expect: [200] };
}

/** PATCH /families/:id to a new unique name, as its owner (an admin): a write that bumps the version and invalidates caches. */
export function renameFamily(prefix: string, expect: readonly number[] = [200]): TrafficStep[] {
  return [
    { kind: 'vary', variable: VARS.familyName, rule: { kind: 'unique', prefix } },
    { kind: 'request', name: 'PATCH /families/:id', method: 'PATCH', url: `/families/{{ ${VARS.familyId} }}`, tokenVariable: VARS.token, json: { name: `{{ ${VARS.familyName} }}` }, expect },
  ];
}

/**
 * The owner invites `user` (signed up in this flow) into the captured family; the invitation's id is
 * captured into `{{ invitationId }}` unless `capture` is false (a capture from a refused answer would stop the user).
 */
export function invite(user: FlowUser, options: { expect?: readonly number[]; capture?: boolean } = {}): TrafficStep {
  return {
    kind: 'request', name: 'POST /families/:id/invitations', method: 'POST', url: `/families/{{ ${VARS.familyId} }}/invitations`, tokenVariable: VARS.token,
    json: { username: `{{ ${user.username} }}`, role: 'member' }, ...(options.capture === false ? {} : { capture: { [VARS.invitationId]: '$.id' } }), expect: options.expect ?? [201],
  };
}

/** `user` accepts the captured invitation: it becomes a member in the same transaction. */
export function accept(user: FlowUser, expect: readonly number[] = [200], requestName = 'POST /invitations/:id/accept'): TrafficStep {
  return { kind: 'request', name: requestName, method: 'POST', url: `/invitations/{{ ${VARS.invitationId} }}/accept`, tokenVariable: user.token, expect };
}

/** The owner transfers `amount` tokens from the captured family to `to` (a member: the owner is one of its own family). */
export function transfer(options: { to: FlowUser; amount: number; requestName?: string; headers?: Readonly<Record<string, string>>; expect?: readonly number[] }): TrafficStep {
  const to = options.to.id;
  if (to === undefined) throw new RangeError('a transfer needs a recipient whose id the flow captured');
  return {
    kind: 'request', name: options.requestName ?? 'POST /families/:id/transfers', method: 'POST', url: `/families/{{ ${VARS.familyId} }}/transfers`, tokenVariable: VARS.token,
    json: { to: `{{ ${to} }}`, amount: options.amount }, ...(options.headers === undefined ? {} : { headers: options.headers }), expect: options.expect ?? [201],
  };
}

/** The owner with a family of its own (captured) and a second user invited into it who accepted. */
export function familyWithMember(prefix: string, name: string): TrafficStep[] {
  return [...signUp(prefix, OWNER), createFamily({ name, captureId: true }), ...signUp(`${prefix}m`, MEMBER), invite(MEMBER), accept(MEMBER)];
}

/**
 * A round of `size` requests: writeFraction of them renames, spread evenly (as transfer-plan.ts spreads
 * faults), the rest family reads and family listings in turn.
 */
export function mixedRound(writeFraction: number, size: number, prefix: string): TrafficStep[] {
  let reads = 0;
  return Array.from({ length: size }, (_, i): TrafficStep[] =>
    isSpreadEvenly(i, writeFraction) ? renameFamily(prefix) : [reads++ % 2 === 0 ? readFamily() : listOwnFamilies()]).flat();
}

/** `step` READS_PER_VU times, READ_PACING_SEC apart. */
export function pacedReads(steps: readonly TrafficStep[]): TrafficStep {
  return pacedRounds(steps, Math.max(1, Math.round(READS_PER_VU / steps.filter(isRequest).length)));
}

/** `rounds` times the steps, each request followed by a READ_PACING_SEC pause. */
export function pacedRounds(steps: readonly TrafficStep[], rounds: number): TrafficStep {
  const body = steps.flatMap((s): TrafficStep[] => (isRequest(s) ? [s, { kind: 'think', seconds: READ_PACING_SEC }] : [s]));
  return { kind: 'loop', count: Math.max(1, Math.round(rounds)), steps: body };
}

function isRequest(step: TrafficStep): boolean {
  return step.kind === 'request';
}

/**
 * `workers` virtual users started within the first second, each then running its flow back to back:
 * a closed model of `workers` workers, as gauntlet's, for flows that loop without pauses.
 */
export function closedWorkersPhase(name: string, workers: number): TrafficPhase {
  return { name, durationSec: 1, arrivalCount: Math.max(1, workers) };
}

/**
 * A phase keeping about `users` virtual users active at once, each paced for `pacedRequests` requests
 * (READ_PACING_SEC apart): Artillery's stand-in for gauntlet's closed model of `users` workers. It is
 * not one: its users pause between requests, so fewer than `users` requests are in flight at once.
 */
export function concurrentUsersPhase(name: string, users: number, pacedRequests: number, options: { durationSec: number } | { vus: number }): TrafficPhase {
  const lifetimeSec = Math.max(READ_PACING_SEC, pacedRequests * READ_PACING_SEC);
  if ('durationSec' in options) return { name, durationSec: options.durationSec, arrivalRate: users / lifetimeSec };
  return { name, durationSec: Math.max(1, Math.ceil((options.vus * lifetimeSec) / users)), arrivalCount: options.vus };
}
