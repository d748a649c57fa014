/**
 * The rate-limit oracle: judges every limited request against fixed windows aligned to multiples
 * of `windowMs` since the epoch. A request's limiter hit happened somewhere in [sent, done] (wall
 * clock, widened by a skew margin); a request whose interval crosses a window boundary may count in
 * either window, so it is "possibly" in both and only sound bounds are asserted for those windows:
 * never a false alarm from a request that straddles a reset.
 */

/** Widening of each request's [sent, done] interval for clock reading and rounding differences (same host). */
export const WINDOW_SKEW_MARGIN_MS = 10;

/** The rate-limit headers of one response, as sent (null = absent). */
export interface LimitHeaders {
  readonly limit: string | null;
  readonly remaining: string | null;
  readonly reset: string | null;
  readonly retryAfter: string | null;
}

export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly headers: LimitHeaders }
  | { readonly kind: 'error'; readonly message: string };

/** One limited request as the client saw it; wall times in ms since the epoch. */
export interface Attempt {
  readonly userId: string;
  readonly phase: string;
  readonly sentWallMs: number;
  readonly doneWallMs: number;
  readonly outcome: AttemptOutcome;
}

export interface OracleInput {
  readonly attempts: readonly Attempt[];
  readonly limit: number;
  readonly windowMs: number;
  readonly marginMs?: number;
}

export interface Violation {
  readonly userId: string;
  readonly what: string;
}

export interface RateLimitVerdict {
  /** Most requests admitted for one user in one window (certain placements only). */
  readonly maxAdmittedPerWindow: number;
  /** Fewest admitted in a window where the user certainly sent more than the limit and nothing straddled. */
  readonly minAdmittedSaturated: number | null;
  readonly saturatedWindows: number;
  /** Admissions beyond the limit, summed over users and windows. */
  readonly overAdmissions: number;
  /** Admissions missing below min(sent, limit), summed over users and windows. */
  readonly underAdmissions: number;
  /** 429s for which fewer than `limit` other requests of the user can have been in the same window. */
  readonly falseRejections: number;
  readonly missingRetryAfter: number;
  readonly headerViolations: number;
  /** Requests whose window could not be told (they straddled a reset). */
  readonly ambiguous: number;
  readonly violations: {
    readonly over: readonly Violation[];
    readonly under: readonly Violation[];
    readonly falseRejection: readonly Violation[];
    readonly retryAfter: readonly Violation[];
    readonly headers: readonly Violation[];
  };
}

interface Placed {
  readonly attempt: Attempt;
  readonly first: number;
  readonly last: number;
}

const isResponse = (a: Attempt): a is Attempt & { outcome: { kind: 'response' } } => a.outcome.kind === 'response';
/** Went through the limiter and was let through (a 5xx may come from a proxy that never reached it). */
const admitted = (a: Attempt): boolean => isResponse(a) && a.outcome.status !== 429 && a.outcome.status < 500;
const limited = (a: Attempt): boolean => isResponse(a) && a.outcome.status === 429;
/** The limiter may or may not have counted it: a network error or a 5xx. */
const unknown = (a: Attempt): boolean => !isResponse(a) || a.outcome.status >= 500;

/** Judges all attempts; pure, so tests can feed it exact timings. */
export function judgeRateLimit(input: OracleInput): RateLimitVerdict {
  const { limit, windowMs } = input;
  const margin = input.marginMs ?? WINDOW_SKEW_MARGIN_MS;
  const byUser = new Map<string, Placed[]>();
  for (const attempt of input.attempts) {
    // A 401 is refused before the limiter counts anything (authentication comes first).
    if (attempt.outcome.kind === 'response' && attempt.outcome.status === 401) continue;
    const placed: Placed = {
      attempt,
      first: Math.floor((attempt.sentWallMs - margin) / windowMs),
      last: Math.floor((attempt.doneWallMs + margin) / windowMs),
    };
    const list = byUser.get(attempt.userId) ?? [];
    list.push(placed);
    byUser.set(attempt.userId, list);
  }

  const over: Violation[] = [];
  const under: Violation[] = [];
  const falseRejection: Violation[] = [];
  let maxAdmitted = 0;
  let minSaturated: number | null = null;
  let saturatedWindows = 0;
  let overAdmissions = 0;
  let underAdmissions = 0;
  let ambiguous = 0;

  for (const [userId, placed] of byUser) {
    ambiguous += placed.filter((p) => p.first !== p.last).length;
    const windows = new Set(placed.flatMap((p) => range(p.first, p.last)));
    for (const w of windows) {
      const certain = placed.filter((p) => p.first === w && p.last === w).map((p) => p.attempt);
      const possible = placed.filter((p) => p.first <= w && w <= p.last).map((p) => p.attempt);
      const certainAdmitted = certain.filter(admitted).length;
      maxAdmitted = Math.max(maxAdmitted, certainAdmitted);
      if (certainAdmitted > limit) {
        overAdmissions += certainAdmitted - limit;
        over.push({ userId, what: `${certainAdmitted} admitted in window ${windowLabel(w, windowMs)} (limit ${limit})` });
      }
      // Every certain non-5xx response reached the limiter in w, so at least min(that, limit) were admitted in w.
      const reached = certain.filter((a) => isResponse(a) && !unknown(a)).length;
      const floor = Math.min(reached, limit);
      const ceiling = possible.filter((a) => admitted(a) || unknown(a)).length;
      if (ceiling < floor) {
        underAdmissions += floor - ceiling;
        under.push({ userId, what: `${ceiling} admitted in window ${windowLabel(w, windowMs)} though ${reached} reached the limiter (limit ${limit})` });
      }
      if (reached > limit && possible.length === certain.length) {
        saturatedWindows += 1;
        minSaturated = Math.min(minSaturated ?? Infinity, certainAdmitted);
      }
    }
    for (const p of placed) {
      if (!limited(p.attempt)) continue;
      const justified = range(p.first, p.last).some(
        // Only requests sent before this one's response can have been counted before it.
        (w) => placed.filter((o) => o !== p && o.first <= w && w <= o.last && o.attempt.sentWallMs <= p.attempt.doneWallMs).length >= limit,
      );
      if (!justified) {
        falseRejection.push({ userId, what: `429 in ${p.attempt.phase} at ${isoTime(p.attempt.sentWallMs)} with fewer than ${limit} other requests in its window` });
      }
    }
  }

  const headers = judgeHeaders(byUser, limit, windowMs, margin);
  return {
    maxAdmittedPerWindow: maxAdmitted,
    minAdmittedSaturated: minSaturated,
    saturatedWindows,
    overAdmissions,
    underAdmissions,
    falseRejections: falseRejection.length,
    missingRetryAfter: headers.missingRetryAfter,
    headerViolations: headers.violations.length,
    ambiguous,
    violations: { over, under, falseRejection, retryAfter: headers.retryAfter, headers: headers.violations },
  };
}

