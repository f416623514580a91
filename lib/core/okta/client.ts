/**
 * The Okta System Log client: fetches pages of `GET /api/v1/logs`, follows only links to the
 * configured org, paces itself to a share of the org's rate limit (`rate-limit.ts`), and retries what
 * can be retried (`retry-policy.ts`).
 */
import { ConfigError } from '../errors';
import { silentReporter, systemClock, type Clock, type LogPage, type LogPageSource, type Reporter } from '../ports';
import {
  ForeignLinkError,
  OAuthTokenError,
  OktaAuthError,
  OktaBadRequestError,
  OktaHttpError,
  OktaQueryTimeoutError,
  OktaRequestError,
  OktaResponseTooLargeError,
  oktaRequestId,
  withRequestId,
} from './errors';
import { describeBytes, readCappedBody, type CappedBody } from './body';
import { credentialKind, credentialRefusalHint, type CredentialProvider } from './credentials';
import { findLink, parseLinkHeader } from './link';
import type { OktaOrg } from './org';
import { RateLimitPacer, type RateLimitState } from './rate-limit';
import { RETRY_CAUSES, RetryPolicy, type RetryCause } from './retry-policy';
import { abortableSleep } from './wait';

export { MAX_RESET_WAIT_MS } from './rate-limit';
export { RETRY_CAUSES, type RetryCause } from './retry-policy';

export const LOGS_PATH = '/api/v1/logs';

/**
 * Default cap on a System Log page body (`maxPageBytes`): 32 MiB. A page holds at most 1,000 events
 * (`limit` 0..1000: developer.okta.com/docs/reference/api/system-log), a few MB (bytes per event:
 * bench/results.md), so this is an order of magnitude above a normal page (room
 * for events averaging 33 KiB), while the pages in memory at once (the page being written and up to
 * two fetched ahead by the page chain) stay under about 100 MiB of body text however large a body
 * Okta or a proxy sends.
 */
export const DEFAULT_MAX_PAGE_BYTES = 32 * 1024 * 1024;
/**
 * What the client reads of a body that is not a page (a 4xx/5xx, a redirect): 64 KiB. Okta's error
 * JSON has five short fields, `errorCode`, `errorSummary`, `errorLink`, `errorId` and an optional
 * `errorCauses` list (okta/okta-developer-docs `docs/reference/error-codes/index.md`: "All errors
 * contain the follow fields"), well under 1 KiB; past the cap the rest is not read (the request is
 * aborted) and the status alone decides what happens.
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface OktaClientStats {
  /** Requests sent to `/api/v1/logs` (token requests are not counted). */
  readonly requests: number;
  readonly retries: Readonly<Record<RetryCause, number>>;
  /** Time spent waiting for rate-limit resets (pacing and 429s), in ms. */
  readonly rateLimitWaitMs: number;
}

export interface OktaLogClientOptions {
  readonly org: OktaOrg;
  readonly credentials: CredentialProvider;
  /** @default global fetch (undici) */
  readonly fetch?: typeof fetch;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Receives rate-limit waits and retries; never a credential. @default silentReporter */
  readonly reporter?: Reporter;
  /**
   * The share (0 < share <= 1) of the org's `/api/v1/logs` rate limit this client may use. When the
   * remaining requests of the current window fall to `limit * (1 - share)` or below, the client waits
   * for the window's reset before the next request, leaving the rest for other integrations.
   * @default 0.5 (Okta's default per-token/app share)
   */
  readonly rateLimitShare?: number;
  /**
   * Attempts per page before giving up with {@link OktaRequestError}. Every failed attempt counts 1,
   * except an HTTP 429, which counts 1/2: rate limiting is expected and waiting for the reset fixes it,
   * so with the default of 8 the client waits through up to 15 consecutive 429s. The OAuth retry after
   * a 401 (new access token) is an attempt too, so it needs `maxAttempts` of 2 or more.
   * @default 8
   */
  readonly maxAttempts?: number;
  /** Timeout of one request, response body included. @default 60_000 */
  readonly requestTimeoutMs?: number;
  /** Base of the capped exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^n)). @default 500 */
  readonly backoffBaseMs?: number;
  /** @default 30_000 */
  readonly backoffCapMs?: number;
  /** Random extra wait added after a rate-limit reset, in [0, rateLimitJitterMs). @default 1_000 */
  readonly rateLimitJitterMs?: number;
  /** Uniform random numbers in [0, 1), for jitter. @default Math.random */
  readonly random?: () => number;
  /** @default 'okta-lake' */
  readonly userAgent?: string;
  /** `limit` of bounded queries (1..1000). @default 1000 */
  readonly pageSize?: number;
  /**
   * Cap on the body of one page (HTTP 200 of `/api/v1/logs`), in bytes, from 1 KiB to 1 GiB. The body
   * is read as a stream; once it passes the cap (or declares a larger `Content-Length`) the client
   * stops reading, aborts the request and fails the attempt with {@link OktaResponseTooLargeError},
   * which is retried (cause `response-too-large`).
   * @default DEFAULT_MAX_PAGE_BYTES (32 MiB)
   */
  readonly maxPageBytes?: number;
}

