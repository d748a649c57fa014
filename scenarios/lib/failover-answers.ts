/**
 * What one captured answer of the instance-failure run means: an error label for the tallies
 * (gauntlet's transport error kinds, or the HTTP status), the backend a balancer error names, and
 * for a write whether the service can have applied it. Pure.
 */
import type { CapturedAnswer } from './failover-capture.ts';

/**
 * - `acked`: 2xx; the write must be read back, once.
 * - `not-delivered`: no backend received it (the balancer's connect was refused, or no backend was left);
 *   it must not be read back.
 * - `in-doubt`: it may have reached a backend that then failed (a reset after sending); either way is right,
 *   but at most once.
 * - `conflict`: the service says the write was applied already (409 for a key sent once): it was delivered twice.
 * - `rejected`: the service refused it (any other non-2xx); it must not be read back.
 */
export type Delivery = 'acked' | 'not-delivered' | 'in-doubt' | 'conflict' | 'rejected';

/** Balancer causes that mean the request never reached the backend. */
const NOT_SENT_CAUSES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT']);
/** Service error codes that mean "this key was applied already". */
const ALREADY_APPLIED = new Set(['invitation_pending', 'already_member', 'username_taken']);

export interface ClassifiedAnswer {
  readonly ok: boolean;
  /** `502`, `503`, `4xx`, `5xx`, or a transport error kind (`refused`, `reset`, `timeout`, ...); null when ok. */
  readonly errorLabel: string | null;
  /** The error body's `error.code`, plus the balancer's cause when it gave one (`bad_gateway ECONNREFUSED`). */
  readonly errorDetail: string | null;
  /** The backend a balancer error names (`error.backend`). */
  readonly backend: string | null;
  readonly delivery: Delivery;
  /** The ID a 2xx write answered with. */
  readonly ackedId: string | null;
}

interface ErrorBody {
  readonly error?: { readonly code?: unknown; readonly backend?: unknown; readonly cause?: unknown };
  readonly id?: unknown;
}

export function classifyAnswer(answer: CapturedAnswer): ClassifiedAnswer {
  if (answer.status === null) {
    const kind = answer.errorKind ?? 'other';
    // The balancer itself refused the connection: nothing was forwarded. Anything else may have been.
    return { ok: false, errorLabel: kind, errorDetail: kind, backend: null, delivery: kind === 'refused' ? 'not-delivered' : 'in-doubt', ackedId: null };
  }
  const body = (typeof answer.body === 'object' && answer.body !== null ? answer.body : {}) as ErrorBody;
  const status = answer.status;
  if (status >= 200 && status < 300) {
    return { ok: true, errorLabel: null, errorDetail: null, backend: null, delivery: 'acked', ackedId: typeof body.id === 'string' ? body.id : null };
  }
  const code = typeof body.error?.code === 'string' ? body.error.code : null;
  const cause = typeof body.error?.cause === 'string' ? body.error.cause : null;
  const backend = typeof body.error?.backend === 'string' ? body.error.backend : null;
  const errorLabel = status === 502 || status === 503 ? String(status) : `${Math.floor(status / 100)}xx`;
  const errorDetail = [code ?? `status ${status}`, cause].filter((p) => p !== null).join(' ');
  let delivery: Delivery;
  if (code === 'bad_gateway') delivery = cause !== null && NOT_SENT_CAUSES.has(cause) ? 'not-delivered' : 'in-doubt';
  else if (code === 'no_backend') delivery = 'not-delivered';
  else if (status === 409 && code !== null && ALREADY_APPLIED.has(code)) delivery = 'conflict';
  else delivery = 'rejected';
  return { ok: false, errorLabel, errorDetail, backend, delivery, ackedId: null };
}
