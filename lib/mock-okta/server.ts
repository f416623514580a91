/**
 * A simulated Okta org on loopback: `GET /api/v1/logs` (bounded and polling queries, opaque `after`
 * cursors in `Link` headers, Okta-style validation and errors, a per-minute rate-limit bucket with
 * `X-Rate-Limit-*` headers) and `POST /oauth2/v1/token` (client credentials with `private_key_jwt`),
 * with faults that tests inject deterministically. Used by the tests, the benchmark and
 * `okta-lake mock-okta`.
 *
 * This file is the composition: options, HTTP routing, the order of a log request's steps, start
 * and stop. The parts: pages.ts (query, cursor, pages and `Link` headers, retention), api-auth.ts
 * and token-endpoint.ts (who a request is; the token endpoint and its tokens), rate-limit.ts (the
 * bucket), faults.ts and oversize.ts (the fault picker and the faults' answers), http.ts (the wire
 * format they share).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../core/errors';
import { systemClock, type Clock } from '../core/ports';
import { EventIndex, type MockEvent } from './events';
import { DpopNonces } from './dpop';
import type { MockOAuthClient } from './oauth';
import { ApiAuth } from './api-auth';
import { answerFault, faultedPage, newFaultPlan, newInjectedCounts, pickFault, type MockFault, type MockFaultKind, type MockFaultPlan, type MockRequestInfo } from './faults';
import { BadRequest, oktaError, responder } from './http';
import { DEFAULT_OVERSIZE_BODY_BYTES, oversizeSender } from './oversize';
import { LogPages, MOCK_LOGS_PATH, selfUrl, type LogPage } from './pages';
import { RateBucket, rateLimitedBody } from './rate-limit';
import { MOCK_TOKEN_PATH, registerClients, TokenEndpoint } from './token-endpoint';

export type { MockFault, MockFaultKind, MockFaultPlan, MockRequestInfo } from './faults';
export { DEFAULT_OVERSIZE_BODY_BYTES } from './oversize';
export { DEFAULT_FOREIGN_ORIGIN, MOCK_LOGS_PATH } from './pages';
export { MOCK_TOKEN_PATH } from './token-endpoint';

export interface MockOktaOptions {
  /** Events to serve (more can be added later with `add`). */
  readonly events?: readonly MockEvent[];
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Accept `Authorization: SSWS <apiToken>`. At least one of apiToken and oauthClients is required. */
  readonly apiToken?: string;
  /** Service apps whose `private_key_jwt` assertions the token endpoint accepts. */
  readonly oauthClients?: readonly MockOAuthClient[];
  /** Lifetime of issued access tokens. @default 3600 */
  readonly accessTokenLifetimeSec?: number;
  /** `/api/v1/logs` requests per window (the org's bucket). @default 120 */
  readonly rateLimitPerMinute?: number;
  /**
   * The share (0 < share <= 1) of the org's bucket one API token or OAuth app may use per window
   * before it gets 429s of its own, whatever the bucket has left: Okta's default is 50%
   * (developer.okta.com/docs/reference/rl2-token-oauth: "each API token or OAuth 2.0 app can use up
   * to 50% of an API endpoint's total rate limit"; admins can change it per token or app).
   * @default 0.5
   */
  readonly clientShare?: number;
  /** Length of a rate-limit window, aligned to the epoch; shorter windows make tests fast. @default 60_000 */
  readonly rateLimitWindowMs?: number;
  /** Response time of each page: the page is sent this long after its request arrived (at the earliest). @default 0 */
  readonly latencyMs?: number;
  /** Time for visibility (`visibleAtMs`), rate-limit windows, token expiry and the 180-day rule. @default systemClock */
  readonly clock?: Pick<Clock, 'now'>;
  /** Initial fault plan. */
  readonly faults?: Partial<MockFaultPlan>;
  /** Per-request fault hook, asked before the fault plan; return a fault to inject one. */
  readonly onLogRequest?: (info: MockRequestInfo) => MockFault | MockFaultKind | undefined;
  /**
   * When a bounded query's page carries `rel="next"`: `'exact'` when more events follow in the window
   * (the last page has no next link), `'when-full'` whenever the page is full (so the last page can be
   * an empty `[]` page).
   * @default 'exact'
   */
  readonly boundedNext?: 'exact' | 'when-full';
  /**
   * Bounded queries whose `until - since` is wider than this (ms) are answered with the `query-timeout`
   * fault (HTTP 500 `E0000009`), every time: a heavy window that only narrower queries can read.
   * @default no limit
   */
  readonly queryTimeoutWiderThanMs?: number;
  /**
   * Events published more than this many days before the clock are not returned; queries reaching
   * further back still succeed (developer.okta.com/docs/reference/system-log-query, "Data
   * retention": "System Log data older than 90 days isn't returned").
   * @default 90
   */
  readonly retentionDays?: number;
  /** Size in bytes of the body of an `oversize` fault. @default {@link DEFAULT_OVERSIZE_BODY_BYTES} (64 MiB) */
  readonly oversizeBodyBytes?: number;
  /** Pause between the 64 KiB writes of an `oversize` body, so it arrives slowly. @default 0 */
  readonly oversizeChunkDelayMs?: number;
  /**
   * Every OAuth client requires DPoP (RFC 9449), as Okta's "Require Demonstrating Proof of
   * Possession (DPoP) header in token requests" does (on by default for new API Services apps); a
   * client's own `requireDpop` overrides it. A token request of such a client needs a valid proof
   * (`invalid_dpop_proof` "The DPoP proof JWT header is missing." otherwise, as Okta answers) with
   * the server's nonce (`use_dpop_nonce` first); the token is issued as `token_type: DPoP`, bound to
   * the proof key's RFC 7638 thumbprint, and is accepted only as `Authorization: DPoP` with a proof
   * of the same key, the right `ath`, a nonce and a `jti` not seen before. (The mock asks for a nonce
   * at the API too, RFC 9449 section 9, which Okta's own APIs do not currently: okta-developer-docs
   * `guides/dpop/main/oktaresourceserver/requestresource.md`.) A proof sent by a client that does not
   * require DPoP is checked and binds its token all the same.
   * @default false
   */
  readonly requireDpop?: boolean;
  /** Age at which the DPoP nonce is replaced (the one before stays valid until the next). @default 60_000 */
  readonly dpopNonceRotateMs?: number;
}

