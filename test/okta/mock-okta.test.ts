import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors';
import { OAuthServiceApp } from '../../lib/core/okta/credentials';
import { parseOrg } from '../../lib/core/okta/org';
import {
  JsonElementSplitter,
  loadMockEventsFromFile,
  MockEventError,
  mockEventsFromObjects,
  mockEventsFromTexts,
} from '../../lib/mock-okta/events';
import { startMockOkta, type MockOkta, type MockOktaOptions } from '../../lib/mock-okta/server';
import { ManualClock } from '../../testkit/clock';
import { makeEvents } from './helpers';

const TOKEN = 'mock-test-token';
const T0 = Date.parse('2024-05-01T00:00:00.000Z');
const NOW = T0 + 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});

async function mock(options: Partial<MockOktaOptions> = {}): Promise<MockOkta> {
  const m = await startMockOkta({ apiToken: TOKEN, clock: new ManualClock(NOW), ...options });
  stops.push(() => m.stop());
  return m;
}

async function get(m: MockOkta, query: string | URL, auth = `SSWS ${TOKEN}`): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const url = typeof query === 'string' ? `${m.origin}/api/v1/logs${query}` : query.toString();
  const res = await fetch(url, { headers: { Authorization: auth } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function nextOf(headers: Headers): string | undefined {
  const m = /<([^>]+)>;\s*rel="next"/.exec(headers.get('link') ?? '');
  return m?.[1];
}

const q = (since: number, until?: number, extra = ''): string =>
  `?since=${encodeURIComponent(iso(since))}${until !== undefined ? `&until=${encodeURIComponent(iso(until))}` : ''}${extra}`;

describe('mock Okta: /api/v1/logs', () => {
  it('serves a bounded window: since inclusive, until exclusive, published order with ties by uuid, default limit 100', async () => {
    // Prepare: 150 events in the window, 3 sharing one instant, given out of order
    const events = makeEvents(150, T0);
    const tie = [
      { uuid: 'tie-c', publishedMs: T0 + 5_000, text: '{"uuid":"tie-c"}' },
      { uuid: 'tie-a', publishedMs: T0 + 5_000, text: '{"uuid":"tie-a"}' },
    ];
    const m = await mock({ events: [...events].reverse().concat(tie) });
    // Act
    const first = await get(m, q(T0 + 5_000, T0 + 200_000));
    // Assess
    const uuids = (first.json as { uuid: string }[]).map((e) => e.uuid);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json');
    expect(uuids).toHaveLength(100);
    expect(uuids.slice(0, 3)).toEqual(['ev-000005', 'tie-a', 'tie-c']);
    expect(first.text.startsWith(`[${events[5].text},{"uuid":"tie-a"}`)).toBe(true);

    // Act: the rest, through the opaque cursor
    const next = nextOf(first.headers);
    const second = await get(m, new URL(next ?? ''));
    // Assess
    const rest = (second.json as { uuid: string }[]).map((e) => e.uuid);
    expect(rest).toEqual(events.slice(103, 150).map((e) => e.uuid));
    expect(nextOf(second.headers)).toBeUndefined();
    expect(next).not.toMatch(/ev-0000|tie-/);
  });

  it('sends self and next as separate Link headers on its own origin', async () => {
    const m = await mock({ events: makeEvents(3, T0) });
    // Act
    const r = await get(m, q(T0, T0 + 60_000, '&limit=2'));
    // Assess
    const link = r.headers.get('link') ?? '';
    expect(link).toMatch(new RegExp(`^<${m.origin}/api/v1/logs\\?since=[^>]+>; rel="self", <${m.origin}/api/v1/logs\\?[^>]*after=[^>]+>; rel="next"$`));
    expect(nextOf(r.headers)).toContain('limit=2');
    expect(nextOf(r.headers)).toContain('until=');
  });

  it('ends a bounded window on an empty page in when-full mode', async () => {
    const m = await mock({ events: makeEvents(4, T0), boundedNext: 'when-full' });
    // Act
    const p1 = await get(m, q(T0, T0 + 60_000, '&limit=2'));
    const p2 = await get(m, new URL(nextOf(p1.headers) ?? ''));
    const p3 = await get(m, new URL(nextOf(p2.headers) ?? ''));
    // Assess
    expect((p2.json as unknown[]).length).toBe(2);
    expect(p3.text).toBe('[]');
    expect(nextOf(p3.headers)).toBeUndefined();
  });

  it('answers an empty bounded page that still has a next link to the same position when told to', async () => {
    const m = await mock({ events: makeEvents(3, T0), faults: { nextEmptyWithNext: 1 } });
    // Act
    const p1 = await get(m, q(T0, T0 + 60_000, '&limit=2'));
    const p2 = await get(m, new URL(nextOf(p1.headers) ?? ''));
    // Assess: the empty page's next link reads the page it stood in for
    expect(p1.text).toBe('[]');
    expect(nextOf(p1.headers)).toContain('until=');
    expect((p2.json as unknown[]).length).toBe(2);
    expect(m.stats.faultsInjected['empty-next']).toBe(1);
  });

  it('always gives a next link to a polling query, even on an empty page', async () => {
    const m = await mock({ events: makeEvents(2, T0) });
    // Act
    const p1 = await get(m, q(T0, undefined, '&sortOrder=ASCENDING'));
    const p2 = await get(m, new URL(nextOf(p1.headers) ?? ''));
    // Assess
    expect((p1.json as unknown[]).length).toBe(2);
    expect(p2.text).toBe('[]');
    expect(nextOf(p2.headers)).toBeDefined();
  });

  it('hides late events until they become visible', async () => {
    // Prepare
    const clock = new ManualClock(NOW);
    const events = makeEvents(3, T0);
    const m = await mock({ clock, events: [events[0], { ...events[1], visibleAtMs: NOW + 30_000 }, events[2]] });
    // Act
    const early = await get(m, q(T0, T0 + 60_000));
    clock.advance(30_000);
    const later = await get(m, q(T0, T0 + 60_000));
    // Assess
    expect((early.json as { uuid: string }[]).map((e) => e.uuid)).toEqual(['ev-000000', 'ev-000002']);
    expect((later.json as { uuid: string }[]).map((e) => e.uuid)).toEqual(['ev-000000', 'ev-000001', 'ev-000002']);
  });

  it('serves events added while running', async () => {
    const m = await mock({ events: makeEvents(2, T0 + 10_000) });
    // Act
    m.add(makeEvents(2, T0, 1000, 'early'));
    const r = await get(m, q(T0, T0 + 60_000));
    // Assess
    expect(m.size).toBe(4);
    expect((r.json as { uuid: string }[]).map((e) => e.uuid)).toEqual(['early-000000', 'early-000001', 'ev-000000', 'ev-000001']);
  });

  it.each([
    ['since is not ISO-8601', '?since=yesterday', 'E0000001', /since/],
    ['until is not ISO-8601', `?since=${encodeURIComponent(iso(T0))}&until=2024-13-45`, 'E0000001', /until/],
    ['since after until', q(T0 + 60_000, T0), 'E0000001', /since/],
    ['since older than 180 days', q(NOW - 181 * 86_400_000, NOW), 'E0000053', /180 days/],
    ['limit over 1000', q(T0, T0 + 1, '&limit=1001'), 'E0000001', /limit/],
    ['a negative limit', q(T0, T0 + 1, '&limit=-1'), 'E0000001', /limit/],
    ['an unknown sortOrder', q(T0, T0 + 1, '&sortOrder=UP'), 'E0000001', /sortOrder/],
    ['a forged cursor', q(T0, T0 + 1, '&after=2024-05-01'), 'E0000001', /after/],
    ['a filter expression', q(T0, T0 + 1, '&filter=eventType%20eq%20%22x%22'), 'E0000001', /filter/],
  ])('answers 400 with Okta error JSON for %s', async (_name, query, code, summary) => {
    const m = await mock();
    // Act
    const r = await get(m, query);
    // Assess
    expect(r.status).toBe(400);
    const body = r.json as { errorCode: string; errorSummary: string; errorCauses: unknown[] };
    expect(body.errorCode).toBe(code);
    expect(body.errorSummary).toMatch(summary);
    expect(Array.isArray(body.errorCauses)).toBe(true);
    expect(m.stats.badRequests).toBe(1);
  });

  it('accepts limit 0 and limit 1000', async () => {
    const m = await mock({ events: makeEvents(3, T0) });
    expect((await get(m, q(T0, T0 + 60_000, '&limit=0'))).text).toBe('[]');
    expect(((await get(m, q(T0, T0 + 60_000, '&limit=1000'))).json as unknown[]).length).toBe(3);
  });

  it.each([
    ['no Authorization header', ''],
    ['a wrong SSWS token', 'SSWS nope'],
    ['a token of the right length but wrong', `SSWS ${'x'.repeat(TOKEN.length)}`],
    ['an unknown Bearer token', 'Bearer abc'],
  ])('answers 401 E0000011 for %s', async (_name, auth) => {
    const m = await mock();
    // Act
    const r = await get(m, q(T0, T0 + 1), auth);
    // Assess
    expect(r.status).toBe(401);
    expect((r.json as { errorCode: string }).errorCode).toBe('E0000011');
    expect(m.stats.unauthorized).toBe(1);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const m = await mock();
    expect((await fetch(`${m.origin}/api/v1/users`)).status).toBe(404);
    expect((await fetch(`${m.origin}/api/v1/logs`, { method: 'POST', headers: { Authorization: `SSWS ${TOKEN}` } })).status).toBe(405);
  });

  it('refuses to start without any credential configured, or with bad options', async () => {
    await expect(startMockOkta({})).rejects.toThrow(/needs apiToken and\/or oauthClients/);
    await expect(startMockOkta({ apiToken: 'x', rateLimitPerMinute: 0 })).rejects.toThrow(ConfigError);
    await expect(startMockOkta({ apiToken: 'x', faults: { foreignNextLink: 'not a url' } })).rejects.toThrow(/foreignNextLink/);
  });
});

describe('mock Okta: rate limits and faults', () => {
  it('counts down a per-window bucket, answers 429 when it is empty, and refills at the reset', async () => {
    // Prepare
    const clock = new ManualClock(NOW + 1_500);
    const m = await mock({ clock, rateLimitPerMinute: 2, rateLimitWindowMs: 1_000, clientShare: 1 });
    // Act
    const a = await get(m, q(T0, T0 + 1));
    const b = await get(m, q(T0, T0 + 1));
    const c = await get(m, q(T0, T0 + 1));
    clock.advance(500);
    const d = await get(m, q(T0, T0 + 1));
    // Assess
    expect([a.status, b.status, c.status, d.status]).toEqual([200, 200, 429, 200]);
    expect(a.headers.get('x-rate-limit-limit')).toBe('2');
    expect([a, b, c, d].map((r) => r.headers.get('x-rate-limit-remaining'))).toEqual(['1', '0', '0', '1']);
    expect(a.headers.get('x-rate-limit-reset')).toBe(String((NOW + 2_000) / 1000));
    expect(d.headers.get('x-rate-limit-reset')).toBe(String((NOW + 3_000) / 1000));
    expect((c.json as { errorCode: string }).errorCode).toBe('E0000047');
    expect(m.stats.rateLimited).toBe(1);
    // Date is on the mock's clock, as X-Rate-Limit-Reset is (a client subtracts one from the other).
    expect(c.headers.get('date')).toBe(new Date(NOW + 1_500).toUTCString());
  });

  it('caps one token or app at its share of the bucket (50% by default), while others still get the rest', async () => {
    // Prepare: a bucket of 4 a window; an API token and an OAuth app
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const clock = new ManualClock(NOW);
    const m = await mock({ clock, rateLimitPerMinute: 4, oauthClients: [{ clientId: '0oashare', publicKeys: [publicKey] }] });
    const app = new OAuthServiceApp({ org: parseOrg(m.origin, { allowInsecureLoopback: true }), clientId: '0oashare', privateKey, clock });
    // Act
    const token = [await get(m, q(T0, T0 + 1)), await get(m, q(T0, T0 + 1)), await get(m, q(T0, T0 + 1))];
    const bearer = await app.authorization();
    const oauth = [await get(m, q(T0, T0 + 1), bearer), await get(m, q(T0, T0 + 1), bearer), await get(m, q(T0, T0 + 1), bearer)];
    // Assess: 2 each (50% of 4); the 429 of a capped client leaves the bucket to the other
    expect(token.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(oauth.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(token[1].headers.get('x-rate-limit-remaining')).toBe('2');
    await expect(startMockOkta({ apiToken: TOKEN, clientShare: 0 })).rejects.toThrow(/clientShare must be a number greater than 0/);
  });

  it('returns no events older than 90 days by default (the query still succeeds), or than retentionDays', async () => {
    // Prepare: events 91 and 89 days before the clock
    const old = makeEvents(1, NOW - 91 * 86_400_000, 1000, 'old');
    const recent = makeEvents(1, NOW - 89 * 86_400_000, 1000, 'new');
    const m = await mock({ events: [...old, ...recent] });
    const short = await mock({ events: [...old, ...recent], retentionDays: 30 });
    // Act
    const r = await get(m, q(NOW - 100 * 86_400_000, NOW));
    const s30 = await get(short, q(NOW - 100 * 86_400_000, NOW));
    // Assess
    expect(r.status).toBe(200);
    expect((r.json as { uuid: string }[]).map((e) => e.uuid)).toEqual([recent[0].uuid]);
    expect(s30.json).toEqual([]);
  });

  it('injects each planned fault once, in order, and counts it', async () => {
    const m = await mock({ events: makeEvents(2, T0), faults: { next5xx: 1, nextTruncated: 1 } });
    // Act
    const r1 = await get(m, q(T0, T0 + 60_000));
    const r2 = await get(m, q(T0, T0 + 60_000));
    const r3 = await get(m, q(T0, T0 + 60_000));
    m.faults.nextResets = 1;
    const reset = await fetch(`${m.origin}/api/v1/logs${q(T0, T0 + 60_000)}`, { headers: { Authorization: `SSWS ${TOKEN}` } }).catch((e: unknown) => e);
    // Assess
    expect(r1.status).toBe(500);
    // Okta documents E0000053 for the System Log's internal errors (E0000009 is its query timeout).
    expect((r1.json as { errorCode: string }).errorCode).toBe('E0000053');
    expect(r2.status).toBe(200);
    expect(r2.text.endsWith(']')).toBe(false);
    expect(r2.text.length).toBeLessThan(r3.text.length / 2 + 1);
    expect(r3.text.endsWith(']')).toBe(true);
    expect(reset).toBeInstanceOf(TypeError);
    expect(m.stats.faultsInjected).toMatchObject({ '5xx': 1, truncated: 1, reset: 1 });
  });

  it('streams an oversize page: the same events padded to the size asked, chunked or with a length', async () => {
    // Prepare: two oversize pages of 3 MiB, the first chunked, the second with Content-Length
    const events = makeEvents(3, T0);
    const size = 3 * 1024 * 1024;
    let n = 0;
    const m = await mock({ events, onLogRequest: () => (++n <= 2 ? { kind: 'oversize', bytes: size, declareLength: n === 2 } : undefined) });
    // Act
    const chunked = await get(m, q(T0, T0 + 60_000));
    const declared = await get(m, q(T0, T0 + 60_000));
    const normal = await get(m, q(T0, T0 + 60_000));
    // Assess: a valid JSON array of the page's events, `size` bytes long
    for (const r of [chunked, declared]) {
      expect(r.status).toBe(200);
      expect(Buffer.byteLength(r.text)).toBe(size);
      expect(r.json).toEqual(normal.json);
      expect(r.headers.get('link')).toBe(normal.headers.get('link'));
      expect(r.text.startsWith(normal.text.slice(0, -1))).toBe(true);
    }
    expect(chunked.headers.get('content-length')).toBeNull();
    expect(chunked.headers.get('transfer-encoding')).toBe('chunked');
    expect(declared.headers.get('content-length')).toBe(String(size));
    expect(m.stats.faultsInjected.oversize).toBe(2);
    expect(m.stats.oversizeBodiesCompleted).toBe(2);
    expect(m.stats.oversizeBytesSent).toBe(2 * size);
  });

  it('stops streaming an oversize page when the client closes the connection', async () => {
    // Prepare: a 256 MiB page, sent slowly
    const m = await mock({ events: makeEvents(3, T0), faults: { nextOversize: 1 }, oversizeBodyBytes: 256 * 1024 * 1024, oversizeChunkDelayMs: 1 });
    const controller = new AbortController();
    const res = await fetch(`${m.origin}/api/v1/logs${q(T0, T0 + 60_000)}`, { headers: { Authorization: `SSWS ${TOKEN}` }, signal: controller.signal });
    // Act: read 1 MiB, then close
    const reader = res.body!.getReader();
    let read = 0;
    while (read < 1024 * 1024) {
      const { value, done } = await reader.read();
      if (done) break;
      read += value.length;
    }
    controller.abort();
    await new Promise((r) => setTimeout(r, 200));
    const sentAtClose = m.stats.oversizeBytesSent;
    await new Promise((r) => setTimeout(r, 200));
    // Assess: the mock stopped writing, far before the end
    expect(m.stats.oversizeBytesSent).toBe(sentAtClose);
    expect(sentAtClose).toBeLessThan(64 * 1024 * 1024);
    expect(m.stats.oversizeBodiesCompleted).toBe(0);
  });

  it('takes faults from a per-request hook', async () => {
    const m = await mock({ onLogRequest: ({ n }) => (n === 2 ? { kind: '5xx', status: 503 } : undefined) });
    // Act
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(m, q(T0, T0 + 1))).status);
    // Assess
    expect(statuses).toEqual([200, 503, 200]);
  });

  it('holds a stalled request until the client gives up, and stops cleanly while holding one', async () => {
    const m = await startMockOkta({ apiToken: TOKEN, faults: { nextStalls: 2 } });
    // Act
    const timedOut = await fetch(`${m.origin}/api/v1/logs`, { headers: { Authorization: `SSWS ${TOKEN}` }, signal: AbortSignal.timeout(100) }).catch(
      (e: unknown) => e,
    );
    const held = fetch(`${m.origin}/api/v1/logs`, { headers: { Authorization: `SSWS ${TOKEN}` } }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await m.stop();
    // Assess
    expect((timedOut as Error).name).toBe('TimeoutError');
    expect(await held).toBeInstanceOf(TypeError);
  });

  it('points next links at a foreign origin when asked', async () => {
    const m = await mock({ events: makeEvents(3, T0), faults: { foreignNextLink: true } });
    // Act
    const r = await get(m, q(T0, T0 + 60_000, '&limit=1'));
    // Assess
    expect(nextOf(r.headers)).toMatch(/^https:\/\/attacker\.invalid\/api\/v1\/logs\?/);
    expect(r.headers.get('link')).toContain(`<${m.origin}/api/v1/logs?`);
  });
});

describe('mock Okta: OAuth token endpoint', () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let m: MockOkta;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock(NOW);
    m = await startMockOkta({ clock, oauthClients: [{ clientId: '0oa1', publicKeys: [keys.publicKey] }] });
  });
  afterAll(async () => {
    await m.stop();
  });

  const app = (over: Partial<ConstructorParameters<typeof OAuthServiceApp>[0]> = {}): OAuthServiceApp =>
    new OAuthServiceApp({ org: parseOrg(m.origin, { allowInsecureLoopback: true }), clientId: '0oa1', privateKey: keys.privateKey, clock, ...over });

  async function token(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${m.origin}/oauth2/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const form = (assertion: string, scope = 'okta.logs.read'): Record<string, string> => ({
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });

  it('issues a Bearer token for a valid assertion, accepted by /api/v1/logs', async () => {
    // Act
    const r = await token(form(app().createClientAssertion()));
    const logs = await get(m, q(T0, T0 + 1), `Bearer ${String(r.body.access_token)}`);
    // Assess
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'okta.logs.read' });
    expect(logs.status).toBe(200);
  });

  it('refuses a token whose lifetime is over', async () => {
    const r = await token(form(app().createClientAssertion()));
    clock.advance(3_600_000);
    const logs = await get(m, q(NOW, NOW + 1), `Bearer ${String(r.body.access_token)}`);
    expect(logs.status).toBe(401);
  });

  it.each([
    ['a replayed assertion', (a: string) => [a, a], /already used/],
    ['a tampered payload', (a: string) => {
      const [h, p, s] = a.split('.');
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
      return [[h, Buffer.from(JSON.stringify({ ...payload, sub: '0oa1', iss: '0oa1', exp: payload.exp + 1 })).toString('base64url'), s].join('.')];
    }, /signature is invalid/],
    ['garbage', () => ['abc'], /not a compact JWS/],
  ])('refuses %s with 401 invalid_client', async (_name, build, description) => {
    const assertions = build(app().createClientAssertion());
    let last: { status: number; body: Record<string, unknown> } | undefined;
    for (const a of assertions) last = await token(form(a));
    expect(last?.status).toBe(401);
    expect(last?.body.error).toBe('invalid_client');
    expect(String(last?.body.error_description)).toMatch(description);
  });

  it('refuses an assertion for another audience, an unknown client, or an expired one', async () => {
    const other = new OAuthServiceApp({ org: parseOrg('acme.okta.com'), clientId: '0oa1', privateKey: keys.privateKey, clock });
    expect((await token(form(other.createClientAssertion()))).body.error_description).toMatch(/aud must be the token endpoint/);
    expect((await token(form(app({ clientId: '0oa2' }).createClientAssertion()))).body.error_description).toMatch(/not a known client/);
    const old = app({ assertionLifetimeSec: 10 }).createClientAssertion();
    clock.advance(11_000);
    expect((await token(form(old))).body.error_description).toMatch(/expired/);
  });

  it('refuses scopes the app was not granted, other grants and missing assertions', async () => {
    expect((await token(form(app().createClientAssertion(), 'okta.users.manage'))).body.error).toBe('invalid_scope');
    expect((await token({ ...form(app().createClientAssertion()), grant_type: 'password' })).body.error).toBe('unsupported_grant_type');
    expect((await token({ grant_type: 'client_credentials', scope: 'okta.logs.read' })).status).toBe(401);
  });
});

