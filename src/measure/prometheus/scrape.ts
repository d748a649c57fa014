/** Fetches a target's `/metrics` with undici, bounded in time, and parses it. */
import { request, type Dispatcher } from 'undici';
import { parsePrometheusText, type PromExposition } from './parse.ts';

/** A scrape that takes longer than this has failed: 5 s, Prometheus's own default scrape timeout is 10 s. */
export const DEFAULT_SCRAPE_TIMEOUT_MS = 5000;

export interface ScrapeOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Clock for `atMs`/`durationMs`, in ms. */
  now?: () => number;
  /** undici dispatcher (default: the global one); pass a dedicated Agent to keep scrapes off load pools. */
  dispatcher?: Dispatcher;
}

export type ScrapeFailureReason = 'timeout' | 'aborted' | 'http-status' | 'network' | 'invalid';

export type ScrapeOutcome =
  | { state: 'scraped'; url: string; atMs: number; durationMs: number; exposition: PromExposition }
  | { state: 'failed'; url: string; atMs: number; durationMs: number; reason: ScrapeFailureReason; message: string };

/** Scrapes `url` once; never throws for network, HTTP or format problems: the outcome says which. */
export async function scrapeMetrics(url: string, options: ScrapeOptions = {}): Promise<ScrapeOutcome> {
  const now = options.now ?? (() => performance.now());
  const timeoutMs = options.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const atMs = now();
  const failed = (reason: ScrapeFailureReason, message: string): ScrapeOutcome => ({
    state: 'failed',
    url,
    atMs,
    durationMs: now() - atMs,
    reason,
    message,
  });
  let text: string;
  try {
    const response = await request(url, {
      signal,
      headers: { accept: 'text/plain;version=0.0.4' },
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    if (response.statusCode < 200 || response.statusCode > 299) {
      await response.body.dump();
      return failed('http-status', `GET ${url} answered ${String(response.statusCode)}; check the metrics path and that the target exposes Prometheus metrics`);
    }
    text = await response.body.text();
  } catch (error) {
    if (options.signal?.aborted) return failed('aborted', `scrape of ${url} was aborted by the caller`);
    if (timeout.aborted) return failed('timeout', `scrape of ${url} took longer than ${String(timeoutMs)} ms; raise timeoutMs or check the target's health`);
    const message = error instanceof Error ? error.message : String(error);
    return failed('network', `scrape of ${url} failed: ${message}; is the target running and listening there?`);
  }
  const parsed = parsePrometheusText(text);
  if (parsed.state === 'invalid') {
    return failed('invalid', `${url} line ${String(parsed.lineNumber)}: ${parsed.reason} (line: ${JSON.stringify(parsed.line.slice(0, 120))})`);
  }
  return { state: 'scraped', url, atMs, durationMs: now() - atMs, exposition: parsed.exposition };
}
