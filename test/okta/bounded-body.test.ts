/**
 * Bounded input (issue 10): the client reads every Okta body as a stream up to a cap, stops and
 * aborts the request as soon as a body passes it, and retries a page that did; the text it keeps is
 * exactly what `response.text()` gave. Real HTTP on loopback: the mock Okta (its `oversize` fault)
 * or a plain server that streams a body and counts what it could write before the client left.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readCappedBody } from '../../lib/core/okta/body';
import { DEFAULT_MAX_PAGE_BYTES, MAX_ERROR_BODY_BYTES, OktaLogClient, type OktaLogClientOptions } from '../../lib/core/okta/client';
import { DEFAULT_MAX_TOKEN_RESPONSE_BYTES, OAuthServiceApp, SswsToken } from '../../lib/core/okta/credentials';
import { OAuthTokenError, OktaRequestError, OktaResponseTooLargeError } from '../../lib/core/okta/errors';
import { parseOrg } from '../../lib/core/okta/org';
import { RecordingReporter } from '../../testkit/reporter';
import { loopbackClient, mockStarter, stopsAfterEach } from './harness';
import { makeEvents } from './helpers';

const TOKEN = 'bounded-body-test-token-1234';
const T0 = Date.parse('2024-05-01T00:00:00.000Z');
const MIB = 1024 * 1024;
const iso = (ms: number): string => new Date(ms).toISOString();
/** What may arrive beyond a cap before the client sees it passed: one read of the socket (64 KiB), with room. */
const ONE_READ = 256 * 1024;
/**
 * A client that stops at a cap of a few MiB leaves the server unable to write more than the cap plus
 * what the loopback socket buffers hold (a few MiB); one that reads the whole body lets it write all.
 */
const FAR_LESS_THAN_64_MIB = 16 * MIB;

const stops = stopsAfterEach();
const mock = mockStarter(stops, TOKEN, T0 + 3_600_000);
const client = (origin: string, options: Partial<OktaLogClientOptions> = {}): OktaLogClient => loopbackClient(origin, TOKEN, { requestTimeoutMs: 10_000, ...options });

/** A plain loopback server; `handle` answers each request. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<string> {
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Writes `total` bytes of `fill` in 64 KiB writes, waiting for the socket to drain, until done or the
 * client closes the connection; returns the bytes written.
 */
async function stream(res: ServerResponse, total: number, fill = 0x20): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, fill);
  let open = true;
  const closed = once(res, 'close').then(() => (open = false));
  let sent = 0;
  while (open && sent < total) {
    const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
    sent += piece.length;
    if (!res.write(piece)) await Promise.race([once(res, 'drain'), closed]);
  }
  if (open) res.end();
  return sent;
}

