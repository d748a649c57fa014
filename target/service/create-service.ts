/** The reference family service on node:http: one instance, over one store. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { redactSecretPatterns } from './secret-patterns.ts';
import { OVERLOAD_RETRY_AFTER_S, type ServiceConfig } from '../config.ts';
import { DomainError } from '../domain.ts';
import type { OpContext, QueryTiming, Store } from '../store/store.ts';
import { authenticate } from './auth.ts';
import { readJsonBody } from './body.ts';
import { errorBody, toErrorReply } from './errors.ts';
import { FamilyCache } from './family-cache.ts';
import { NO_FAULTS, applyDelay, parseFaultHeader, type RequestFaults } from './faults.ts';
import { AdmissionControl, startLagSampler, type ShedReason } from './admission.ts';
import { guardStore, storeRetryAfterSeconds } from './guarded-store.ts';
import { createServiceMetrics } from './metrics.ts';
import { RateLimiter, rateLimitHeaders } from './rate-limiter.ts';
import { Router } from './router.ts';
import { buildRoutes, type PublicCall, type Reply, type RouteDef } from './routes.ts';

/** How long `close()` lets in-flight requests finish before it closes their connections. */
export const SHUTDOWN_GRACE_MS = 5_000;
/** How long a socket answered outside node:http (malformed request, CONNECT) may linger before it is destroyed. */
export const RAW_ANSWER_LINGER_MS = 2_000;
/** The `route` label of requests no route matched. */
const UNMATCHED_ROUTE = 'unmatched';
/** Never shed: health checks and scrapes must reach an overloaded instance, and so must the fault switches. */
const ALWAYS_ADMITTED = /^\/(healthz|metrics|_faults\/)/;
const monotonic = (): number => performance.now();

export interface ServiceOptions {
  readonly store: Store;
  readonly config: ServiceConfig;
  readonly instanceId: string;
  /** Wall clock in ms since the epoch (rate-limit windows, cache TTL); tests inject a fake one. */
  readonly now?: () => number;
  /** Where unexpected errors are logged, one line each (default: stderr). Never receives tokens. */
  readonly log?: (line: string) => void;
}

export interface Service {
  /** Not listening yet: the caller listens (on 127.0.0.1). */
  readonly server: http.Server;
  readonly metrics: Registry;
  /** Stops accepting, closes idle keep-alive sockets, lets in-flight requests finish (bounded). Leaves the store open. */
  close(): Promise<void>;
}

