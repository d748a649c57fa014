/**
 * A Transport that tells the scenario what each request of an open-model run got back, by request
 * index: status, chosen headers, when it ended, and the JSON body where the scenario asks for it (an
 * acknowledged write's ID, to read it back later). The generators keep only aggregates; the
 * reliability oracles judge single answers (was this refusal a 503 with Retry-After? was this
 * acknowledged transfer kept?) against when the request was due.
 */
import { createPoolTransport } from '../../src/load/index.ts';
import type { ExchangeHandler, PoolTransportOptions, RequestSpec, Transport } from '../../src/load/index.ts';
import { pickHeaders } from './query-header-tap.ts';

/** Largest body kept per answer: acknowledgements are small JSON documents. */
export const MAX_TAPPED_BODY_BYTES = 16 * 1024;

export interface TappedAnswer {
  /** 0 when no response came (timeout, reset, refused). */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON when the scenario asked for this answer's body and it parsed; null otherwise. */
  readonly body: unknown;
  /** When it ended, on the tap's clock. */
  readonly doneMs: number;
  /** What ended a request without a response. */
  readonly error: string | null;
}

export interface AnswerTapOptions {
  readonly headers: readonly string[];
  /** Whether to keep the body of this answer. */
  readonly keepBody: (index: number, status: number) => boolean;
  readonly now: () => number;
}

/** Requests built for a run, each a distinct object, so an answer finds its index. */
export class TappedRequests {
  readonly #index = new Map<RequestSpec, number>();
  readonly #answers = new Map<number, TappedAnswer>();

  /** Registers `spec` as request `index` (call from the run's request factory) and returns it. */
  track(index: number, spec: RequestSpec): RequestSpec {
    this.#index.set(spec, index);
    return spec;
  }

  /** Every answer so far, by index. */
  get answers(): ReadonlyMap<number, TappedAnswer> {
    return this.#answers;
  }

  /** A pool transport to `origin` that records the answer of every tracked request. */
  transport(origin: string, pool: PoolTransportOptions, options: AnswerTapOptions): Transport {
    const inner = createPoolTransport(origin, pool);
    const wanted = options.headers.map((h) => h.toLowerCase());
    return {
      dispatch: (spec, handler, lane) => {
        const index = this.#index.get(spec);
        if (index === undefined) {
          inner.dispatch(spec, handler, lane);
          return;
        }
        this.#index.delete(spec);
        inner.dispatch(spec, tapping(handler, index, wanted, options, (answer) => this.#answers.set(index, answer)), lane);
      },
      connectedSockets: () => inner.connectedSockets(),
      close: () => inner.close(),
      destroy: () => inner.destroy(),
    };
  }
}

function tapping(
  handler: ExchangeHandler,
  index: number,
  wanted: readonly string[],
  options: AnswerTapOptions,
  done: (answer: TappedAnswer) => void,
): ExchangeHandler {
  let status = 0;
  let headers: Record<string, string> = {};
  let chunks: Buffer[] | null = null;
  let size = 0;
  return {
    onConnect: (abort) => handler.onConnect(abort),
    onHeaders(statusCode, rawHeaders, resume, statusText) {
      status = statusCode;
      headers = pickHeaders(rawHeaders, wanted);
      chunks = options.keepBody(index, statusCode) ? [] : null;
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
      done({ status, headers, body: chunks === null ? null : parse(Buffer.concat(chunks)), doneMs: options.now(), error: null });
      handler.onComplete(trailers);
    },
    onError(error) {
      // A response whose body failed counts as no response, as the generator counts it.
      done({ status: 0, headers: {}, body: null, doneMs: options.now(), error: error.message });
      handler.onError(error);
    },
  };
}

function parse(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    // Not JSON: the oracle sees no body and says the acknowledgement carried no ID.
    return null;
  }
}
