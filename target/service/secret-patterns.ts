/**
 * Secrets recognised by their shape (bearer credentials, Authorization values, `token` fields and
 * parameters), replaced keeping their label. The service's log uses this; gauntlet's redaction
 * (src/results/redact.ts) builds on it, adding the tokens a run saw by value.
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

const SECRET_NAMES = String.raw`(?:token|access_token|refresh_token|id_token|api_key|apikey)`;

const TEXT_PATTERNS: readonly (readonly [RegExp, string])[] = [
  // `Bearer <credential>` anywhere: a header line, an error message, a curl command.
  [/\b(Bearer\s+)[A-Za-z0-9._~+/-]+=*/gi, `$1${REDACTED}`],
  // `Authorization: <value>` up to the end of the value (after the bearer rule, this catches the other schemes).
  [/(\b(?:proxy-)?authorization\\?["']?\s*[:=]\s*\\?["']?)(?!\[redacted\])[^"'\\\r\n,;}\s](?:[^"'\\\r\n,;}]*[^"'\\\r\n,;}\s])?/gi, `$1${REDACTED}`],
  // `"token": "<value>"` in JSON, escaped JSON (`\"token\":\"...`) and JSON cut short (no closing quote).
  [new RegExp(String.raw`(\\?["']${SECRET_NAMES}\\?["']\s*:\s*\\?["'])(?!\[redacted\])[^"'\\]+`, 'gi'), `$1${REDACTED}`],
  // `?token=<value>` and `&access_token=<value>` in URLs and form bodies.
  [new RegExp(String.raw`([?&;]${SECRET_NAMES}=)(?!\[redacted\])[^&#\s"']+`, 'gi'), `$1${REDACTED}`],
];

/** `text` with every secret of a known shape replaced by REDACTED. */
export function redactSecretPatterns(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
