/** The routes of the family service API (the contract is issue 2 / the README). */
import type { IncomingHttpHeaders } from 'node:http';
import type { ServiceConfig } from '../config.ts';
import { DomainError, type Family, type User } from '../domain.ts';
import type { OpContext, Store } from '../store/store.ts';
import { hashToken, newToken } from './auth.ts';
import { stallEventLoop } from './faults.ts';
import type { FamilyCache } from './family-cache.ts';
import type { ServiceMetrics } from './metrics.ts';
import type { LimitedAction } from './rate-limiter.ts';
import {
  createUserBody,
  emptyBody,
  familyNameBody,
  invitationBody,
  parseId,
  parseIfMatch,
  stallBody,
  transferBody,
} from './schemas.ts';

export type Reply =
  | { readonly status: number; readonly json: unknown }
  | { readonly status: number; readonly text: string; readonly contentType: string };

export interface PublicCall {
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly op: OpContext;
  /** The parsed JSON body, `undefined` when there is none. */
  body(): Promise<unknown>;
  setHeader(name: string, value: string): void;
}

export interface UserCall extends PublicCall {
  readonly user: User;
}

interface RouteBase {
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly pattern: string;
}

export type RouteDef =
  | (RouteBase & { readonly access: 'public'; handle(call: PublicCall): Promise<Reply> })
  | (RouteBase & { readonly access: 'user'; readonly limit?: LimitedAction; handle(call: UserCall): Promise<Reply> });

export interface RouteDeps {
  readonly store: Store;
  readonly config: ServiceConfig;
  readonly cache: FamilyCache;
  readonly metrics: ServiceMetrics;
  readonly instanceId: string;
}

