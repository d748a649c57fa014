/**
 * A Transport that keeps what each request of the instance-failure run got back: when it was
 * handed to the client and when it ended (on the scenario's clock), the status, the answering
 * instance, the error kind, and the JSON body of writes and failures (reads' bodies are dropped:
 * only their outcome matters, and keeping them would grow with the run).
 */
import { classifyError, createPoolTransport, LOAD_DEFAULTS } from '../../src/load/index.ts';
import type { ErrorKind, ExchangeHandler, PoolTransportOptions, RequestSpec, Transport } from '../../src/load/index.ts';
import type { Clock } from '../../src/clock.ts';
import type { PlannedOp } from './failover-workload.ts';
import { pickHeaders } from './query-header-tap.ts';

const INSTANCE_HEADERS = [LOAD_DEFAULTS.instanceHeader];

export interface CapturedAnswer {
  readonly op: PlannedOp;
  readonly dispatchedAt: number;
  readonly doneAt: number;
  /** null when no response came (see errorKind). */
  readonly status: number | null;
  readonly errorKind: ErrorKind | null;
  readonly instance: string | null;
  /** Parsed JSON of writes and of non-2xx answers; null otherwise. */
  readonly body: unknown;
}

export interface FailoverCapture {
  readonly transport: Transport;
  /** Registers the spec the request factory built for `op`, so its answer can be told apart. */
  register(op: PlannedOp): RequestSpec;
  /** Every answer so far, in completion order. */
  answers(): readonly CapturedAnswer[];
}

/** A capturing pool transport for `origin`; times are `clock.now()`. */
export function createFailoverCapture(origin: string, options: PoolTransportOptions, clock: Clock): FailoverCapture {
  const inner = createPoolTransport(origin, options);
  const pending = new Map<RequestSpec, PlannedOp>();
  const answers: CapturedAnswer[] = [];
  return {
    register(op) {
      pending.set(op.spec, op);
      return op.spec;
    },
    answers: () => answers,
    transport: {
      dispatch(spec, handler, lane) {
        const op = pending.get(spec);
        if (op === undefined) {
          inner.dispatch(spec, handler, lane);
          return;
        }
        pending.delete(spec);
        inner.dispatch(spec, capturing(op, handler, clock, (a) => answers.push(a)), lane);
      },
      connectedSockets: () => inner.connectedSockets(),
      close: () => inner.close(),
      destroy: () => inner.destroy(),
    },
  };
}

function capturing(op: PlannedOp, handler: ExchangeHandler, clock: Clock, done: (answer: CapturedAnswer) => void): ExchangeHandler {
  const dispatchedAt = clock.now();
  let status: number | null = null;
  let instance: string | null = null;
  const chunks: Buffer[] = [];
  let keep = false;
  return {
    onConnect: (abort) => handler.onConnect(abort),
    onHeaders(statusCode, rawHeaders, resume, statusText) {
      status = statusCode;
      keep = op.kind !== 'read' || statusCode < 200 || statusCode >= 300;
      instance = pickHeaders(rawHeaders, INSTANCE_HEADERS)[LOAD_DEFAULTS.instanceHeader] ?? null;
      return handler.onHeaders(statusCode, rawHeaders, resume, statusText);
    },
    onData(chunk) {
      if (keep) chunks.push(chunk);
      return handler.onData(chunk);
    },
    onComplete(trailers) {
      const body = keep ? parseJson(Buffer.concat(chunks).toString('utf8')) : null;
      done({ op, dispatchedAt, doneAt: clock.now(), status, errorKind: null, instance, body });
      handler.onComplete(trailers);
    },
    onError(error) {
      // A body cut off after the headers is a failure, as the generator counts it: no status is kept.
      done({ op, dispatchedAt, doneAt: clock.now(), status: null, errorKind: classifyError(error), instance, body: null });
      handler.onError(error);
    },
  };
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON (a proxy's text error page): kept as text, the oracle reports it as an unexpected answer.
    return text;
  }
}
