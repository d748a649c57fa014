/**
 * fast-check arbitraries of hostile requests to the family service: odd IDs and paths, bodies of the
 * wrong shape, type, size, depth and encoding, operator injection, and odd headers. Each part of a
 * request is mostly valid and sometimes odd, so most cases get past authentication and parsing and
 * reach the code behind them (a request odd everywhere only ever tests the first check).
 */
import fc from 'fast-check';
import { DEFAULT_MAX_BODY_BYTES } from '../../../target/config.ts';
import type { RawRequest } from './raw-http.ts';

/** A route of the service and the body it takes (null: none). */
export interface FuzzRoute {
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly pattern: string;
  readonly access: 'public' | 'user';
  /** A valid body, to mutate field by field; null for routes without one. */
  readonly validBody: Readonly<Record<string, unknown>> | null;
}

/** The IDs and tokens that exist in the service the fuzzer attacks. */
export interface FuzzWorld {
  readonly attackerToken: string;
  /** Existing IDs (the attacker's, the victim's, other users'): lookups that find something. */
  readonly knownIds: readonly string[];
  readonly knownUsernames: readonly string[];
}

/** How the first Authorization header of a request relates to the attacker's real token. */
export type AuthKind = 'none' | 'valid' | 'invalid';

export interface FuzzCase {
  readonly route: FuzzRoute;
  readonly request: RawRequest;
  readonly auth: AuthKind;
  /** True when the request is built to be refused before routing (malformed HTTP, a failed Expect, oversized headers). */
  readonly malformedHttp: boolean;
}

const OPERATORS: readonly unknown[] = [
  { $gt: '' }, { $ne: null }, { $where: 'sleep(1000) || true' }, { $regex: '.*' }, { $in: ['a', 'b'] },
  { $exists: true }, { $expr: { $eq: [1, 1] } }, [{ $ne: 1 }], { a: { $gt: 0 } },
];

const LONE_SURROGATES = ['\ud800', '\udfff', 'a\ud83dz', '\udc00\ud800'];

/** Strings that break naive code: control bytes, unicode, surrogates, operator text, path tricks. */
const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  // Any UTF-16 code unit, lone surrogates included ('binary' has none).
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)), maxLength: 20 }),
  fc.constantFrom(...LONE_SURROGATES, '', ' ', '\u0000', '../..', '%2e%2e', '{"$gt":""}', '$where', 'é', '𝔘𝔫𝔦', '\u202e', 'a'.repeat(200)),
);

/** A path parameter: a real ID, a near-miss, or something an ID must never be. */
export function idArb(world: FuzzWorld): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...world.knownIds) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '..', '../', '%2e%2e', '%2e%2e%2f', '%2E%2E%2Fme', '..%2f..%2fetc%2fpasswd', '%00', 'a%00b', '%0d%0aX-Injected:%201',
        '$gt', '%24gt', '%7B%22%24ne%22%3Anull%7D', 'a;b', 'a.b', '%E2%80%AE', '%F0%9F%98%80', '%C3%28', '%ff', '*', '~', '-', '_',
        'a'.repeat(65), 'x'.repeat(5000), 'y'.repeat(20_000),
      ),
    },
    // Raw bytes >= 0x80 and controls in the request line (latin1): llhttp refuses most, the service must answer the rest.
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '\u00e9', '\u00ff', '\u0080', '\u0000', '\t', '.', '/'), minLength: 1, maxLength: 12 }) },
  );
}

const queryArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '?$where=1', '?username[$ne]=x', '?token[$gt]=', '?id=../../etc/passwd', '?filter=%7B%22%24gt%22%3A%22%22%7D',
      '?a=1&a=2', '?', '??', '?%00', '#frag', '?q=' + 'z'.repeat(3000),
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => `?${encodeURIComponent(s)}`) },
);

/** The request target: the route's own path with fuzzed IDs, or a tricked-up variant of it. */
function targetArb(route: FuzzRoute, world: FuzzWorld): fc.Arbitrary<string> {
  const params = route.pattern.split('/').filter((part) => part.startsWith(':')).length;
  const path = fc.array(idArb(world), { minLength: params, maxLength: params }).map((ids) => {
    let next = 0;
    return route.pattern.replace(/:[a-z]+/g, () => ids[next++] ?? '');
  });
  const tricked = path.chain((p) => fc.constantFrom(
    p, `${p}/`, `/${p}`, `${p}/..`, `/x/..${p}`, `/families/..${p}`, p.toUpperCase(), `${p}%2f`, `http://127.0.0.1${p}`, '*',
  ));
  return fc.tuple(fc.oneof({ weight: 10, arbitrary: path }, { weight: 1, arbitrary: tricked }), queryArb).map(([p, q]) => `${p}${q}`);
}