/** Every route of the service; `/_faults/*` only when fault injection is on. */
export function buildRoutes(deps: RouteDeps): RouteDef[] {
  const { store, config, cache, metrics } = deps;

  /** Runs a write and counts its transaction as committed or aborted. */
  const write = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      const result = await operation();
      metrics.transaction('committed');
      return result;
    } catch (error) {
      metrics.transaction('aborted');
      throw error;
    }
  };

  /** The family, read from the store, if `user` has `role` in it; `not_found` / `forbidden` otherwise. */
  const familyFor = async (call: UserCall, role: 'member' | 'admin'): Promise<Family> => {
    const familyId = parseId(call.params.id, 'the family ID');
    const family = await store.getFamily(familyId, call.op);
    return authorize(family, familyId, call.user, role);
  };

  const routes: RouteDef[] = [
    {
      method: 'POST',
      pattern: '/users',
      access: 'public',
      async handle(call) {
        const { username } = createUserBody.parse(await call.body());
        const token = newToken();
        const user = await write(() => store.createUser({ username, tokenHash: hashToken(token) }, call.op));
        return { status: 201, json: { id: user.id, username: user.username, token } };
      },
    },
    {
      method: 'GET',
      pattern: '/me',
      access: 'user',
      handle: ({ user }) => Promise.resolve({ status: 200, json: { id: user.id, username: user.username, balance: user.balance } }),
    },
    {
      method: 'GET',
      pattern: '/me/families',
      access: 'user',
      async handle(call) {
        return { status: 200, json: await store.listFamiliesOf(call.user.id, call.op) };
      },
    },
    {
      method: 'POST',
      pattern: '/families',
      access: 'user',
      limit: 'families',
      async handle(call) {
        const { name } = familyNameBody.parse(await call.body());
        const family = await write(() =>
          store.createFamily(
            { ownerId: call.user.id, name, familyLimit: config.familyLimit, initialBalance: config.initialBalance },
            call.op,
          ),
        );
        return familyReply(call, 201, family);
      },
    },
    {
      method: 'GET',
      pattern: '/families/:id',
      access: 'user',
      async handle(call) {
        const familyId = parseId(call.params.id, 'the family ID');
        const read = await cache.read(familyId, call.op);
        call.setHeader('x-cache', read.cache);
        return familyReply(call, 200, authorize(read.family, familyId, call.user, 'member'));
      },
    },
    {
      method: 'PATCH',
      pattern: '/families/:id',
      access: 'user',
      async handle(call) {
        const { name } = familyNameBody.parse(await call.body());
        const expectedVersion = parseIfMatch(call.headers['if-match']);
        const family = await familyFor(call, 'admin');
        const renamed = await write(() =>
          store.renameFamily(
            expectedVersion === undefined ? { familyId: family.id, name } : { familyId: family.id, name, expectedVersion },
            call.op,
          ),
        );
        cache.invalidate(family.id);
        return familyReply(call, 200, renamed);
      },
    },
    {
      method: 'POST',
      pattern: '/families/:id/invitations',
      access: 'user',
      limit: 'invitations',
      async handle(call) {
        const { username, role } = invitationBody.parse(await call.body());
        const family = await familyFor(call, 'admin');
        const invitee = await store.findUserByUsername(username, call.op);
        if (invitee === null) throw new DomainError('not_found', `no user named "${username}"; they must POST /users first`);
        const invitation = await write(() =>
          store.createInvitation({ familyId: family.id, inviteeId: invitee.id, invitedBy: call.user.id, role }, call.op),
        );
        return { status: 201, json: invitation };
      },
    },
    {
      method: 'GET',
      pattern: '/families/:id/invitations',
      access: 'user',
      async handle(call) {
        const family = await familyFor(call, 'admin');
        return { status: 200, json: await store.listInvitations(family.id, call.op) };
      },
    },
    answerRoute('accept', true),
    answerRoute('decline', false),
    {
      method: 'POST',
      pattern: '/families/:id/transfers',
      access: 'user',
      limit: 'transfers',
      async handle(call) {
        const { to, amount } = transferBody.parse(await call.body());
        const family = await familyFor(call, 'admin');
        const transfer = await write(() =>
          store.transfer({ familyId: family.id, toUserId: to, amount, byUserId: call.user.id }, call.op),
        );
        cache.invalidate(family.id);
        return { status: 201, json: transfer };
      },
    },
    {
      method: 'GET',
      pattern: '/families/:id/ledger',
      access: 'user',
      async handle(call) {
        const family = await familyFor(call, 'member');
        return { status: 200, json: await store.listLedger(family.id, call.op) };
      },
    },
    {
      method: 'GET',
      pattern: '/healthz',
      access: 'public',
      handle: () => Promise.resolve({ status: 200, json: { status: 'ok', instance: deps.instanceId, store: store.kind } }),
    },
    {
      method: 'GET',
      pattern: '/metrics',
      access: 'public',
      async handle() {
        return { status: 200, text: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
      },
    },
  ];
  if (config.faults) {
    routes.push({
      method: 'POST',
      pattern: '/_faults/stall',
      access: 'public',
      async handle(call) {
        const { ms } = stallBody.parse(await call.body());
        return { status: 200, json: { stalledMs: stallEventLoop(ms) } };
      },
    });
    routes.push({
      method: 'POST',
      pattern: '/_faults/db-stall',
      access: 'public',
      async handle(call) {
        const { ms } = stallBody.parse(await call.body());
        if (store.stall === undefined) throw new DomainError('invalid_request', `the ${store.kind} store has no stall fault`);
        const stall = await store.stall(ms);
        return { status: 200, json: { stalledMs: ms, store: store.kind, ...stall } };
      },
    });
  }
  return routes;

  function answerRoute(verb: 'accept' | 'decline', accept: boolean): RouteDef {
    return {
      method: 'POST',
      pattern: `/invitations/:id/${verb}`,
      access: 'user',
      async handle(call) {
        const invitationId = parseId(call.params.id, 'the invitation ID');
        emptyBody.parse(await call.body());
        const invitation = await write(() => store.answerInvitation({ invitationId, userId: call.user.id, accept }, call.op));
        if (accept) cache.invalidate(invitation.familyId);
        return { status: 200, json: invitation };
      },
    };
  }
}

function authorize(family: Family | null, familyId: string, user: User, role: 'member' | 'admin'): Family {
  if (family === null) throw new DomainError('not_found', `no family ${familyId}`);
  const allowed = role === 'admin' ? family.admins : family.members;
  if (!allowed.includes(user.id)) {
    throw new DomainError('forbidden', `only ${role}s of family ${familyId} may do this`);
  }
  return family;
}

function familyReply(call: PublicCall, status: number, family: Family): Reply {
  call.setHeader('ETag', `"${family.version}"`);
  return { status, json: family };
}
