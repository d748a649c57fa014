/**
 * The scenarios' JSON client against targets that misbehave: each failure rejects with a
 * JsonClientError of a kind that says what happened, within its timeout, and memory stays bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LOAD_DEFAULTS } from '../../src/load/defaults.ts';
import { JsonClient, JsonClientError } from '../../src/scenario/json-client.ts';
import type { JsonClientErrorKind, JsonClientOptions } from '../../src/scenario/json-client.ts';
import { peakMemoryGrowth } from '../load/helpers/memory-peak.ts';
import {
  answer,
  endlessBody,
  headersThenSilence,
  hugeBody,
  malformed,
  MALFORMED,
  neverAnswer,
  resetOnRequest,
  startRawServer,
  tricklingBody,
} from '../load/helpers/misbehaving-servers.ts';
import type { MisbehavingServer, RawBehaviour } from '../load/helpers/misbehaving-servers.ts';
import { closedPort } from '../load/helpers/servers.ts';

const MiB = 2 ** 20;
const open: { server: MisbehavingServer[]; clients: JsonClient[] } = { server: [], clients: [] };
async function target(behaviour: RawBehaviour, options: JsonClientOptions = {}): Promise<{ server: MisbehavingServer; http: JsonClient }> {
  const server = await startRawServer(behaviour);
  const http = new JsonClient(server.origin, options);
  open.server.push(server);
  open.clients.push(http);
  return { server, http };
}
afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.server.splice(0).map((s) => s.close()));
});

/** The JsonClientError `send` rejected with (fails the test when it resolved). */
async function failure(http: JsonClient, path = '/me'): Promise<JsonClientError> {
  const outcome = await http.send({ method: 'GET', path }).then(
    (res) => new Error(`resolved with ${res.status} ${JSON.stringify(res.body)}`),
    (error: unknown) => error,
  );
  if (!(outcome instanceof JsonClientError)) throw outcome instanceof Error ? outcome : new Error(String(outcome));
  return outcome;
}

async function expectKind(http: JsonClient, kind: JsonClientErrorKind): Promise<JsonClientError> {
  const error = await failure(http);
  expect(error.kind, error.message).toBe(kind);
  expect(error.message).toMatch(/^GET \/me /);
  return error;
}

describe('content types', () => {
  it('JSON resolves, and an empty body resolves as ""', async () => {
    const json = await target(answer(200, '{"id":"u1"}', 'application/json; charset=utf-8'));
    expect((await json.http.send({ method: 'GET', path: '/me' })).body).toEqual({ id: 'u1' });
    const empty = await target(answer(204, '', 'text/plain'));
    expect((await empty.http.send({ method: 'GET', path: '/me' })).body).toBe('');
  });

  it('text/html where JSON is expected is bad-content-type, quoting the page and keeping the status', async () => {
    const { http } = await target(answer(502, '<!doctype html><h1>Bad Gateway</h1>', 'text/html'));
    const error = await expectKind(http, 'bad-content-type');
    expect(error.status).toBe(502);
    expect(error.message).toContain("answered 502 with content-type 'text/html', not JSON");
    expect(error.message).toContain('Bad Gateway');
    expect(http.counts).toEqual({ requests: 1, errors: 1 });
  });

  it('a body labelled JSON that does not parse is bad-json', async () => {
    const { http } = await target(answer(200, '{"id": "u1"', 'application/json'));
    const error = await expectKind(http, 'bad-json');
    expect(error.status).toBe(200);
  });
});

describe('transport failures', () => {
  it('refused, reset and malformed HTTP each get their own kind', async () => {
    const refused = new JsonClient(`http://127.0.0.1:${await closedPort()}`);
    open.clients.push(refused);
    await expectKind(refused, 'refused');
    await expectKind((await target(resetOnRequest)).http, 'reset');
    for (const response of Object.values(MALFORMED)) await expectKind((await target(malformed(response))).http, 'protocol');
  });

  it('the scenario cancelling is aborted, not a failure of the target', async () => {
    const cancel = new AbortController();
    const { http } = await target(neverAnswer, { signal: cancel.signal });
    setTimeout(() => cancel.abort(new Error('scenario over')), 50);
    await expectKind(http, 'aborted');
  });
});

describe('the timeout (JSON_CLIENT_TIMEOUT_MS), proven with a short one', () => {
  const timeoutMs = 300;
  it.each([
    ['never answers', neverAnswer],
    ['headers then silence', headersThenSilence],
    // The client's timeout covers the whole request, so a body that never pauses cannot outlast it.
    ['a body that trickles forever', tricklingBody(20)],
  ] as const)('%s: timeout, after the timeout and not much later', async (_name, behaviour) => {
    const { http } = await target(behaviour, { timeoutMs });
    const t0 = performance.now();
    const error = await expectKind(http, 'timeout');
    const elapsed = performance.now() - t0;
    expect(error.message).toContain(`after ${timeoutMs} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 5);
    // Far below the 30 s default: the configured timeout, late only by what a loaded machine adds.
    expect(elapsed).toBeLessThan(timeoutMs + 2_500);
  });
});

describe('the body size limit (LOAD_DEFAULTS.maxBodyBytes)', () => {
  it('an endless body is body-too-large at the default limit, having read little more than it', async () => {
    const { http, server } = await target(endlessBody());
    const error = await expectKind(http, 'body-too-large');
    expect(error.message).toContain(`(body-too-large past ${LOAD_DEFAULTS.maxBodyBytes} bytes)`);
    expect(server.bytesWritten()).toBeGreaterThan(LOAD_DEFAULTS.maxBodyBytes);
  });

  it('memory follows the limit, not the body: bounded with the limit, growing with the body without it', async () => {
    const limited = await target(endlessBody(), { maxBodyBytes: MiB });
    const bounded = await peakMemoryGrowth(async () => {
      for (let i = 0; i < 100; i++) await expectKind(limited.http, 'body-too-large');
    });
    const sentMiB = limited.server.bytesWritten() / MiB;
    expect(sentMiB).toBeGreaterThan(100);

    // The broken variant: no limit, a finite 128 MiB body. The same meter must see it buffered.
    const unlimited = await target(hugeBody(128 * MiB), { maxBodyBytes: Infinity });
    const unbounded = await peakMemoryGrowth(() => unlimited.http.send({ method: 'GET', path: '/me' }).then(() => undefined, () => undefined));
    expect(unbounded.growth.heapAndBuffersMiB).toBeGreaterThan(96);
    // The peak includes read buffers not yet collected: bounded means far below what was sent, not zero.
    expect(bounded.growth.heapAndBuffersMiB, JSON.stringify({ sentMiB, bounded: bounded.growth })).toBeLessThan(64);
    console.info(
      `JSON client: ${sentMiB.toFixed(0)} MiB of endless bodies at a 1 MiB limit grew heap+buffers by ${bounded.growth.heapAndBuffersMiB.toFixed(1)} MiB ` +
        `(rss ${bounded.growth.rssMiB.toFixed(1)}); one 128 MiB body without a limit by ${unbounded.growth.heapAndBuffersMiB.toFixed(1)} MiB`,
    );
  });
});
