/**
 * A deliberately broken front for tests: a loopback proxy, round-robin over `upstreams`, that passes
 * requests and bodies through but rewrites the response headers with `transform` (drop Retry-After,
 * lie in x-cache, inflate Server-Timing...).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type HeaderTransform = (headers: http.IncomingHttpHeaders) => http.IncomingHttpHeaders;

export interface HeaderProxy {
  readonly url: string;
  close(): Promise<void>;
}

/** `headers` with `name` rewritten by `rewrite` where present (left out where absent). */
export function rewriteHeader(name: string, rewrite: (value: string) => string): HeaderTransform {
  return (headers) => {
    const value = headers[name];
    return typeof value === 'string' ? { ...headers, [name]: rewrite(value) } : headers;
  };
}

/** `headers` without `names`. */
export function dropHeaders(names: readonly string[]): HeaderTransform {
  return (headers) => Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k)));
}

export async function startHeaderProxy(upstreams: readonly string[], transform: HeaderTransform): Promise<HeaderProxy> {
  if (upstreams.length === 0) throw new Error('the proxy needs at least one upstream');
  const agent = new http.Agent({ keepAlive: true });
  let next = 0;
  const server = http.createServer((req, res) => {
    const target = new URL(upstreams[next++ % upstreams.length] ?? '');
    const forward = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, transform({ ...answer.headers }));
      answer.pipe(res);
    });
    forward.on('error', (error) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
