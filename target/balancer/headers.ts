/** Header rewriting between client, balancer and backend: hop-by-hop headers stop here, the rest passes unchanged. */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Connection-scoped headers (RFC 9110 §7.6.1) plus those undici refuses on a request
 * (`expect`, `upgrade`, `keep-alive`, `transfer-encoding`): each hop sets its own.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** The headers to send upstream: the client's, minus hop-by-hop, with the client address appended to `x-forwarded-for`. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  clientAddress: string | undefined,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  if (clientAddress !== undefined) {
    const prior = incoming['x-forwarded-for'];
    const chain = Array.isArray(prior) ? prior.join(', ') : prior;
    out['x-forwarded-for'] = chain === undefined ? clientAddress : `${chain}, ${clientAddress}`;
  }
  return out;
}

/** The backend's response headers as the client gets them: everything but hop-by-hop. */
export function downstreamResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}
