import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OktaLogClient } from '../../lib/core/okta/client';
import { credentialsFromSecret, OAuthServiceApp, SswsToken } from '../../lib/core/okta/credentials';
import { CredentialsError, OAuthTokenError, OktaAuthError } from '../../lib/core/okta/errors';
import { parseOrg, type OktaOrg } from '../../lib/core/okta/org';
import { startMockOkta, type MockOkta } from '../../lib/mock-okta/server';
import { ManualClock } from '../../testkit/clock';
import { makeEvents, readAll } from './helpers';

const T0 = Date.parse('2024-05-01T00:00:00.000Z');
const NOW = T0 + 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

let rsa: { publicKey: KeyObject; privateKey: KeyObject };
let ec: { publicKey: KeyObject; privateKey: KeyObject };
let unregistered: { publicKey: KeyObject; privateKey: KeyObject };
let m: MockOkta;
let org: OktaOrg;
const clock = new ManualClock(NOW);

beforeAll(async () => {
  rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  unregistered = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  m = await startMockOkta({
    events: makeEvents(25, T0),
    clock,
    accessTokenLifetimeSec: 3600,
    oauthClients: [
      { clientId: '0oarsa', publicKeys: [rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string] },
      { clientId: '0oaec', publicKeys: [ec.publicKey.export({ format: 'jwk' })] },
      { clientId: '0oausers', publicKeys: [ec.publicKey], grantedScopes: ['okta.users.read'] },
    ],
  });
  org = parseOrg(m.origin, { allowInsecureLoopback: true });
});

afterAll(async () => {
  await m.stop();
});

function logClient(credentials: OAuthServiceApp | SswsToken): OktaLogClient {
  return new OktaLogClient({ org, credentials, clock, backoffBaseMs: 1, backoffCapMs: 2, rateLimitJitterMs: 0, pageSize: 10 });
}

function decode(assertion: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = assertion.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()) };
}

