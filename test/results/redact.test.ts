import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactText, rememberSecret } from '../../src/results/redact.ts';

const TOKEN = 'tQ3m9Xw2LrVb7Kd1Jp0sYh5Ue8Fa4Gc6Ni_Zo-Be3Wq';

describe('redactText', () => {
  it.each([
    ['a bearer token in a header line', `authorization: Bearer ${TOKEN}`, 'authorization: [redacted]'],
    ['a bearer token in prose', `the target refused Bearer ${TOKEN} twice`, 'the target refused Bearer [redacted] twice'],
    ['another Authorization scheme', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: [redacted]'],
    ['a token field in JSON', `{"id":"u1","token":"${TOKEN}"}`, '{"id":"u1","token":"[redacted]"}'],
    ['a token field in JSON cut short', `POST /users answered 200, expected 201: {"id":"u1","token":"${TOKEN.slice(0, 20)}`, 'POST /users answered 200, expected 201: {"id":"u1","token":"[redacted]'],
    ['a token field in escaped JSON', `detail: "{\\"access_token\\":\\"${TOKEN}\\"}"`, 'detail: "{\\"access_token\\":\\"[redacted]\\"}"'],
    ['a token in a query string', `GET /families?token=${TOKEN}&x=1`, 'GET /families?token=[redacted]&x=1'],
  ])('%s', (_name, input, expected) => {
    const output = redactText(input);
    expect(output).toBe(expected);
    expect(output).not.toBe(input);
    expect(redactText(output)).toBe(output);
  });

  it('leaves text without secrets as it is', () => {
    for (const text of [
      'tokens conserved: 1000 of 1000 (sum of balances)',
      'the authorization matrix has 84 cells',
      'HISTFAAAAEV4nJNpmSzMwMDAyQABzFCaEUz+h9IMTNiFmRBsLMrxAQAw8AHf',
      'family_the_smiths_2 at version 3',
    ]) expect(redactText(text)).toBe(text);
  });

  it('redacts a remembered secret wherever it appears, unlabelled, and only once remembered', () => {
    const secret = 'Zr8kQ2vN6xT1bW4mY7pC0dF3gH5jK9sL_aE-uI2oP8q';
    const text = `no user for ${secret}; tried /families/${secret}/ledger`;
    expect(redactText(text)).toBe(text);
    rememberSecret(secret);
    expect(redactText(text)).toBe(`no user for ${REDACTED}; tried /families/${REDACTED}/ledger`);
    // A longer run that merely contains it is another value.
    expect(redactText(`x${secret}`)).toBe(`x${secret}`);
  });

  it('does not remember short values (they would redact ordinary words)', () => {
    rememberSecret('member');
    expect(redactText('a member joined')).toBe('a member joined');
  });
});

describe('redact', () => {
  it('redacts secret keys and the strings of any value, in a copy', () => {
    const input = {
      checks: [{ name: 'read-back', detail: `GET /me with Bearer ${TOKEN} answered 500` }],
      request: { headers: { Authorization: `Bearer ${TOKEN}`, 'x-api-key': 'k-123', accept: 'application/json' }, token: TOKEN },
      metrics: { tokens: 1000, 'tokens.conserved': 1, 'latency.p99': 4.2 },
      nothing: null,
      flags: [true, 3],
    };
    const before = JSON.stringify(input);
    const output = redact(input);
    expect(output).toEqual({
      checks: [{ name: 'read-back', detail: 'GET /me with Bearer [redacted] answered 500' }],
      request: { headers: { Authorization: REDACTED, 'x-api-key': REDACTED, accept: 'application/json' }, token: REDACTED },
      metrics: { tokens: 1000, 'tokens.conserved': 1, 'latency.p99': 4.2 },
      nothing: null,
      flags: [true, 3],
    });
    expect(JSON.stringify(output)).not.toContain(TOKEN);
    expect(JSON.stringify(input)).toBe(before);
  });
});
