/** A small JSON-over-HTTP client for fixtures and oracles (not for load: the generators are for that). */
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { LOAD_DEFAULTS } from '../load/defaults.ts';
import { classifyError } from '../load/errors.ts';
import type { ErrorKind } from '../load/errors.ts';
import { undiciMaxResponseSize } from '../load/transport.ts';
import { rememberSecret } from '../results/redact.ts';

/** Connections per origin for fixture and oracle traffic. */
export const JSON_CLIENT_CONNECTIONS = 32;
/** A fixture or oracle request that takes longer than this has failed. */
export const JSON_CLIENT_TIMEOUT_MS = 30_000;
/** Longest part of the body quoted in an error message. */
const QUOTED_BODY_CHARS = 120;

/**
 * Why a JSON request failed: the transport's kinds (refused, reset, timeout, protocol, body-too-large
 * past LOAD_DEFAULTS.maxBodyBytes, ...), or a body that is not JSON: `bad-content-type` when the
 * response says it is something else (an HTML error page from a proxy), `bad-json` when it says JSON
 * and does not parse.
 */
export type JsonClientErrorKind = ErrorKind | 'bad-content-type' | 'bad-json';

/** A request that got no usable JSON answer; `kind` says why, the message names the request. */
export class JsonClientError extends Error {
  override readonly name = 'JsonClientError';
  readonly kind: JsonClientErrorKind;
  /** The HTTP status, when a response came (bad-content-type, bad-json). */
  readonly status: number | null;

  constructor(kind: JsonClientErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status ?? null;
  }
}

export interface JsonClientOptions {
  /** Cancels every request (the scenario's signal). */
  readonly signal?: AbortSignal;
  readonly connections?: number;
  /** Whole-request timeout (JSON_CLIENT_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** Body size limit, enforced while the body streams (LOAD_DEFAULTS.maxBodyBytes). */
  readonly maxBodyBytes?: number;
}

export interface JsonRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly path: string;
  /** A bearer token; never logged. */
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Another origin than the client's (e.g. one instance behind the balancer). */
  readonly origin?: string;
}

export interface JsonResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON; '' when the response had no body. */
  readonly body: unknown;
  readonly instanceId: string | null;
}

export class JsonClient {
  readonly #agent: Agent;
  readonly #origin: string;
  readonly #signal: AbortSignal | undefined;
  readonly #timeoutMs: number;
  readonly #maxBodyBytes: number;
  #requests = 0;
  #errors = 0;

  constructor(origin: string, options: JsonClientOptions = {}) {
    this.#origin = origin;
    this.#signal = options.signal;
    this.#timeoutMs = options.timeoutMs ?? JSON_CLIENT_TIMEOUT_MS;
    this.#maxBodyBytes = options.maxBodyBytes ?? LOAD_DEFAULTS.maxBodyBytes;
    this.#agent = new Agent({
      connections: options.connections ?? JSON_CLIENT_CONNECTIONS,
      pipelining: 1,
      maxResponseSize: undiciMaxResponseSize(this.#maxBodyBytes),
    });
  }

  get origin(): string {
    return this.#origin;
  }

  /** Requests sent and requests that failed (no response, or a 5xx) so far: for progress lines. */
  get counts(): { requests: number; errors: number } {
    return { requests: this.#requests, errors: this.#errors };
  }

  /**
   * Sends one request. Every HTTP status with a JSON (or empty) body resolves; anything else rejects
   * with a JsonClientError whose `kind` says what went wrong.
   */
  async send(req: JsonRequest): Promise<JsonResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (req.token !== undefined) {
      rememberSecret(req.token);
      headers.authorization = `Bearer ${req.token}`;
    }
    let body: string | null = null;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    this.#requests += 1;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = this.#signal === undefined ? timeout : AbortSignal.any([this.#signal, timeout]);
    const what = `${req.method} ${req.path}`;
    try {
      const res = await request(new URL(req.path, req.origin ?? this.#origin), {
        dispatcher: this.#agent,
        method: req.method,
        headers,
        body,
        signal,
      });
      const flat = flattenHeaders(res.headers);
      const parsed = parseBody(what, res.statusCode, await res.body.text(), flat['content-type']);
      rememberHandedOutToken(parsed);
      if (res.statusCode >= 500) this.#errors += 1;
      return { status: res.statusCode, headers: flat, body: parsed, instanceId: flat['x-instance-id'] ?? null };
    } catch (error) {
      this.#errors += 1;
      if (error instanceof JsonClientError) throw error;
      // undici rejects with the signal's reason, which names neither: the signals say whose deadline it was.
      const kind = timeout.aborted ? 'timeout' : this.#signal?.aborted === true ? 'aborted' : classifyError(error);
      const message = error instanceof Error ? error.message : String(error);
      const detail = kind === 'timeout' && timeout.aborted ? ` after ${this.#timeoutMs} ms` : kind === 'body-too-large' ? ` past ${this.#maxBodyBytes} bytes` : '';
      throw new JsonClientError(kind, `${what} failed (${kind}${detail}): ${message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** A target hands tokens out as `{"token": ...}` (POST /users): remembered, so they are redacted wherever they show up later. */
function rememberHandedOutToken(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const token: unknown = (body as { token?: unknown }).token;
  if (typeof token === 'string') rememberSecret(token);
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function parseBody(what: string, status: number, text: string, contentType: string | undefined): unknown {
  if (text === '') return text;
  if (contentType?.toLowerCase().includes('json') !== true) {
    throw new JsonClientError('bad-content-type', `${what} answered ${status} with content-type '${contentType ?? 'none'}', not JSON: ${quote(text)}`, { status });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new JsonClientError('bad-json', `${what} answered ${status} with a body labelled JSON that does not parse (${reason}): ${quote(text)}`, { status });
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTED_BODY_CHARS ? `${text.slice(0, QUOTED_BODY_CHARS)}...` : text);
}
