/** Error replies of the service: every failure becomes `{"error":{"code","message"}}` with one status. */
import { z } from 'zod';
import { DomainError, type DomainErrorCode } from '../domain.ts';

/** The code of a 500 that no domain rule named (a bug or an unexpected library failure). */
export const INTERNAL_ERROR_CODE = 'internal';

export interface ErrorReply {
  readonly status: number;
  readonly code: DomainErrorCode | typeof INTERNAL_ERROR_CODE;
  readonly message: string;
  /** True when the cause was not a known, expected failure: the caller logs it once. */
  readonly unexpected: boolean;
}

/** How many schema issues an error message lists before it stops. */
const MAX_ISSUES_IN_MESSAGE = 3;

/** Maps anything thrown while handling a request to the reply the client gets. */
export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof DomainError) {
    return { status: error.status, code: error.code, message: error.message, unexpected: false };
  }
  if (error instanceof z.ZodError) {
    return { status: 400, code: 'invalid_request', message: describeIssues(error), unexpected: false };
  }
  return {
    status: 500,
    code: INTERNAL_ERROR_CODE,
    message: 'unexpected server error; the instance log has the details',
    unexpected: true,
  };
}

function describeIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((issue) => {
    const where = issue.path.length === 0 ? 'body' : issue.path.map(String).join('.');
    return `${where}: ${issue.message}`;
  });
  const more = error.issues.length > MAX_ISSUES_IN_MESSAGE ? ` (+${error.issues.length - MAX_ISSUES_IN_MESSAGE} more)` : '';
  return `invalid request body: ${parts.join('; ')}${more}`;
}

/** The JSON body of an error reply. */
export function errorBody(reply: Pick<ErrorReply, 'code' | 'message'>): { error: { code: string; message: string } } {
  return { error: { code: reply.code, message: reply.message } };
}
