/**
 * DPoP (RFC 9449) for the OAuth service app, for real over loopback: the client against the mock
 * Okta with `requireDpop` (nonce handshakes at the token endpoint and the API, key-bound tokens),
 * and the mock refusing what a resource server must refuse (replays, proofs for another URL or of
 * another key, a DPoP token used as Bearer).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIngest } from '../../lib/core/ingest/ingest';
import { OktaLogClient } from '../../lib/core/okta/client';
import { credentialsFromSecret, OAuthServiceApp } from '../../lib/core/okta/credentials';
import { DpopKey, accessTokenHash, jwkThumbprint, processDpopKey } from '../../lib/core/okta/dpop';
import { CredentialsError, OAuthTokenError } from '../../lib/core/okta/errors';
import { parseOrg, type OktaOrg } from '../../lib/core/okta/org';
import { startMockOkta, type MockOkta } from '../../lib/mock-okta/server';
import { ManualClock } from '../../testkit/clock';
import { FakeWriter, MemorySink } from '../../testkit/fakes';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import { makeEvents } from './helpers';

const T0 = Date.parse('2024-05-01T00:00:00.000Z');
const NOW = T0 + 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

interface Sent {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly status: number;
  readonly responseHeaders: Headers;
}

/** A fetch that records every request's headers and every answer's status and headers. */
function recorder(): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const f: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    sent.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string>) },
      status: res.status,
      responseHeaders: res.headers,
    });
    return res;
  };
  return { fetch: f, sent };
}

function decode(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()) };
}

let ec: { publicKey: KeyObject; privateKey: KeyObject };
let m: MockOkta;
let org: OktaOrg;
const clock = new ManualClock(NOW);

beforeAll(async () => {
  ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  m = await startMockOkta({
    events: makeEvents(25, T0),
    clock,
    requireDpop: true,
    oauthClients: [
      { clientId: '0oadpop', publicKeys: [ec.publicKey] },
      { clientId: '0oabearer', publicKeys: [ec.publicKey], requireDpop: false },
    ],
  });
  org = parseOrg(m.origin, { allowInsecureLoopback: true });
});

afterAll(async () => {
  await m.stop();
});

function setUp(clientId: string, dpop?: 'auto' | 'always' | 'never'): { creds: OAuthServiceApp; client: OktaLogClient; sent: Sent[] } {
  const r = recorder();
  const creds = new OAuthServiceApp({ org, clientId, privateKey: ec.privateKey, clock, fetch: r.fetch, ...(dpop ? { dpop } : {}) });
  const client = new OktaLogClient({ org, credentials: creds, clock, fetch: r.fetch, backoffBaseMs: 1, backoffCapMs: 2, rateLimitJitterMs: 0, pageSize: 10 });
  return { creds, client, sent: r.sent };
}

