/**
 * Limited requests with what the rate-limit oracle needs and the load generators do not keep: the
 * wall-clock send and answer times (windows are wall-clock aligned on the server) and the
 * RateLimit-* / Retry-After headers of every response.
 */
import { setMaxListeners } from 'node:events';
import { Agent, request } from 'undici';
import type { Clock } from '../../src/clock.ts';
import { sleep } from '../../src/clock.ts';
import { createLatencyHistogram, recordMillis } from '../../src/measure/histogram.ts';
import type { Histogram } from '../../src/measure/histogram.ts';
import type { TestUser } from '../../src/scenario/fixtures.ts';
import type { Attempt, LimitHeaders } from './ratelimit-oracle.ts';

/** Sockets per origin: a burst releases every user's requests at once, so it must not queue on a small pool. */
export const LIMITED_CONNECTIONS_PER_ORIGIN = 512;
/** A limited request that takes longer than this has failed (a SQLite write queue under a burst takes seconds). */
export const LIMITED_TIMEOUT_MS = 30_000;

/** The limited action used: creating a family (`POST /families`, action `families`). */
export const LIMITED_PATH = '/families';

export interface TrafficSink {
  readonly attempts: Attempt[];
  readonly admittedLatency: Histogram;
  readonly limitedLatency: Histogram;
}

export function createSink(): TrafficSink {
  return { attempts: [], admittedLatency: createLatencyHistogram(), limitedLatency: createLatencyHistogram() };
}

/** Sends limited requests, recording each into a sink; owns an undici Agent (close it). */
export class LimitedClient {
  readonly #agent = new Agent({ connections: LIMITED_CONNECTIONS_PER_ORIGIN, pipelining: 1 });
  readonly #clock: Clock;
  readonly #wallNow: () => number;
  readonly #signal: AbortSignal;
  #sequence = 0;

  constructor(options: { clock: Clock; wallNow: () => number; signal: AbortSignal }) {
    this.#clock = options.clock;
    this.#wallNow = options.wallNow;
    // One derived signal carries every request's and wait's listener (hundreds at once in a burst).
    this.#signal = AbortSignal.any([options.signal]);
    setMaxListeners(0, this.#signal);
  }

  /** The run's cancellation, for waits that go with this client's traffic. */
  get signal(): AbortSignal {
    return this.#signal;
  }

  /** One POST /families as `user` at `origin`; never rejects (a network failure is an `error` attempt). */
  async send(sink: TrafficSink, origin: string, user: TestUser, phase: string): Promise<Attempt> {
    this.#sequence += 1;
    const body = JSON.stringify({ name: `rl-${this.#sequence.toString(36)}` });
    const sentWallMs = this.#wallNow();
    const t0 = this.#clock.now();
    let attempt: Attempt;
    try {
      const res = await request(new URL(LIMITED_PATH, origin), {
        dispatcher: this.#agent,
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([this.#signal, AbortSignal.timeout(LIMITED_TIMEOUT_MS)]),
      });
      const doneWallMs = this.#wallNow();
      const latencyMs = this.#clock.now() - t0;
      await res.body.dump();
      const header = (name: string): string | null => {
        const value = res.headers[name];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      };
      const headers: LimitHeaders = {
        limit: header('ratelimit-limit'),
        remaining: header('ratelimit-remaining'),
        reset: header('ratelimit-reset'),
        retryAfter: header('retry-after'),
      };
      attempt = { userId: user.id, phase, sentWallMs, doneWallMs, outcome: { kind: 'response', status: res.statusCode, headers } };
      if (res.statusCode === 429) recordMillis(sink.limitedLatency, latencyMs);
      else if (res.statusCode < 500) recordMillis(sink.admittedLatency, latencyMs);
    } catch (error) {
      attempt = { userId: user.id, phase, sentWallMs, doneWallMs: this.#wallNow(), outcome: { kind: 'error', message: error instanceof Error ? error.message : String(error) } };
    }
    sink.attempts.push(attempt);
    return attempt;
  }

  /** Every user sends `count` requests at once (all users together); `originOf(i)` picks the origin of the i-th. */
  async burst(sink: TrafficSink, users: readonly TestUser[], count: number, phase: string, originOf: (i: number) => string): Promise<void> {
    await Promise.all(users.flatMap((user) => Array.from({ length: count }, (_, i) => this.send(sink, originOf(i), user, phase))));
  }

  /**
   * Each user sends `count` requests one after another, the i-th no earlier than `startWallMs + i * stepMs`
   * (later if the previous answer is late), so the limiter sees them in order.
   */
  async spread(
    sink: TrafficSink,
    users: readonly TestUser[],
    plan: { count: number; startWallMs: number; stepMs: number },
    phase: string,
    originOf: (i: number) => string,
  ): Promise<void> {
    await Promise.all(
      users.map(async (user) => {
        for (let i = 0; i < plan.count; i++) {
          const wait = plan.startWallMs + i * plan.stepMs - this.#wallNow();
          if (wait > 0) await sleep(this.#clock, wait, this.#signal);
          await this.send(sink, originOf(i), user, phase);
        }
      }),
    );
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
