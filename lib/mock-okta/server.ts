/**
 * A simulated Okta org on loopback: `GET /api/v1/logs` (bounded and polling queries, opaque `after`
 * cursors in `Link` headers, Okta-style validation and errors, a per-minute rate-limit bucket with
 * `X-Rate-Limit-*` headers) and `POST /oauth2/v1/token` (client credentials with `private_key_jwt`),
 * with faults that tests inject deterministically. Used by the tests, the benchmark and
 * `okta-lake mock-okta`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../core/errors';
import { systemClock, type Clock } from '../core/ports';
import { EventIndex, type EventKey, type MockEvent } from './events';
import { DpopNonces, DpopProofError, verifyDpopProof } from './dpop';
import { AssertionError, toMockPublicKey, verifyClientAssertion, type MockOAuthClient, type MockPublicKey } from './oauth';

export const MOCK_LOGS_PATH = '/api/v1/logs';
export const MOCK_TOKEN_PATH = '/oauth2/v1/token';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DAY_MS = 86_400_000;
const OPEN_BRACKET = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE_BRACKET = Buffer.from(']');
/** The size of each write of an oversize body. */
const OVERSIZE_CHUNK_BYTES = 64 * 1024;
/** White space that pads an oversize page (JSON allows any amount between its elements). */
const PADDING = Buffer.alloc(OVERSIZE_CHUNK_BYTES, 0x20);
/** Size of an oversize page unless `oversizeBodyBytes` or the fault says otherwise: 64 MiB. */
export const DEFAULT_OVERSIZE_BODY_BYTES = 64 * 1024 * 1024;
/** The origin used in `rel="next"` links when `foreignNextLink` is `true`. */
export const DEFAULT_FOREIGN_ORIGIN = 'https://attacker.invalid';

/** A fault the mock can inject into one `/api/v1/logs` request (after authentication and the rate-limit bucket). */
export type MockFaultKind =
  /**
   * HTTP 5xx with Okta's error JSON for an internal error (status 500 unless given): `E0000053`, as
   * the System Log documents it (developer.okta.com/docs/reference/system-log-query, "Errors":
   * "An internal service error returns the HTTP 500 error with ... E0000053").
   */
  | '5xx'
  /**
   * HTTP 500 `E0000009`, "Your last request took too long to complete": the System Log's answer to a
   * query that ran past its 30 s (same page: "A timeout returns the HTTP 500 error with ... E0000009").
   */
  | 'query-timeout'
  /** HTTP 400 `E0000001` "Api validation failed: after": Okta refusing a `next` link's cursor (a stale one). */
  | 'bad-cursor'
  /** The connection is destroyed before any response. */
  | 'reset'
  /** No response at all until the client gives up (closes the connection) or the server stops. */
  | 'stall'
  /** HTTP 200 with the first half of the page body, ended cleanly (as a broken proxy would). */
  | 'truncated'
  /**
   * HTTP 200 with the whole page, still a `[...]` array from end to end, that is not valid JSON: a
   * comma before the closing bracket (`[{...},{...},]`, `[,]` for an empty page), as a careless
   * serialiser writes it. The client passes it on (it looks complete); the writer refuses it.
   */
  | 'malformed'
  /** HTTP 429 with the bucket's `X-Rate-Limit-*` headers (unless `omitRateLimitHeaders`). */
  | '429'
  /** HTTP 403 E0000006. */
  | 'forbidden'
  /**
   * HTTP 200 with an empty page `[]` that still carries a `rel="next"` link to the same position (the
   * request's own query): Okta promises only that the last page of a bounded query has no `next`
   * (developer.okta.com/docs/reference/system-log-query), so a client must follow it.
   */
  | 'empty-next'
  /**
   * HTTP 200 with the page's headers and a body far larger than any page: the page's events, then
   * white space up to `bytes` (`oversizeBodyBytes`), then `]`, so it is still a valid JSON array of
   * the same events (as a misbehaving proxy or server could send). Streamed in 64 KiB writes, with
   * `oversizeChunkDelayMs` between them, never held in memory whole, and stopped as soon as the
   * client closes the connection; `stats.oversizeBytesSent` counts what was written before that.
   * Sent without `Content-Length` (chunked) unless `declareLength`.
   */
  | 'oversize';