export interface MockOktaStats {
  /** Every HTTP request received. */
  readonly requests: number;
  readonly logRequests: number;
  readonly tokenRequests: number;
  readonly tokensIssued: number;
  /** 401 answers (logs and token endpoint). */
  readonly unauthorized: number;
  /** 429 answers (bucket empty, or injected). */
  readonly rateLimited: number;
  readonly badRequests: number;
  /** Log pages answered with HTTP 200 (truncated, malformed and oversize ones included). */
  readonly pagesServed: number;
  readonly eventsServed: number;
  /**
   * Bytes of `oversize` bodies written to their connections before the client closed them (or the
   * body ended): what a client that stops early saved is the difference from the bodies' size.
   */
  readonly oversizeBytesSent: number;
  /** `oversize` bodies sent to their end (the client read them whole). */
  readonly oversizeBodiesCompleted: number;
  /** DPoP proofs refused as invalid (replayed, wrong URL, wrong key, ...), token endpoint and API. */
  readonly dpopProofsRefused: number;
  /** `use_dpop_nonce` answers (token endpoint and API). */
  readonly dpopNonceChallenges: number;
  /** Access tokens issued as `token_type: DPoP`, bound to the key of the request's proof (part of `tokensIssued`). */
  readonly dpopTokensIssued: number;
  /** `/api/v1/logs` requests authenticated with a DPoP-bound token and a valid proof of its key. */
  readonly dpopRequestsAccepted: number;
  readonly faultsInjected: Readonly<Record<MockFaultKind | 'token5xx', number>>;
}

export interface MockOkta {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** A snapshot of the counters. */
  readonly stats: MockOktaStats;
  /** The live fault plan: set counters between requests to inject faults. */
  readonly faults: MockFaultPlan;
  /** Number of events held. */
  readonly size: number;
  add(events: readonly MockEvent[]): void;
  /** Forgets every issued access token: the next Bearer request gets 401. */
  revokeAccessTokens(): void;
  /** Replaces the DPoP nonces at once: the next proof with an old nonce gets `use_dpop_nonce`. */
  rotateDpopNonces(): void;
  stop(): Promise<void>;
}


