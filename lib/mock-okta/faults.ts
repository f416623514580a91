/**
 * The faults the mock injects into `/api/v1/logs` requests: their kinds, the live plan of counters,
 * the picker that chooses one fault per request (the hook, then the wide-query rule, then the plan
 * in a fixed order), the answers of the faults that replace the page, and the page bodies of those
 * that change it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { oktaError, type Headers } from './http';
import { rateLimitedBody } from './rate-limit';

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

/** The plan with every counter at 0, then `initial`. */
export function newFaultPlan(initial: Partial<MockFaultPlan> = {}): MockFaultPlan {
  return {
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
    ...initial,
  };
}

export type InjectedCounts = Record<MockFaultKind | 'token5xx', number>;

/** A count of 0 for each fault kind (and the token endpoint's 503). */
export function newInjectedCounts(): InjectedCounts {
  return {
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
}

/** The plan's counters in the order they are taken, and the fault each injects. */
const PLAN_ORDER: readonly (readonly [keyof MockFaultPlan, MockFaultKind])[] = [
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

export interface FaultPickerOptions {
  /** The live plan: a fault taken from it decrements its counter. */
  readonly plan: MockFaultPlan;
  /** Asked first; its answer wins. */
  readonly hook?: (info: MockRequestInfo) => MockFault | MockFaultKind | undefined;
  /** Bounded queries wider than this (ms) get `query-timeout`. */
  readonly queryTimeoutWiderThanMs?: number;
}

/**
 * The fault for one request, or undefined: the hook's, else `query-timeout` for a query wider than
 * `queryTimeoutWiderThanMs`, else the first plan counter above 0 in {@link PLAN_ORDER} (decremented).
 * Deterministic: the same plan and requests give the same faults.
 */
export function pickFault(o: FaultPickerOptions, info: MockRequestInfo): MockFault | undefined {
  const hooked = o.hook?.(info);
  if (hooked !== undefined) return typeof hooked === 'string' ? { kind: hooked } : hooked;
  const wide = o.queryTimeoutWiderThanMs;
  if (wide !== undefined) {
    const since = Date.parse(info.url.searchParams.get('since') ?? '');
    const until = Date.parse(info.url.searchParams.get('until') ?? '');
    if (until - since > wide) return { kind: 'query-timeout' };
  }
  for (const [key, kind] of PLAN_ORDER) {
    const left = o.plan[key];
    if (typeof left === 'number' && left > 0) {
      (o.plan[key] as number) = left - 1;
      return { kind };
    }
  }
  return undefined;
}

/** What answering a fault needs: the response writer, the bucket's headers and the counters it moves. */
export interface FaultAnswerContext {
  readonly send: (res: ServerResponse, status: number, body: string | Buffer, headers?: Headers) => void;
  readonly rateHeaders: () => Record<string, string>;
  readonly counters: { rateLimited: number; badRequests: number };
}

/**
 * Answers a fault that takes the place of the page (429, 5xx, bad-cursor, query-timeout, forbidden,
 * reset, stall) and returns true; returns false for the others (the page is served, perhaps changed).
 */
export function answerFault(fault: MockFault, req: IncomingMessage, res: ServerResponse, c: FaultAnswerContext): boolean {
  switch (fault.kind) {
    case '429':
      c.counters.rateLimited++;
      c.send(res, 429, rateLimitedBody(), fault.omitRateLimitHeaders ? {} : c.rateHeaders());
      return true;
    case '5xx': {
      const status = fault.status ?? 500;
      c.send(
        res,
        status,
        oktaError('E0000053', "Sorry, there's been an error. We aren't sure what caused it, but we've logged this and will work to address it. Please try your request again."),
        c.rateHeaders(),
      );
      return true;
    }
    case 'bad-cursor':
      c.counters.badRequests++;
      c.send(res, 400, oktaError('E0000001', 'Api validation failed: after', ['after: The after cursor is not valid.']), c.rateHeaders());
      return true;
    case 'query-timeout':
      c.send(
        res,
        500,
        oktaError(
          'E0000009',
          "Your last request took too long to complete. This is likely due to a load issue on our side. We've logged this and will work to address it. Please either simplify your query or wait a few minutes and try again.",
        ),
        c.rateHeaders(),
      );
      return true;
    case 'forbidden':
      c.send(res, 403, oktaError('E0000006', 'You do not have permission to perform the requested action'), c.rateHeaders());
      return true;
    case 'reset':
      req.socket.destroy();
      return true;
    case 'stall':
      // Hold the request: the client's timeout closes the connection, or stop() does.
      return true;
    default:
      return false;
  }
}

/** A page as served: its body, its `Link` headers and the number of events in it. */
export interface ServedPage {
  readonly body: string | Buffer;
  readonly links: string[];
  readonly count: number;
}

/**
 * The page a body fault makes of `page` (`empty-next`, `truncated`, `malformed`); any other fault
 * leaves it as it is. `self` is the request's own URL on the mock.
 */
export function faultedPage(fault: MockFault | undefined, page: { readonly body: Buffer; readonly links: string[]; readonly count: number }, self: string): ServedPage {
  if (fault?.kind === 'empty-next') {
    return { body: '[]', count: 0, links: [`<${self}>; rel="self"`, `<${self}>; rel="next"`] };
  }
  if (fault?.kind === 'truncated') {
    let text = page.body.toString('utf8');
    text = text.slice(0, Math.floor(text.length / 2));
    while (text.endsWith(']')) text = text.slice(0, -1);
    return { ...page, body: text };
  }
  if (fault?.kind === 'malformed') {
    return { ...page, body: `${page.body.toString('utf8').slice(0, -1)},]` };
  }
  return page;
}