describe('OktaLogClient: a page body is read up to maxPageBytes', () => {
  it('stops reading a 64 MiB page at a 1 MiB cap, aborts the request, retries and gets the page', async () => {
    // Prepare: the first answer is the page padded to 64 MiB (a valid JSON array), streamed without a length
    const events = makeEvents(5, T0);
    const m = await mock({ events, faults: { nextOversize: 1 }, oversizeBodyBytes: 64 * MIB });
    const reporter = new RecordingReporter();
    const c = client(m.origin, { maxPageBytes: MIB, reporter });
    // Act
    const page = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000)));
    // Assess: the retry got the page; the oversize answer was abandoned far before its end
    // (lengths first: a failure must not make the test runner diff 64 MiB strings)
    expect(page.body.length).toBeLessThan(MIB);
    expect(page.body).toBe(`[${events.map((e) => e.text).join(',')}]`);
    expect(c.stats.retries['response-too-large']).toBe(1);
    expect(c.stats.requests).toBe(2);
    expect(m.stats.oversizeBodiesCompleted).toBe(0);
    expect(m.stats.oversizeBytesSent).toBeGreaterThanOrEqual(MIB);
    expect(m.stats.oversizeBytesSent).toBeLessThan(FAR_LESS_THAN_64_MIB);
    const retry = reporter.lines.find((l) => l.message === 'Okta request retry');
    expect(retry?.fields).toMatchObject({ cause: 'response-too-large', attempt: 1 });
    expect(String(retry?.fields?.detail)).toMatch(/^HTTP 200 with a body over maxPageBytes = 1048576 bytes \(1 MiB\): stopped reading after \d+ bytes/);
    expect(String(retry?.fields?.requestId)).toMatch(/^mock-/);
  });

  it('when every attempt is too large, fails with OktaRequestError caused by OktaResponseTooLargeError (URL, cap, bytes read, request id)', async () => {
    // Prepare
    const m = await mock({ events: makeEvents(5, T0), faults: { nextOversize: 3 }, oversizeBodyBytes: 64 * MIB });
    const c = client(m.origin, { maxPageBytes: 2 * MIB, maxAttempts: 3 });
    const url = c.boundedQueryUrl(iso(T0), iso(T0 + 60_000));
    // Act
    const err = await c.fetchPage(url).catch((e: unknown) => e);
    // Assess (a boolean first: a failure must not make the test runner print a 64 MiB page)
    expect(err instanceof OktaRequestError, 'fetchPage failed with OktaRequestError').toBe(true);
    expect((err as OktaRequestError).attempts).toBe(3);
    const cause = (err as OktaRequestError).cause as OktaResponseTooLargeError;
    expect(cause).toBeInstanceOf(OktaResponseTooLargeError);
    expect(cause.name).toBe('OktaResponseTooLargeError');
    expect(cause.url).toBe(url);
    expect(cause.status).toBe(200);
    expect(cause.maxBytes).toBe(2 * MIB);
    expect(cause.bytesRead).toBeGreaterThan(2 * MIB);
    expect(cause.bytesRead).toBeLessThanOrEqual(2 * MIB + ONE_READ);
    expect(cause.requestId).toMatch(/^mock-/);
    expect(cause.message).toContain(`GET ${url} answered HTTP 200 with a body over maxPageBytes`);
    expect(cause.message).toContain(`[X-Okta-Request-Id: ${cause.requestId}]`);
    expect((err as Error).message).toMatch(/failed after 3 attempt\(s\) \(last: HTTP 200 with a body over maxPageBytes/);
    expect(m.stats.oversizeBytesSent).toBeLessThan(3 * FAR_LESS_THAN_64_MIB);
  });

  it('refuses a page whose Content-Length is over the cap without reading it', async () => {
    // Prepare
    const m = await mock({ events: makeEvents(2, T0), onLogRequest: ({ n }) => (n === 1 ? { kind: 'oversize', bytes: 64 * MIB, declareLength: true } : undefined) });
    const c = client(m.origin, { maxPageBytes: MIB, maxAttempts: 1 });
    // Act
    const err = await c.fetchPage(c.boundedQueryUrl(iso(T0), iso(T0 + 60_000))).catch((e: unknown) => e);
    // Assess (a boolean first: a failure must not make the test runner print a 64 MiB page)
    const cause = (err as Error).cause as OktaResponseTooLargeError;
    expect(cause instanceof OktaResponseTooLargeError, 'failed with OktaResponseTooLargeError as cause').toBe(true);
    expect(cause.declaredBytes).toBe(64 * MIB);
    expect(cause.bytesRead).toBe(0);
    expect(cause.message).toMatch(/declaring Content-Length 67108864, over maxPageBytes = 1048576 bytes \(1 MiB\): not read/);
    expect(m.stats.oversizeBytesSent).toBeLessThan(FAR_LESS_THAN_64_MIB);
  });

  it('reads an error body only up to MAX_ERROR_BODY_BYTES: a 503 with 64 MiB of HTML is retried on its status', async () => {
    // Prepare: a 503 streaming 64 MiB, then an empty page
    let n = 0;
    const sent: Promise<number>[] = [];
    const origin = await serve((_req, res) => {
      if (++n === 1) {
        res.writeHead(503, { 'Content-Type': 'text/html' });
        sent.push(stream(res, 64 * MIB, 0x78));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[]');
    });
    const c = client(origin);
    // Act
    const page = await c.fetchPage(`${origin}/api/v1/logs?limit=5`);
    // Assess
    expect(page.body).toBe('[]');
    expect(c.stats.retries['server-error']).toBe(1);
    expect(await sent[0]).toBeLessThan(FAR_LESS_THAN_64_MIB);
    expect(MAX_ERROR_BODY_BYTES).toBe(64 * 1024);
  });
});

