/**
 * Steps of the family API for Artillery flows (src/artillery/traffic.ts): each virtual user signs up
 * through POST /users and sends its token on every later request, as the service requires.
 */
import type { TrafficStep } from '../../src/artillery/traffic.ts';

/** Variable names the steps share. */
export const VARS = { username: 'username', token: 'token', familyId: 'familyId', familyName: 'familyName' } as const;

/**
 * Requests one virtual user spreads its reads over, and the pause between them: Artillery sends a
 * flow's requests back to back otherwise, and a per-VU burst is not the steady rate asked for.
 */
export const READS_PER_VU = 10;
export const READ_PACING_SEC = 0.1;

/** A new user with a unique username; its token is captured into `{{ token }}`. */
export function signUp(prefix: string): TrafficStep[] {
  return [
    { kind: 'vary', variable: VARS.username, rule: { kind: 'unique', prefix } },
    { kind: 'request', name: 'POST /users', method: 'POST', url: '/users', json: { username: `{{ ${VARS.username} }}` }, capture: { [VARS.token]: '$.token' }, expect: [201] },
  ];
}

/** POST /families as the signed-up user; `captureId` keeps the new family's id in `{{ familyId }}`. */
export function createFamily(options: { name: string; requestName?: string; captureId?: boolean; expect?: readonly number[] }): TrafficStep {
  return {
    kind: 'request',
    name: options.requestName ?? 'POST /families',
    method: 'POST',
    url: '/families',
    tokenVariable: VARS.token,
    json: { name: options.name },
    ...(options.captureId === true ? { capture: { [VARS.familyId]: '$.id' } } : {}),
    expect: options.expect ?? [201],
  };
}

/** GET /families/:id of the captured family (the instance's cache answers repeats). */
export function readFamily(headers?: Readonly<Record<string, string>>, requestName = 'GET /families/:id'): TrafficStep {
  return { kind: 'request', name: requestName, method: 'GET', url: `/families/{{ ${VARS.familyId} }}`, tokenVariable: VARS.token, ...(headers === undefined ? {} : { headers }), expect: [200] };
}

/** GET /me/families: the caller's families, a DB query every time. */
export function listOwnFamilies(): TrafficStep {
  return { kind: 'request', name: 'GET /me/families', method: 'GET', url: '/me/families', tokenVariable: VARS.token, expect: [200] };
}

/** `step` READS_PER_VU times, READ_PACING_SEC apart. */
export function pacedReads(steps: readonly TrafficStep[]): TrafficStep {
  const body = steps.flatMap((s): TrafficStep[] => [s, { kind: 'think', seconds: READ_PACING_SEC }]);
  return { kind: 'loop', count: Math.max(1, Math.round(READS_PER_VU / steps.length)), steps: body };
}