export interface MockFault {
  readonly kind: MockFaultKind;
  /** Status for `5xx`. @default 500 */
  readonly status?: number;
  /** For `429`: send no `X-Rate-Limit-*` headers. @default false */
  readonly omitRateLimitHeaders?: boolean;
  /** For `oversize`: the body's size in bytes. @default `oversizeBodyBytes` */
  readonly bytes?: number;
  /** For `oversize`: send `Content-Length` (otherwise the body is chunked). @default false */
  readonly declareLength?: boolean;
}

/**
 * Counters of faults to inject into the next `/api/v1/logs` requests, live and mutable
 * (`mock.faults.next5xx = 2`). When several are set, one fault per request is taken in this order:
 * 429, 5xx, forbidden, reset, stall, truncated, malformed, empty-next, oversize. Each injected fault decrements its counter.
 */
export interface MockFaultPlan {
  next429: number;
  next5xx: number;
  nextForbidden: number;
  nextResets: number;
  nextStalls: number;
  nextTruncated: number;
  /** The next pages are served whole but as malformed JSON (see the `malformed` fault kind). @default 0 */
  nextMalformed: number;
  /** The next log requests are answered with an empty page that still has a next link (see `empty-next`). @default 0 */
  nextEmptyWithNext: number;
  /** The next log requests are answered with an oversize page (see the `oversize` fault kind). @default 0 */
  nextOversize: number;
  /** The next token requests answer HTTP 503. */
  nextToken5xx: number;
  /** `rel="next"` links point to this origin (`true`: {@link DEFAULT_FOREIGN_ORIGIN}) instead of the mock's. */
  foreignNextLink: boolean | string;
}

/** What a fault hook sees about a `/api/v1/logs` request. */
export interface MockRequestInfo {
  /** 1-based number of this `/api/v1/logs` request. */
  readonly n: number;
  readonly url: URL;
}

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

interface Bucket {
  windowStart: number;
  used: number;
  /** Requests of each principal (an API token, an OAuth client id) in this window. */
  readonly byPrincipal: Map<string, number>;
}

interface IssuedToken {
  readonly expiresAtMs: number;
  readonly scopes: readonly string[];
  readonly clientId: string;
  /** RFC 7638 thumbprint of the DPoP key the token is bound to (`cnf.jkt`), for a DPoP token. */
  readonly jkt?: string;
}

function oktaError(errorCode: string, errorSummary: string, causes: readonly string[] = []): string {
  return JSON.stringify({
    errorCode,
    errorSummary,
    errorLink: errorCode,
    errorId: `oae${randomBytes(11).toString('base64url')}`,
    errorCauses: causes.map((c) => ({ errorSummary: c })),
  });
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;

class BadRequest extends Error {
  constructor(
    readonly errorCode: string,
    readonly summary: string,
    readonly causes: readonly string[] = [],
  ) {
    super(summary);
  }
}

function encodeCursor(k: EventKey): string {
  return Buffer.from(JSON.stringify([k.publishedMs, k.uuid])).toString('base64url');
}

function decodeCursor(s: string): EventKey {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isFinite(v[0]) && typeof v[1] === 'string') return { publishedMs: v[0] as number, uuid: v[1] };
  } catch {
    // fall through
  }
  throw new BadRequest('E0000001', 'Api validation failed: after', ['after: The after cursor is not valid.']);
}

function parseInstant(name: string, v: string): number {
  const ms = ISO_INSTANT.test(v) ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new BadRequest('E0000001', `Api validation failed: ${name}`, [`${name}: The date format in your query is not recognized. Please enter dates using ISO8601 string format.. 'until' and 'since' must be in ISO8601 format.`]);
  }
  return ms;
}

