/** Classifies a failed request from undici's (and Node's) error codes. */

/**
 * Why a request got no (complete) response:
 * - `refused`: nothing listens (connection refused);
 * - `reset`: the connection was reset or closed by the target before the response ended;
 * - `timeout`: connect, headers or body took longer than the configured timeout;
 * - `aborted`: gauntlet cancelled it (end of run, Ctrl-C, pool destroyed);
 * - `protocol`: the target answered with something that is not valid HTTP/1.1 (status line, header
 *   syntax, chunked encoding, content-length, oversized headers);
 * - `body-too-large`: the response body passed the body size limit (`LOAD_DEFAULTS.maxBodyBytes`);
 * - `other`: anything else (the first message of each kind is kept in `errorSamples`).
 */
export type ErrorKind = 'refused' | 'reset' | 'timeout' | 'aborted' | 'protocol' | 'body-too-large' | 'other';

/** Numeric codes used in the columnar records (1 + index); 0 means "no error". */
export const ERROR_KINDS = ['refused', 'reset', 'timeout', 'aborted', 'protocol', 'body-too-large', 'other'] as const satisfies readonly ErrorKind[];
export const NO_ERROR = 0;

const KIND_BY_CODE: Readonly<Record<string, ErrorKind>> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ABORT_ERR: 'aborted',
  UND_ERR_ABORTED: 'aborted',
  UND_ERR_ABORT: 'aborted',
  UND_ERR_DESTROYED: 'aborted',
  UND_ERR_CLOSED: 'aborted',
  UND_ERR_HEADERS_OVERFLOW: 'protocol',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'protocol',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'body-too-large',
};

/** Error names that carry no (or no stable) code. */
const KIND_BY_NAME: Readonly<Record<string, ErrorKind>> = {
  AbortError: 'aborted',
  // AbortSignal.timeout() aborts with a DOMException named so.
  TimeoutError: 'timeout',
  // llhttp's errors: undici leaves `code` unset for most of them, so the name is what is stable.
  HTTPParserError: 'protocol',
};

/** Maps an error to its kind; looks through `cause` and AggregateError (dual-stack connects). */
export function classifyError(error: unknown): ErrorKind {
  for (let depth = 0, e: unknown = error; depth < 4 && e instanceof Error; depth++) {
    // DOMException has a numeric `code`: only string codes name a kind.
    const code: unknown = (e as { code?: unknown }).code;
    const kind = typeof code === 'string' ? (KIND_BY_CODE[code] ?? (code.startsWith('HPE_') ? 'protocol' : undefined)) : undefined;
    if (kind !== undefined) return kind;
    const named = KIND_BY_NAME[e.name];
    if (named !== undefined) return named;
    e = e instanceof AggregateError && e.errors.length > 0 ? e.errors[0] : e.cause;
  }
  return 'other';
}

/** The 1-based numeric code of a kind, for compact storage. */
export function errorKindCode(kind: ErrorKind): number {
  return ERROR_KINDS.indexOf(kind) + 1;
}