/** Builds the service's HTTP server over `store`. */
export function createService(options: ServiceOptions): Service {
  const { config, instanceId } = options;
  const now = options.now ?? Date.now;
  const sink = options.log ?? ((line: string) => console.error(line));
  // An unexpected failure's stack, or a request URL, may quote a token a client sent.
  const log = (line: string): void => sink(redactSecretPatterns(line));
  const guarded = guardStore(options.store, config.storeBreaker, monotonic);
  const store = guarded.store;
  const admission = new AdmissionControl(config.admission, monotonic);
  let cache: FamilyCache | null = null;
  const metrics = createServiceMetrics({
    instanceId,
    config,
    poolStats: () => store.poolStats(),
    cacheSize: () => cache?.size ?? 0,
    circuitState: (access) => guarded.state(access),
    inFlight: () => admission.inFlight,
    admissionLagMs: () => admission.lagMs(),
  });
  cache = new FamilyCache(store, config.cache, metrics, now);
  const limiter = new RateLimiter(store, config.rateLimit, now);
  const router = new Router<RouteDef>(buildRoutes({ store, config, cache, metrics, instanceId }));

  /** Admission control first, before any work (target/service/admission.ts). */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (ALWAYS_ADMITTED.test(path)) return serve(req, res);
    const decision = admission.tryAdmit();
    if (!decision.admitted) {
      shed(req, res, path, decision.reason);
      return;
    }
    try {
      await serve(req, res);
    } finally {
      admission.release();
    }
  }

  function shed(req: IncomingMessage, res: ServerResponse, path: string, reason: ShedReason): void {
    const method = req.method ?? 'GET';
    const match = router.match(method, path);
    const route = match.kind === 'found' ? match.route.pattern : match.kind === 'method_not_allowed' ? match.pattern : UNMATCHED_ROUTE;
    const why = reason === 'in_flight'
      ? `this instance already handles ${config.admission.maxInFlight} requests`
      : `this instance's event loop has lagged over ${config.admission.lagTargetMs} ms for ${config.admission.lagIntervalMs} ms`;
    res.setHeader('x-instance-id', instanceId);
    send(res, { status: 503, json: errorBody({ code: 'overloaded', message: `${why}; retry after ${OVERLOAD_RETRY_AFTER_S} s` }) },
      { 'Retry-After': String(OVERLOAD_RETRY_AFTER_S) }, []);
    metrics.shed(reason);
    metrics.httpRequest(method, route, 503);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-instance-id', instanceId);
    const method = req.method ?? 'GET';
    const timings: QueryTiming[] = [];
    const headers: Record<string, string> = {};
    let route = UNMATCHED_ROUTE;
    let faults: RequestFaults = NO_FAULTS;
    let reply: Reply;
    try {
      faults = parseFaultHeader(single(req.headers['x-fault']), config.faults);
      const op: OpContext = faults.failMidTransaction ? { timings, failMidTransaction: true } : { timings };
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const match = router.match(method, path);
      if (match.kind === 'not_found') {
        throw new DomainError('not_found', `no route ${method} ${path}; the README lists the API`);
      }
      if (match.kind === 'method_not_allowed') {
        route = match.pattern;
        headers.Allow = match.allowed.join(', ');
        throw new DomainError('method_not_allowed', `${method} is not allowed on ${match.pattern}; use ${headers.Allow}`);
      }
      route = match.route.pattern;
      const call: PublicCall = {
        params: match.params,
        headers: req.headers,
        op,
        body: () => readJsonBody(req, config.maxBodyBytes),
        setHeader: (name, value) => {
          headers[name] = value;
        },
      };
      reply = await dispatch(match.route, call, req);
    } catch (error) {
      const failure = toErrorReply(error);
      const retryAfter = storeRetryAfterSeconds(error, config.storeBreaker.coolDownMs);
      if (retryAfter !== null) headers['Retry-After'] = String(retryAfter);
      if (failure.unexpected) log(`[${instanceId}] 500 internal on ${method} ${route}: ${describe(error)}`);
      if (failure.code === 'payload_too_large') headers.Connection = 'close';
      reply = { status: failure.status, json: errorBody(failure) };
    }
    await applyDelay(faults);
    send(res, reply, headers, timings);
    metrics.httpRequest(method, route, reply.status);
    metrics.queries(timings);
  }

  async function dispatch(route: RouteDef, call: PublicCall, req: IncomingMessage): Promise<Reply> {
    if (route.access === 'public') return route.handle(call);
    const user = await authenticate(req.headers, store, call.op);
    if (route.limit !== undefined) {
      const decision = await limiter.hit(user.id, route.limit, call.op);
      for (const [name, value] of Object.entries(rateLimitHeaders(decision))) call.setHeader(name, value);
      if (!decision.admitted) {
        metrics.rateLimited(route.limit);
        throw new DomainError(
          'rate_limited',
          `at most ${decision.limit} requests per ${limiter.config.windowMs / 1000} s for ${route.limit}; retry after ${decision.resetSeconds} s`,
        );
      }
    }
    return route.handle({ ...call, user });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Only a failure while writing the reply gets here: the connection is beyond repair.
      log(`[${instanceId}] failed to answer ${req.method ?? '?'} ${req.url ?? '?'}: ${describe(error)}`);
      res.destroy();
    });
  });
  const stopLagSampler = admission.watchesLag ? startLagSampler(admission, monotonic) : () => undefined;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, instanceId));
  // Left to node:http, an unknown Expect gets a 417 without our headers and CONNECT a closed socket (both found by fuzzing).
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const message = `only "Expect: 100-continue" is supported (got "${String(req.headers.expect).slice(0, 100)}")`;
    res.setHeader('x-instance-id', instanceId);
    send(res, { status: 417, json: errorBody({ code: 'invalid_request', message }) }, { Connection: 'close' }, []);
    metrics.httpRequest(req.method ?? 'GET', UNMATCHED_ROUTE, 417);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    endRaw(socket, 405, errorBody({ code: 'method_not_allowed', message: 'CONNECT is not supported: this is not a proxy' }), instanceId);
    metrics.httpRequest(req.method ?? 'CONNECT', UNMATCHED_ROUTE, 405);
  });

  return {
    server,
    metrics: metrics.registry,
    close: () => {
      stopLagSampler();
      return closeServer(server);
    },
  };
}

function send(res: ServerResponse, reply: Reply, headers: Record<string, string>, timings: readonly QueryTiming[]): void {
  if (res.headersSent || res.destroyed) return;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (timings.length > 0) res.setHeader('Server-Timing', serverTiming(timings));
  const [payload, contentType] = 'json' in reply ? [JSON.stringify(reply.json), 'application/json; charset=utf-8'] : [reply.text, reply.contentType];
  res.writeHead(reply.status, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** `Server-Timing` with one entry per query, in the order they ran. */
export function serverTiming(timings: readonly QueryTiming[]): string {
  return timings.map((timing) => `${timing.name};dur=${timing.durationMs.toFixed(2)}`).join(', ');
}

function single(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header.join(', ') : header;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** Malformed HTTP never reaches a handler: answer it here, still with `x-instance-id`. */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, instanceId: string): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  endRaw(socket, status, errorBody({ code: 'invalid_request', message: `malformed HTTP request (${error.code ?? 'unknown'})` }), instanceId);
}

/** Writes a complete JSON error response on a socket node:http no longer manages, and closes it. */
function endRaw(socket: Duplex, status: number, error: ReturnType<typeof errorBody>, instanceId: string): void {
  const body = JSON.stringify(error);
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nx-instance-id: ${instanceId}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // Read and drop what the client still sends, so its FIN closes the socket: unread, a CONNECT body kept the
  // socket (which close() no longer tracks) open forever and the shutdown hung (found by fuzzing). Bounded for clients that never stop.
  socket.resume();
  setTimeout(() => socket.destroy(), RAW_ANSWER_LINGER_MS).unref();
}

function closeServer(server: http.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    server.close((error) => {
      clearTimeout(force);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
