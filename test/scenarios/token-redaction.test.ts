// No token created during a run reaches results.json, report.md, JUnit, the step summary, gauntlet's
// stdout/stderr or the target's log, even when the target puts tokens where a scenario quotes it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED } from '../../src/results/redact.ts';
import { DEFAULT_ADMISSION } from '../../target/config.ts';
import { runGauntlet, type CliRun } from '../helpers/run-cli.ts';
import { startService, tempDb, type RunningService, type TempDb } from '../target/helpers/service-harness.ts';
import { storeWith } from './helpers/scenario-harness.ts';
import { startLeakingProxy, type LeakingProxy } from './helpers/token-leaking-proxy.ts';

let db: TempDb;
let service: RunningService;
let proxy: LeakingProxy;
let out: string;
let run: CliRun;
const logs: string[] = [];
/** A token the broken store puts in an unexpected error, which the service then logs. */
let tokenForTheLog = '';

beforeAll(async () => {
  db = await tempDb();
  service = await startService({
    dbPath: db.path,
    config: { rateLimit: { limit: 1_000_000, windowMs: 60_000 }, admission: { ...DEFAULT_ADMISSION, lagTargetMs: 0 } },
    log: (line) => logs.push(line),
    wrapStore: (store) => storeWith(store, { listLedger: () => Promise.reject(new Error(`ledger read failed for Authorization: Bearer ${tokenForTheLog}`)) }),
  });
  proxy = await startLeakingProxy(service.url, [
    // The first scenario: a user created, answered 200 instead of 201 (with its token): the fixture error quotes the body.
    { matches: (m, p) => m === 'POST' && p === '/users', nth: 3, rewrite: (answer) => ({ ...answer, status: 200 }) },
    // The second (the first stopped before any family): a family refused with an error echoing the caller's header and token.
    {
      matches: (m, p) => m === 'POST' && p === '/families',
      nth: 1,
      rewrite: (_answer, authorization) => ({
        status: 409,
        body: JSON.stringify({ error: { code: 'family_limit', message: `refused for Authorization: ${authorization ?? ''}`, token: authorization?.slice(7) } }),
      }),
    },
  ]);
  out = await mkdtemp(join(tmpdir(), 'gauntlet-redaction-'));
  run = await runGauntlet(
    ['run', '--target', proxy.url, '--scenario', 'member-invitations', '--scenario', 'cache-coherence', '--profile', 'smoke',
      '--out', out, '--junit', join(out, 'junit.xml'), '--json'],
    { env: { GITHUB_STEP_SUMMARY: join(out, 'summary.md') }, timeoutMs: 120_000 },
  );
}, 150_000);

afterAll(async () => {
  await proxy.close();
  await service.close();
  await db.remove();
  await rm(out, { recursive: true, force: true });
});

describe('tokens are redacted from everything a run writes or prints', () => {
  it('the run saw tokens, and quoted them where they would have leaked', async () => {
    expect(proxy.tokens.size, run.stderr).toBeGreaterThanOrEqual(3);
    const results = await readFile(join(out, 'results.json'), 'utf8');
    // The two leaks reached the results, redacted: the handed-out token and the echoed header.
    expect(results).toMatch(/answered 200, expected 201: .*\\"token\\":\\"\[redacted\]/);
    expect(results).toContain(`refused for Authorization: ${REDACTED}`);
  });

  it.each(['results.json', 'report.md', 'junit.xml', 'summary.md'])('%s holds none of them', async (file) => {
    const text = await readFile(join(out, file), 'utf8');
    expect(text.length).toBeGreaterThan(0);
    expect([...proxy.tokens].filter((token) => text.includes(token))).toEqual([]);
  });

  it('stdout (--json) and stderr (progress lines) hold none of them', () => {
    expect(run.stdout).toContain(REDACTED);
    expect(run.stderr).toMatch(/member-invitations: ERRORED[\s\S]*cache-coherence: ERRORED|cache-coherence: ERRORED[\s\S]*member-invitations: ERRORED/);
    for (const stream of [run.stdout, run.stderr]) expect([...proxy.tokens].filter((token) => stream.includes(token))).toEqual([]);
  });

  it('the target logs an unexpected error that quotes a token, redacted', async () => {
    const user = (await service.client.call('POST', '/users', { json: { username: `ledger_${process.pid}` } })).body as { token: string };
    const family = (await service.client.call('POST', '/families', { token: user.token, json: { name: 'Logged' } })).body as { id: string };
    tokenForTheLog = user.token;
    expect((await service.client.call('GET', `/families/${family.id}/ledger`, { token: user.token })).status).toBe(500);
    expect(logs.join('\n')).toContain(`Authorization: ${REDACTED}`);
    expect(logs.filter((line) => line.includes(user.token))).toEqual([]);
  });
});
