/** Tiny local HTTP backends for balancer tests: each answers with its id, counts hits, and can be slow or reset. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type BackendBehaviour =
  /** 200 `{instance}` after `delayMs`, echoing the request body and a few headers. */
  | { readonly kind: 'ok'; readonly delayMs?: number }
  /** Destroys the socket without answering once the request is read. */
  | { readonly kind: 'reset' };

export interface TestBackend {
  readonly instanceId: string;
  readonly url: string;
  /** Requests received, by method. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

/** Starts one backend on 127.0.0.1, on `port` (0: a free one). */
export async function startTestBackend(instanceId: string, behaviour: BackendBehaviour, port = 0): Promise<TestBackend> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    hits.set(method, (hits.get(method) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (behaviour.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      const body = JSON.stringify({
        instance: instanceId,
        echo: Buffer.concat(chunks).toString('utf8'),
        forwardedFor: req.headers['x-forwarded-for'] ?? null,
      });
      setTimeout(() => {
        res.writeHead(201, {
          'content-type': 'application/json',
          'x-instance-id': instanceId,
          'x-cache': 'miss',
          'server-timing': 'db-family-insert;dur=1.1',
          'ratelimit-limit': '5',
          'set-cookie': ['a=1', 'b=2'],
        });
        res.end(body);
      }, behaviour.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    instanceId,
    url: `http://127.0.0.1:${bound}`,
    hits,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

/** A URL on which nothing listens: a port that was free a moment ago. */
export async function deadBackendUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
