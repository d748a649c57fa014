/** Classifies a failed request from undici's (and Node's) error codes. */

/** Why a request got no response. */
export type ErrorKind = 'refused' | 'reset' | 'timeout' | 'aborted' | 'other';

/** Numeric codes used in the columnar records; 0 means "no error". */
export const ERROR_KINDS = ['refused', 'reset', 'timeout', 'aborted', 'other'] as const satisfies readonly ErrorKind[];
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
};

/** Maps an error to its kind; looks through `cause` and AggregateError (dual-stack connects). */
export function classifyError(error: unknown): ErrorKind {
  for (let depth = 0, e: unknown = error; depth < 4 && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    const kind = code === undefined ? undefined : KIND_BY_CODE[code];
    if (kind !== undefined) return kind;
    if (e.name === 'AbortError') return 'aborted';
    e = e instanceof AggregateError && e.errors.length > 0 ? e.errors[0] : e.cause;
  }
  return 'other';
}

/** The 1-based numeric code of a kind, for compact storage. */
export function errorKindCode(kind: ErrorKind): number {
  return ERROR_KINDS.indexOf(kind) + 1;
}
