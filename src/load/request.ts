/** What to send: a function of the request's index, so scenarios can vary users and payloads. */
import type { Dispatcher } from 'undici';

/** One HTTP request; handed to undici as is, so build it once when it does not vary. */
export interface RequestSpec {
  method: Dispatcher.HttpMethod;
  /** Path and query, starting with `/`. */
  path: string;
  headers?: Record<string, string> | null;
  body?: string | Uint8Array | null;
}

/** Returns the request to send as the `index`-th of a run (0-based). */
export type RequestFactory = (index: number) => RequestSpec;

/** The same request every time (no allocation per request). */
export function fixedRequest(spec: RequestSpec): RequestFactory {
  const frozen = Object.freeze({ ...spec });
  return () => frozen;
}
