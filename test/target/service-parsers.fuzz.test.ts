// Properties of the service's own parsers over arbitrary input, without HTTP: each either answers a
// value in its documented range or refuses with a DomainError (a 4xx), never anything else (a 500).
// The x-fault header is fuzzed here because the HTTP fuzz runs with fault injection off.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../target/domain.ts';
import { findOperatorKey } from '../../target/service/body.ts';
import { parseFaultHeader } from '../../target/service/faults.ts';
import { Router } from '../../target/service/router.ts';
import { ID_PATTERN, MAX_FAULT_MS, familyNameBody, parseId, parseIfMatch, transferBody } from '../../target/service/schemas.ts';
import { z } from 'zod';

const RUNS = 2_000;
const headerText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.array(fc.oneof(fc.constantFrom('fail-mid-transaction', 'delay-ms=', ' ', ','), fc.nat({ max: 10_000_000 }).map(String)), { maxLength: 8 }).map((parts) => parts.join('')),
);

/** Runs `parse`; a refusal must be a DomainError (what the service maps to a 4xx). */
function outcome<T>(parse: () => T): { ok: true; value: T } | { ok: false } {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (error instanceof DomainError || error instanceof z.ZodError) return { ok: false };
    throw error;
  }
}

const faultProperty = (parse: typeof parseFaultHeader) => fc.property(headerText, (header) => {
  const result = outcome(() => parse(header, true));
  if (result.ok) expect(result.value.delayMs).toBeGreaterThanOrEqual(0);
  if (result.ok) expect(result.value.delayMs).toBeLessThanOrEqual(MAX_FAULT_MS);
});

const ifMatchProperty = (parse: typeof parseIfMatch) =>
  fc.property(fc.oneof(headerText, fc.nat().map((n) => `"${n}"`), fc.constant(`"${'9'.repeat(20)}"`)), (header) => {
    const result = outcome(() => parse(header));
    if (result.ok && result.value !== undefined) expect(Number.isSafeInteger(result.value)).toBe(true);
  });

const withOperator = fc.tuple(fc.jsonValue(), fc.constantFrom('$gt', '$ne', '$where', '$'), fc.jsonValue(), fc.nat({ max: 30 }))
  .map(([outer, key, inner, depth]) => {
    let value: unknown = { [key]: inner };
    for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [outer, value] : { wrap: value };
    return value;
  });
const operatorProperty = (find: typeof findOperatorKey) => fc.property(withOperator, (value) => {
  expect(find(value)).toMatch(/^\$/);
});

describe('service parsers never fail with anything but a 4xx', () => {
  it('x-fault (faults on): a delay within bounds, or invalid_request', () => {
    fc.assert(faultProperty(parseFaultHeader), { numRuns: RUNS });
  });

  it('If-Match: a safe integer version, none, or invalid_request', () => {
    fc.assert(ifMatchProperty(parseIfMatch), { numRuns: RUNS });
  });

  it('an ID: exactly the ID pattern passes', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.stringMatching(ID_PATTERN)), (raw) => {
      expect(outcome(() => parseId(raw, 'the ID')).ok).toBe(ID_PATTERN.test(raw));
    }), { numRuns: RUNS });
  });

  it('bodies: any JSON value is accepted or refused by the schemas, and what is accepted is in range', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
      for (const candidate of [a, { name: a }, { to: a, amount: b }]) {
        const name = outcome(() => familyNameBody.parse(candidate));
        if (name.ok) expect(name.value.name.trim().length).toBeGreaterThan(0);
        const transfer = outcome(() => transferBody.parse(candidate));
        if (transfer.ok) expect(Number.isSafeInteger(transfer.value.amount) && transfer.value.amount > 0).toBe(true);
      }
    }), { numRuns: RUNS });
  });

  it('operator keys: found at any depth when present, never invented', () => {
    fc.assert(operatorProperty(findOperatorKey), { numRuns: RUNS });
    const hasDollarKey = (v: unknown): boolean => JSON.stringify(v).includes('"$');
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      if (!hasDollarKey(value)) expect(findOperatorKey(value)).toBeNull();
    }), { numRuns: RUNS });
  });

  it('the router: any method and path match, miss or name the allowed methods, without throwing', () => {
    const router = new Router([
      { method: 'GET', pattern: '/families/:id' }, { method: 'PATCH', pattern: '/families/:id' }, { method: 'POST', pattern: '/invitations/:id/accept' },
    ]);
    const path = fc.oneof(fc.string(), fc.array(fc.constantFrom('families', 'invitations', 'accept', '', '..', '%2e', 'x'), { maxLength: 5 }).map((s) => `/${s.join('/')}`));
    fc.assert(fc.property(fc.constantFrom('GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'X'), path, (method, p) => {
      const match = router.match(method, p);
      if (match.kind === 'found') for (const value of Object.values(match.params)) expect(value).not.toMatch(/^$|\//);
      if (match.kind === 'method_not_allowed') expect(match.allowed).not.toContain(method === 'HEAD' ? 'GET' : method);
    }), { numRuns: RUNS });
  });
});

describe('the same properties fail on broken parsers', () => {
  const fails = <T extends [unknown]>(property: fc.IProperty<T>): boolean => fc.check(property, { numRuns: RUNS }).failed;

  it('an x-fault parser that takes any delay', () => {
    expect(fails(faultProperty((header) => ({ failMidTransaction: false, delayMs: Number(/delay-ms=(\d+)/.exec(header ?? '')?.[1] ?? 0) })))).toBe(true);
  });

  it('an If-Match parser that takes any number of digits', () => {
    expect(fails(ifMatchProperty((header) => (header === undefined ? undefined : Number(/\d+/.exec(header)?.[0] ?? 0))))).toBe(true);
  });

  it('an operator finder that looks only at the top level', () => {
    const topLevel = (value: unknown): string | null =>
      typeof value === 'object' && value !== null && !Array.isArray(value) ? (Object.keys(value).find((k) => k.startsWith('$')) ?? null) : null;
    expect(fails(operatorProperty(topLevel))).toBe(true);
  });
});
