/**
 * The one answer tap of the reliability scenarios: a Transport that tells the scenario what each
 * tracked request of a run got back: status, chosen headers, what ended it without a response, when
 * it was handed to the client and when it ended, and its body (capped, parsed as JSON) where the
 * scenario asks for it. The generators keep only aggregates; the reliability oracles judge single
 * answers (was this refusal a 503 with Retry-After? was this acknowledged write kept?). db-stall
 * reads it by request index (TappedRequests); instance-failure by planned operation
 * (failover-capture.ts, an adapter); the header-only scenarios by request spec (tapHeaders in
 * query-header-tap.ts, an adapter over tapExchange).
 */
import { createPoolTransport } from '../../src/load/index.ts';
import type { ExchangeHandler, PoolTransportOptions, RequestSpec, Transport } from '../../src/load/index.ts';

/** Largest body kept per answer: acknowledgements and error answers are small JSON documents; past it no body is kept. */
export const MAX_TAPPED_BODY_BYTES = 16 * 1024;

/** What one tracked request got, `key` being what the scenario tracked it as. */
export interface TapRecord<K> {
  readonly key: K;
  /** 0 when no complete response came (timeout, reset, refused, a body cut off). */
  readonly status: number;
  /** The wanted headers of the response, if its headers came (also when its body then failed). */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed body where asked for (see AnswerTapOptions.parseBody), or null. */
  readonly body: unknown;
  /** When it was handed to the client and when it ended, on the tap's clock. */
  readonly dispatchedMs: number;
  readonly doneMs: number;
  /** What ended it without a response; null when one came. */
  readonly error: Error | null;
}

export interface AnswerTapOptions<K> {
  /** Response headers to keep (any case). */
  readonly headers: readonly string[];
  /** Whether to keep the body of this answer (asked once its status is known). */
  readonly keepBody: (key: K, status: number) => boolean;
  /** Turns a kept body into what the scenario reads; default: its JSON, or null when it is empty or not JSON. */
  readonly parseBody?: (text: string) => unknown;
  readonly now: () => number;
  readonly onAnswer: (record: TapRecord<K>) => void;
}

/** A pool transport that reports every tracked request's answer; untracked requests pass through untouched. */
export interface AnswerTap<K> {
  /** Registers `spec` (a distinct object per request: it is found by identity) as `key`, and returns it. */
  track(key: K, spec: RequestSpec): RequestSpec;
  readonly transport: Transport;
}

export function createAnswerTap<K>(origin: string, pool: PoolTransportOptions, options: AnswerTapOptions<K>): AnswerTap<K> {
  const inner = createPoolTransport(origin, pool);
  const wanted = options.headers.map((h) => h.toLowerCase());
  const parse = options.parseBody ?? parseJsonOrNull;
  const pending = new Map<RequestSpec, K>();
  return {
    track(key, spec) {
      pending.set(spec, key);
      return spec;
    },
    transport: {
      dispatch(spec, handler, lane) {
        if (!pending.has(spec)) {
          inner.dispatch(spec, handler, lane);
          return;
        }
        const key = pending.get(spec) as K;
        pending.delete(spec);
        inner.dispatch(spec, tapExchange(key, handler, wanted, options, parse), lane);
      },
      connectedSockets: () => inner.connectedSockets(),
      close: () => inner.close(),
      destroy: () => inner.destroy(),
    },
  };
}

/** The values of `wanted` (lower-case) among undici's raw header buffers (name, value, name, value, ...); repeated headers joined by ', '. */
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

/**
 * `handler` with its exchange reported to `options.onAnswer` as `key`'s record (before the generator
 * sees its end); `wanted` header names are lower-case. The hot path allocates one small handler per
 * request and scans the raw headers once; bodies are buffered only where `keepBody` asks.
 */
export function tapExchange<K>(
  key: K, handler: ExchangeHandler, wanted: readonly string[], options: Pick<AnswerTapOptions<K>, 'keepBody' | 'now' | 'onAnswer'>, parse: (text: string) => unknown,
): ExchangeHandler {
  const dispatchedMs = options.now();
  let status = 0;
  let headers: Record<string, string> = {};
  let chunks: Buffer[] | null = null;
  let size = 0;
  return {
    onConnect: (abort) => handler.onConnect(abort),
    onHeaders(statusCode, rawHeaders, resume, statusText) {
      status = statusCode;
      headers = pickHeaders(rawHeaders, wanted);
      chunks = options.keepBody(key, statusCode) ? [] : null;
      return handler.onHeaders(statusCode, rawHeaders, resume, statusText);
    },
    onData(chunk) {
      if (chunks !== null) {
        size += chunk.length;
        if (size <= MAX_TAPPED_BODY_BYTES) chunks.push(chunk);
        else chunks = null;
      }
      return handler.onData(chunk);
    },
    onComplete(trailers) {
      const body = chunks === null ? null : parse(Buffer.concat(chunks).toString('utf8'));
      options.onAnswer({ key, status, headers, body, dispatchedMs, doneMs: options.now(), error: null });
      handler.onComplete(trailers);
    },
    onError(error) {
      // A response whose body failed counts as no response, as the generator counts it.
      options.onAnswer({ key, status: 0, headers, body: null, dispatchedMs, doneMs: options.now(), error });
      handler.onError(error);
    },
  };
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON (or empty): the oracle sees no body and says the acknowledgement carried no ID.
    return null;
  }
}

/** db-stall's view: one answer per request index. */
export interface TappedAnswer {
  /** 0 when no response came (timeout, reset, refused). */
  readonly status: number;
  /** The wanted headers; empty when no response came. */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON when the scenario asked for this answer's body and it parsed; null otherwise. */
  readonly body: unknown;
  /** When it ended, on the tap's clock. */
  readonly doneMs: number;
  /** What ended a request without a response. */
  readonly error: string | null;
}

export interface TappedRequestsOptions {
  readonly headers: readonly string[];
  /** Whether to keep the body of this answer. */
  readonly keepBody: (index: number, status: number) => boolean;
  readonly now: () => number;
}

/** Requests built for a run, tracked by index, each a distinct object, so an answer finds its index. */
export class TappedRequests {
  readonly #answers = new Map<number, TappedAnswer>();
  #tap: AnswerTap<number> | null = null;

  /** Registers `spec` as request `index` (call from the run's request factory, after transport()) and returns it. */
  track(index: number, spec: RequestSpec): RequestSpec {
    if (this.#tap === null) throw new Error('scenario bug: TappedRequests.track before transport()');
    return this.#tap.track(index, spec);
  }

  /** Every answer so far, by index. */
  get answers(): ReadonlyMap<number, TappedAnswer> {
    return this.#answers;
  }

  /** A pool transport to `origin` that records the answer of every tracked request. */
  transport(origin: string, pool: PoolTransportOptions, options: TappedRequestsOptions): Transport {
    this.#tap = createAnswerTap<number>(origin, pool, {
      headers: options.headers,
      keepBody: options.keepBody,
      now: options.now,
      onAnswer: (r) => {
        this.#answers.set(r.key, { status: r.status, headers: r.error === null ? r.headers : {}, body: r.body, doneMs: r.doneMs, error: r.error?.message ?? null });
      },
    });
    return this.#tap.transport;
  }
}
