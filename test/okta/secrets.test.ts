import { generateKeyPairSync } from 'node:crypto';
import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OktaLogClient } from '../../lib/core/okta/client';
import { credentialsFromSecret, OAuthServiceApp, SswsToken } from '../../lib/core/okta/credentials';
import { parseOrg } from '../../lib/core/okta/org';
import { startMockOkta } from '../../lib/mock-okta/server';
import { ManualClock } from '../../testkit/clock';
import { RecordingReporter } from '../../testkit/reporter';
import { makeEvents } from './helpers';

const T0 = Date.parse('2024-05-01T00:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

/** Every way a value commonly ends up in a log line or an error report. */
function renderings(value: unknown): string[] {
  return [
    inspect(value),
    inspect(value, { showHidden: true, depth: 10, getters: true }),
    inspect({ nested: { value } }, { depth: 10 }),
    format('%o %O %s %j', value, value, value, value),
    JSON.stringify(value) ?? '',
    JSON.stringify({ nested: value }),
    String(value),
    `${value as string}`,
  ];
}

function expectNoSecret(texts: readonly string[], secrets: readonly string[]): void {
  for (const text of texts) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

describe('credentials never reveal their secrets', () => {
  it('SswsToken', async () => {
    // Prepare
    const token = '00Sw5-Secret-Token-Value-1234567890';
    const creds = new SswsToken(token);
    // Act
    const texts = renderings(creds);
    // Assess
    expect(await creds.authorization()).toBe(`SSWS ${token}`);
    expectNoSecret(texts, [token]);
    expect(texts[0]).toContain('[redacted]');
    expect(JSON.parse(JSON.stringify(creds))).toEqual({ kind: 'ssws', token: '[redacted]' });
  });

  it('OAuthServiceApp, before and after it holds an access token', async () => {
    // Prepare
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = privateKey.export({ format: 'jwk' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const pemBody = pem.split('\n')[1];
    const m = await startMockOkta({ oauthClients: [{ clientId: '0oaec', publicKeys: [publicKey] }] });
    try {
      const org = parseOrg(m.origin, { allowInsecureLoopback: true });
      const fromJwk = new OAuthServiceApp({ org, clientId: '0oaec', privateKey: jwk });
      const fromPem = credentialsFromSecret(JSON.stringify({ type: 'oauth', clientId: '0oaec', privateKey: pem }), org);
      // Act
      const header = await fromJwk.authorization();
      await fromPem.authorization();
      const accessToken = header.slice('Bearer '.length);
      const texts = [...renderings(fromJwk), ...renderings(fromPem)];
      // Assess
      expect(accessToken.length).toBeGreaterThan(20);
      expectNoSecret(texts, [jwk.d as string, pemBody, accessToken]);
      expect(inspect(fromJwk)).toContain('clientId: "0oaec"');
    } finally {
      await m.stop();
    }
  });

  it('the client, its errors and its reports', async () => {
    // Prepare
    const token = '00Sw5-Another-Secret-Token-0987654321';
    const wrong = '00Sw5-Wrong-Secret-Token-1111111111';
    const m = await startMockOkta({ apiToken: token, events: makeEvents(3, T0), clock: new ManualClock(T0 + 60_000), faults: { next5xx: 2 } });
    try {
      const reporter = new RecordingReporter();
      const make = (t: string): OktaLogClient =>
        new OktaLogClient({
          org: parseOrg(m.origin, { allowInsecureLoopback: true }),
          credentials: new SswsToken(t),
          reporter,
          backoffBaseMs: 1,
          backoffCapMs: 1,
          maxAttempts: 2,
        });
      const good = make(token);
      const bad = make(wrong);
      // Act: two 5xx (a retry is reported, then the client gives up), then a refused token
      const retryErr = await good.fetchPage(good.boundedQueryUrl(iso(T0), iso(T0 + 60_000))).catch((e: unknown) => e);
      const authErr = await bad.fetchPage(bad.boundedQueryUrl(iso(T0), iso(T0 + 60_000))).catch((e: unknown) => e);
      // Assess
      expect(reporter.lines.some((l) => l.message === 'Okta request retry')).toBe(true);
      expect(retryErr).toBeInstanceOf(Error);
      expect(authErr).toBeInstanceOf(Error);
      const texts = [good, bad, retryErr, authErr].flatMap((v) => [...renderings(v), inspect(v, { depth: 10 })]);
      texts.push(String((retryErr as Error).stack), String((authErr as Error).stack), JSON.stringify(reporter.lines));
      expectNoSecret(texts, [token, wrong]);
    } finally {
      await m.stop();
    }
  });

  it('the token endpoint error carries neither the assertion nor the key', async () => {
    // Prepare: a key the org does not know
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { publicKey: otherPublic } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = privateKey.export({ format: 'jwk' });
    const m = await startMockOkta({ oauthClients: [{ clientId: '0oarsa', publicKeys: [otherPublic] }] });
    try {
      const org = parseOrg(m.origin, { allowInsecureLoopback: true });
      const sent: string[] = [];
      const creds = new OAuthServiceApp({
        org,
        clientId: '0oarsa',
        privateKey: jwk,
        fetch: async (input, init) => {
          sent.push(String(init?.body));
          return fetch(input, init);
        },
      });
      // Act
      const err = await creds.authorization().catch((e: unknown) => e);
      // Assess
      const assertion = new URLSearchParams(sent[0]).get('client_assertion') ?? '';
      expect(assertion.split('.')).toHaveLength(3);
      const signature = assertion.split('.')[2];
      expect(err).toBeInstanceOf(Error);
      expectNoSecret([...renderings(err), String((err as Error).stack), inspect(err, { depth: 10 })], [signature, assertion, jwk.d as string]);
    } finally {
      await m.stop();
    }
  });
});
