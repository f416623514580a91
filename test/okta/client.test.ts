import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors';
import { OktaLogClient, type OktaLogClientOptions } from '../../lib/core/okta/client';
import { SswsToken } from '../../lib/core/okta/credentials';
import { ForeignLinkError, OktaAuthError, OktaBadRequestError, OktaHttpError, OktaQueryTimeoutError, OktaRequestError, oktaRequestId } from '../../lib/core/okta/errors';
import { parseOrg } from '../../lib/core/okta/org';
import type { MockOkta } from '../../lib/mock-okta/server';
import { ManualClock } from '../../testkit/clock';
import { RecordingReporter } from '../../testkit/reporter';
import { loopbackClient, mockStarter, stopsAfterEach } from './harness';
import { makeEvents, readAll, startRecorder } from './helpers';

const TOKEN = 'ssws-test-token-9f8e7d6c5b4a';
const T0 = Date.parse('2024-05-01T00:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

const stops = stopsAfterEach();
const mock = mockStarter(stops, TOKEN, T0 + 3_600_000);
const client = (m: MockOkta, options: Partial<OktaLogClientOptions> = {}): OktaLogClient => loopbackClient(m.origin, TOKEN, options);

describe('OktaLogClient: pages', () => {
  it('builds the bounded query URL on the org', () => {
    // Prepare
    const c = new OktaLogClient({ org: parseOrg('acme.okta.com'), credentials: new SswsToken(TOKEN) });
    // Act
    const url = c.boundedQueryUrl('2024-05-01T00:00:00Z', '2024-05-01T00:05:00.000Z');
    // Assess
    expect(url).toBe(
      'https://acme.okta.com/api/v1/logs?since=2024-05-01T00%3A00%3A00.000Z&until=2024-05-01T00%3A05%3A00.000Z&sortOrder=ASCENDING&limit=1000',
    );
    expect(() => c.boundedQueryUrl('2024-05-02T00:00:00Z', '2024-05-01T00:00:00Z')).toThrow(/since must be before until/);
    expect(() => c.boundedQueryUrl('yesterday', '2024-05-01T00:00:00Z')).toThrow(/ISO-8601/);
  });

  it('follows next links through several pages and gets every event of the window once, in order', async () => {
    // Prepare: 250 events one second apart; the window holds events 10..239
    const events = makeEvents(250, T0);
    const m = await mock({ events: [...events].reverse() });
    const c = client(m, { pageSize: 100 });
    // Act
    const { uuids, pages } = await readAll(c, c.boundedQueryUrl(iso(T0 + 10_000), iso(T0 + 240_000)));
    // Assess
    expect(uuids).toEqual(events.slice(10, 240).map((e) => e.uuid));
    expect(pages).toBe(3);
    expect(c.stats.requests).toBe(3);
    expect(m.stats.eventsServed).toBe(230);
  });

  it('returns the body byte for byte and a next link on the org', async () => {
    const events = makeEvents(3, T0);
    const m = await mock({ events });
    const c = client(m, { pageSize: 2 });
    // Act
    const first = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(first.body).toBe(`[${events[0].text},${events[1].text}]`);
    expect(first.nextUrl?.startsWith(`${m.origin}/api/v1/logs?`)).toBe(true);
    const second = await c.fetchPage(first.nextUrl ?? '');
    expect(second.body).toBe(`[${events[2].text}]`);
    expect(second.nextUrl).toBeUndefined();
  });

  it('announces the next link from the response headers before the page completes, once, and never a foreign one', async () => {
    // Prepare: the mock sends headers and body together, so what is checked is the order: the
    // announcement comes before fetchPage resolves (with a slow body it comes that much earlier).
    const events = makeEvents(3, T0);
    const m = await mock({ events });
    const c = client(m, { pageSize: 2 });
    const order: string[] = [];
    const announced: string[] = [];
    // Act
    const first = await c
      .fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)), undefined, (next) => {
        order.push('announced');
        announced.push(next);
      })
      .then((p) => {
        order.push('resolved');
        return p;
      });
    // Assess
    expect(order).toEqual(['announced', 'resolved']);
    expect(announced).toEqual([first.nextUrl]);
    // A foreign next link is not announced; the page itself is refused.
    m.faults.foreignNextLink = true;
    const none: string[] = [];
    await expect(c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)), undefined, (n) => none.push(n))).rejects.toThrow(ForeignLinkError);
    expect(none).toEqual([]);
  });

  it('keeps the next link of an empty page, bounded or polling: only the last page has none', async () => {
    // Prepare: a fetch that answers [] with a next link (as Okta may at the end of a window)
    const origin = 'https://acme.okta.com';
    const fakeFetch: typeof fetch = async (input) =>
      new Response('[]', {
        status: 200,
        headers: {
          'Content-Type': 'application/json',
          Link: `<${String(input)}>; rel="self", <${origin}/api/v1/logs?after=abc&limit=1000>; rel="next"`,
        },
      });
    const c = new OktaLogClient({ org: parseOrg(origin), credentials: new SswsToken(TOKEN), fetch: fakeFetch });
    // Act
    const bounded = await c.fetchPage(c.boundedQueryUrl('2024-05-01T00:00:00Z', '2024-05-01T00:05:00Z'));
    const polling = await c.fetchPage(`${origin}/api/v1/logs?since=2024-05-01T00%3A00%3A00Z&sortOrder=ASCENDING`);
    // Assess
    expect(bounded.nextUrl).toBe(`${origin}/api/v1/logs?after=abc&limit=1000`);
    expect(polling.nextUrl).toBe(`${origin}/api/v1/logs?after=abc&limit=1000`);
  });

  it('follows an empty bounded page that still carries a next link and reads the rest of the window', async () => {
    // Prepare: the 2nd and 3rd requests are answered [] with a next link to the same position
    const events = makeEvents(5, T0);
    const m = await mock({ events, onLogRequest: ({ n }) => (n === 2 || n === 3 ? 'empty-next' : undefined) });
    const c = client(m, { pageSize: 2 });
    // Act
    const { uuids, pages, bodies } = await readAll(c, c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(uuids).toEqual(events.map((e) => e.uuid));
    expect(pages).toBe(5);
    expect(bodies.slice(1, 3)).toEqual(['[]', '[]']);
    expect(m.stats.faultsInjected['empty-next']).toBe(2);
  });

  it('keeps the next link of an empty polling page from the mock', async () => {
    const m = await mock({ events: makeEvents(2, T0) });
    const c = client(m);
    // Act
    const page = await c.fetchPage(`${m.origin}/api/v1/logs?since=${encodeURIComponent(iso(T0 + 5_000))}&sortOrder=ASCENDING`);
    // Assess
    expect(page.body).toBe('[]');
    expect(page.nextUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/logs\?/);
  });

  it('reads rel="next" whatever the order and number of Link headers', async () => {
    const origin = 'https://acme.okta.com';
    const headers = new Headers({ 'Content-Type': 'application/json; charset=utf-8' });
    headers.append('Link', `<${origin}/api/v1/logs?after=x%2Cy&limit=2>; rel="next"`);
    headers.append('Link', `<${origin}/api/v1/logs?limit=2>; rel="self"`);
    const c = new OktaLogClient({
      org: parseOrg(origin),
      credentials: new SswsToken(TOKEN),
      fetch: async () => new Response('[{"uuid":"a"}]', { status: 200, headers }),
    });
    // Act
    const page = await c.fetchPage(`${origin}/api/v1/logs?limit=2&since=2024-05-01T00%3A00%3A00Z&until=2024-05-01T00%3A01%3A00Z`);
    // Assess
    expect(page.nextUrl).toBe(`${origin}/api/v1/logs?after=x%2Cy&limit=2`);
  });
});

