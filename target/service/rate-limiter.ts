/** Per-user fixed-window rate limiting, counted in the store so every instance shares the count. */
import type { RateLimitConfig } from '../config.ts';
import type { OpContext, Store } from '../store/store.ts';

export type LimitedAction = 'families' | 'invitations' | 'transfers';

export interface RateLimitDecision {
  readonly admitted: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Whole seconds (rounded up) until the window ends; also the `Retry-After` of a refusal. */
  readonly resetSeconds: number;
}

/** Fixed windows aligned to multiples of `windowMs` since the epoch: exactly `limit` hits admitted per window. */
export class RateLimiter {
  constructor(
    private readonly store: Store,
    readonly config: RateLimitConfig,
    private readonly now: () => number,
  ) {}

  /** Counts one request of `userId` for `action` and says whether it is admitted. */
  async hit(userId: string, action: LimitedAction, op: OpContext): Promise<RateLimitDecision> {
    const { limit, windowMs } = this.config;
    const at = this.now();
    const windowStartMs = Math.floor(at / windowMs) * windowMs;
    const count = await this.store.hitRateLimit({ key: `${userId}:${action}`, windowStartMs }, op);
    return {
      admitted: count <= limit,
      limit,
      remaining: Math.max(0, limit - count),
      resetSeconds: Math.ceil((windowStartMs + windowMs - at) / 1000),
    };
  }
}

/** The IETF `RateLimit-*` headers of a decision, plus `Retry-After` when it was refused. */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(decision.resetSeconds),
  };
  if (!decision.admitted) headers['Retry-After'] = String(decision.resetSeconds);
  return headers;
}
