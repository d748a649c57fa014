/**
 * A Transport that hands chosen response headers to the scenario: the generators keep only
 * aggregates (status counts, latency), while these scenarios must read `Server-Timing` and `x-cache`
 * of every response. An adapter of the one answer tap (answer-tap.ts): no body is kept and no clock
 * read, so the hot path stays an allocation of one small handler per request.
 */
import { createPoolTransport } from '../../src/load/index.ts';
import type { PoolTransportOptions, RequestSpec, Transport } from '../../src/load/index.ts';
import { pickHeaders, tapExchange } from './answer-tap.ts';
import type { TapRecord } from './answer-tap.ts';

export { pickHeaders };

/** What one response said: status and the wanted headers (lower-case names; repeated headers joined by ', '). */
export interface TappedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** Called once per request: with the response's headers, or with the error that ended it. */
export interface HeaderListener {
  onResponse(spec: RequestSpec, response: TappedResponse): void;
  onFailure(spec: RequestSpec, error: Error): void;
}

/** `inner` with every response's `names` headers handed to `listener` before the generator sees the response. */
export function tapHeaders(inner: Transport, names: readonly string[], listener: HeaderListener): Transport {
  const wanted = names.map((n) => n.toLowerCase());
  const options = {
    keepBody: () => false,
    now: () => 0,
    onAnswer(r: TapRecord<RequestSpec>) {
      // Reported on completion, not on headers: a response whose body then fails is a failure, as the generator counts it.
      if (r.error !== null) listener.onFailure(r.key, r.error);
      else if (r.status === 0) listener.onFailure(r.key, new Error('completed without headers'));
      else listener.onResponse(r.key, { status: r.status, headers: r.headers });
    },
  };
  return {
    dispatch(spec, handler, lane) {
      inner.dispatch(spec, tapExchange(spec, handler, wanted, options, noBody), lane);
    },
    connectedSockets: () => inner.connectedSockets(),
    close: () => inner.close(),
    destroy: () => inner.destroy(),
  };
}

/** A pool transport for `origin` with the header tap in front. */
export function tappedPool(origin: string, options: PoolTransportOptions, names: readonly string[], listener: HeaderListener): Transport {
  return tapHeaders(createPoolTransport(origin, options), names, listener);
}

function noBody(): null {
  return null;
}