describe('OAuthServiceApp against the mock token endpoint', () => {
  it('reads pages with an RSA key: one token for all pages, a new one after a 401 and after invalidate()', async () => {
    // Prepare
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const creds = new OAuthServiceApp({ org, clientId: '0oarsa', privateKey: pem, clock });
    const c = logClient(creds);
    const before = m.stats;
    // Act: three pages
    const { uuids, pages } = await readAll(c, c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(creds.algorithm).toBe('RS256');
    expect(uuids).toHaveLength(25);
    expect(pages).toBe(3);
    expect(m.stats.tokensIssued - before.tokensIssued).toBe(1);

    // Act: Okta forgets the token (e.g. revoked): the client gets 401, drops it, and retries once
    m.revokeAccessTokens();
    await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(c.stats.retries.unauthorized).toBe(1);
    expect(m.stats.tokensIssued - before.tokensIssued).toBe(2);

    // Act: explicit invalidate
    creds.invalidate();
    await creds.authorization();
    // Assess
    expect(m.stats.tokensIssued - before.tokensIssued).toBe(3);
  });

  it.each([
    ['a JWK object', (k: KeyObject) => k.export({ format: 'jwk' })],
    ['a JWK as JSON text', (k: KeyObject) => JSON.stringify(k.export({ format: 'jwk' }))],
    ['a SEC1 PEM', (k: KeyObject) => k.export({ type: 'sec1', format: 'pem' }) as string],
  ])('signs ES256 assertions with an EC P-256 key given as %s', async (_name, give) => {
    // Prepare
    const creds = new OAuthServiceApp({ org, clientId: '0oaec', privateKey: give(ec.privateKey), keyId: 'kid-1', clock });
    const c = logClient(creds);
    // Act
    const page = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 5_000)));
    // Assess
    expect(creds.algorithm).toBe('ES256');
    expect(JSON.parse(page.body)).toHaveLength(5);
  });

  it('builds the private_key_jwt assertion Okta expects', () => {
    // Prepare
    const creds = new OAuthServiceApp({ org, clientId: '0oaec', privateKey: ec.privateKey, keyId: 'kid-7', clock });
    // Act
    const a = decode(creds.createClientAssertion());
    const b = decode(creds.createClientAssertion());
    // Assess
    expect(a.header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'kid-7' });
    // iat 30 s in the past: Okta wants it before the request is received (build-self-signed-jwt)
    expect(a.payload).toMatchObject({ iss: '0oaec', sub: '0oaec', aud: `${m.origin}/oauth2/v1/token`, iat: NOW / 1000 - 30 });
    expect(Number(a.payload.exp) - NOW / 1000).toBe(300);
    expect(typeof a.payload.jti).toBe('string');
    expect(a.payload.jti).not.toBe(b.payload.jti);
  });

  it('takes the kid from a JWK when no keyId is given, and sends no kid otherwise', () => {
    const jwk = { ...ec.privateKey.export({ format: 'jwk' }), kid: 'from-jwk' };
    expect(decode(new OAuthServiceApp({ org, clientId: '0oaec', privateKey: jwk }).createClientAssertion()).header.kid).toBe('from-jwk');
    expect(decode(new OAuthServiceApp({ org, clientId: '0oaec', privateKey: ec.privateKey }).createClientAssertion()).header).not.toHaveProperty('kid');
  });

  it('gets a token although the local clock runs a little ahead of Okta\'s: iat is set in the past', async () => {
    // Prepare: the mock refuses an iat after the request arrives, as Okta does
    const ahead = new OAuthServiceApp({ org, clientId: '0oaec', privateKey: ec.privateKey, clock: new ManualClock(NOW + 10_000) });
    const tooFar = new OAuthServiceApp({ org, clientId: '0oaec', privateKey: ec.privateKey, clock: new ManualClock(NOW + 10_000), clockSkewSec: 0 });
    // Act
    const header = await ahead.authorization();
    const err = await tooFar.authorization().catch((e: unknown) => e);
    // Assess
    expect(header).toMatch(/^Bearer /);
    expect(err).toBeInstanceOf(OAuthTokenError);
    expect((err as OAuthTokenError).errorDescription).toMatch(/iat is in the future/);
    expect(() => new OAuthServiceApp({ org, clientId: '0oaec', privateKey: ec.privateKey, clockSkewSec: -1 })).toThrow(/clockSkewSec must be an integer from 0 to 300/);
  });

  it('takes the kid from a JWK Set of one key, and refuses a set of several', () => {
    const jwk = { ...ec.privateKey.export({ format: 'jwk' }), kid: 'from-set' };
    expect(decode(new OAuthServiceApp({ org, clientId: '0oaec', privateKey: JSON.stringify({ keys: [jwk] }) }).createClientAssertion()).header.kid).toBe('from-set');
    expect(decode(new OAuthServiceApp({ org, clientId: '0oaec', privateKey: { keys: [jwk] } as unknown as JsonWebKey }).createClientAssertion()).header.kid).toBe('from-set');
    expect(() => new OAuthServiceApp({ org, clientId: '0oaec', privateKey: JSON.stringify({ keys: [jwk, jwk] }) })).toThrow(/JWK Set: it must hold exactly one key/);
  });

  it('the mock verifies with the key the kid names, and wants a kid when the app has several keys', async () => {
    // Prepare: an app with two registered keys, each with its kid
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const two = await startMockOkta({
      clock,
      oauthClients: [{ clientId: '0oatwo', publicKeys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'k-ec' }, { ...other.publicKey.export({ format: 'jwk' }), kid: 'k-other' }] }],
    });
    try {
      const twoOrg = parseOrg(two.origin, { allowInsecureLoopback: true });
      const app = (keyId?: string): OAuthServiceApp => new OAuthServiceApp({ org: twoOrg, clientId: '0oatwo', privateKey: ec.privateKey, keyId, clock });
      // Act
      const named = await app('k-ec').authorization();
      const noKid = await app().authorization().catch((e: unknown) => e);
      const wrongKid = await app('k-other').authorization().catch((e: unknown) => e);
      // Assess
      expect(named).toMatch(/^Bearer /);
      expect((noKid as OAuthTokenError).errorDescription).toMatch(/no kid, and the client has several keys/);
      expect((wrongKid as OAuthTokenError).errorDescription).toMatch(/signature is invalid/);
    } finally {
      await two.stop();
    }
  });

  it('caches the token until 60 s before it expires', async () => {
    // Prepare
    const local = new ManualClock(NOW);
    const short = await startMockOkta({
      clock: local,
      accessTokenLifetimeSec: 120,
      oauthClients: [{ clientId: '0oaec', publicKeys: [ec.publicKey] }],
    });
    try {
      const creds = new OAuthServiceApp({ org: parseOrg(short.origin, { allowInsecureLoopback: true }), clientId: '0oaec', privateKey: ec.privateKey, clock: local });
      // Act
      const first = await creds.authorization();
      local.advance(59_000);
      const cached = await creds.authorization();
      local.advance(2_000);
      const renewed = await creds.authorization();
      // Assess
      expect(first).toMatch(/^Bearer \S+$/);
      expect(cached).toBe(first);
      expect(renewed).not.toBe(first);
      expect(short.stats.tokensIssued).toBe(2);
    } finally {
      await short.stop();
    }
  });

  it('shares one token request between concurrent callers', async () => {
    const creds = new OAuthServiceApp({ org, clientId: '0oaec', privateKey: ec.privateKey, clock });
    const before = m.stats.tokenRequests;
    // Act
    const headers = await Promise.all(Array.from({ length: 5 }, () => creds.authorization()));
    // Assess
    expect(new Set(headers).size).toBe(1);
    expect(m.stats.tokenRequests - before).toBe(1);
  });

  it('retries a failing token endpoint inside the page attempt budget', async () => {
    const creds = new OAuthServiceApp({ org, clientId: '0oaec', privateKey: ec.privateKey, clock });
    const c = logClient(creds);
    m.faults.nextToken5xx = 1;
    // Act
    const page = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 5_000)));
    // Assess
    expect(JSON.parse(page.body)).toHaveLength(5);
    expect(c.stats.retries['token-endpoint']).toBe(1);
  });

  it('fails with OAuthTokenError (invalid_client) for a key Okta does not know, before any log request', async () => {
    // Prepare
    const creds = new OAuthServiceApp({ org, clientId: '0oaec', privateKey: unregistered.privateKey, clock });
    const c = logClient(creds);
    const before = m.stats.logRequests;
    // Act
    const err = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 5_000))).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OAuthTokenError);
    expect(err).toBeInstanceOf(OktaAuthError);
    expect((err as OAuthTokenError).error).toBe('invalid_client');
    expect((err as OAuthTokenError).errorDescription).toMatch(/signature is invalid/);
    expect((err as Error).message).toMatch(/HTTP 401: invalid_client .*registered public key matches the private key/);
    expect((err as OAuthTokenError).requestId).toMatch(/^mock-[\w-]+$/);
    expect((err as Error).message).toContain(`[X-Okta-Request-Id: ${(err as OAuthTokenError).requestId}]`);
    expect(m.stats.logRequests).toBe(before);
  });

  it('fails with OAuthTokenError (invalid_scope) when the app lacks okta.logs.read', async () => {
    const creds = new OAuthServiceApp({ org, clientId: '0oausers', privateKey: ec.privateKey, clock });
    // Act
    const err = await creds.authorization().catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OAuthTokenError);
    expect((err as OAuthTokenError).error).toBe('invalid_scope');
    expect((err as Error).message).toMatch(/Grant the okta\.logs\.read scope/);
  });

  it('fails with OktaAuthError when a freshly issued token is refused too (one retry only)', async () => {
    // Prepare: an org that issues tokens but refuses every one of them
    let logCalls = 0;
    let tokenCalls = 0;
    const fakeFetch: typeof fetch = async (input) => {
      if (String(input).endsWith('/oauth2/v1/token')) {
        tokenCalls++;
        return Response.json({ token_type: 'Bearer', expires_in: 3600, access_token: `t${tokenCalls}`, scope: 'okta.logs.read' });
      }
      logCalls++;
      return Response.json({ errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorCauses: [] }, { status: 401 });
    };
    const acme = parseOrg('acme.okta.com');
    const creds = new OAuthServiceApp({ org: acme, clientId: '0oaec', privateKey: ec.privateKey, fetch: fakeFetch });
    const c = new OktaLogClient({ org: acme, credentials: creds, fetch: fakeFetch });
    // Act
    const err = await c.fetchPage('https://acme.okta.com/api/v1/logs?limit=10').catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OktaAuthError);
    expect((err as Error).message).toMatch(/freshly issued access token was refused too/);
    expect((err as Error).message).toMatch(/okta\.logs\.read scope granted and an admin role/);
    expect(logCalls).toBe(2);
    expect(tokenCalls).toBe(2);
  });

  it('refuses a DPoP token it did not send a proof for (test/okta/dpop.test.ts covers DPoP)', async () => {
    const fakeFetch: typeof fetch = async () => Response.json({ token_type: 'DPoP', expires_in: 3600, access_token: 'x' });
    const creds = new OAuthServiceApp({ org: parseOrg('acme.okta.com'), clientId: '0oaec', privateKey: ec.privateKey, fetch: fakeFetch });
    await expect(creds.authorization()).rejects.toThrow(/issued a token of type "DPoP"; expected Bearer$/);
  });
});