/** One failed attempt that may be retried. */
interface Failure {
  readonly cause: RetryCause;
  readonly error: unknown;
  readonly description: string;
  readonly status?: number;
  /** Wait before retrying, when the failure dictates it (429 with a reset time). */
  readonly waitMs?: number;
  /** `X-Okta-Request-Id` of the answer, when Okta answered with one. */
  readonly requestId?: string;
}

type AttemptResult = { readonly ok: true; readonly page: LogPage } | { readonly ok: false; readonly failure: Failure };

function positiveNumber(name: string, value: number | undefined, fallback: number, opts: { integer?: boolean; min?: number; max?: number } = {}): number {
  if (value === undefined) return fallback;
  const min = opts.min ?? 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || (opts.integer && !Number.isInteger(value)) || value < min || (opts.max !== undefined && value > opts.max)) {
    const kind = opts.integer ? 'an integer' : 'a number';
    const range = opts.max !== undefined ? `from ${min} to ${opts.max}` : `of at least ${min}`;
    throw new ConfigError(`OktaLogClient option ${name} must be ${kind} ${range}`);
  }
  return value;
}

function isJsonArrayText(body: string): boolean {
  let s = 0;
  let e = body.length - 1;
  while (s <= e && /\s/.test(body[s])) s++;
  while (e >= s && /\s/.test(body[e])) e--;
  return e > s && body[s] === '[' && body[e] === ']';
}

/** Okta's error JSON (`{errorCode, errorSummary, errorCauses:[{errorSummary}]}`), when the body is one. */
function oktaErrorOf(text: string): { errorCode?: string; errorSummary?: string; errorCauses: string[] } {
  try {
    const j: unknown = JSON.parse(text);
    if (typeof j !== 'object' || j === null) return { errorCauses: [] };
    const o = j as Record<string, unknown>;
    const causes = Array.isArray(o.errorCauses)
      ? o.errorCauses.flatMap((c: unknown) =>
          typeof c === 'object' && c !== null && typeof (c as Record<string, unknown>).errorSummary === 'string'
            ? [String((c as Record<string, unknown>).errorSummary)]
            : [],
        )
      : [];
    return {
      errorCode: typeof o.errorCode === 'string' ? o.errorCode : undefined,
      errorSummary: typeof o.errorSummary === 'string' ? o.errorSummary : undefined,
      errorCauses: causes,
    };
  } catch {
    return { errorCauses: [] };
  }
}

function describeOktaError(status: number, e: { errorCode?: string; errorSummary?: string }): string {
  const parts = [`HTTP ${status}`];
  if (e.errorCode) parts.push(e.errorCode);
  return e.errorSummary ? `${parts.join(' ')}: ${e.errorSummary}` : parts.join(' ');
}

/**
 * Reads the Okta System Log. Implements {@link LogPageSource}.
 *
 * Safety: `fetchPage` refuses (before sending anything, so the credential never leaves for another
 * host) any URL whose origin is not the org's or whose path is not `/api/v1/logs`, and refuses a
 * `rel="next"` link to another origin. Redirects are not followed.
 *
 * Retries: 5xx, network errors, timeouts and incomplete 200 bodies are retried with capped exponential
 * backoff and full jitter; 429 waits for `X-Rate-Limit-Reset` measured from the response's `Date`
 * (plus jitter); 401/403 fail at once with {@link OktaAuthError} (with OAuth, a 401 first drops the
 * access token and retries once); 400 fails with {@link OktaBadRequestError}; HTTP 500 `E0000009` (the
 * query took too long) fails at once with {@link OktaQueryTimeoutError}, as the same query would.
 * Every error and retry line names the response's `X-Okta-Request-Id`.
 *
 * Bounded input: a page body is read as a stream up to `maxPageBytes` (default 32 MiB); a longer one
 * is abandoned at the cap (the request aborted) and retried as {@link OktaResponseTooLargeError}.
 * Other bodies are read up to {@link MAX_ERROR_BODY_BYTES}.
 */