describe('DPoP against the mock Okta with requireDpop', () => {
  it('auto: a plain token request is refused with invalid_dpop_proof, then the nonce handshake, a DPoP token and proofs on every page', async () => {
    // Prepare
    const { creds, client, sent } = setUp('0oadpop');
    const before = m.stats;
    // Act
    const page = await client.fetchPage(client.boundedQueryUrl(iso(T0), iso(T0 + 5_000)));
    // Assess: three token requests (no proof; proof without nonce; proof with the nonce), one page
    expect(JSON.parse(page.body)).toHaveLength(5);
    expect(creds.usesDpop).toBe(true);
    const tokenCalls = sent.filter((s) => s.url.endsWith('/oauth2/v1/token'));
    expect(tokenCalls.map((s) => s.status)).toEqual([400, 400, 200]);
    expect(tokenCalls[0].headers.DPoP).toBeUndefined();
    const nonce = tokenCalls[1].responseHeaders.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    expect(decode(tokenCalls[1].headers.DPoP).payload.nonce).toBeUndefined();
    const tokenProof = decode(tokenCalls[2].headers.DPoP);
    expect(tokenProof.header).toEqual({ typ: 'dpop+jwt', alg: 'ES256', jwk: processDpopKey().publicJwk });
    expect(tokenProof.header.jwk).not.toHaveProperty('d');
    expect(tokenProof.payload).toMatchObject({ htm: 'POST', htu: `${m.origin}/oauth2/v1/token`, iat: NOW / 1000, nonce });
    expect(tokenProof.payload).not.toHaveProperty('ath');
    expect(m.stats.tokensIssued - before.tokensIssued).toBe(1);
    expect(m.stats.dpopNonceChallenges - before.dpopNonceChallenges).toBe(1);

    const api = sent.filter((s) => s.url.includes('/api/v1/logs'));
    expect(api).toHaveLength(1);
    const accessToken = api[0].headers.Authorization.replace(/^DPoP /, '');
    expect(api[0].headers.Authorization).toMatch(/^DPoP \S+$/);
    const apiProof = decode(api[0].headers.DPoP);
    expect(apiProof.payload).toMatchObject({ htm: 'GET', htu: `${m.origin}/api/v1/logs`, ath: accessTokenHash(accessToken), nonce });
    expect(apiProof.payload.jti).not.toBe(tokenProof.payload.jti);

    // Act: the server replaces its nonce; the API answers 401 use_dpop_nonce; the client retries at once
    m.rotateDpopNonces();
    const again = await client.fetchPage(client.boundedQueryUrl(iso(T0), iso(T0 + 5_000)));
    // Assess
    expect(JSON.parse(again.body)).toHaveLength(5);
    const api2 = sent.filter((s) => s.url.includes('/api/v1/logs')).slice(1);
    expect(api2.map((s) => s.status)).toEqual([401, 200]);
    expect(api2[0].responseHeaders.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce"/);
    expect(decode(api2[1].headers.DPoP).payload.nonce).toBe(api2[0].responseHeaders.get('dpop-nonce'));
    expect(m.stats.tokensIssued - before.tokensIssued).toBe(1);
    expect(client.stats.retries.unauthorized).toBe(0);
  });

  it('always: the first token request carries a proof; a client that does not require DPoP still gets a bound token', async () => {
    const { creds, client, sent } = setUp('0oabearer', 'always');
    await client.fetchPage(client.boundedQueryUrl(iso(T0), iso(T0 + 5_000)));
    const tokenCalls = sent.filter((s) => s.url.endsWith('/oauth2/v1/token'));
    expect(tokenCalls[0].headers.DPoP).toBeTruthy();
    expect(tokenCalls.at(-1)?.status).toBe(200);
    expect(creds.usesDpop).toBe(true);
    expect(sent.at(-1)?.headers.Authorization).toMatch(/^DPoP /);
  });

  it('auto against an app that does not require DPoP: plain Bearer, no proof anywhere', async () => {
    const { creds, client, sent } = setUp('0oabearer');
    await client.fetchPage(client.boundedQueryUrl(iso(T0), iso(T0 + 5_000)));
    expect(creds.usesDpop).toBe(false);
    expect(sent.every((s) => s.headers.DPoP === undefined)).toBe(true);
    expect(sent.at(-1)?.headers.Authorization).toMatch(/^Bearer /);
  });

  it('never: the app requires DPoP, the error says so', async () => {
    const { creds } = setUp('0oadpop', 'never');
    const e = await creds.authorization().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OAuthTokenError);
    expect((e as OAuthTokenError).error).toBe('invalid_dpop_proof');
    expect((e as OAuthTokenError).errorDescription).toBe('The DPoP proof JWT header is missing.');
    expect((e as Error).message).toContain('the dpop option is "never"');
  });

  it('the mock refuses a replayed proof, a proof for another URL, of another key or without ath, and the DPoP token as Bearer', async () => {
    // Prepare: one good request, recorded
    const { client, sent } = setUp('0oadpop', 'always');
    const url = client.boundedQueryUrl(iso(T0), iso(T0 + 5_000));
    await client.fetchPage(url);
    const good = sent.filter((s) => s.url.includes('/api/v1/logs')).at(-1)!;
    expect(good.status).toBe(200);
    const accessToken = good.headers.Authorization.slice(5);
    const nonce = good.responseHeaders.get('dpop-nonce') ?? undefined;
    const nowSec = NOW / 1000;
    const get = (headers: Record<string, string>): Promise<Response> => fetch(url, { headers: { Accept: 'application/json', ...headers } });
    const before = m.stats;

    // Act
    const replayed = await get({ Authorization: good.headers.Authorization, DPoP: good.headers.DPoP });
    const otherUrl = await get({
      Authorization: good.headers.Authorization,
      DPoP: processDpopKey().proof({ method: 'GET', url: `${m.origin}/api/v1/users`, accessToken, nonce, nowSec }),
    });
    const otherKey = await get({
      Authorization: good.headers.Authorization,
      DPoP: new DpopKey().proof({ method: 'GET', url, accessToken, nonce, nowSec }),
    });
    const noAth = await get({ Authorization: good.headers.Authorization, DPoP: processDpopKey().proof({ method: 'GET', url, nonce, nowSec }) });
    const asBearer = await get({ Authorization: `Bearer ${accessToken}` });
    const noProof = await get({ Authorization: good.headers.Authorization });
    const fresh = await get({ Authorization: good.headers.Authorization, DPoP: processDpopKey().proof({ method: 'GET', url, accessToken, nonce, nowSec }) });

    // Assess
    const challenge = (r: Response): string => r.headers.get('www-authenticate') ?? '';
    expect(replayed.status).toBe(401);
    expect(challenge(replayed)).toMatch(/error="invalid_dpop_proof".*already used/);
    expect(otherUrl.status).toBe(401);
    expect(challenge(otherUrl)).toMatch(/error="invalid_dpop_proof".*htu/);
    expect(otherKey.status).toBe(401);
    expect(challenge(otherKey)).toMatch(/not the key the access token is bound to/);
    expect(noAth.status).toBe(401);
    expect(challenge(noAth)).toMatch(/ath/);
    expect(asBearer.status).toBe(401);
    expect(noProof.status).toBe(401);
    expect(challenge(noProof)).toMatch(/missing/);
    expect(fresh.status).toBe(200);
    expect(m.stats.dpopProofsRefused - before.dpopProofsRefused).toBe(5);

    // A token request replayed with its proof is refused too
    const tokenCall = sent.filter((s) => s.url.endsWith('/oauth2/v1/token') && s.status === 200).at(-1)!;
    const replayedToken = await fetch(tokenCall.url, {
      method: 'POST',
      headers: { ...tokenCall.headers },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'okta.logs.read', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'x.y.z' }).toString(),
    });
    expect(replayedToken.status).toBe(400);
    expect(await replayedToken.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('signs for the configured org only: a request to another origin gets no token, no proof, no request', async () => {
    const { creds, sent } = setUp('0oadpop', 'always');
    await expect(creds.requestHeaders('GET', 'https://attacker.invalid/api/v1/logs')).rejects.toBeInstanceOf(CredentialsError);
    expect(sent).toHaveLength(0);
  });

  it('the secret\'s dpop field picks the mode, and anything else is refused', () => {
    const pem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const secret = (dpop: unknown): string => JSON.stringify({ type: 'oauth', clientId: '0oadpop', privateKey: pem, dpop });
    expect((credentialsFromSecret(secret('always'), org) as OAuthServiceApp).usesDpop).toBe(true);
    expect((credentialsFromSecret(secret('auto'), org) as OAuthServiceApp).usesDpop).toBe(false);
    expect(() => credentialsFromSecret(secret('sometimes'), org)).toThrow(/field "dpop" must be "auto", "always" or "never"/);
  });

  it('the DPoP key: P-256, RFC 7638 thumbprint, never shown by inspect or JSON', () => {
    const k = new DpopKey();
    expect(k.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(k.thumbprint).toBe(jwkThumbprint({ ...k.publicJwk }));
    // RFC 7638 section 3.1's example key and thumbprint
    expect(
      jwkThumbprint({
        kty: 'RSA',
        n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
        e: 'AQAB',
      }),
    ).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    const shown = `${inspect(k, { showHidden: true, depth: 9 })} ${JSON.stringify(k)} ${String(k)}`;
    expect(shown).toContain('[redacted]');
    expect(shown).not.toMatch(/"d"|\bd:/);
  });

  it('follows the nonce as the mock rotates it with time: the one before stays valid, each answer brings the current one', async () => {
    // Prepare: a DPoP client that has its token and nonce
    const { client, sent } = setUp('0oadpop', 'always');
    const url = client.boundedQueryUrl(iso(T0), iso(T0 + 5_000));
    await client.fetchPage(url);
    const before = m.stats;
    // Act (the last case of this block: the shared clock only moves forward): past the rotation age (60 s) twice, a page each time
    for (let i = 0; i < 2; i++) {
      clock.advance(61_000);
      await client.fetchPage(url);
    }
    // Assess: no challenge; each proof carried the nonce of the answer before it, which changed
    const api = sent.filter((s) => s.url.includes('/api/v1/logs'));
    expect(api.map((s) => s.status)).toEqual([200, 200, 200]);
    const nonces = api.map((s) => s.responseHeaders.get('dpop-nonce'));
    expect(new Set(nonces).size).toBe(3);
    expect(decode(api[1].headers.DPoP).payload.nonce).toBe(nonces[0]);
    expect(decode(api[2].headers.DPoP).payload.nonce).toBe(nonces[1]);
    expect(m.stats.dpopNonceChallenges - before.dpopNonceChallenges).toBe(0);
  });
});

describe('an ingest over the mock Okta with requireDpop', () => {
  it('stores every event once', async () => {
    // Prepare: real time, 40 events from three hours ago
    const start = Math.floor(Date.now() / 60_000) * 60_000 - 3 * 3_600_000;
    const events = makeEvents(40, start, 60_000, 'dp');
    const mock = await startMockOkta({ events, requireDpop: true, oauthClients: [{ clientId: '0oaingest', publicKeys: [ec.publicKey] }] });
    try {
      const o = parseOrg(mock.origin, { allowInsecureLoopback: true });
      const credentials = new OAuthServiceApp({ org: o, clientId: '0oaingest', privateKey: ec.privateKey });
      const sink = new MemorySink();
      // Act
      const result = await runIngest({
        org: o.host,
        source: new OktaLogClient({ org: o, credentials, pageSize: 7, backoffBaseMs: 1, backoffCapMs: 2 }),
        writer: new FakeWriter(),
        sink,
        store: new MemoryWatermarkStore(),
        owner: 'dpop',
        since: new Date(start).toISOString(),
      });
      // Assess
      expect(result.outcome).toBe('caught-up');
      expect(sink.uuids().sort()).toEqual(events.map((e) => e.uuid).sort());
      expect(mock.stats.tokensIssued).toBe(1);
      expect(mock.stats.dpopNonceChallenges).toBe(1);
      expect(mock.stats.pagesServed).toBeGreaterThan(5);
      expect(credentials.usesDpop).toBe(true);
    } finally {
      await mock.stop();
    }
  });
});