function validateOptions(o: MockOktaOptions): void {
  const int = (name: string, v: number | undefined, min: number, max: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new ConfigError(`mock Okta option ${name} must be an integer from ${min} to ${max}`);
  };
  int('port', o.port, 0, 65535);
  int('rateLimitPerMinute', o.rateLimitPerMinute, 1, 1_000_000);
  int('rateLimitWindowMs', o.rateLimitWindowMs, 1, 3_600_000);
  int('latencyMs', o.latencyMs, 0, 600_000);
  int('queryTimeoutWiderThanMs', o.queryTimeoutWiderThanMs, 1, 365 * DAY_MS);
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

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new BadRequest('invalid_request', 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the mock Okta server on 127.0.0.1. */
export async function startMockOkta(options: MockOktaOptions = {}): Promise<MockOkta> {
  validateOptions(options);
  const index = new EventIndex();
  index.add(options.events ?? []);
  const clock = options.clock ?? systemClock;
  const limitPerWindow = options.rateLimitPerMinute ?? 120;
  const perClient = Math.max(1, Math.floor(limitPerWindow * (options.clientShare ?? 0.5)));
  const retentionDays = options.retentionDays ?? 90;
  const windowMs = options.rateLimitWindowMs ?? 60_000;
  const latencyMs = options.latencyMs ?? 0;
  const tokenLifetimeSec = options.accessTokenLifetimeSec ?? 3600;
  const boundedNext = options.boundedNext ?? 'exact';
  const oversizeBytes = options.oversizeBodyBytes ?? DEFAULT_OVERSIZE_BODY_BYTES;
  const chunkDelayMs = options.oversizeChunkDelayMs ?? 0;
  const apiToken = options.apiToken !== undefined ? Buffer.from(options.apiToken) : undefined;
  const clients = new Map<string, { keys: readonly MockPublicKey[]; client: MockOAuthClient }>();
  for (const c of options.oauthClients ?? []) {
    if (typeof c.clientId !== 'string' || c.clientId === '') throw new ConfigError('mock Okta oauthClients[].clientId must be a non-empty string');
    if (!Array.isArray(c.publicKeys) || c.publicKeys.length === 0) throw new ConfigError(`mock Okta oauth client ${c.clientId} needs at least one public key`);
    let keys: MockPublicKey[];
    try {
      keys = c.publicKeys.map(toMockPublicKey);
    } catch (cause) {
      throw new ConfigError(`mock Okta oauth client ${c.clientId}: a public key cannot be read`, { cause });
    }
    clients.set(c.clientId, { keys, client: c });
  }
  const faults: MockFaultPlan = {
    next429: 0,
    next5xx: 0,
    nextForbidden: 0,
    nextResets: 0,
    nextStalls: 0,
    nextTruncated: 0,
    nextMalformed: 0,
    nextEmptyWithNext: 0,
    nextOversize: 0,
    nextToken5xx: 0,
    foreignNextLink: false,
    ...options.faults,
  };
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
  const requireDpop = options.requireDpop === true;
  const dpopNonces = new DpopNonces(() => clock.now(), options.dpopNonceRotateMs ?? 60_000);
  const usedDpopJtis = new Set<string>();
  /** One `DPoP` header (a JWS has no comma; Node joins repeated headers with ", "), or undefined. */
  const dpopHeaderOf = (req: IncomingMessage): string | undefined => {
    const v = req.headers.dpop;
    return typeof v === 'string' && !v.includes(',') ? v : Array.isArray(v) ? '' : v === undefined ? undefined : '';
  };
  const injected: Record<MockFaultKind | 'token5xx', number> = {
    '5xx': 0,
    'query-timeout': 0,
    'bad-cursor': 0,
    reset: 0,
    stall: 0,
    truncated: 0,
    malformed: 0,
    '429': 0,
    forbidden: 0,
    'empty-next': 0,
    oversize: 0,
    token5xx: 0,
  };
  const tokens = new Map<string, IssuedToken>();
  const usedJtis = new Set<string>();
  const bucket: Bucket = { windowStart: 0, used: 0, byPrincipal: new Map() };
  let origin = '';

  const currentBucket = (): Bucket => {
    const start = Math.floor(clock.now() / windowMs) * windowMs;
    if (start !== bucket.windowStart) {
      bucket.windowStart = start;
      bucket.used = 0;
      bucket.byPrincipal.clear();
    }
    return bucket;
  };
  const rateHeaders = (): Record<string, string> => {
    const b = currentBucket();
    return {
      'X-Rate-Limit-Limit': String(limitPerWindow),
      'X-Rate-Limit-Remaining': String(Math.max(0, limitPerWindow - b.used)),
      'X-Rate-Limit-Reset': String(Math.ceil((b.windowStart + windowMs) / 1000)),
    };
  };

  const baseHeaders = (): Record<string, string> => ({
    // Okta's clock, as X-Rate-Limit-Reset is: clients compute the 429 wait from the two.
    Date: new Date(clock.now()).toUTCString(),
    // Every Okta response names its request for Okta support (okta-sdk-nodejs reads it on each retry).
    'X-Okta-Request-Id': `mock-${randomBytes(12).toString('base64url')}`,
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, no-store',
  });

  const send = (res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string | string[]> = {}): void => {
    // One UTF-8 encoding pass; writing a Buffer is also cheaper for the socket than a large string.
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, { ...baseHeaders(), 'Content-Length': String(bytes.length), ...headers });
    res.end(bytes);
  };

  /**
   * An `oversize` page: `head` (the page without its closing bracket), white space up to `total`
   * bytes, `]`; 64 KiB per write, waiting for the socket to drain (so nothing piles up in memory)
   * and `oversizeChunkDelayMs` between writes; it stops when the client closes the connection.
   */
  const sendOversize = async (res: ServerResponse, head: Buffer, total: number, declareLength: boolean, headers: Record<string, string | string[]>): Promise<void> => {
    const size = Math.max(total, head.length + 1);
    let open = true;
    const closed = once(res, 'close').then(() => {
      open = false;
    });
    res.writeHead(200, { ...baseHeaders(), ...(declareLength ? { 'Content-Length': String(size) } : {}), ...headers });
    const write = async (chunk: Buffer): Promise<boolean> => {
      if (!open || res.destroyed) return false;
      counters.oversizeBytesSent += chunk.length;
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), closed]);
      if (open && chunkDelayMs > 0) await sleep(chunkDelayMs);
      return open && !res.destroyed;
    };
    for (let at = 0; at < head.length; at += OVERSIZE_CHUNK_BYTES) {
      if (!(await write(head.subarray(at, at + OVERSIZE_CHUNK_BYTES)))) return;
    }
    for (let left = size - head.length - 1; left > 0; left -= OVERSIZE_CHUNK_BYTES) {
      if (!(await write(left >= OVERSIZE_CHUNK_BYTES ? PADDING : PADDING.subarray(0, left)))) return;
    }
    if (!(await write(CLOSE_BRACKET))) return;
    counters.oversizeBodiesCompleted++;
    res.end();
  };

  const pickFault = (info: MockRequestInfo): MockFault | undefined => {
    const hooked = options.onLogRequest?.(info);
    if (hooked !== undefined) return typeof hooked === 'string' ? { kind: hooked } : hooked;
    const wide = options.queryTimeoutWiderThanMs;
    if (wide !== undefined) {
      const since = Date.parse(info.url.searchParams.get('since') ?? '');
      const until = Date.parse(info.url.searchParams.get('until') ?? '');
      if (until - since > wide) return { kind: 'query-timeout' };
    }
    const plan: [keyof MockFaultPlan, MockFaultKind][] = [
      ['next429', '429'],
      ['next5xx', '5xx'],
      ['nextForbidden', 'forbidden'],
      ['nextResets', 'reset'],
      ['nextStalls', 'stall'],
      ['nextTruncated', 'truncated'],
      ['nextMalformed', 'malformed'],
      ['nextEmptyWithNext', 'empty-next'],
      ['nextOversize', 'oversize'],
    ];
    for (const [key, kind] of plan) {
      const left = faults[key];
      if (typeof left === 'number' && left > 0) {
        (faults[key] as number) = left - 1;
        return { kind };
      }
    }
    return undefined;
  };

  /** A DPoP-authenticated request: the token and a proof of its key, or why not (RFC 9449 section 7.1). */
  const authenticateDpop = (req: IncomingMessage, url: URL): IssuedToken | { refused: DpopProofError | 'invalid_token' } => {
    const accessToken = (req.headers.authorization ?? '').slice(5);
    const t = tokens.get(accessToken);
    if (!t || t.expiresAtMs <= clock.now() || t.jkt === undefined) return { refused: 'invalid_token' };
    try {
      verifyDpopProof(dpopHeaderOf(req), {
        method: req.method ?? 'GET',
        url: `${origin}${url.pathname}`,
        nowMs: clock.now(),
        usedJtis: usedDpopJtis,
        nonceValid: (n) => dpopNonces.valid(n),
        accessToken,
        boundJkt: t.jkt,
      });
    } catch (e) {
      if (!(e instanceof DpopProofError)) throw e;
      return { refused: e };
    }
    return t;
  };

  const authenticate = (header: string | undefined): IssuedToken | 'ssws' | undefined => {
    if (!header) return undefined;
    if (header.startsWith('SSWS ') && apiToken) {
      const given = Buffer.from(header.slice(5));
      return given.length === apiToken.length && timingSafeEqual(given, apiToken) ? 'ssws' : undefined;
    }
    if (header.startsWith('Bearer ')) {
      const t = tokens.get(header.slice(7));
      // A DPoP-bound token presented as a Bearer token is refused (RFC 9449 section 7.1).
      if (t && t.expiresAtMs > clock.now() && t.jkt === undefined) return t;
    }
    return undefined;
  };

  const serveLogs = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const receivedAt = performance.now();
    if (req.method !== 'GET') {
      send(res, 405, oktaError('E0000022', 'The endpoint does not support the provided HTTP method'), { Allow: 'GET' });
      return;
    }
    const n = ++counters.logRequests;
    let who: IssuedToken | 'ssws' | undefined;
    const dpopHeaders: Record<string, string> = {};
    if ((req.headers.authorization ?? '').startsWith('DPoP ')) {
      const got = authenticateDpop(req, url);
      dpopHeaders['DPoP-Nonce'] = dpopNonces.current();
      if ('refused' in got) {
        counters.unauthorized++;
        const r = got.refused;
        const error = r === 'invalid_token' ? 'invalid_token' : r.error;
        if (error === 'use_dpop_nonce') counters.dpopNonceChallenges++;
        else if (error === 'invalid_dpop_proof') counters.dpopProofsRefused++;
        const description = r === 'invalid_token' ? 'The access token is invalid.' : error === 'use_dpop_nonce' ? 'Resource server requires nonce in DPoP proof.' : r.message;
        send(res, 401, oktaError('E0000011', 'Invalid token provided'), {
          ...rateHeaders(),
          ...dpopHeaders,
          'WWW-Authenticate': `DPoP error="${error}", error_description="${description.replace(/"/g, "'")}", algs="ES256 ES384 RS256"`,
        });
        return;
      }
      who = got;
      counters.dpopRequestsAccepted++;
    } else {
      who = authenticate(req.headers.authorization);
    }
    if (!who) {
      counters.unauthorized++;
      send(res, 401, oktaError('E0000011', 'Invalid token provided'), rateHeaders());
      return;
    }
    if (who !== 'ssws' && !who.scopes.includes('okta.logs.read')) {
      send(res, 403, oktaError('E0000006', 'You do not have permission to perform the requested action'), rateHeaders());
      return;
    }
    const b = currentBucket();
    const principal = who === 'ssws' ? 'ssws' : `oauth:${who.clientId}`;
    const mine = b.byPrincipal.get(principal) ?? 0;
    if (b.used >= limitPerWindow || mine >= perClient) {
      counters.rateLimited++;
      send(res, 429, oktaError('E0000047', 'API call exceeded rate limit due to too many requests.'), rateHeaders());
      return;
    }
    b.used++;
    b.byPrincipal.set(principal, mine + 1);
    const fault = pickFault({ n, url });
    if (fault) injected[fault.kind]++;
    switch (fault?.kind) {
      case '429':
        counters.rateLimited++;
        send(res, 429, oktaError('E0000047', 'API call exceeded rate limit due to too many requests.'), fault.omitRateLimitHeaders ? {} : rateHeaders());
        return;
      case '5xx': {
        const status = fault.status ?? 500;
        send(
          res,
          status,
          oktaError('E0000053', "Sorry, there's been an error. We aren't sure what caused it, but we've logged this and will work to address it. Please try your request again."),
          rateHeaders(),
        );
        return;
      }
      case 'bad-cursor':
        counters.badRequests++;
        send(res, 400, oktaError('E0000001', 'Api validation failed: after', ['after: The after cursor is not valid.']), rateHeaders());
        return;
      case 'query-timeout':
        send(
          res,
          500,
          oktaError(
            'E0000009',
            "Your last request took too long to complete. This is likely due to a load issue on our side. We've logged this and will work to address it. Please either simplify your query or wait a few minutes and try again.",
          ),
          rateHeaders(),
        );
        return;
      case 'forbidden':
        send(res, 403, oktaError('E0000006', 'You do not have permission to perform the requested action'), rateHeaders());
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'stall':
        // Hold the request: the client's timeout closes the connection, or stop() does.
        return;
      default:
        break;
    }

    let page: { body: Buffer; links: string[]; count: number };
    try {
      page = buildPage(url);
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
    let body: string | Buffer = page.body;
    let links = page.links;
    let count = page.count;
    if (fault?.kind === 'empty-next') {
      const self = `${origin}${url.pathname}${url.search}`;
      body = '[]';
      count = 0;
      links = [`<${self}>; rel="self"`, `<${self}>; rel="next"`];
    } else if (fault?.kind === 'truncated') {
      let text = body.toString('utf8');
      text = text.slice(0, Math.floor(text.length / 2));
      while (text.endsWith(']')) text = text.slice(0, -1);
      body = text;
    } else if (fault?.kind === 'malformed') {
      body = `${body.toString('utf8').slice(0, -1)},]`;
    }
    counters.pagesServed++;
    counters.eventsServed += count;
    if (fault?.kind === 'oversize') {
      await sendOversize(res, page.body.subarray(0, -1), fault.bytes ?? oversizeBytes, fault.declareLength === true, { ...rateHeaders(), Link: links });
      return;
    }
    send(res, 200, body, { ...rateHeaders(), ...dpopHeaders, Link: links });
  };

  // Each event's UTF-8 bytes, encoded once: a page is then one copy of its events' bytes. Joining
  // and encoding a whole page per request took time that a page answered a fixed delay after its
  // request had to spend after the wait (the encoding), so the mock answered late.
  const encoded = new WeakMap<MockEvent, Buffer>();
  const bytesOf = (e: MockEvent): Buffer => {
    let b = encoded.get(e);
    if (b === undefined) {
      b = Buffer.from(e.text, 'utf8');
      encoded.set(e, b);
    }
    return b;
  };
  const pageBytes = (events: readonly MockEvent[]): Buffer => {
    const parts: Buffer[] = [OPEN_BRACKET];
    events.forEach((e, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(bytesOf(e));
    });
    parts.push(CLOSE_BRACKET);
    return Buffer.concat(parts);
  };

  const buildPage = (url: URL): { body: Buffer; links: string[]; count: number } => {
    const q = url.searchParams;
    for (const p of ['filter', 'q']) {
      if (q.has(p)) throw new BadRequest('E0000001', `Api validation failed: ${p}`, [`${p}: not supported by the mock Okta server`]);
    }
    const now = clock.now();
    const untilText = q.get('until');
    const sinceText = q.get('since');
    const untilMs = untilText !== null ? parseInstant('until', untilText) : undefined;
    let sinceMs = sinceText !== null ? parseInstant('since', sinceText) : (untilMs ?? now) - 7 * DAY_MS;
    if (untilMs !== undefined && sinceMs > untilMs) {
      throw new BadRequest('E0000001', 'Api validation failed: since', ['since: The since parameter must be earlier than or equal to until.']);
    }
    if (sinceText !== null && sinceMs < now - 180 * DAY_MS) {
      throw new BadRequest('E0000053', "Invalid date. 'since' must be later than 180 days ago.", [`since: ${sinceText} is more than 180 days ago`]);
    }
    const sortOrder = q.get('sortOrder');
    if (sortOrder !== null && sortOrder !== 'ASCENDING') {
      const why = sortOrder === 'DESCENDING' ? 'DESCENDING is not supported by the mock Okta server' : 'sortOrder must be ASCENDING or DESCENDING';
      throw new BadRequest('E0000001', 'Api validation failed: sortOrder', [`sortOrder: ${why}`]);
    }
    const limitText = q.get('limit');
    let limit = 100;
    if (limitText !== null) {
      if (!/^\d{1,4}$/.test(limitText) || Number(limitText) > 1000) {
        throw new BadRequest('E0000001', 'Api validation failed: limit', ['limit: The limit must be an integer between 0 and 1000.']);
      }
      limit = Number(limitText);
    }
    const afterText = q.get('after');
    const after = afterText !== null ? decodeCursor(afterText) : undefined;
    sinceMs = Math.max(sinceMs, now - retentionDays * DAY_MS);

    const { events, more } = index.page({ sinceMs, untilMs, after, limit, nowMs: now });
    const body = pageBytes(events);
    const self = `${origin}${url.pathname}${url.search}`;
    const links = [`<${self}>; rel="self"`];
    const hasNext = untilMs === undefined ? true : boundedNext === 'exact' ? more : limit > 0 && events.length === limit;
    if (hasNext) {
      const last = events.length > 0 ? events[events.length - 1] : after;
      const next = new URLSearchParams();
      for (const p of ['since', 'until', 'limit', 'sortOrder']) {
        const v = q.get(p);
        if (v !== null) next.set(p, v);
      }
      if (last) next.set('after', encodeCursor(last));
      const linkOrigin = faults.foreignNextLink === true ? DEFAULT_FOREIGN_ORIGIN : faults.foreignNextLink ? new URL(faults.foreignNextLink).origin : origin;
      links.push(`<${linkOrigin}${MOCK_LOGS_PATH}?${next.toString()}>; rel="next"`);
    }
    return { body, links, count: events.length };
  };

  const tokenError = (res: ServerResponse, status: number, error: string, description: string, headers: Record<string, string> = {}): void => {
    if (status === 401) counters.unauthorized++;
    send(res, status, JSON.stringify({ error, error_description: description }), headers);
  };
  /** The client a client assertion names (its `iss`), before it is verified: to know whether it requires DPoP. */
  const claimedClient = (assertion: string): MockOAuthClient | undefined => {
    try {
      const iss = (JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
      return typeof iss === 'string' ? clients.get(iss)?.client : undefined;
    } catch {
      return undefined;
    }
  };

  const serveToken = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    counters.tokenRequests++;
    if (req.method !== 'POST') {
      send(res, 405, oktaError('E0000022', 'The endpoint does not support the provided HTTP method'), { Allow: 'POST' });
      return;
    }
    const body = await readBody(req, 64 * 1024);
    if (faults.nextToken5xx > 0) {
      faults.nextToken5xx--;
      injected.token5xx++;
      send(res, 503, oktaError('E0000009', 'Internal Server Error'));
      return;
    }
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      tokenError(res, 400, 'invalid_request', 'The request must be application/x-www-form-urlencoded.');
      return;
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      tokenError(res, 400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
      return;
    }
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE || !form.get('client_assertion')) {
      tokenError(res, 401, 'invalid_client', 'Client authentication failed: a private_key_jwt client_assertion is required.');
      return;
    }
    // DPoP first (RFC 9449 section 5), as Okta answers a missing proof whatever the assertion.
    const proof = dpopHeaderOf(req);
    const claimed = claimedClient(form.get('client_assertion') ?? '');
    let jkt: string | undefined;
    if (proof !== undefined || (claimed?.requireDpop ?? requireDpop)) {
      const nonceHeader = { 'DPoP-Nonce': dpopNonces.current() };
      try {
        jkt = verifyDpopProof(proof, {
          method: 'POST',
          url: `${origin}${MOCK_TOKEN_PATH}`,
          nowMs: clock.now(),
          usedJtis: usedDpopJtis,
          nonceValid: (n) => dpopNonces.valid(n),
        });
      } catch (e) {
        if (!(e instanceof DpopProofError)) throw e;
        if (e.error === 'use_dpop_nonce') {
          counters.dpopNonceChallenges++;
          tokenError(res, 400, 'use_dpop_nonce', 'Authorization server requires nonce in DPoP proof.', nonceHeader);
        } else {
          counters.dpopProofsRefused++;
          // No nonce with this answer: the first proof then meets use_dpop_nonce, as on Okta.
          tokenError(res, 400, 'invalid_dpop_proof', e.message);
        }
        return;
      }
    }
    let client: MockOAuthClient;
    try {
      client = verifyClientAssertion(form.get('client_assertion') ?? '', {
        clients,
        audience: `${origin}${MOCK_TOKEN_PATH}`,
        nowMs: clock.now(),
        usedJtis,
      });
    } catch (e) {
      if (!(e instanceof AssertionError)) throw e;
      tokenError(res, 401, 'invalid_client', e.message);
      return;
    }
    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (requested.length === 0) {
      tokenError(res, 400, 'invalid_scope', "The authorization server resource does not have any configured default scopes, 'scope' must be provided.");
      return;
    }
    const granted = client.grantedScopes ?? ['okta.logs.read'];
    const refused = requested.filter((s) => !granted.includes(s));
    if (refused.length > 0) {
      tokenError(res, 400, 'invalid_scope', `The following scopes are not allowed: ${refused.join(' ')}`);
      return;
    }
    const accessToken = randomBytes(32).toString('base64url');
    tokens.set(accessToken, { expiresAtMs: clock.now() + tokenLifetimeSec * 1000, scopes: requested, clientId: client.clientId, ...(jkt ? { jkt } : {}) });
    counters.tokensIssued++;
    if (jkt) counters.dpopTokensIssued++;
    const tokenType = jkt ? 'DPoP' : 'Bearer';
    send(res, 200, JSON.stringify({ token_type: tokenType, expires_in: tokenLifetimeSec, access_token: accessToken, scope: requested.join(' ') }), {
      Pragma: 'no-cache',
      ...(jkt ? { 'DPoP-Nonce': dpopNonces.current() } : {}),
    });
  };

  const server: Server = createServer((req, res) => {
    counters.requests++;
    const url = new URL(req.url ?? '/', origin);
    const handle =
      url.pathname === MOCK_LOGS_PATH
        ? serveLogs(req, res, url)
        : url.pathname === MOCK_TOKEN_PATH
          ? serveToken(req, res)
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
      tokens.clear();
    },
    rotateDpopNonces(): void {
      dpopNonces.rotate();
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