export class OktaLogClient implements LogPageSource {
  readonly org: OktaOrg;
  readonly #credentials: CredentialProvider;
  readonly #fetch: typeof fetch;
  readonly #clock: Clock;
  readonly #reporter: Reporter;
  readonly #pacer: RateLimitPacer;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #pageSize: number;
  readonly #maxPageBytes: number;
  #requests = 0;
  #rateLimitWaitMs = 0;
  readonly #retries: Record<RetryCause, number> = Object.fromEntries(RETRY_CAUSES.map((c) => [c, 0])) as Record<RetryCause, number>;

  constructor(options: OktaLogClientOptions) {
    if (!options || typeof options !== 'object') throw new ConfigError('OktaLogClient options are missing');
    const { org, credentials } = options;
    if (!org || typeof org.origin !== 'string' || typeof org.host !== 'string') {
      throw new ConfigError('OktaLogClient option org is missing: build it with parseOrg()');
    }
    if (!credentials || typeof credentials.authorization !== 'function' || typeof credentials.invalidate !== 'function') {
      throw new ConfigError('OktaLogClient option credentials is missing: use SswsToken, OAuthServiceApp or credentialsFromSecret()');
    }
    const share = options.rateLimitShare ?? 0.5;
    if (typeof share !== 'number' || !(share > 0 && share <= 1)) {
      throw new ConfigError('OktaLogClient option rateLimitShare must be a number greater than 0 and at most 1');
    }
    this.org = org;
    this.#credentials = credentials;
    const maxAttempts = positiveNumber('maxAttempts', options.maxAttempts, 8, { integer: true, min: 1, max: 100 });
    this.#timeoutMs = positiveNumber('requestTimeoutMs', options.requestTimeoutMs, 60_000, { min: 1, max: 600_000 });
    const backoffBaseMs = positiveNumber('backoffBaseMs', options.backoffBaseMs, 500, { min: 0 });
    const backoffCapMs = positiveNumber('backoffCapMs', options.backoffCapMs, 30_000, { min: 0 });
    if (backoffCapMs < backoffBaseMs) throw new ConfigError('OktaLogClient option backoffCapMs must not be below backoffBaseMs');
    const jitterMs = positiveNumber('rateLimitJitterMs', options.rateLimitJitterMs, 1_000, { min: 0, max: 60_000 });
    this.#pageSize = positiveNumber('pageSize', options.pageSize, 1000, { integer: true, min: 1, max: 1000 });
    this.#maxPageBytes = positiveNumber('maxPageBytes', options.maxPageBytes, DEFAULT_MAX_PAGE_BYTES, { integer: true, min: 1024, max: 1024 ** 3 });
    if (options.random !== undefined && typeof options.random !== 'function') throw new ConfigError('OktaLogClient option random must be a function');
    const random = options.random ?? Math.random;
    const ua = options.userAgent ?? 'okta-lake';
    if (typeof ua !== 'string' || !/^[\x20-\x7e]+$/.test(ua)) throw new ConfigError('OktaLogClient option userAgent must be printable ASCII');
    this.#userAgent = ua;
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new ConfigError('OktaLogClient option fetch must be a function');
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#clock = options.clock ?? systemClock;
    this.#reporter = options.reporter ?? silentReporter;
    this.#pacer = new RateLimitPacer({ share, jitterMs, random, clock: this.#clock });
    this.#retry = new RetryPolicy({ maxAttempts, backoffBaseMs, backoffCapMs, random });
  }