describe('OAuthServiceApp key and option validation', () => {
  it.each([
    ['an RSA key under 2048 bits', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, /Okta requires at least 2048/],
    ['an Ed25519 key', () => generateKeyPairSync('ed25519').privateKey, /ed25519 key: use an RSA or EC/],
    ['an EC key on secp256k1', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, /curve "secp256k1"/],
    ['a public key PEM', () => rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string, /could not be read as a private key/],
    ['a public KeyObject', () => rsa.publicKey, /public key, not a private key/],
    ['text that is no key', () => 'not a key', /neither a PEM private key nor a JWK/],
    ['broken JWK JSON', () => '{"kty": "EC", ', /looks like a JWK but is not valid JSON/],
    ['a public JWK', () => ec.publicKey.export({ format: 'jwk' }), /could not be read as a private key/],
  ])('rejects %s', (_name, key, message) => {
    const act = (): unknown => new OAuthServiceApp({ org: parseOrg('acme.okta.com'), clientId: '0oa1', privateKey: key() });
    expect(act).toThrow(CredentialsError);
    expect(act).toThrow(message);
  });

  it.each([
    [{ clientId: '' }, /clientId is missing/],
    [{ clientId: '0oa 1' }, /clientId may contain only/],
    [{ keyId: 'a b' }, /keyId must be/],
    [{ scopes: [] }, /scopes must be a non-empty list/],
    [{ assertionLifetimeSec: 3600 }, /assertionLifetimeSec must be an integer from 1 to 300/],
  ])('rejects option %j', (bad, message) => {
    expect(() => new OAuthServiceApp({ org: parseOrg('acme.okta.com'), clientId: '0oa1', privateKey: ec.privateKey, ...bad })).toThrow(message);
  });
});