describe('OktaLogClient: the text of a streamed page is what response.text() gave', () => {
  // A BOM, then characters of 2, 3 and 4 bytes, invalid sequences (a lone continuation byte, a lead
  // byte cut short, an overlong form, a surrogate), each of them split across two writes below.
  const bytes = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('[{"uuid":"a","displayMessage":"caf\u00e9 \u20ac \u{1f600} \u65e5\u672c "}', 'utf8'),
    Buffer.from(',{"uuid":"b","bad":"'),
    Buffer.from([0x80, 0x41, 0xe2, 0x82, 0x41, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98]),
    Buffer.from('"}]'),
  ]);

  it('over HTTP, with multi-byte characters and invalid sequences split across writes', async () => {
    // Prepare: the server writes the body in pieces that end inside characters, pausing between them
    const cuts = [1, 2, 25, 26, 30, 32, 33, 35, 36, 38, 40, bytes.length - 8, bytes.length - 5, bytes.length - 4];
    const origin = await serve(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      let at = 0;
      for (const cut of [...cuts, bytes.length]) {
        res.write(bytes.subarray(at, cut));
        at = cut;
        await new Promise((r) => setTimeout(r, 15));
      }
      res.end();
    });
    const c = client(origin);
    // Act
    const page = await c.fetchPage(`${origin}/api/v1/logs?limit=5`);
    // Assess: identical to the whole-body decoding of before, U+FFFD where it was, BOM dropped
    expect(page.body).toBe(await new Response(bytes).text());
    expect(page.body.startsWith('[{"uuid":"a","displayMessage":"caf\u00e9 \u20ac \u{1f600} \u65e5\u672c "}')).toBe(true);
    expect(page.body).toContain('\ufffdA\ufffdA');
  });

  it('at every split point of the body, and at every pair of split points', async () => {
    const expected = await new Response(bytes).text();
    const chunked = (parts: Buffer[]): Response =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (const p of parts) controller.enqueue(new Uint8Array(p));
            controller.close();
          },
        }),
      );
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const read = await readCappedBody(chunked([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]), bytes.length, () => undefined);
        expect(read.text, `split at ${i} and ${j}`).toBe(expected);
        expect(read).toMatchObject({ complete: true, bytes: bytes.length });
      }
    }
    // One byte fewer than the body is over the cap.
    const over = await readCappedBody(chunked([bytes]), bytes.length - 1, () => undefined);
    expect(over.complete).toBe(false);
  });
});

describe('OAuthServiceApp: the token endpoint answer is read up to maxTokenResponseBytes', () => {
  it('abandons a 64 MiB token answer at the cap (retryable, OktaResponseTooLargeError as cause); the page attempt then gets a token', async () => {
    // Prepare: the token endpoint first streams 64 MiB, then answers as Okta does
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let tokenRequests = 0;
    const sent: Promise<number>[] = [];
    const origin = await serve((req, res) => {
      if (req.url === '/oauth2/v1/token') {
        req.resume();
        res.setHeader('X-Okta-Request-Id', 'tok-req-1');
        if (++tokenRequests === 1) {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          sent.push(stream(res, 64 * MIB));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'at-0123456789abcdef', scope: 'okta.logs.read' }));
        return;
      }
      res.writeHead(req.headers.authorization === 'Bearer at-0123456789abcdef' ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end('[]');
    });
    const org = parseOrg(origin, { allowInsecureLoopback: true });
    const creds = new OAuthServiceApp({ org, clientId: '0oabounded', privateKey });
    // Act
    const err = await creds.authorization().catch((e: unknown) => e);
    const c = new OktaLogClient({ org, credentials: new OAuthServiceApp({ org, clientId: '0oabounded', privateKey }), backoffBaseMs: 1, backoffCapMs: 1 });
    tokenRequests = 0;
    const page = await c.fetchPage(`${origin}/api/v1/logs?limit=5`);
    // Assess
    expect(err).toBeInstanceOf(OAuthTokenError);
    expect((err as OAuthTokenError).retryable).toBe(true);
    expect((err as Error).message).toMatch(/token endpoint .* answered HTTP 200 with a body over the cap of 65536 bytes \(64 KiB\): stopped reading after \d+ bytes \[X-Okta-Request-Id: tok-req-1\]/);
    const cause = (err as Error).cause as OktaResponseTooLargeError;
    expect(cause).toBeInstanceOf(OktaResponseTooLargeError);
    expect(cause).toMatchObject({ url: `${origin}/oauth2/v1/token`, maxBytes: DEFAULT_MAX_TOKEN_RESPONSE_BYTES, requestId: 'tok-req-1' });
    expect(cause.bytesRead).toBeLessThanOrEqual(DEFAULT_MAX_TOKEN_RESPONSE_BYTES + ONE_READ);
    expect(await sent[0]).toBeLessThan(FAR_LESS_THAN_64_MIB);
    expect(await sent[1]).toBeLessThan(FAR_LESS_THAN_64_MIB);
    expect(page.body).toBe('[]');
    expect(c.stats.retries['token-endpoint']).toBe(1);
  });
});

describe('the caps as options', () => {
  it('defaults to 32 MiB per page and 64 KiB per token answer, and refuses caps out of range', () => {
    expect(DEFAULT_MAX_PAGE_BYTES).toBe(32 * MIB);
    expect(DEFAULT_MAX_TOKEN_RESPONSE_BYTES).toBe(64 * 1024);
    const org = parseOrg('acme.okta.com');
    for (const bad of [0, 1023, 1.5, 2 * 1024 ** 3, Number.NaN]) {
      expect(() => new OktaLogClient({ org, credentials: new SswsToken(TOKEN), maxPageBytes: bad })).toThrow(/maxPageBytes must be an integer from 1024 to 1073741824/);
      expect(() => new OAuthServiceApp({ org, clientId: '0oa1', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, maxTokenResponseBytes: bad })).toThrow(
        /maxTokenResponseBytes must be a whole number of bytes from 1024 to 16777216/,
      );
    }
  });
});
