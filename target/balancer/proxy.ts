/** The balancer's HTTP server: a streaming reverse proxy over one keep-alive undici Pool per backend. */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Pool } from 'undici';
import type { BalancerOptions } from '../deployment/protocol.ts';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import { createStrategy } from './strategy.ts';
import type { Strategy } from './strategy.ts';

/** Waiting this long for a backend's response headers (or between body chunks) answers 502. */
export const BALANCER_UPSTREAM_TIMEOUT_MS = 60_000;
/** Extra attempts on another backend for an idempotent, bodiless request whose connection failed. */
export const BALANCER_IDEMPOTENT_RETRIES = 1;
export const BALANCER_STATS_PATH = '/_balancer/stats';

/** Methods safe to send twice (RFC 9110 §9.2.2) that carry no body here; POST and PATCH never qualify. */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Failures where the backend cannot have acted on the request, so retrying an idempotent one is safe. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

export interface BackendStats {
  readonly instanceId: string;
  readonly url: string;
  readonly active: boolean;
  readonly inFlight: number;
  /** Requests sent to this backend (retries count again). */
  readonly total: number;
  /** Requests to this backend that failed before or during the response. */
  readonly errors: number;
}

export interface BalancerStats {
  readonly strategy: BalancerOptions['strategy'];
  readonly backends: readonly BackendStats[];
}

/** A running balancer: the server (not yet listening) plus control over its backends. */
export interface Balancer {
  readonly server: Server;
  stats(): BalancerStats;
  /** Takes a backend out of rotation; false when no backend has that ID. */
  removeBackend(instanceId: string): boolean;
  /** Closes the upstream pools; call after the server stopped accepting. */
  closePools(): Promise<void>;
}

interface Backend {
  readonly instanceId: string;
  readonly url: string;
  readonly pool: Pool;
  total: number;
  errors: number;
}

/** Builds the balancer for `options.backends` with `options.strategy`; `listen` is the caller's. */
export function createBalancer(options: Pick<BalancerOptions, 'strategy' | 'backends'>): Balancer {
  const backends: Backend[] = options.backends.map((b) => ({
    instanceId: b.instanceId,
    url: b.url,
    pool: new Pool(b.url, {
      headersTimeout: BALANCER_UPSTREAM_TIMEOUT_MS,
      bodyTimeout: BALANCER_UPSTREAM_TIMEOUT_MS,
    }),
    total: 0,
    errors: 0,
  }));
  const strategy = createStrategy(options.strategy, backends.length);

  const stats = (): BalancerStats => ({
    strategy: options.strategy,
    backends: backends.map((b, i) => ({
      instanceId: b.instanceId,
      url: b.url,
      active: strategy.isActive(i),
      inFlight: strategy.inFlight(i),
      total: b.total,
      errors: b.errors,
    })),
  });

  const server = createServer((req, res) => {
    if (req.url === BALANCER_STATS_PATH && req.method === 'GET') {
      sendJson(res, 200, stats());
      return;
    }
    forward(req, res, backends, strategy, 0);
  });

  return {
    server,
    stats,
    removeBackend(instanceId) {
      const index = backends.findIndex((b) => b.instanceId === instanceId);
      if (index === -1) return false;
      strategy.remove(index);
      return true;
    },
    async closePools() {
      await Promise.all(backends.map((b) => b.pool.close()));
    },
  };
}

function forward(req: IncomingMessage, res: ServerResponse, backends: Backend[], strategy: Strategy, attempt: number): void {
  const index = strategy.acquire();
  const backend = backends[index];
  if (backend === undefined) {
    sendError(res, 503, 'no_backend', 'the balancer has no backend left in rotation; restart the deployment');
    return;
  }
  backend.total += 1;
  const method = req.method ?? 'GET';
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  let responded = false;
  backend.pool
    .stream(
      {
        path: req.url ?? '/',
        method,
        headers: upstreamRequestHeaders(req.headers, req.socket.remoteAddress),
        body: hasBody ? req : null,
      },
      ({ statusCode, headers }) => {
        responded = true;
        res.writeHead(statusCode, downstreamResponseHeaders(headers));
        return res;
      },
    )
    .then(
      () => {
        strategy.release(index);
      },
      (error: unknown) => {
        strategy.release(index);
        backend.errors += 1;
        if (responded || res.headersSent) {
          // The status line already went out: all that is left is to cut the connection.
          res.destroy();
          return;
        }
        const code = errorCode(error);
        const retryable = !hasBody && RETRYABLE_METHODS.has(method) && CONNECTION_ERRORS.has(code);
        if (retryable && attempt < BALANCER_IDEMPOTENT_RETRIES && !res.destroyed) {
          forward(req, res, backends, strategy, attempt + 1);
          return;
        }
        sendError(
          res,
          502,
          'bad_gateway',
          `backend ${backend.instanceId} at ${backend.url} failed (${code}); check that instance's log or restart the deployment`,
        );
      },
    );
}

function errorCode(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return 'unknown error';
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