describe('credentialsFromSecret', () => {
  const acme = (): OktaOrg => parseOrg('acme.okta.com');

  it('builds an SSWS token from {"type":"ssws","token":...}', async () => {
    const creds = credentialsFromSecret('{"type":"ssws","token":"00abcDEF"}', acme());
    expect(creds.kind).toBe('ssws');
    expect(await creds.authorization()).toBe('SSWS 00abcDEF');
  });

  it('builds an OAuth service app from a PEM or a JWK object', () => {
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const fromPem = credentialsFromSecret(JSON.stringify({ type: 'oauth', clientId: '0oa1', privateKey: pem, keyId: 'k1' }), acme());
    const fromJwk = credentialsFromSecret(JSON.stringify({ type: 'oauth', clientId: '0oa1', privateKey: ec.privateKey.export({ format: 'jwk' }) }), acme());
    expect(fromPem).toBeInstanceOf(OAuthServiceApp);
    expect((fromPem as OAuthServiceApp).algorithm).toBe('RS256');
    expect((fromPem as OAuthServiceApp).keyId).toBe('k1');
    expect((fromJwk as OAuthServiceApp).algorithm).toBe('ES256');
  });

  const SECRET_VALUE = 'Sup3r-Secret-Value';
  it.each([
    [`not json ${SECRET_VALUE}`, /not valid JSON/],
    [`["${SECRET_VALUE}"]`, /must be a JSON object/],
    ['', /empty/],
    [`{"token":"${SECRET_VALUE}"}`, /field "type" must be "ssws" or "oauth"/],
    [`{"type":"ssws"}`, /field "token" is missing/],
    [`{"type":"ssws","token":["${SECRET_VALUE}"]}`, /field "token" is missing or not a non-empty string/],
    [`{"type":"ssws","token":"${SECRET_VALUE} x"}`, /contains white space/],
    [`{"type":"ssws","token":"${SECRET_VALUE}","tokn":"x"}`, /has 1 unknown field \(not named here: a field name may be a secret\); allowed: type, token$/],
    // A token pasted as a key name: counted, never named.
    [`{"type":"ssws","token":"x","${SECRET_VALUE}":""}`, /has 1 unknown field /],
    [`{"type":"oauth","clientId":"0oa1","privateKey":"x","${SECRET_VALUE}":1,"${SECRET_VALUE}2":2,"kid":3}`, /has 3 unknown fields .*; allowed: type, clientId, privateKey, keyId, dpop$/],
    [`{"type":"oauth","privateKey":"${SECRET_VALUE}"}`, /field "clientId" is missing/],
    [`{"type":"oauth","clientId":"0oa1"}`, /field "privateKey" is missing/],
    [`{"type":"oauth","clientId":"0oa1","privateKey":"-----BEGIN PRIVATE KEY-----${SECRET_VALUE}"}`, /field "privateKey" could not be read as a private key/],
    [`{"type":"oauth","clientId":"0oa1","privateKey":{"kty":"RSA","d":"${SECRET_VALUE}"}}`, /field "privateKey" could not be read/],
    [`{"type":"oauth","clientId":"0oa1","privateKey":"x","keyId":""}`, /field "keyId" must be a non-empty string/],
  ])('rejects %j naming the field, never the value', (secret, message) => {
    const err = ((): unknown => {
      try {
        credentialsFromSecret(secret, acme());
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain(SECRET_VALUE);
    expect(String((err as Error).stack)).not.toContain(SECRET_VALUE);
  });
});
