/**
 * The one redaction of secrets (bearer tokens, `token` fields, Authorization values) from everything
 * gauntlet writes or prints: results.json, report.md, JUnit, the step summary, progress lines. The
 * patterns are the reference target's (its log uses them too); this adds the tokens a run saw. A secret gets there through text nobody meant to hold one — a check
 * detail quoting a response body, an error message quoting a request, a target's error echoing a
 * header — so redaction runs where results leave the process, not where each string is made.
 */

import { REDACTED, redactSecretPatterns } from '../../target/service/secret-patterns.ts';

export { REDACTED };
/** Secrets shorter than this are not remembered: matching them would redact ordinary words. */
export const MIN_SECRET_LENGTH = 16;
/** At most this many secrets are remembered (a long soak creates many users); the patterns below still apply beyond it. */
export const MAX_REMEMBERED_SECRETS = 500_000;

/** Object keys whose string values are secrets, wherever they appear. */
const SECRET_KEY = /^(?:token|access[-_]?token|refresh[-_]?token|id[-_]?token|api[-_]?key|x-api-key|(?:proxy-)?authorization|cookie|set-cookie)$/i;

/** Secrets seen during this process (tokens a target handed out or a request carried), by exact value. */
const remembered = new Set<string>();
/** Remembered secrets with characters outside the run below: matched by substring, rarely needed. */
const rememberedOdd = new Set<string>();
const SECRET_RUN = /[A-Za-z0-9_-]{16,}/g;
const PLAIN_SECRET = /^[A-Za-z0-9_-]+$/;

/** Remembers `value` as a secret: from now on it is redacted wherever it appears, labelled or not. */
export function rememberSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || remembered.size + rememberedOdd.size >= MAX_REMEMBERED_SECRETS) return;
  (PLAIN_SECRET.test(value) ? remembered : rememberedOdd).add(value);
}

/** `text` with every secret replaced by REDACTED. */
export function redactText(text: string): string {
  let out = redactSecretPatterns(text);
  // A token is a run of base64url characters between delimiters (quotes, spaces, `/`, `=`...): look each run up.
  if (remembered.size > 0) out = out.replace(SECRET_RUN, (run) => (remembered.has(run) ? REDACTED : run));
  for (const secret of rememberedOdd) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** A deep copy of `value` with every secret redacted: string values by redactText, values of secret keys entirely. */
export function redact<T>(value: T): T {
  return redactValue(value) as T;
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = typeof inner === 'string' && SECRET_KEY.test(key) ? REDACTED : redactValue(inner);
  }
  return copy;
}
