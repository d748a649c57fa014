/**
 * The balancer's HTTP server: a streaming reverse proxy over one keep-alive undici Pool per backend.
 * A backend whose connection fails is ejected at once (passive health checking); the health probe
 * re-admits it when its health route answers again.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Pool } from 'undici';
import type { BalancerOptions } from '../deployment/protocol.ts';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import { BALANCER_PROBE_INTERVAL_MS, createHealthProbe } from './health-probe.ts';
import { createStrategy } from './strategy.ts';
import type { Strategy } from './strategy.ts';

/** Waiting this long for a backend's response headers (or between body chunks) answers 502. */
export const BALANCER_UPSTREAM_TIMEOUT_MS = 60_000;
/** Extra attempts on another backend for an idempotent, bodiless request whose connection failed. */
export const BALANCER_IDEMPOTENT_RETRIES = 1;
export const BALANCER_STATS_PATH = '/_balancer/stats';
/**
 * Retry-After (s) of the balancer's 503 no_backend, as every other 503 of the target carries one: the
 * backends were all removed, and one comes back when it is restarted, which takes about a second.
 */
export const NO_BACKEND_RETRY_AFTER_S = 1;

/** Methods safe to send twice (RFC 9110 §9.2.2) that carry no body here; POST and PATCH never qualify. */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Failures of the connection itself: the backend is down or went down (it is ejected), and retrying an idempotent request is safe. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Deliberate misbehaviour, for the tests that prove the instance-failure scenario's checks can fail.
 * Only createBalancer's caller can set it: neither the CLI nor the balancer process reads it.
 */
export interface BalancerFaults {
  /** Keep a failing backend in rotation (no passive ejection). */
  readonly neverEject?: boolean;
  /** Retry every failed request once on another backend, POSTs included and also after the backend received it. */
  readonly retryAfterSend?: boolean;
}

/** How a balancer behaves beyond its options: the probe interval (tests shorten it) and faults. */
export interface BalancerBehaviour {
  readonly probeIntervalMs?: number;
  readonly faults?: BalancerFaults;
}

export interface BackendStats {
  readonly instanceId: string;
  readonly url: string;
  /** In rotation: neither removed nor ejected. */
  readonly active: boolean;
  /** Out of rotation after a connection failure, until the health probe sees it answer. */
  readonly ejected: boolean;
  readonly ejections: number;
  readonly readmissions: number;
  readonly inFlight: number;
  /** Requests sent to this backend (retries count again). */
  readonly total: number;
  /** Requests to this backend that failed before or during the response. */
  readonly errors: number;
}

export interface BalancerStats {
  readonly strategy: BalancerOptions['strategy'];
  readonly probeIntervalMs: number;
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
  ejections: number;
  readmissions: number;
}

/** What forward() needs besides the request. */
interface Upstreams {
  readonly backends: readonly Backend[];
  readonly strategy: Strategy;
  readonly faults: BalancerFaults;
  /** Takes backend `index` out of rotation after a connection failure. */
  eject(index: number): void;
}

/** Builds the balancer for `options.backends` with `options.strategy`; `listen` is the caller's. */
export function createBalancer(options: Pick<BalancerOptions, 'strategy' | 'backends'>, behaviour: BalancerBehaviour = {}): Balancer {
  const faults = behaviour.faults ?? {};
  const probeIntervalMs = behaviour.probeIntervalMs ?? BALANCER_PROBE_INTERVAL_MS;
  const backends: Backend[] = options.backends.map((b) => ({
    instanceId: b.instanceId,
    url: b.url,
    pool: new Pool(b.url, {
      headersTimeout: BALANCER_UPSTREAM_TIMEOUT_MS,
      bodyTimeout: BALANCER_UPSTREAM_TIMEOUT_MS,
    }),
    total: 0,
    errors: 0,
    ejections: 0,
    readmissions: 0,
  }));
  const strategy = createStrategy(options.strategy, backends.length);
  const probe = createHealthProbe(
    backends,
    {
      ejected: () => backends.flatMap((_, i) => (strategy.isEjected(i) ? [i] : [])),
      readmit(index) {
        const backend = backends[index];
        if (backend === undefined || !strategy.isEjected(index)) return;
        strategy.readmit(index);
        backend.readmissions += 1;
      },
    },
    probeIntervalMs,
  );
  const upstreams: Upstreams = {
    backends,
    strategy,
    faults,
    eject(index) {
      const backend = backends[index];
      if (faults.neverEject === true || backend === undefined || !strategy.isActive(index)) return;
      strategy.eject(index);
      backend.ejections += 1;
      probe.wake();
    },
  };

  const stats = (): BalancerStats => ({
    strategy: options.strategy,
    probeIntervalMs,
    backends: backends.map((b, i) => ({
      instanceId: b.instanceId,
      url: b.url,
      active: strategy.isActive(i),
      ejected: strategy.isEjected(i),
      ejections: b.ejections,
      readmissions: b.readmissions,
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
    if (faults.retryAfterSend === true) {
      bufferBody(req).then(
        (body) => forward(req, res, body, upstreams, 0),
        () => res.destroy(),
      );
      return;
    }
    forward(req, res, hasBody(req) ? req : null, upstreams, 0);
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
      probe.stop();
      await Promise.all(backends.map((b) => b.pool.close()));
    },
  };
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
}

/** The whole request body (the faulty retry needs to send it twice); null when there is none. */
async function bufferBody(req: IncomingMessage): Promise<Buffer | null> {
  if (!hasBody(req)) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function forward(req: IncomingMessage, res: ServerResponse, body: IncomingMessage | Buffer | null, up: Upstreams, attempt: number): void {
  const { backends, strategy, faults } = up;
  const index = strategy.acquire();
  const backend = backends[index];
  if (backend === undefined) {
    sendError(res, 503, 'no_backend', 'the balancer has no backend left in rotation; restart the deployment', {}, { 'retry-after': String(NO_BACKEND_RETRY_AFTER_S) });
    return;
  }
  backend.total += 1;
  const method = req.method ?? 'GET';
  let responded = false;
  backend.pool
    .stream(
      {
        path: req.url ?? '/',
        method,
        headers: upstreamRequestHeaders(req.headers, req.socket.remoteAddress),
        body,
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
        const code = errorCode(error);
        if (CONNECTION_ERRORS.has(code)) up.eject(index);
        if (responded || res.headersSent) {
          // The status line already went out: all that is left is to cut the connection.
          res.destroy();
          return;
        }
        const retryable = faults.retryAfterSend === true || (body === null && RETRYABLE_METHODS.has(method) && CONNECTION_ERRORS.has(code));
        if (retryable && attempt < BALANCER_IDEMPOTENT_RETRIES && !res.destroyed) {
          forward(req, res, body, up, attempt + 1);
          return;
        }
        sendError(
          res,
          502,
          'bad_gateway',
          `backend ${backend.instanceId} at ${backend.url} failed (${code}); check that instance's log or restart the deployment`,
          { backend: backend.instanceId, cause: code },
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

/** The error body; `backend` and `cause` name which backend failed and how, for clients that attribute failures. */
function sendError(
  res: ServerResponse, status: number, code: string, message: string, about: { backend?: string; cause?: string }, headers: Readonly<Record<string, string>> = {},
): void {
  sendJson(res, status, { error: { code, message, ...about } }, headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