describe('OktaLogClient: links to other hosts', () => {
  it('refuses a next link to another origin, and the credential never reaches that server', async () => {
    // Prepare
    const foreign = await startRecorder();
    stops.push(() => foreign.stop());
    const m = await mock({ events: makeEvents(5, T0), faults: { foreignNextLink: foreign.origin } });
    const c = client(m, { pageSize: 2 });
    // Act: read the window the way the ingester does, following next links
    const act = readAll(c, c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    await expect(act).rejects.toThrow(ForeignLinkError);
    await expect(act).rejects.toThrow(/only http:\/\/127\.0\.0\.1:\d+ \(the configured Okta org\)/);
    expect(foreign.received).toHaveLength(0);
  });

  it.each([
    ['another loopback server', (_o: string, f: string) => `${f}/api/v1/logs?limit=2`],
    ['the same server under another name', (o: string) => o.replace('127.0.0.1', 'localhost') + '/api/v1/logs'],
    ['another path on the org', (o: string) => `${o}/api/v1/users`],
    ['another scheme', (o: string) => o.replace('http:', 'https:') + '/api/v1/logs'],
    ['user info', (o: string) => o.replace('http://', 'http://u:p@') + '/api/v1/logs'],
    ['not a URL', () => '/api/v1/logs?limit=2'],
  ])('refuses a page URL to %s before sending anything', async (_name, build) => {
    // Prepare
    const foreign = await startRecorder();
    stops.push(() => foreign.stop());
    const m = await mock();
    const c = client(m);
    // Act
    const act = c.fetchPage(build(m.origin, foreign.origin));
    // Assess
    await expect(act).rejects.toThrow(ForeignLinkError);
    expect(foreign.received).toHaveLength(0);
    expect(m.stats.requests).toBe(0);
    expect(c.stats.requests).toBe(0);
  });
});

describe('OktaLogClient: retries', () => {
  it('waits for the rate-limit reset after a 429 and then succeeds', async () => {
    // Prepare: another integration has used up this minute's bucket
    const clock = new ManualClock(T0 + 3_600_000 + 10_000);
    // (clientShare 1: the test empties the org bucket with the same token, standing in for another integration)
    const m = await mock({ events: makeEvents(3, T0), clock, rateLimitPerMinute: 3, clientShare: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${m.origin}/api/v1/logs?limit=1`, { headers: { Authorization: `SSWS ${TOKEN}` } });
      await r.text();
    }
    const reporter = new RecordingReporter();
    const c = client(m, { clock, reporter });
    // Act
    const page = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(JSON.parse(page.body)).toHaveLength(3);
    expect(m.stats.rateLimited).toBe(1);
    expect(c.stats.retries['rate-limited']).toBe(1);
    expect(c.stats.requests).toBe(2);
    expect(c.stats.rateLimitWaitMs).toBe(50_000); // the window of T0+1h+10s resets at T0+1h+60s
    expect(clock.now()).toBe(T0 + 3_600_000 + 60_000);
    expect(reporter.lines).toContainEqual(expect.objectContaining({ message: 'rate-limit wait', fields: expect.objectContaining({ ms: 50_000, reason: '429' }) }));
  });

  it.each([
    ['ahead of', 45_000],
    ['behind', -100_000],
  ])('computes the 429 wait from the response Date, not from a local clock running %s Okta\'s', async (_how, skewMs) => {
    // Prepare: on Okta's clock the 429 comes at S and the window resets at S + 20 s
    const S = T0 + 3_600_000 + 40_000;
    const clock = new ManualClock(S + skewMs);
    const responses = [
      new Response('{"errorCode":"E0000047"}', {
        status: 429,
        headers: { Date: new Date(S).toUTCString(), 'X-Rate-Limit-Limit': '20', 'X-Rate-Limit-Remaining': '0', 'X-Rate-Limit-Reset': String((S + 20_000) / 1000) },
      }),
      new Response('[]', { status: 200, headers: { 'Content-Type': 'application/json' } }),
    ];
    const c = new OktaLogClient({ org: parseOrg('acme.okta.com'), credentials: new SswsToken(TOKEN), clock, rateLimitJitterMs: 0, fetch: async () => responses.shift()! });
    // Act
    await c.fetchPage('https://acme.okta.com/api/v1/logs?limit=5');
    // Assess: 20 s, whatever the local clock says (the local clock alone gave 0 s and 60 s)
    expect(c.stats.rateLimitWaitMs).toBe(20_000);
    expect(clock.sleeps).toEqual([20_000]);
  });

  it('falls back to the local clock for the 429 wait when the response has no Date', async () => {
    const S = T0 + 3_600_000 + 40_000;
    const clock = new ManualClock(S + 5_000);
    const responses = [
      new Response('{"errorCode":"E0000047"}', { status: 429, headers: { 'X-Rate-Limit-Limit': '20', 'X-Rate-Limit-Remaining': '0', 'X-Rate-Limit-Reset': String((S + 20_000) / 1000) } }),
      new Response('[]', { status: 200, headers: { 'Content-Type': 'application/json' } }),
    ];
    const c = new OktaLogClient({ org: parseOrg('acme.okta.com'), credentials: new SswsToken(TOKEN), clock, rateLimitJitterMs: 0, fetch: async () => responses.shift()! });
    // Act
    await c.fetchPage('https://acme.okta.com/api/v1/logs?limit=5');
    // Assess
    expect(c.stats.rateLimitWaitMs).toBe(15_000);
  });

  it('paces to the reset measured from the response Date too', async () => {
    // Prepare: the bucket is down to its last request; the local clock runs 30 s ahead of Okta's
    const S = T0 + 3_600_000 + 10_000;
    const clock = new ManualClock(S + 30_000);
    const headers = { 'Content-Type': 'application/json', Date: new Date(S).toUTCString(), 'X-Rate-Limit-Limit': '4', 'X-Rate-Limit-Remaining': '1', 'X-Rate-Limit-Reset': String((S + 50_000) / 1000) };
    const c = new OktaLogClient({ org: parseOrg('acme.okta.com'), credentials: new SswsToken(TOKEN), clock, rateLimitJitterMs: 0, fetch: async () => new Response('[]', { status: 200, headers }) });
    // Act
    await c.fetchPage('https://acme.okta.com/api/v1/logs?limit=5');
    await c.fetchPage('https://acme.okta.com/api/v1/logs?limit=5');
    // Assess: the second request waited the 50 s to the reset (the local clock alone said 20 s)
    expect(clock.sleeps).toEqual([50_000]);
  });

  it('backs off after a 429 without rate-limit headers', async () => {
    const m = await mock({ events: makeEvents(1, T0), onLogRequest: ({ n }) => (n === 1 ? { kind: '429', omitRateLimitHeaders: true } : undefined) });
    const c = client(m, { random: () => 0.5, backoffBaseMs: 4, backoffCapMs: 100 });
    // Act
    const page = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(JSON.parse(page.body)).toHaveLength(1);
    expect(c.stats.retries['rate-limited']).toBe(1);
    expect(c.stats.rateLimitWaitMs).toBe(2); // full jitter: 0.5 * 4 ms
  });

  it('gives 429s twice the patience of other failures, then fails with OktaRequestError', async () => {
    const clock = new ManualClock(T0 + 3_600_000);
    const m = await mock({ clock, faults: { next429: 100 } });
    const c = client(m, { clock, maxAttempts: 3 });
    // Act
    const err = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000))).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OktaRequestError);
    expect((err as OktaRequestError).attempts).toBe(6);
    expect((err as OktaRequestError).status).toBe(429);
    expect((err as Error).message).toMatch(/failed after 6 attempt\(s\) \(last: HTTP 429/);
    expect(m.stats.rateLimited).toBe(6);
  });

  it('retries HTTP 5xx with backoff and then succeeds', async () => {
    const m = await mock({ events: makeEvents(2, T0), faults: { next5xx: 2 } });
    const reporter = new RecordingReporter();
    const c = client(m, { reporter });
    // Act
    const page = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(JSON.parse(page.body)).toHaveLength(2);
    expect(c.stats.retries['server-error']).toBe(2);
    expect(c.stats.requests).toBe(3);
    expect(m.stats.faultsInjected['5xx']).toBe(2);
    expect(reporter.lines.filter((l) => l.message === 'Okta request retry')).toHaveLength(2);
  });

  it('gives up on persistent 5xx with OktaRequestError naming status and URL, never the token', async () => {
    const m = await mock({ faults: { next5xx: 100 } });
    const c = client(m, { maxAttempts: 3 });
    const url = c.boundedQueryUrl(iso(T0), iso(T0 + 60_000));
    // Act
    const err = await c.fetchPage(url).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OktaRequestError);
    expect((err as OktaRequestError).message).toContain(url);
    // E0000053: the System Log's internal error (E0000009 is its query timeout, not retried)
    expect((err as OktaRequestError).message).toMatch(/HTTP 500 E0000053/);
    expect((err as OktaRequestError).message).not.toContain(TOKEN);
    expect((err as OktaRequestError).cause).toBeInstanceOf(OktaHttpError);
    expect(((err as OktaRequestError).cause as OktaHttpError).status).toBe(500);
    expect(m.stats.logRequests).toBe(3);
  });

  it('puts X-Okta-Request-Id into the error, its cause and every retry log line', async () => {
    const m = await mock({ faults: { next5xx: 100 } });
    const reporter = new RecordingReporter();
    const c = client(m, { maxAttempts: 3, reporter });
    // Act
    const err = (await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000))).catch((e: unknown) => e)) as OktaRequestError;
    // Assess
    expect(err).toBeInstanceOf(OktaRequestError);
    expect(err.requestId).toMatch(/^mock-[\w-]+$/);
    expect(err.message).toContain(`[X-Okta-Request-Id: ${err.requestId}]`);
    expect((err.cause as OktaHttpError).requestId).toBe(err.requestId);
    const retries = reporter.lines.filter((l) => l.message === 'Okta request retry');
    expect(retries).toHaveLength(2);
    for (const line of retries) expect(line.fields?.requestId).toMatch(/^mock-[\w-]+$/);
    expect(new Set(retries.map((l) => l.fields?.requestId)).size).toBe(2);
  });

  it.each([
    [400, { errorCode: 'E0000053', errorSummary: 'Invalid date' }, OktaBadRequestError],
    [401, { errorCode: 'E0000011', errorSummary: 'Invalid token provided' }, OktaAuthError],
    [403, { errorCode: 'E0000006', errorSummary: 'You do not have permission' }, OktaAuthError],
    [404, { errorCode: 'E0000007', errorSummary: 'Not found' }, OktaRequestError],
  ])('names X-Okta-Request-Id in the error of an HTTP %d', async (status, body, type) => {
    const c = new OktaLogClient({
      org: parseOrg('acme.okta.com'),
      credentials: new SswsToken(TOKEN),
      fetch: async () => Response.json(body, { status, headers: { 'X-Okta-Request-Id': 'Xq7-aBc_123' } }),
    });
    // Act
    const err = (await c.fetchPage('https://acme.okta.com/api/v1/logs').catch((e: unknown) => e)) as OktaAuthError;
    // Assess
    expect(err).toBeInstanceOf(type);
    expect(err.requestId).toBe('Xq7-aBc_123');
    expect(err.message).toContain('[X-Okta-Request-Id: Xq7-aBc_123]');
  });

  it('names the request id in the log line of a 429 wait and of a pacing wait, and ignores one that is not an id', async () => {
    const clock = new ManualClock(T0);
    const rl = { 'X-Rate-Limit-Limit': '4', 'X-Rate-Limit-Remaining': '0', 'X-Rate-Limit-Reset': String((T0 + 10_000) / 1000) };
    const responses = [
      new Response('{}', { status: 429, headers: { ...rl, 'X-Okta-Request-Id': 'req-429' } }),
      new Response('[]', { status: 200, headers: { ...rl, 'X-Rate-Limit-Reset': String((T0 + 30_000) / 1000), 'Content-Type': 'application/json', 'X-Okta-Request-Id': 'req-200' } }),
      new Response('[]', { status: 200, headers: { 'Content-Type': 'application/json', 'X-Okta-Request-Id': 'bad id\u0007' } }),
    ];
    const reporter = new RecordingReporter();
    const c = new OktaLogClient({ org: parseOrg('acme.okta.com'), credentials: new SswsToken(TOKEN), clock, reporter, rateLimitJitterMs: 0, fetch: async () => responses.shift()! });
    // Act
    await c.fetchPage('https://acme.okta.com/api/v1/logs');
    await c.fetchPage('https://acme.okta.com/api/v1/logs');
    // Assess
    const waits = reporter.lines.filter((l) => l.message === 'rate-limit wait');
    expect(waits.map((l) => [l.fields?.reason, l.fields?.requestId])).toEqual([
      ['429', 'req-429'],
      ['pacing', 'req-200'],
    ]);
    expect(oktaRequestId(new Headers({ 'X-Okta-Request-Id': 'a b' }))).toBeUndefined();
  });

  it('does not retry HTTP 500 E0000009 (the query took too long): OktaQueryTimeoutError at once', async () => {
    const m = await mock({ events: makeEvents(3, T0), queryTimeoutWiderThanMs: 30_000 });
    const c = client(m);
    // Act
    const err = (await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000))).catch((e: unknown) => e)) as OktaQueryTimeoutError;
    const narrow = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 30_000)));
    // Assess
    expect(err).toBeInstanceOf(OktaQueryTimeoutError);
    expect(err).toBeInstanceOf(OktaRequestError);
    expect(err.status).toBe(500);
    expect(err.attempts).toBe(1);
    expect(err.message).toMatch(/took too long \(HTTP 500 E0000009: Your last request took too long/);
    expect(err.requestId).toMatch(/^mock-/);
    expect(m.stats.faultsInjected['query-timeout']).toBe(1);
    expect(JSON.parse(narrow.body)).toHaveLength(3);
    expect(c.stats.retries['server-error']).toBe(0);
  });

  it('retries a connection reset', async () => {
    const m = await mock({ events: makeEvents(2, T0), faults: { nextResets: 2 } });
    const c = client(m);
    // Act
    const page = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(JSON.parse(page.body)).toHaveLength(2);
    expect(c.stats.retries.network).toBe(2);
    expect(m.stats.faultsInjected.reset).toBe(2);
  });

  it('retries a stalled request after its timeout', async () => {
    const m = await mock({ events: makeEvents(2, T0), faults: { nextStalls: 1 } });
    const c = client(m, { requestTimeoutMs: 150 });
    // Act
    const page = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(JSON.parse(page.body)).toHaveLength(2);
    expect(c.stats.retries.timeout).toBe(1);
  });

  it('fails with OktaRequestError after maxAttempts stalled requests', async () => {
    const m = await mock({ faults: { nextStalls: 3 } });
    const c = client(m, { requestTimeoutMs: 150, maxAttempts: 3 });
    // Act
    const err = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000))).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OktaRequestError);
    expect((err as OktaRequestError).attempts).toBe(3);
    expect((err as Error).message).toMatch(/no complete answer within 150 ms/);
    expect(c.stats.retries.timeout).toBe(2);
    expect(m.stats.faultsInjected.stall).toBe(3);
  });

  it('stops at once when the caller aborts, without retrying', async () => {
    const m = await mock({ faults: { nextStalls: 5 } });
    const c = client(m, { requestTimeoutMs: 60_000 });
    const controller = new AbortController();
    // Act
    const act = c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)), controller.signal);
    setTimeout(() => controller.abort(new Error('run cancelled')), 50);
    // Assess
    await expect(act).rejects.toThrow('run cancelled');
    expect(c.stats.requests).toBe(1);
  });

  it('retries a 200 whose body is cut in half', async () => {
    const events = makeEvents(4, T0);
    const m = await mock({ events, faults: { nextTruncated: 1 } });
    const c = client(m);
    // Act
    const page = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(page.body).toBe(`[${events.map((e) => e.text).join(',')}]`);
    expect(c.stats.retries['incomplete-body']).toBe(1);
    expect(m.stats.faultsInjected.truncated).toBe(1);
  });

  it('retries a 200 that is not JSON', async () => {
    let n = 0;
    const c = new OktaLogClient({
      org: parseOrg('acme.okta.com'),
      credentials: new SswsToken(TOKEN),
      backoffBaseMs: 1,
      backoffCapMs: 1,
      fetch: async () =>
        ++n === 1
          ? new Response('<html>maintenance</html>', { status: 200, headers: { 'Content-Type': 'text/html' } })
          : new Response('[]', { status: 200, headers: { 'Content-Type': 'application/json' } }),
    });
    // Act
    const page = await c.fetchPage('https://acme.okta.com/api/v1/logs?limit=5');
    // Assess
    expect(page.body).toBe('[]');
    expect(c.stats.retries['incomplete-body']).toBe(1);
  });
});

describe('OktaLogClient: errors that are not retried', () => {
  it('fails at once with OktaAuthError on 401, after one request', async () => {
    // Prepare
    const m = await mock({ events: makeEvents(1, T0) });
    const wrong = 'wrong-token-0123456789';
    const c = client(m, { credentials: new SswsToken(wrong) });
    // Act
    const err = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000))).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OktaAuthError);
    expect((err as OktaAuthError).status).toBe(401);
    expect((err as OktaAuthError).errorCode).toBe('E0000011');
    expect((err as Error).message).toMatch(/token is valid and not expired/);
    expect((err as Error).message).toMatch(/admin who created it is still active/);
    expect((err as Error).message).not.toContain(wrong);
    expect(m.stats.logRequests).toBe(1);
  });

  it('fails at once with OktaAuthError on 403, naming the admin role to check', async () => {
    const m = await mock({ faults: { nextForbidden: 1 } });
    const c = client(m);
    // Act
    const err = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000))).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OktaAuthError);
    expect((err as OktaAuthError).status).toBe(403);
    expect((err as Error).message).toMatch(/admin role that can read the System Log/);
    expect(m.stats.logRequests).toBe(1);
  });

  it('fails with OktaBadRequestError carrying errorSummary when since is older than 180 days', async () => {
    const m = await mock();
    const c = client(m);
    const since = T0 + 3_600_000 - 181 * 86_400_000;
    // Act
    const err = await c.fetchPage(c.boundedQueryUrl(iso(since), iso(since + 60_000))).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OktaBadRequestError);
    expect((err as OktaBadRequestError).errorCode).toBe('E0000053');
    expect((err as OktaBadRequestError).errorSummary).toMatch(/180 days/);
    expect((err as Error).message).toMatch(/HTTP 400 E0000053: Invalid date/);
    expect(m.stats.logRequests).toBe(1);
  });

  it('fails at once on 404, saying to check the org, with the attempt count', async () => {
    let n = 0;
    const c = new OktaLogClient({
      org: parseOrg('acme.okta.com'),
      credentials: new SswsToken(TOKEN),
      backoffBaseMs: 1,
      backoffCapMs: 1,
      fetch: async () =>
        ++n === 1
          ? Response.json({ errorCode: 'E0000009', errorSummary: 'Internal Server Error' }, { status: 502 })
          : Response.json({ errorCode: 'E0000007', errorSummary: 'Not found: Resource not found: logs (path)' }, { status: 404 }),
    });
    // Act
    const err = await c.fetchPage('https://acme.okta.com/api/v1/logs').catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(OktaRequestError);
    expect((err as OktaRequestError).attempts).toBe(2);
    expect((err as Error).message).toMatch(/HTTP 404 E0000007: Not found.*\(check the org URL\)/);
  });

  it('does not follow redirects', async () => {
    const c = new OktaLogClient({
      org: parseOrg('acme.okta.com'),
      credentials: new SswsToken(TOKEN),
      fetch: async () => new Response(null, { status: 302, headers: { Location: 'https://evil.example/api/v1/logs' } }),
    });
    // Act / Assess
    await expect(c.fetchPage('https://acme.okta.com/api/v1/logs')).rejects.toThrow(/redirect to https:\/\/evil\.example; redirects are not followed/);
  });
});

describe('OktaLogClient: pacing', () => {
  it.each([
    [0.5, 2],
    [1, 4],
  ])('with share %d of a bucket of 4, waits for the reset instead of hitting 429 (at most %d requests a window)', async (share, perWindow) => {
    // Prepare: 10 events, one per page
    const clock = new ManualClock(T0 + 3_600_000);
    const windows = new Map<number, number>();
    const m = await mock({
      events: makeEvents(10, T0),
      clock,
      rateLimitPerMinute: 4,
      // The token may use the whole bucket (an admin can raise the per-token share to 100%).
      clientShare: 1,
      onLogRequest: () => {
        const w = Math.floor(clock.now() / 60_000);
        windows.set(w, (windows.get(w) ?? 0) + 1);
        return undefined;
      },
    });
    const reporter = new RecordingReporter();
    const c = client(m, { clock, reporter, rateLimitShare: share, pageSize: 1 });
    // Act
    const { uuids } = await readAll(c, c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess
    expect(uuids).toHaveLength(10);
    expect(m.stats.rateLimited).toBe(0);
    expect(Math.max(...windows.values())).toBe(perWindow);
    expect(c.stats.rateLimitWaitMs).toBeGreaterThan(0);
    expect(reporter.lines.some((l) => l.message === 'rate-limit wait' && l.fields?.reason === 'pacing')).toBe(true);
  });
});

describe('OktaLogClient: options', () => {
  const base = { org: parseOrg('acme.okta.com'), credentials: new SswsToken(TOKEN) };
  it.each([
    [{ rateLimitShare: 0 }, /rateLimitShare must be a number greater than 0 and at most 1/],
    [{ rateLimitShare: 1.5 }, /rateLimitShare/],
    [{ maxAttempts: 0 }, /maxAttempts must be an integer from 1 to 100/],
    [{ maxAttempts: 2.5 }, /maxAttempts/],
    [{ requestTimeoutMs: -1 }, /requestTimeoutMs must be a number from 1/],
    [{ backoffBaseMs: Number.NaN }, /backoffBaseMs/],
    [{ backoffBaseMs: 100, backoffCapMs: 10 }, /backoffCapMs must not be below backoffBaseMs/],
    [{ pageSize: 1001 }, /pageSize must be an integer from 1 to 1000/],
    [{ userAgent: 'bad\nagent' }, /userAgent must be printable ASCII/],
    [{ org: undefined }, /option org is missing/],
    [{ credentials: undefined }, /option credentials is missing/],
  ])('rejects %j', (bad, message) => {
    expect(() => new OktaLogClient({ ...base, ...(bad as Partial<OktaLogClientOptions>) } as OktaLogClientOptions)).toThrow(ConfigError);
    expect(() => new OktaLogClient({ ...base, ...(bad as Partial<OktaLogClientOptions>) } as OktaLogClientOptions)).toThrow(message);
  });
});