  /** A snapshot of the counters. */
  get stats(): OktaClientStats {
    return { requests: this.#requests, retries: { ...this.#retries }, rateLimitWaitMs: this.#rateLimitWaitMs };
  }

  boundedQueryUrl(since: string, until: string): string {
    const s = Date.parse(since);
    const u = Date.parse(until);
    if (Number.isNaN(s) || Number.isNaN(u)) throw new RangeError('boundedQueryUrl: since and until must be ISO-8601 instants');
    if (!(s < u)) throw new RangeError('boundedQueryUrl: since must be before until');
    const q = new URLSearchParams({
      since: new Date(s).toISOString(),
      until: new Date(u).toISOString(),
      sortOrder: 'ASCENDING',
      limit: String(this.#pageSize),
    });
    return `${this.org.origin}${LOGS_PATH}?${q.toString()}`;
  }

  async fetchPage(url: string, signal?: AbortSignal, onNextLink?: (nextUrl: string) => void): Promise<LogPage> {
    const target = this.#checkUrl(url, 'page URL');
    let announced = false;
    // The next link is announced once, from the first 200 response whose headers name an allowed one.
    const announce = (headers: Headers, pageUrl: string): void => {
      if (announced || !onNextLink) return;
      const link = findLink(parseLinkHeader(headers.get('link'), pageUrl), 'next');
      if (link === undefined) return;
      let next: string;
      try {
        next = this.#checkUrl(link, 'rel="next" link');
      } catch {
        return; // refused when the page completes, with the named error
      }
      announced = true;
      onNextLink(next);
    };
    const budget = this.#retry.start();
    let attempts = 0;
    let authRetried = false;
    for (;;) {
      signal?.throwIfAborted();
      await this.#pace(signal);
      attempts++;
      const result = await this.#attempt(target, attempts, signal, announce);
      if (result.ok) return result.page;
      const failure = result.failure;
      if (failure.cause === 'unauthorized') {
        if (authRetried) throw this.#authError(failure.status ?? 401, failure.error, true);
        authRetried = true;
        this.#credentials.invalidate();
      }
      if (budget.spend(failure.cause)) {
        if (failure.cause === 'unauthorized') throw this.#authError(failure.status ?? 401, failure.error, false);
        throw new OktaRequestError(`GET ${target} failed after ${attempts} attempt(s) (last: ${failure.description})`, {
          cause: failure.error,
          url: target,
          status: failure.status,
          attempts,
          requestId: failure.requestId,
        });
      }
      let waitMs = failure.waitMs;
      if (waitMs === undefined) {
        waitMs = failure.cause === 'unauthorized' ? 0 : budget.backoffMs();
      }
      this.#retries[failure.cause]++;
      this.#reporter.warn('Okta request retry', {
        cause: failure.cause,
        detail: failure.description,
        attempt: attempts,
        delayMs: waitMs,
        url: target,
        ...(failure.requestId ? { requestId: failure.requestId } : {}),
      });
      if (failure.cause === 'rate-limited') await this.#rateLimitWait(waitMs, '429', signal, undefined, failure.requestId);
      else await this.#sleep(waitMs, signal);
    }
  }

