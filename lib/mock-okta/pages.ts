/**
 * The pages of `GET /api/v1/logs`: the query's validation (Okta's errors), the 90-day retention,
 * opaque `after` cursors, and each page's body and `Link` headers (`self`, and `next` while the
 * query has more, or always for a polling query).
 */
import type { Clock } from '../core/ports';
import type { EventIndex, EventKey, MockEvent } from './events';
import { BadRequest } from './http';
import { DAY as DAY_MS } from '../core/time';

export const MOCK_LOGS_PATH = '/api/v1/logs';
/** The origin used in `rel="next"` links when `foreignNextLink` is `true`. */
export const DEFAULT_FOREIGN_ORIGIN = 'https://attacker.invalid';
const OPEN_BRACKET = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE_BRACKET = Buffer.from(']');
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;

/** The opaque `after` cursor of an event: its position, base64url JSON. */
export function encodeCursor(k: EventKey): string {
  return Buffer.from(JSON.stringify([k.publishedMs, k.uuid])).toString('base64url');
}

/** The position an `after` cursor names; throws {@link BadRequest} (`E0000001`) for one the mock did not make. */
export function decodeCursor(s: string): EventKey {
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

/** The request's own URL on the mock (its `rel="self"`). */
export function selfUrl(origin: string, url: URL): string {
  return `${origin}${url.pathname}${url.search}`;
}

/** One page: the JSON array of its events' exact texts, its `Link` header values, its event count. */
export interface LogPage {
  readonly body: Buffer;
  readonly links: string[];
  readonly count: number;
}

export interface LogPagesOptions {
  readonly index: EventIndex;
  /** Time for visibility, the 180-day rule and retention. */
  readonly clock: Pick<Clock, 'now'>;
  /** Events published more than this many days ago are not returned. */
  readonly retentionDays: number;
  /** When a bounded query's page carries `rel="next"` (see `MockOktaOptions.boundedNext`). */
  readonly boundedNext: 'exact' | 'when-full';
  /** The mock's origin, known once it listens. */
  readonly origin: () => string;
  /** The fault plan's `foreignNextLink`, read at each page. */
  readonly foreignNextLink: () => boolean | string;
}

export class LogPages {
  // Each event's UTF-8 bytes, encoded once: a page is then one copy of its events' bytes. Joining
  // and encoding a whole page per request took time that a page answered a fixed delay after its
  // request had to spend after the wait (the encoding), so the mock answered late.
  readonly #encoded = new WeakMap<MockEvent, Buffer>();

  constructor(private readonly o: LogPagesOptions) {}

  #bytesOf(e: MockEvent): Buffer {
    let b = this.#encoded.get(e);
    if (b === undefined) {
      b = Buffer.from(e.text, 'utf8');
      this.#encoded.set(e, b);
    }
    return b;
  }

  #pageBytes(events: readonly MockEvent[]): Buffer {
    const parts: Buffer[] = [OPEN_BRACKET];
    events.forEach((e, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(this.#bytesOf(e));
    });
    parts.push(CLOSE_BRACKET);
    return Buffer.concat(parts);
  }

  /** The page a `/api/v1/logs` URL asks for; throws {@link BadRequest} for a query Okta refuses. */
  build(url: URL): LogPage {
    const { index, clock, retentionDays, boundedNext } = this.o;
    const origin = this.o.origin();
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
    const body = this.#pageBytes(events);
    const self = selfUrl(origin, url);
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
      const foreign = this.o.foreignNextLink();
      const linkOrigin = foreign === true ? DEFAULT_FOREIGN_ORIGIN : foreign ? new URL(foreign).origin : origin;
      links.push(`<${linkOrigin}${MOCK_LOGS_PATH}?${next.toString()}>; rel="next"`);
    }
    return { body, links, count: events.length };
  }
}
