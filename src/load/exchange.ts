/** One request/response exchange: the undici handler and its timings, reused across requests. */
import type { Clock } from '../clock.ts';
import { classifyError, errorKindCode, NO_ERROR } from './errors.ts';
import type { ExchangeHandler } from './transport.ts';

/** Told when an exchange ends; the exchange may be reset and dispatched again from inside. */
export interface ExchangeOwner {
  exchangeEnded(exchange: Exchange, errorCode: number, error: Error | null): void;
}

export class Exchange implements ExchangeHandler {
  /** The worker (closed model) this exchange belongs to; 0 elsewhere. */
  lane = 0;
  index = 0;
  intendedMs = 0;
  dispatchedMs = 0;
  sentMs = Number.NaN;
  status = 0;
  bytes = 0;
  instance: string | undefined = undefined;
  readonly #owner: ExchangeOwner;
  readonly #clock: Clock;
  readonly #header: string;

  constructor(owner: ExchangeOwner, clock: Clock, instanceHeader: string) {
    this.#owner = owner;
    this.#clock = clock;
    this.#header = instanceHeader.toLowerCase();
  }

  /** Prepares for the `index`-th request, due at `intendedMs`, handed to the client at `dispatchedMs`. */
  reset(index: number, intendedMs: number, dispatchedMs: number): void {
    this.index = index;
    this.intendedMs = intendedMs;
    this.dispatchedMs = dispatchedMs;
    this.sentMs = Number.NaN;
    this.status = 0;
    this.bytes = 0;
    this.instance = undefined;
  }

  onConnect(): void {
    this.sentMs = this.#clock.now();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    const name = this.#header;
    if (name.length > 0) {
      for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
        const key = rawHeaders[i];
        if (key?.length === name.length && key.toString('latin1').toLowerCase() === name) {
          this.instance = rawHeaders[i + 1]?.toString('latin1');
          break;
        }
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    return true;
  }

  onComplete(): void {
    this.#owner.exchangeEnded(this, NO_ERROR, null);
  }

  onError(error: Error): void {
    this.#owner.exchangeEnded(this, errorKindCode(classifyError(error)), error);
  }
}