describe('mock events', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mock-okta-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const texts = [
    '{"uuid":"u1","published":"2024-05-01T00:00:01.000Z","displayMessage":"a, [b] {c} \\"d\\" \\\\"}',
    '{ "uuid" : "u2",\n  "published": "2024-05-01T00:00:02Z", "target": [ {"type": "User"} ], "x": "é 😀" }',
    '{"uuid":"u3","published":"2024-05-01T00:00:03.5Z","debugContext":{"debugData":{"k":"]"}}}',
  ];

  it('reads a JSON array file keeping each element byte for byte', async () => {
    // Prepare
    const path = join(dir, 'events.json');
    await writeFile(path, `\uFEFF[\n  ${texts.join(' ,\n  ')}\n]\n`);
    // Act
    const events = await loadMockEventsFromFile(path);
    // Assess
    expect(events.map((e) => e.text)).toEqual(texts);
    expect(events.map((e) => e.uuid)).toEqual(['u1', 'u2', 'u3']);
    expect(events.map((e) => e.publishedMs)).toEqual([T0 + 1000, T0 + 2000, T0 + 3500]);
  });

  it('reads a JSON Lines file, skipping blank lines and CRLF endings', async () => {
    const path = join(dir, 'events.jsonl');
    const lines = [texts[0], texts[2]];
    await writeFile(path, `${lines[0]}\r\n\r\n${lines[1]}`);
    // Act
    const events = await loadMockEventsFromFile(path);
    // Assess
    expect(events.map((e) => e.text)).toEqual(lines);
  });

  it('splits the same way whatever the chunk boundaries', () => {
    const input = `[${texts.join(',')}]`;
    const splitter = new JsonElementSplitter();
    const out: string[] = [];
    for (const ch of input) out.push(...splitter.push(ch));
    out.push(...splitter.end());
    expect(out).toEqual(texts);
  });

  it.each([
    ['an unclosed array', `[${texts[0]}`, /not closed/],
    ['a trailing comma', `[${texts[0]},]`, /empty element/],
    ['text after the array', `[${texts[0]}] x`, /after the closing/],
    ['an element that is not JSON', '[{"uuid": nope}]', /event #0 is not valid JSON/],
    ['an event without uuid', '[{"published":"2024-05-01T00:00:00Z"}]', /no string "uuid"/],
    ['an event without a valid published', '{"uuid":"a","published":"2024-02-31T99:00:00Z"}', /no valid "published"/],
  ])('names the problem in a file with %s', async (_name, content, message) => {
    const path = join(dir, 'bad.json');
    await writeFile(path, content);
    await expect(loadMockEventsFromFile(path)).rejects.toThrow(MockEventError);
    await expect(loadMockEventsFromFile(path)).rejects.toThrow(message);
  });

  it('names a missing file', async () => {
    await expect(loadMockEventsFromFile(join(dir, 'missing.json'))).rejects.toThrow(/cannot read the events file/);
  });

  it('builds events from objects and from texts', () => {
    const fromObjects = mockEventsFromObjects([{ uuid: 'a', published: '2024-05-01T00:00:00Z', n: 1 }]);
    expect(fromObjects).toEqual([{ uuid: 'a', publishedMs: T0, text: '{"uuid":"a","published":"2024-05-01T00:00:00Z","n":1}' }]);
    expect(mockEventsFromTexts([texts[1]])[0].text).toBe(texts[1]);
    expect(() => mockEventsFromObjects([{ uuid: 'a' }])).toThrow(/event #0 has no valid "published"/);
    expect(() => mockEventsFromObjects([null])).toThrow(/not a JSON object/);
  });
});
