/**
 * A Transport that hands chosen response headers to the scenario: the generators keep only
 * aggregates (status counts, latency), while these scenarios must read `Server-Timing` and `x-cache`
 * of every response. The raw header buffers are scanned once per response, and only the wanted
 * names are decoded, so the hot path stays an allocation of one small handler per request.
 */
import { createPoolTransport } from '../../src/load/index.ts';
import type { ExchangeHandler, PoolTransportOptions, RequestSpec, Transport } from '../../src/load/index.ts';

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
  return {
    dispatch(spec, handler, lane) {
      inner.dispatch(spec, tapping(spec, handler, wanted, listener), lane);
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

/** The values of `wanted` among undici's raw header buffers (name, value, name, value, ...). */
export function pickHeaders(rawHeaders: readonly Buffer[], wanted: readonly string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const key = rawHeaders[i];
    if (key === undefined) continue;
    for (const name of wanted) {
      if (key.length === name.length && key.toString('latin1').toLowerCase() === name) {
        const value = rawHeaders[i + 1]?.toString('latin1') ?? '';
        const before = found[name];
        found[name] = before === undefined ? value : `${before}, ${value}`;
        break;
      }
    }
  }
  return found;
}

function tapping(spec: RequestSpec, handler: ExchangeHandler, wanted: readonly string[], listener: HeaderListener): ExchangeHandler {
  let response: TappedResponse | null = null;
  return {
    onConnect: (abort) => handler.onConnect(abort),
    onHeaders(statusCode, rawHeaders, resume, statusText) {
      response = { status: statusCode, headers: pickHeaders(rawHeaders, wanted) };
      return handler.onHeaders(statusCode, rawHeaders, resume, statusText);
    },
    onData: (chunk) => handler.onData(chunk),
    onComplete(trailers) {
      // Reported on completion, not on headers: a response whose body then fails is a failure, as the generator counts it.
      if (response === null) listener.onFailure(spec, new Error('completed without headers'));
      else listener.onResponse(spec, response);
      handler.onComplete(trailers);
    },
    onError(error) {
      listener.onFailure(spec, error);
      handler.onError(error);
    },
  };
}