/** The route's valid body with one field replaced, removed, or joined by another. */
function mutatedBody(valid: Readonly<Record<string, unknown>>, world: FuzzWorld): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  const value = fc.oneof(
    fc.jsonValue(),
    { weight: 3, arbitrary: oddString },
    fc.constantFrom(...OPERATORS),
    fc.constantFrom(...world.knownIds, ...world.knownUsernames),
    fc.constantFrom(0, -1, 1.5, 1e300, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, true, null, [], {}),
  );
  const added = fc.tuple(fc.constantFrom('admin', 'ownerId', 'balance', '$where', '$gt', '__proto__', 'constructor', ''), value)
    .map(([key, v]) => ({ ...valid, [key]: v }));
  if (keys.length === 0) return fc.oneof(fc.constant(valid), added);
  return fc.oneof(
    fc.constant(valid),
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...keys), value).map(([key, v]) => ({ ...valid, [key]: v })) },
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key))),
    added,
  );
}

const nestedArb: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 1, max: 40_000 }), fc.constantFrom('array', 'object', 'operator'))
  .map(([depth, kind]) => {
    if (kind === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    if (kind === 'object') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return `${'{"name":['.repeat(Math.min(depth, 5000))}{"$ne":1}${']}'.repeat(Math.min(depth, 5000))}`;
  });

/** A body around the size limit: just under, at, and over it, with and without a valid shape. */
const hugeArb: fc.Arbitrary<string> = fc.integer({ min: DEFAULT_MAX_BODY_BYTES - 64, max: DEFAULT_MAX_BODY_BYTES * 3 })
  .map((size) => `{"name":"${'n'.repeat(Math.max(0, size - 11))}"}`);

/** Bytes that are not UTF-8: lone continuation bytes, overlongs, encoded surrogates, raw 0xff. */
const invalidUtf8Arb: fc.Arbitrary<Buffer> = fc.tuple(
  fc.constantFrom('{"name":"', '{"username":"', '{"to":"', '', '{"'),
  fc.array(fc.constantFrom([0xff], [0xfe], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x28, 0xa1]), { minLength: 1, maxLength: 6 }),
  fc.constantFrom('"}', 'x"}', '', '":1}'),
).map(([head, bad, tail]) => Buffer.concat([Buffer.from(head), Buffer.from(bad.flat()), Buffer.from(tail)]));

/** Any body: mostly near-valid JSON, then arbitrary JSON, nesting, size, bad encodings, non-JSON. */
export function bodyArb(route: FuzzRoute, world: FuzzWorld): fc.Arbitrary<Buffer | null> {
  const valid = route.validBody ?? {};
  const json = (arb: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> => arb.map((v) => Buffer.from(JSON.stringify(v)));
  const text = (arb: fc.Arbitrary<string>): fc.Arbitrary<Buffer> => arb.map((s) => Buffer.from(s));
  return fc.oneof(
    { weight: route.validBody === null ? 3 : 1, arbitrary: fc.constant(null) },
    { weight: 12, arbitrary: json(mutatedBody(valid, world)) },
    { weight: 2, arbitrary: json(fc.jsonValue({ maxDepth: 4 })) },
    { weight: 2, arbitrary: json(fc.constantFrom(...OPERATORS).map((op) => ({ ...valid, ...(op as object) }))) },
    { weight: 1, arbitrary: text(nestedArb) },
    { weight: 1, arbitrary: text(hugeArb) },
    { weight: 1, arbitrary: invalidUtf8Arb },
    { weight: 1, arbitrary: text(fc.constantFrom('', 'null', '{', '{"name":', '[]', '"x"', '1', 'NaN', '{"a":1}{"a":2}', '\ufeff{}', 'username=abc')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)) },
  );
}

const contentTypeArb: fc.Arbitrary<readonly string[]> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(['application/json']) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      [], ['application/json; charset=utf-8'], ['APPLICATION/JSON'], ['application/problem+json'], ['application/json; charset=latin1'],
      ['text/plain'], [''], ['application/x-www-form-urlencoded'], ['multipart/form-data; boundary=x'], ['application/json, text/plain'],
      ['application/json', 'text/plain'], ['text/plain', 'application/json'], [`application/json; x=${'v'.repeat(4000)}`], ['+json'], ['application/'],
    ),
  },
);

