/** A small JSON-over-HTTP client for fixtures and oracles (not for load: the generators are for that). */
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';

/** Connections per origin for fixture and oracle traffic. */
export const JSON_CLIENT_CONNECTIONS = 32;
/** A fixture or oracle request that takes longer than this has failed. */
export const JSON_CLIENT_TIMEOUT_MS = 30_000;
/** Response bodies above this are cut off with an error, so a misbehaving target cannot exhaust memory. */
export const JSON_CLIENT_MAX_BODY_BYTES = 8 * 1024 * 1024;

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
  /** Parsed JSON, or the text when the response was not JSON. */
  readonly body: unknown;
  readonly instanceId: string | null;
}

export class JsonClient {
  readonly #agent: Agent;
  readonly #origin: string;
  readonly #signal: AbortSignal | undefined;
  #requests = 0;
  #errors = 0;

  constructor(origin: string, options: { signal?: AbortSignal; connections?: number } = {}) {
    this.#origin = origin;
    this.#signal = options.signal;
    this.#agent = new Agent({ connections: options.connections ?? JSON_CLIENT_CONNECTIONS, pipelining: 1 });
  }

  get origin(): string {
    return this.#origin;
  }

  /** Requests sent and requests that failed (no response, or a 5xx) so far: for progress lines. */
  get counts(): { requests: number; errors: number } {
    return { requests: this.#requests, errors: this.#errors };
  }

  /** Sends one request; network failures reject, every HTTP status resolves. */
  async send(req: JsonRequest): Promise<JsonResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
    let body: string | null = null;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    this.#requests += 1;
    const signal = this.#signal === undefined ? AbortSignal.timeout(JSON_CLIENT_TIMEOUT_MS) : AbortSignal.any([this.#signal, AbortSignal.timeout(JSON_CLIENT_TIMEOUT_MS)]);
    try {
      const res = await request(new URL(req.path, req.origin ?? this.#origin), {
        dispatcher: this.#agent,
        method: req.method,
        headers,
        body,
        signal,
      });
      const flat = flattenHeaders(res.headers);
      const text = await readBounded(res.body);
      if (res.statusCode >= 500) this.#errors += 1;
      return { status: res.statusCode, headers: flat, body: parseBody(text, flat['content-type']), instanceId: flat['x-instance-id'] ?? null };
    } catch (error) {
      this.#errors += 1;
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

async function readBounded(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > JSON_CLIENT_MAX_BODY_BYTES) {
      body.destroy();
      throw new Error(`response body larger than ${JSON_CLIENT_MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '' || contentType?.includes('json') !== true) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A target that labels non-JSON as JSON: hand the oracle the raw text so it can say so.
    return text;
  }
}