function validateOptions(o: MockOktaOptions): void {
  const int = (name: string, v: number | undefined, min: number, max: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new ConfigError(`mock Okta option ${name} must be an integer from ${min} to ${max}`);
  };
  int('port', o.port, 0, 65535);
  int('rateLimitPerMinute', o.rateLimitPerMinute, 1, 1_000_000);
  int('rateLimitWindowMs', o.rateLimitWindowMs, 1, 3_600_000);
  int('latencyMs', o.latencyMs, 0, 600_000);
  int('queryTimeoutWiderThanMs', o.queryTimeoutWiderThanMs, 1, 365 * 86_400_000); // a year
  int('accessTokenLifetimeSec', o.accessTokenLifetimeSec, 1, 86_400);
  int('oversizeBodyBytes', o.oversizeBodyBytes, 1, 16 * 1024 ** 3);
  int('oversizeChunkDelayMs', o.oversizeChunkDelayMs, 0, 60_000);
  int('dpopNonceRotateMs', o.dpopNonceRotateMs, 1, 86_400_000);
  if (o.retentionDays !== undefined && !(o.retentionDays > 0)) throw new ConfigError('mock Okta option retentionDays must be a positive number');
  if (o.clientShare !== undefined && !(typeof o.clientShare === 'number' && o.clientShare > 0 && o.clientShare <= 1)) {
    throw new ConfigError('mock Okta option clientShare must be a number greater than 0 and at most 1');
  }
  if (o.apiToken === undefined && (o.oauthClients === undefined || o.oauthClients.length === 0)) {
    throw new ConfigError('mock Okta needs apiToken and/or oauthClients: every request is authenticated as on Okta');
  }
  if (o.apiToken !== undefined && (typeof o.apiToken !== 'string' || !/^[\x21-\x7e]+$/.test(o.apiToken))) {
    throw new ConfigError('mock Okta option apiToken must be a non-empty string of printable characters without spaces');
  }
  if (o.boundedNext !== undefined && o.boundedNext !== 'exact' && o.boundedNext !== 'when-full') {
    throw new ConfigError('mock Okta option boundedNext must be "exact" or "when-full"');
  }
  if (o.faults?.foreignNextLink !== undefined && typeof o.faults.foreignNextLink === 'string') {
    try {
      new URL(o.faults.foreignNextLink);
    } catch (cause) {
      throw new ConfigError('mock Okta option faults.foreignNextLink must be true or an origin such as "http://127.0.0.1:9999"', { cause });
    }
  }
}

