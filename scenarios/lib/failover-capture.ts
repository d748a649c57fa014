/**
 * What each request of the instance-failure run got back, by planned operation: when it was handed
 * to the client and when it ended (on the scenario's clock), the status, the answering instance, the
 * error kind, and the JSON body of writes and failures (reads' bodies are dropped: only their outcome
 * matters). An adapter of the one answer tap (answer-tap.ts), whose cap bounds every kept body.
 */
import { classifyError, LOAD_DEFAULTS } from '../../src/load/index.ts';
import type { ErrorKind, PoolTransportOptions, RequestSpec, Transport } from '../../src/load/index.ts';
import type { Clock } from '../../src/clock.ts';
import { createAnswerTap } from './answer-tap.ts';
import type { PlannedOp } from './failover-workload.ts';

export interface CapturedAnswer {
  readonly op: PlannedOp;
  readonly dispatchedAt: number;
  readonly doneAt: number;
  /** null when no response came (see errorKind). */
  readonly status: number | null;
  readonly errorKind: ErrorKind | null;
  readonly instance: string | null;
  /** Parsed JSON of writes and of non-2xx answers (text when not JSON); null otherwise. */
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
  const answers: CapturedAnswer[] = [];
  const tap = createAnswerTap<PlannedOp>(origin, options, {
    headers: [LOAD_DEFAULTS.instanceHeader],
    keepBody: (op, status) => op.kind !== 'read' || status < 200 || status >= 300,
    parseBody: parseJson,
    now: () => clock.now(),
    onAnswer(r) {
      answers.push({
        op: r.key,
        dispatchedAt: r.dispatchedMs,
        doneAt: r.doneMs,
        // A body cut off after the headers is a failure, as the generator counts it: no status is kept.
        status: r.error === null ? r.status : null,
        errorKind: r.error === null ? null : classifyError(r.error),
        instance: r.headers[LOAD_DEFAULTS.instanceHeader] ?? null,
        body: r.body,
      });
    },
  });
  return {
    register: (op) => tap.track(op, op.spec),
    answers: () => answers,
    transport: tap.transport,
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