  /** Refuses anything but an absolute URL on the org's origin with path `/api/v1/logs`. */
  #checkUrl(url: string, what: string): string {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new ForeignLinkError(`Refusing ${what}: not an absolute URL`, { cause });
    }
    if (parsed.origin !== this.org.origin) {
      throw new ForeignLinkError(`Refusing ${what} on ${parsed.origin}: only ${this.org.origin} (the configured Okta org) is allowed`, {
        origin: parsed.origin,
      });
    }
    if (parsed.username !== '' || parsed.password !== '') {
      throw new ForeignLinkError(`Refusing ${what} with user info in it`, { origin: parsed.origin });
    }
    if (parsed.pathname !== LOGS_PATH) {
      throw new ForeignLinkError(`Refusing ${what} with path ${JSON.stringify(parsed.pathname.slice(0, 200))}: only ${LOGS_PATH} is allowed`, {
        origin: parsed.origin,
      });
    }
    parsed.hash = '';
    return parsed.toString();
  }

  #authError(status: number, cause: unknown, afterNewToken: boolean): OktaAuthError {
    const detail = cause instanceof Error ? cause.message : `HTTP ${status}`;
    const errorCode = cause instanceof OktaAuthError ? cause.errorCode : undefined;
    const requestId = cause instanceof OktaAuthError ? cause.requestId : undefined;
    const hint = credentialRefusalHint(this.#credentials.kind, status === 403 ? 403 : 401, afterNewToken);
    return new OktaAuthError(`Okta refused the credential (${detail}). ${hint}`, { cause, status, errorCode, requestId });
  }

  async #attempt(url: string, attempt: number, signal?: AbortSignal, onHeaders?: (headers: Headers, url: string) => void): Promise<AttemptResult> {
    // The authentication headers (a token request when none is cached), before the request's timeout starts.
    const authenticate = async (): Promise<{ headers: Record<string, string> } | { failed: AttemptResult }> => {
      try {
        const headers = this.#credentials.requestHeaders
          ? await this.#credentials.requestHeaders('GET', url, signal)
          : { Authorization: await this.#credentials.authorization(signal) };
        return { headers };
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof OAuthTokenError && error.retryable) {
          return { failed: { ok: false, failure: { cause: 'token-endpoint', error, description: error.message, status: error.status } } };
        }
        throw error;
      }
    };
    let auth = await authenticate();
    if ('failed' in auth) return auth.failed;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    // Aborted when a body passes its cap: the connection is closed instead of draining the rest.
    const overLimit = new AbortController();
    const combined = AbortSignal.any(signal ? [signal, timeout, overLimit.signal] : [timeout, overLimit.signal]);
    const transportFailure = (error: unknown, stage: string, requestId?: string): AttemptResult => {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        return { ok: false, failure: { cause: 'timeout', error, description: withRequestId(`no complete answer within ${this.#timeoutMs} ms`, requestId), requestId } };
      }
      const inner = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      const msg = error instanceof Error ? error.message : String(error);
      return { ok: false, failure: { cause: 'network', error, description: withRequestId(`${stage} failed: ${msg}${inner}`, requestId), requestId } };
    };

    let res: Response;
    // A DPoP nonce challenge (HTTP 401, `WWW-Authenticate: DPoP error="use_dpop_nonce"`) is answered
    // once, at once, with a proof carrying the new nonce (RFC 9449 section 9): part of this attempt.
    for (let nonceRetried = false; ; nonceRetried = true) {
      if (nonceRetried) {
        auth = await authenticate();
        if ('failed' in auth) return auth.failed;
      }
      this.#requests++;
      try {
        res = await this.#fetch(url, {
          method: 'GET',
          headers: { Accept: 'application/json', ...auth.headers, 'User-Agent': this.#userAgent },
          redirect: 'manual',
          signal: combined,
        });
      } catch (error) {
        return transportFailure(error, 'request');
      }
      const challenged = this.#credentials.observeResponse?.(url, res.status, res.headers) === true;
      if (!challenged || nonceRetried) break;
      this.#pacer.note(res.headers, oktaRequestId(res.headers));
      await res.body?.cancel().catch(() => undefined);
    }
    const requestId = oktaRequestId(res.headers);
    this.#pacer.note(res.headers, requestId);
    const described = (status: number, e: { errorCode?: string; errorSummary?: string }): string => withRequestId(describeOktaError(status, e), requestId);
    if (res.status === 200) onHeaders?.(res.headers, url);
    const cap = res.status === 200 ? this.#maxPageBytes : MAX_ERROR_BODY_BYTES;
    let read: CappedBody;
    try {
      read = await readCappedBody(res, cap, () => overLimit.abort());
    } catch (error) {
      return transportFailure(error, 'reading the response', requestId);
    }
    const status = res.status;
    if (status === 200 && !read.complete) {
      const what =
        read.declaredBytes !== undefined
          ? `declaring Content-Length ${read.declaredBytes}, over maxPageBytes = ${describeBytes(cap)}: not read`
          : `with a body over maxPageBytes = ${describeBytes(cap)}: stopped reading after ${read.bytes} bytes`;
      const description = withRequestId(`HTTP 200 ${what}`, requestId);
      const error = new OktaResponseTooLargeError(`GET ${url} answered ${description}`, {
        url,
        status,
        maxBytes: cap,
        bytesRead: read.bytes,
        declaredBytes: read.declaredBytes,
        requestId,
      });
      return { ok: false, failure: { cause: 'response-too-large', error, status, description, requestId } };
    }
    // Past MAX_ERROR_BODY_BYTES an error body is cut: only its start is read (the status decides).
    const body = read.text;

    if (status === 200) {
      const ct = res.headers.get('content-type') ?? '';
      if (!/json/i.test(ct) || !isJsonArrayText(body)) {
        const what = /json/i.test(ct) ? 'an incomplete JSON array' : `content type ${JSON.stringify(ct.slice(0, 100))}`;
        const description = withRequestId(`HTTP 200 with ${what} (${body.length} chars)`, requestId);
        return { ok: false, failure: { cause: 'incomplete-body', error: new OktaHttpError(description, { status, requestId }), status, description, requestId } };
      }
      return { ok: true, page: this.#page(url, body, res.headers) };
    }
    if (status === 429) {
      const waitMs = this.#pacer.waitAfter429(res.headers);
      const e = oktaErrorOf(body);
      const description = described(status, e);
      return {
        ok: false,
        failure: { cause: 'rate-limited', error: new OktaHttpError(description, { status, errorCode: e.errorCode, requestId }), status, waitMs, description, requestId },
      };
    }
    if (status === 500 && oktaErrorOf(body).errorCode === 'E0000009') {
      // The query took too long on Okta's side: the same query would again (see OktaQueryTimeoutError).
      const description = described(status, oktaErrorOf(body));
      throw new OktaQueryTimeoutError(`Okta's query GET ${url} took too long (${description}): narrow it`, {
        cause: new OktaHttpError(description, { status, errorCode: 'E0000009', requestId }),
        url,
        status,
        attempts: attempt,
        requestId,
      });
    }
    if (status >= 500) {
      const e = oktaErrorOf(body);
      const description = described(status, e);
      return {
        ok: false,
        failure: { cause: 'server-error', error: new OktaHttpError(description, { status, errorCode: e.errorCode, requestId }), status, description, requestId },
      };
    }
    const e = oktaErrorOf(body);
    if (status === 401 || status === 403) {
      const err = new OktaAuthError(described(status, e), { status, errorCode: e.errorCode, requestId });
      if (status === 401 && credentialKind(this.#credentials.kind)?.renewsOnUnauthorized === true) {
        return { ok: false, failure: { cause: 'unauthorized', error: err, status, description: err.message, requestId } };
      }
      throw this.#authError(status, err, false);
    }
    if (status === 400) {
      const causes = e.errorCauses.length > 0 ? ` (${e.errorCauses.join('; ')})` : '';
      throw new OktaBadRequestError(withRequestId(`Okta rejected GET ${url}: ${describeOktaError(status, e)}${causes}`, requestId), {
        status,
        url,
        requestId,
        errorCode: e.errorCode,
        errorSummary: e.errorSummary,
        errorCauses: e.errorCauses,
      });
    }
    if (status >= 300 && status < 400) {
      let where = 'elsewhere';
      const location = res.headers.get('location');
      if (location) {
        try {
          where = `to ${new URL(location, url).origin}`;
        } catch {
          where = 'to an invalid location';
        }
      }
      throw new OktaRequestError(withRequestId(`GET ${url} answered HTTP ${status}, a redirect ${where}; redirects are not followed (check the org URL)`, requestId), {
        url,
        status,
        attempts: attempt,
        requestId,
      });
    }
    const hint = status === 404 ? ' (check the org URL)' : '';
    throw new OktaRequestError(withRequestId(`GET ${url} failed: ${describeOktaError(status, e)}${hint}`, requestId), { url, status, attempts: attempt, requestId });
  }

  #page(url: string, body: string, headers: Headers): LogPage {
    const links = parseLinkHeader(headers.get('link'), url);
    let next = findLink(links, 'next');
    if (next !== undefined) next = this.#checkUrl(next, 'rel="next" link');
    // An empty page that carries `next` is not the last one, bounded or polling: Okta promises only
    // that the last page of a bounded query has no next link (developer.okta.com/docs/reference/
    // system-log-query, "Bounded requests"), so the link is passed on for the caller to follow.
    return next === undefined ? { url, body } : { url, body, nextUrl: next };
  }

  async #pace(signal?: AbortSignal): Promise<void> {
    const wait = this.#pacer.beforeRequest();
    if (wait) await this.#rateLimitWait(wait.ms, 'pacing', signal, wait.state, wait.state.requestId);
  }

  async #rateLimitWait(ms: number, reason: 'pacing' | '429', signal?: AbortSignal, rl?: RateLimitState, requestId?: string): Promise<void> {
    this.#reporter.info('rate-limit wait', {
      ms,
      reason,
      ...(rl ? { limit: rl.limit, remaining: rl.remaining, share: this.#pacer.share } : {}),
      ...(requestId ? { requestId } : {}),
    });
    this.#rateLimitWaitMs += ms;
    await this.#sleep(ms, signal);
  }

  #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableSleep(this.#clock, ms, signal);
  }
}
