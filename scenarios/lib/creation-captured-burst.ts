/**
 * A burst that also keeps each request's answer (status and JSON body) by request index: the
 * generators record only aggregates, and these scenarios must know which request won a race and
 * what the service said (an invitation ID to accept, `family_limit` vs another 409).
 */
import { createPoolTransport, SATURATION_BOUNDS } from '../../src/load/index.ts';
import type { BurstResult, ExchangeHandler, RequestSpec, SaturationBounds, Transport } from '../../src/load/index.ts';
import type { ScenarioContext } from '../../src/scenario/context-types.ts';
import type { LatencyStat } from '../../src/scenario/latency-metrics.ts';

/** What the burst scenarios report of a burst's latency: the tail matters, so the slowest answer too. */
export const BURST_LATENCY_STATS: readonly LatencyStat[] = ['p50', 'p95', 'p99', 'max'];

/** Harmless request that opens each connection before the barrier (public, not rate limited). */
export const CAPTURE_WARMUP_REQUEST: RequestSpec = { method: 'GET', path: '/healthz' };
/** Per-request timeout of a captured burst: a SQLite write queue of a thousand requests takes seconds. */
export const CAPTURE_TIMEOUT_MS = 30_000;

/**
 * Self-check bounds of a captured burst. Releasing a thousand requests is one synchronous loop of
 * writes (its length is the send spread the result reports), so the generator's event loop is busy
 * for that long by design; past this bound the generator itself was the bottleneck.
 */
export const CAPTURE_SATURATION_BOUNDS: SaturationBounds = { ...SATURATION_BOUNDS, maxEventLoopDelayP99Ms: 250 };

/** What one request of the burst got back. */
export type CapturedAnswer =
  | { readonly kind: 'response'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'failed'; readonly error: string };

export interface CapturedBurst {
  readonly result: BurstResult;
  /** By request index; every index of the burst has an answer. */
  readonly answers: readonly CapturedAnswer[];
}

/** Runs `ctx.load`'s burst generator over a transport that keeps each answer; `requests[i]` is the i-th request. */
export async function capturedBurst(ctx: ScenarioContext, requests: readonly RequestSpec[]): Promise<CapturedBurst> {
  const size = requests.length;
  const index = new Map<RequestSpec, number>(requests.map((spec, i) => [spec, i]));
  const answers: (CapturedAnswer | undefined)[] = new Array<CapturedAnswer | undefined>(size).fill(undefined);
  const inner = createPoolTransport(ctx.target.url, { connections: size, pipelining: 1, timeoutMs: CAPTURE_TIMEOUT_MS });
  const transport: Transport = {
    dispatch(spec, handler, lane) {
      const i = index.get(spec);
      inner.dispatch(spec, i === undefined ? handler : capturing(handler, (answer) => (answers[i] = answer)), lane);
    },
    connectedSockets: () => inner.connectedSockets(),
    close: () => inner.close(),
    destroy: () => inner.destroy(),
  };
  try {
    const result = await ctx.load.burst({
      target: transport,
      size,
      request: (i) => requests[i] ?? failMissing(i),
      warmupRequest: CAPTURE_WARMUP_REQUEST,
      timeoutMs: CAPTURE_TIMEOUT_MS,
      // A burst waits for its answers at most its drain timeout: as long as one request may take.
      drainTimeoutMs: CAPTURE_TIMEOUT_MS,
      saturationBounds: CAPTURE_SATURATION_BOUNDS,
    });
    return {
      result,
      answers: answers.map((a) => a ?? { kind: 'failed', error: 'no answer (aborted before it was sent)' }),
    };
  } finally {
    await (ctx.signal.aborted ? inner.destroy() : inner.close());
  }
}

/** A JSON request with a bearer token, built once per index (the spec object is the index's key). */
export function jsonRequest(method: 'POST' | 'GET', path: string, token: string, body?: unknown): RequestSpec {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (body === undefined) return { method, path, headers };
  headers['content-type'] = 'application/json';
  return { method, path, headers, body: JSON.stringify(body) };
}

/** The `error.code` of an error reply, or null. */
export function errorCode(answer: CapturedAnswer): string | null {
  if (answer.kind !== 'response' || typeof answer.body !== 'object' || answer.body === null) return null;
  const error = (answer.body as { error?: { code?: unknown } }).error;
  return typeof error?.code === 'string' ? error.code : null;
}

/** `status` or `status code` (e.g. `409 family_limit`), or the transport error: for tallies and evidence. */
export function describeAnswer(answer: CapturedAnswer): string {
  if (answer.kind === 'failed') return `failed: ${answer.error}`;
  const code = errorCode(answer);
  return code === null ? String(answer.status) : `${answer.status} ${code}`;
}

function capturing(handler: ExchangeHandler, done: (answer: CapturedAnswer) => void): ExchangeHandler {
  let status = 0;
  const chunks: Buffer[] = [];
  return {
    onConnect: (abort) => handler.onConnect(abort),
    onHeaders(statusCode, rawHeaders, resume, statusText) {
      status = statusCode;
      return handler.onHeaders(statusCode, rawHeaders, resume, statusText);
    },
    onData(chunk) {
      chunks.push(chunk);
      return handler.onData(chunk);
    },
    onComplete(trailers) {
      done({ kind: 'response', status, body: parseJson(Buffer.concat(chunks).toString('utf8')) });
      handler.onComplete(trailers);
    },
    onError(error) {
      done({ kind: 'failed', error: error.message });
      handler.onError(error);
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON: the oracle gets the text and reports it as an unexpected answer.
    return text;
  }
}

function failMissing(i: number): never {
  throw new Error(`captured burst: no request built for index ${i}`);
}
