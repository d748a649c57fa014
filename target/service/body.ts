/** Reads a JSON request body: bounded in size, JSON media type only, operator-looking keys refused. */
import type { IncomingMessage } from 'node:http';
import { DomainError } from '../domain.ts';

/** The JSON body, or `undefined` when the request has none. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes);
  }
  const hasBody = (declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !isJsonMediaType(req.headers['content-type'])) {
    req.resume();
    throw new DomainError(
      'unsupported_media_type',
      `send the body as JSON with "Content-Type: application/json" (got ${req.headers['content-type'] ?? 'no content type'})`,
    );
  }
  const raw = await collect(req, maxBytes);
  if (raw.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new DomainError('invalid_request', `malformed JSON body: ${(error as Error).message}`);
  }
  const operatorKey = findOperatorKey(parsed);
  if (operatorKey !== null) {
    throw new DomainError('invalid_request', `keys starting with "$" are not allowed (found "${operatorKey}")`);
  }
  return parsed;
}

function tooLarge(maxBytes: number): DomainError {
  return new DomainError('payload_too_large', `request body exceeds ${maxBytes} bytes; send a smaller body`);
}

function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const type = (header.split(';')[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Collects the body, refusing (and discarding the rest) as soon as it passes `maxBytes`. */
function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        chunks.length = 0;
        // Keep draining without buffering so the 413 reply can be written; the reply closes the connection.
        req.resume();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      // Only the client can break its request stream (it went away mid-body): a 400, never a 500 (found by fuzzing).
      reject(new DomainError('invalid_request', `the request body ended early (${error.message}); send the whole body`));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The first object key starting with `$` anywhere in the value (iterative: deep nesting cannot overflow the stack). */
export function findOperatorKey(value: unknown): string | null {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (Array.isArray(next)) {
      for (const item of next as unknown[]) pending.push(item);
    } else if (typeof next === 'object' && next !== null) {
      for (const [key, inner] of Object.entries(next)) {
        if (key.startsWith('$')) return key;
        pending.push(inner);
      }
    }
  }
  return null;
}
