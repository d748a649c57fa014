/** Fetches a target's `/metrics` with undici, bounded in time, and parses it. */
import { request, type Dispatcher } from 'undici';
import { LOAD_DEFAULTS } from '../../load/defaults.ts';
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
  /** Largest body read, counted while it streams (LOAD_DEFAULTS.maxBodyBytes): a target cannot exhaust memory. */
  maxBodyBytes?: number;
}

export type ScrapeFailureReason = 'timeout' | 'aborted' | 'http-status' | 'network' | 'invalid' | 'body-too-large';

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
    const read = await readAtMost(response.body, options.maxBodyBytes ?? LOAD_DEFAULTS.maxBodyBytes);
    if (read === null) {
      return failed('body-too-large', `GET ${url} sent more than ${String(options.maxBodyBytes ?? LOAD_DEFAULTS.maxBodyBytes)} bytes; that is not a metrics page (check the metrics path)`);
    }
    text = read;
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

/** The body as text, or null (and the body destroyed) once it passes `maxBytes`. */
async function readAtMost(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
