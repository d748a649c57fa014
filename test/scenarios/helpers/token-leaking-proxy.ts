/**
 * A deliberately indiscreet front for the redaction test: a loopback proxy that records every token
 * the service hands out and rewrites chosen answers so they carry tokens where a scenario will quote
 * them (a handed-out token in an answer of the wrong status, an error that echoes the caller's header).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** Rewrites the `n`-th answer (1-based, per rule) of requests the rule matches; the request's Authorization is at hand. */
export interface LeakRule {
  readonly matches: (method: string, path: string) => boolean;
  readonly nth: number;
  readonly rewrite: (answer: Answer, authorization: string | undefined) => Answer;
}

export interface LeakingProxy {
  readonly url: string;
  /** Every `token` the service answered with, so far. */
  readonly tokens: ReadonlySet<string>;
  close(): Promise<void>;
}

export async function startLeakingProxy(upstream: string, rules: readonly LeakRule[]): Promise<LeakingProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const tokens = new Set<string>();
  const seen = rules.map(() => 0);
  const server = http.createServer((req, res) => {
    const forward = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent }, (upstreamRes) => {
      const chunks: Buffer[] = [];
      upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.on('end', () => {
        let answer: Answer = { status: upstreamRes.statusCode ?? 502, body: Buffer.concat(chunks).toString('utf8') };
        const token = /"token":"([^"]+)"/.exec(answer.body)?.[1];
        if (token !== undefined) tokens.add(token);
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        for (const [index, rule] of rules.entries()) {
          if (!rule.matches(req.method ?? 'GET', path)) continue;
          seen[index] = (seen[index] ?? 0) + 1;
          if (seen[index] === rule.nth) answer = rule.rewrite(answer, req.headers.authorization);
        }
        res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'x-instance-id': String(upstreamRes.headers['x-instance-id'] ?? 'proxy') });
        res.end(answer.body);
      });
    });
    forward.on('error', (error) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'proxy', message: error.message } }));
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tokens,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