interface HeaderFindings {
  missingRetryAfter: number;
  retryAfter: Violation[];
  violations: Violation[];
}

/** Header coherence: Limit, Remaining in [0, limit] and 0 on a 429, Reset within the window, Retry-After on every 429 and not early, Remaining never rising. */
function judgeHeaders(byUser: ReadonlyMap<string, Placed[]>, limit: number, windowMs: number, margin: number): HeaderFindings {
  const found: HeaderFindings = { missingRetryAfter: 0, retryAfter: [], violations: [] };
  const maxReset = Math.ceil(windowMs / 1000);
  for (const [userId, placed] of byUser) {
    const bad = (what: string): void => void found.violations.push({ userId, what });
    const through = placed.filter((p) => isResponse(p.attempt) && !unknown(p.attempt));
    const remainingOf = new Map<Placed, number>();
    for (const p of through) {
      const a = p.attempt;
      if (a.outcome.kind !== 'response') continue;
      const { status, headers } = a.outcome;
      const at = `${status} at ${isoTime(a.sentWallMs)}`;
      const declared = wholeNumber(headers.limit);
      if (declared !== limit) bad(`${at}: RateLimit-Limit ${headers.limit ?? 'missing'}, expected ${limit}`);
      const remaining = wholeNumber(headers.remaining);
      if (remaining === null || remaining > limit) bad(`${at}: RateLimit-Remaining ${headers.remaining ?? 'missing'} (must be 0..${limit})`);
      else {
        remainingOf.set(p, remaining);
        if (status === 429 && remaining !== 0) bad(`${at}: RateLimit-Remaining ${remaining} on a refusal`);
      }
      const reset = wholeNumber(headers.reset);
      if (reset === null || reset > maxReset) bad(`${at}: RateLimit-Reset ${headers.reset ?? 'missing'} (must be 0..${maxReset} s)`);
      if (status !== 429) continue;
      if (headers.retryAfter === null) {
        found.missingRetryAfter += 1;
        found.retryAfter.push({ userId, what: `${at}: no Retry-After` });
        continue;
      }
      const retryAfter = wholeNumber(headers.retryAfter);
      if (retryAfter === null) {
        found.retryAfter.push({ userId, what: `${at}: Retry-After '${headers.retryAfter}' is not delta-seconds` });
      } else if (p.first === p.last && a.doneWallMs + margin + retryAfter * 1000 < (p.first + 1) * windowMs) {
        found.retryAfter.push({ userId, what: `${at}: Retry-After ${retryAfter} s ends before the window resets at ${isoTime((p.first + 1) * windowMs)}` });
      }
    }
    // Within one window the limiter's count only grows: admitted Remaining values are distinct, and
    // a request sent after another's response saw a Remaining no higher (lower while above 0).
    const entries = [...remainingOf].filter(([p]) => p.first === p.last);
    entries.forEach(([p, remP], i) => {
      for (const [q, remQ] of entries.slice(i + 1)) {
        if (q.first !== p.first) continue;
        const [a, remA, b, remB] = p.attempt.doneWallMs < q.attempt.sentWallMs ? [p, remP, q, remQ] : [q, remQ, p, remP];
        if (a.attempt.doneWallMs < b.attempt.sentWallMs && (remA > 0 ? remB >= remA : remB !== 0)) {
          bad(`Remaining went from ${remA} to ${remB} between sequential requests in window ${windowLabel(p.first, windowMs)}`);
        } else if (admitted(p.attempt) && admitted(q.attempt) && remP === remQ) {
          bad(`two admitted requests in window ${windowLabel(p.first, windowMs)} both saw Remaining ${remP} (the count did not advance)`);
        }
      }
    });
  }
  return found;
}

function wholeNumber(text: string | null): number | null {
  if (text === null || !/^\d+$/.test(text.trim())) return null;
  return Number(text.trim());
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function windowLabel(w: number, windowMs: number): string {
  return isoTime(w * windowMs);
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}
