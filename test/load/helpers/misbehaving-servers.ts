/**
 * Targets that misbehave, on 127.0.0.1 port 0 in the test process. Most are raw `net` servers, because
 * node:http will not send broken HTTP; each counts its connections and the bytes it wrote, so a test
 * can say how much it was sent against how much gauntlet kept.
 *
 * The raw servers treat every `\r\n\r\n` they read as the end of one request: they serve GETs only
 * (a request body would be miscounted), which is all these tests send.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

export interface MisbehavingServer {
  readonly origin: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Requests read so far (raw servers: request heads seen). */
  readonly requests: () => number;
  /** Bytes written to clients so far. */
  readonly bytesWritten: () => number;
  /** Stops listening and destroys every connection; safe to call twice. */
  close(): Promise<void>;
}

/** What a raw server does with one request on `socket` (its `index`-th over the whole server). */
export type RawBehaviour = (socket: Socket, index: number, wrote: (bytes: number) => void) => void;

/** A raw TCP server that runs `behaviour` for each request head it reads. */
export async function startRawServer(behaviour: RawBehaviour): Promise<MisbehavingServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let requests = 0;
  let bytes = 0;
  const wrote = (n: number): void => {
    bytes += n;
  };
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client that gives up resets the socket; that is the point of most of these servers.
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end = pending.indexOf('\r\n\r\n');
      while (end >= 0) {
        pending = pending.slice(end + 4);
        behaviour(socket, requests++, wrote);
        end = pending.indexOf('\r\n\r\n');
      }
    });
  });
  return listen(server, sockets, { connections: () => connections, requests: () => requests, bytesWritten: () => bytes });
}

async function listen(server: Server, sockets: Set<Socket>, counters: Pick<MisbehavingServer, 'connections' | 'requests' | 'bytesWritten'>): Promise<MisbehavingServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    ...counters,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}

/** Writes `text` and counts it. */
function send(socket: Socket, wrote: (n: number) => void, text: string | Buffer): void {
  if (socket.destroyed) return;
  socket.write(text);
  wrote(typeof text === 'string' ? Buffer.byteLength(text) : text.length);
}

/** A well-formed response. */
export function answer(status = 200, body = 'ok', contentType = 'text/plain'): RawBehaviour {
  return (socket, _i, wrote) => send(socket, wrote, `HTTP/1.1 ${status} X\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Accepts the connection and reads the request, but never answers. */
export const neverAnswer: RawBehaviour = () => undefined;

/** Sends the headers and a first part of a 1 MB body, then nothing more. */
export const headersThenSilence: RawBehaviour = (socket, _i, wrote) => {
  send(socket, wrote, 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n{"items":[');
};

/** A chunked body that never ends, as fast as the client reads it (writes wait for the socket to drain). */
export function endlessBody(chunkBytes = 64 * 1024, contentType = 'application/json'): RawBehaviour {
  const chunk = Buffer.concat([Buffer.from(`${chunkBytes.toString(16)}\r\n`), Buffer.alloc(chunkBytes, 0x20), Buffer.from('\r\n')]);
  return (socket, _i, wrote) => {
    send(socket, wrote, `HTTP/1.1 200 OK\r\ncontent-type: ${contentType}\r\ntransfer-encoding: chunked\r\n\r\n`);
    const pump = (): void => {
      while (!socket.destroyed) {
        wrote(chunk.length);
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };
}

/** A body that never ends, one byte every `everyMs`: never idle long enough for a body timeout. */
export function tricklingBody(everyMs: number): RawBehaviour {
  return (socket, _i, wrote) => {
    send(socket, wrote, 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n');
    const timer = setInterval(() => send(socket, wrote, '1\r\n.\r\n'), everyMs);
    socket.once('close', () => clearInterval(timer));
  };
}

/** A complete response with a `bytes`-long body (content-length), written as the client reads. */
export function hugeBody(bytes: number, contentType = 'application/json'): RawBehaviour {
  const block = Buffer.alloc(64 * 1024, 0x20);
  return (socket, _i, wrote) => {
    send(socket, wrote, `HTTP/1.1 200 OK\r\ncontent-type: ${contentType}\r\ncontent-length: ${bytes}\r\n\r\n`);
    let left = bytes;
    const pump = (): void => {
      while (left > 0 && !socket.destroyed) {
        const part = left >= block.length ? block : block.subarray(0, left);
        left -= part.length;
        wrote(part.length);
        if (!socket.write(part)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };
}

/** Resets the connection (TCP RST) as soon as the request arrives. */
export const resetOnRequest: RawBehaviour = (socket) => {
  socket.resetAndDestroy();
};

/** Closes the connection (FIN) as soon as the request arrives, before any response. */
export const closeOnRequest: RawBehaviour = (socket) => {
  socket.destroy();
};

/** Sends the headers and part of the body, then closes the connection (FIN) mid-body. */
export const destroyMidBody: RawBehaviour = (socket, _i, wrote) => {
  send(socket, wrote, 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf');
  socket.end();
};

/** Responses that are not HTTP/1.1, one per way of being wrong. */
export const MALFORMED = {
  'garbage status line': 'HTTZ/1.1 abc nope\r\n\r\n',
  'bad header syntax': 'HTTP/1.1 200 OK\r\nthis is not a header\r\ncontent-length: 2\r\n\r\nok',
  'invalid chunked encoding': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
  'content-length and chunked together': 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
} as const;

export function malformed(response: string): RawBehaviour {
  return (socket, _i, wrote) => send(socket, wrote, response);
}

/**
 * A correct HTTP server that answers its first `answerFirst` requests with 200 and then dies: it
 * stops listening and drops every open connection, so later connects are refused.
 */
export async function startDyingServer(answerFirst: number, onDied?: () => void): Promise<MisbehavingServer & { readonly died: () => boolean }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let requests = 0;
  let bytes = 0;
  let died = false;
  const server = createHttpServer((req, res) => {
    requests++;
    if (requests > answerFirst) {
      req.socket.destroy();
      return;
    }
    const body = JSON.stringify({ status: 'ok', n: requests });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    bytes += body.length;
    if (requests === answerFirst) {
      died = true;
      // After this answer is flushed: the client must have received all `answerFirst` answers.
      res.once('finish', () => {
        server.close();
        for (const s of sockets) s.destroy();
        onDied?.();
      });
    }
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const base = await listen(server, sockets, { connections: () => connections, requests: () => requests, bytesWritten: () => bytes });
  return { ...base, died: () => died };
}