/** The Authorization header(s) and what the first one amounts to. */
function authArb(route: FuzzRoute, world: FuzzWorld): fc.Arbitrary<{ headers: readonly string[]; kind: AuthKind }> {
  const valid = `Bearer ${world.attackerToken}`;
  const invalid = fc.oneof(
    fc.constantFrom(
      'Bearer ', 'Bearer', 'bearer', 'Basic dXNlcjpwYXNz', `Bearer ${world.attackerToken}x`, `Bearer ${world.attackerToken.slice(1)}`,
      'Bearer {"$ne":null}', 'Bearer $ne', 'Bearer [object Object]', 'Bearer null', 'Bearer undefined', 'Bearer *', 'Bearer .*',
      `Bearer ${'A'.repeat(600)}`, `Bearer ${'B'.repeat(12_000)}`, 'Token abc', world.attackerToken, 'Bearer a b',
    ),
    fc.string({ maxLength: 60 }).map((s) => `Bearer ${s.replace(/[\r\n\0]/g, '')}`),
  );
  const options: fc.Arbitrary<{ headers: readonly string[]; kind: AuthKind }>[] = [
    fc.constant({ headers: [], kind: 'none' as const }),
    invalid.map((h) => ({ headers: [h], kind: 'invalid' as const })),
    invalid.map((h) => ({ headers: [h, valid], kind: 'invalid' as const })),
  ];
  if (route.access === 'user') {
    // Weighted up: most of a route's code runs only past authentication.
    const validAuth = fc.constantFrom(valid, valid, `bearer ${world.attackerToken}`, `BEARER ${world.attackerToken}`);
    for (let i = 0; i < 3; i++) options.push(validAuth.map((h) => ({ headers: [h], kind: 'valid' as const })));
    options.push(invalid.map((h) => ({ headers: [valid, h], kind: 'valid' as const })));
  }
  return fc.oneof(...options);
}

/** Other headers: mostly none; then odd Expect, If-Match, x-fault, huge values, duplicated lengths, header injection. */
const extraHeadersArb: fc.Arbitrary<{ headers: readonly (readonly [string, string])[]; malformed: boolean }> = fc.oneof(
  { weight: 14, arbitrary: fc.constant({ headers: [], malformed: false }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<readonly (readonly [string, string])[]>(
      [['If-Match', '"1"']], [['If-Match', '"999999999999999"']], [['If-Match', 'three']], [['If-Match', '*']], [['If-Match', '"1", "2"']],
      [['If-Match', '"1"'], ['If-Match', '"2"']], [['x-fault', 'fail-mid-transaction']], [['x-fault', 'delay-ms=30000']],
      [['Accept', 'text/html']], [['Content-Encoding', 'gzip']], [['Cookie', 'token=abc']], [['X-Forwarded-For', '::1, evil']],
      [['Expect', '100-continue']], [['Origin', 'null']], [['Transfer-Encoding', 'identity']],
    ).map((headers) => ({ headers, malformed: false })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<readonly (readonly [string, string])[]>(
      [['X-Huge', 'h'.repeat(20_000)]], [['Expect', 'ponies']], [['Content-Length', '5'], ['Content-Length', '6']],
      [['Content-Length', '-1']], [['Content-Length', 'abc']], [['Bad Header', 'x']], [['X-Nul', 'a\u0000b']],
      [['Transfer-Encoding', 'chunked'], ['Content-Length', '3']],
    ).map((headers) => ({ headers, malformed: true })),
  },
);

const METHODS_ELSEWHERE = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'get', 'G\u00c9T'];

/** One hostile request to `route`. */
export function caseArb(route: FuzzRoute, world: FuzzWorld): fc.Arbitrary<FuzzCase> {
  const method = fc.oneof({ weight: 16, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS_ELSEWHERE) });
  return fc.record({
    method,
    target: targetArb(route, world),
    body: bodyArb(route, world),
    contentType: contentTypeArb,
    auth: authArb(route, world),
    extra: extraHeadersArb,
    cut: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.double({ min: 0, max: 0.99, noNaN: true }) }),
  }).map(({ method: m, target, body, contentType, auth, extra, cut }) => {
    const headers: (readonly [string, string])[] = [
      ...auth.headers.map((h) => ['Authorization', h] as const),
      ...(body === null ? [] : contentType.map((t) => ['Content-Type', t] as const)),
      ...extra.headers,
    ];
    const cutBodyAt = cut === null || body === null || body.length === 0 ? undefined : Math.floor(body.length * cut);
    const request = { method: m, target, headers, body, ...(cutBodyAt === undefined ? {} : { cutBodyAt }) };
    const fuzzCase: FuzzCase = { route, request, auth: auth.kind, malformedHttp: extra.malformed || cutBodyAt !== undefined };
    return Object.assign(fuzzCase, { [fc.toStringMethod]: () => describeCase(fuzzCase) });
  });
}

/** A counterexample short enough to read (bodies of 100 KiB would drown the report). */
export function describeCase(c: FuzzCase): string {
  const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);
  const { method, target, headers, body, cutBodyAt } = c.request;
  const head = headers.map(([name, value]) => `${name}: ${clip(value, 80)}`).join(' | ');
  const shown = body === null ? 'no body' : `${body.length} bytes ${JSON.stringify(clip(body.toString('latin1'), 120))}`;
  return `${method} ${clip(target, 120)} [${head}] ${shown}${cutBodyAt === undefined ? '' : ` cut at ${cutBodyAt}`} (auth ${c.auth})`;
}
