/**
 * One HTTP/1.1 request written byte for byte on its own socket: what an ordinary client refuses to
 * send (duplicate headers, `..` and NUL in the path, invalid UTF-8, CONNECT) reaches the server as is.
 */
import net from 'node:net';

export interface RawRequest {
  readonly method: string;
  /** The request target exactly as sent (latin1: one byte per char), query string included. */
  readonly target: string;
  /** In order; a name may repeat. Content-Length is added for a body unless given. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer | null;
  /** Declare the whole body but send only this many bytes of it, then half-close: a client that went away mid-body. */
  readonly cutBodyAt?: number;
}

export type RawOutcome =
  | { readonly kind: 'answered'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string }
  /** The server closed (or reset) the connection before a complete status line. */
  | { readonly kind: 'closed'; readonly error: string | null }
  | { readonly kind: 'timeout'; readonly received: string };

/** The serialised request (latin1 for the head, so a test controls every byte of the path and headers). */
export function encodeRaw(req: RawRequest): Buffer {
  const lines = [`${req.method} ${req.target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  const hasLength = req.headers.some(([name]) => name.toLowerCase() === 'content-length');
  for (const [name, value] of req.headers) lines.push(`${name}: ${value}`);
  if (req.body !== null && !hasLength) lines.push(`Content-Length: ${req.body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return req.body === null ? head : Buffer.concat([head, req.body.subarray(0, req.cutBodyAt ?? req.body.length)]);
}

/** Sends `req` to 127.0.0.1:`port` and reads until the server closes; `timeoutMs` bounds the whole exchange. */
export function sendRaw(port: number, req: RawRequest, timeoutMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (outcome: RawOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout', received: Buffer.concat(chunks).toString('latin1').slice(0, 200) }), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server that answers an oversized body early and closes resets our write: what it answered still counts.
    socket.on('error', (error) => finish(parseResponse(Buffer.concat(chunks), error.message)));
    socket.on('end', () => finish(parseResponse(Buffer.concat(chunks), null)));
    socket.on('close', () => finish(parseResponse(Buffer.concat(chunks), null)));
    socket.on('connect', () => {
      socket.write(encodeRaw(req));
      if (req.cutBodyAt !== undefined) socket.end();
    });
  });
}

function parseResponse(received: Buffer, error: string | null): RawOutcome {
  // `100 Continue` (Expect) comes before the real answer.
  const interim = /^(?:HTTP\/1\.[01] 1\d\d[^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/.exec(received.toString('latin1'))?.[0].length ?? 0;
  const data = received.subarray(interim);
  const text = data.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
  if (headEnd < 0 || status === undefined) return { kind: 'closed', error };
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, headEnd).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rawBody = data.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1'));
  const body = headers['transfer-encoding']?.toLowerCase() === 'chunked' ? dechunk(rawBody) : rawBody;
  return { kind: 'answered', status: Number(status), headers, body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
