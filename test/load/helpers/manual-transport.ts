/** A Transport driven by the test: it records each dispatch and answers only when told to. */
import type { Clock } from '../../../src/clock.ts';
import type { RequestSpec } from '../../../src/load/request.ts';
import type { ExchangeHandler, Transport } from '../../../src/load/transport.ts';

export interface Dispatched {
  atMs: number;
  spec: RequestSpec;
  handler: ExchangeHandler;
  ended: boolean;
}

export class ManualTransport implements Transport {
  readonly dispatched: Dispatched[] = [];
  closed = false;
  readonly #clock: Clock;
  readonly #autoRespondMs: number | null;

  /** With `autoRespondMs`, every request is answered 200 that long after it was sent. */
  constructor(clock: Clock, autoRespondMs: number | null = null) {
    this.#clock = clock;
    this.#autoRespondMs = autoRespondMs;
  }

  dispatch(spec: RequestSpec, handler: ExchangeHandler): void {
    const entry: Dispatched = { atMs: this.#clock.now(), spec, handler, ended: false };
    this.dispatched.push(entry);
    handler.onConnect(() => undefined);
    if (this.#autoRespondMs !== null) this.#clock.setTimeout(() => this.respond(entry), this.#autoRespondMs);
  }

  /** Answers one request with `status` and an instance header. */
  respond(entry: Dispatched, status = 200, instance = 'i-1'): void {
    if (entry.ended) throw new Error('request already answered');
    entry.ended = true;
    entry.handler.onHeaders(status, [Buffer.from('X-Instance-Id'), Buffer.from(instance)], () => undefined, 'OK');
    entry.handler.onData(Buffer.from('ok'));
    entry.handler.onComplete(null);
  }

  inFlight(): Dispatched[] {
    return this.dispatched.filter((d) => !d.ended);
  }

  connectedSockets(): number {
    return 0;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