/** Starts the mock Okta server on 127.0.0.1. */
export async function startMockOkta(options: MockOktaOptions = {}): Promise<MockOkta> {
  validateOptions(options);
  const index = new EventIndex();
  index.add(options.events ?? []);
  const clock = options.clock ?? systemClock;
  const latencyMs = options.latencyMs ?? 0;
  const clients = registerClients(options.oauthClients ?? []);
  const faults = newFaultPlan(options.faults);
  const counters = {
    requests: 0,
    logRequests: 0,
    tokenRequests: 0,
    tokensIssued: 0,
    unauthorized: 0,
    rateLimited: 0,
    badRequests: 0,
    pagesServed: 0,
    eventsServed: 0,
    oversizeBytesSent: 0,
    oversizeBodiesCompleted: 0,
    dpopProofsRefused: 0,
    dpopNonceChallenges: 0,
    dpopTokensIssued: 0,
    dpopRequestsAccepted: 0,
  };
  const injected = newInjectedCounts();
  const dpop = { nonces: new DpopNonces(() => clock.now(), options.dpopNonceRotateMs ?? 60_000), usedJtis: new Set<string>() };
  let origin = '';
  const originOf = (): string => origin;

  const { baseHeaders, send } = responder(clock);
  const bucket = new RateBucket({ clock, limit: options.rateLimitPerMinute ?? 120, clientShare: options.clientShare ?? 0.5, windowMs: options.rateLimitWindowMs ?? 60_000 });
  const rateHeaders = (): Record<string, string> => bucket.headers();
  const pages = new LogPages({
    index,
    clock,
    retentionDays: options.retentionDays ?? 90,
    boundedNext: options.boundedNext ?? 'exact',
    origin: originOf,
    foreignNextLink: () => faults.foreignNextLink,
  });
  const tokenEndpoint = new TokenEndpoint({
    clients,
    clock,
    tokenLifetimeSec: options.accessTokenLifetimeSec ?? 3600,
    requireDpop: options.requireDpop === true,
    dpop,
    origin: originOf,
    send,
    faults,
    injected,
    counters,
  });
  const auth = new ApiAuth({ apiToken: options.apiToken, tokens: tokenEndpoint.issued, clock, dpop, origin: originOf, counters });
  const oversize = oversizeSender({ baseHeaders, chunkDelayMs: options.oversizeChunkDelayMs ?? 0, counters });
  const oversizeBytes = options.oversizeBodyBytes ?? DEFAULT_OVERSIZE_BODY_BYTES;
  const faultPicker = { plan: faults, hook: options.onLogRequest, queryTimeoutWiderThanMs: options.queryTimeoutWiderThanMs };

  /** A log request: authentication, scope, the bucket, a fault, the page (after `latencyMs`). */
  const serveLogs = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const receivedAt = performance.now();
    if (req.method !== 'GET') {
      send(res, 405, oktaError('E0000022', 'The endpoint does not support the provided HTTP method'), { Allow: 'GET' });
      return;
    }
    const n = ++counters.logRequests;
    const { who, headers: authHeaders } = auth.authenticate(req, url);
    if (!who) {
      counters.unauthorized++;
      send(res, 401, oktaError('E0000011', 'Invalid token provided'), { ...rateHeaders(), ...authHeaders });
      return;
    }
    if (who !== 'ssws' && !who.scopes.includes('okta.logs.read')) {
      send(res, 403, oktaError('E0000006', 'You do not have permission to perform the requested action'), rateHeaders());
      return;
    }
    if (!bucket.take(who === 'ssws' ? 'ssws' : `oauth:${who.clientId}`)) {
      counters.rateLimited++;
      send(res, 429, rateLimitedBody(), rateHeaders());
      return;
    }
    const fault = pickFault(faultPicker, { n, url });
    if (fault) injected[fault.kind]++;
    if (fault && answerFault(fault, req, res, { send, rateHeaders, counters })) return;

    let page: LogPage;
    try {
      page = pages.build(url);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      counters.badRequests++;
      send(res, 400, oktaError(e.errorCode, e.summary, e.causes), rateHeaders());
      return;
    }
    // The page takes `latencyMs` in all from the request's arrival, its preparation included (as a
    // server's response time does), so a benchmark's latency is the figure it names.
    const wait = latencyMs - (performance.now() - receivedAt);
    if (wait > 0) await sleep(wait);
    if (res.destroyed) return;
    const served = faultedPage(fault, page, selfUrl(origin, url));
    counters.pagesServed++;
    counters.eventsServed += served.count;
    if (fault?.kind === 'oversize') {
      await oversize.send(res, page.body.subarray(0, -1), fault.bytes ?? oversizeBytes, fault.declareLength === true, { ...rateHeaders(), Link: served.links });
      return;
    }
    send(res, 200, served.body, { ...rateHeaders(), ...authHeaders, Link: served.links });
  };

  const server: Server = createServer((req, res) => {
    counters.requests++;
    const url = new URL(req.url ?? '/', origin);
    const handle =
      url.pathname === MOCK_LOGS_PATH
        ? serveLogs(req, res, url)
        : url.pathname === MOCK_TOKEN_PATH
          ? tokenEndpoint.serve(req, res)
          : Promise.resolve(send(res, 404, oktaError('E0000007', `Not found: Resource not found: ${url.pathname} (path)`)));
    handle.catch((e: unknown) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      if (e instanceof BadRequest) {
        send(res, 400, JSON.stringify({ error: e.errorCode, error_description: e.summary }));
        return;
      }
      send(res, 500, oktaError('E0000009', 'Internal Server Error'));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;

  return {
    origin,
    port,
    faults,
    get stats(): MockOktaStats {
      return { ...counters, faultsInjected: { ...injected } };
    },
    get size(): number {
      return index.size;
    },
    add(events: readonly MockEvent[]): void {
      index.add(events);
    },
    revokeAccessTokens(): void {
      tokenEndpoint.issued.clear();
    },
    rotateDpopNonces(): void {
      dpop.nonces.rotate();
    },
    stop(): Promise<void> {
      stopped ??= new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
