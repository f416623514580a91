/**
 * Events served by the mock Okta server, kept sorted by (`published`, `uuid`) so that every page is a
 * binary search plus a short forward scan, whatever the number of events.
 */
import { createReadStream } from 'node:fs';
import { OktaLakeError } from '../core/errors';

/** One event as the mock serves it. */
export interface MockEvent {
  readonly uuid: string;
  /** The `published` instant (ms since the epoch) the mock filters and sorts by. */
  readonly publishedMs: number;
  /** The exact JSON text served for this event inside the page array. */
  readonly text: string;
  /** The event is hidden from every query until the mock's clock reaches this instant (a late event). */
  readonly visibleAtMs?: number;
}

/** An event given to the mock (or read from an events file) is not usable. */
export class MockEventError extends OktaLakeError {}

/** Position of an event in the published order: the `after` cursor encodes one. */
export interface EventKey {
  readonly publishedMs: number;
  readonly uuid: string;
}

export function compareKeys(a: EventKey, b: EventKey): number {
  if (a.publishedMs !== b.publishedMs) return a.publishedMs < b.publishedMs ? -1 : 1;
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}

function eventFromParsed(obj: unknown, text: string, where: string): MockEvent {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new MockEventError(`${where} is not a JSON object`);
  const o = obj as Record<string, unknown>;
  if (typeof o.uuid !== 'string' || o.uuid === '') throw new MockEventError(`${where} has no string "uuid"`);
  const publishedMs = typeof o.published === 'string' ? Date.parse(o.published) : Number.NaN;
  if (Number.isNaN(publishedMs)) {
    throw new MockEventError(`${where} has no valid "published" instant (give a MockEvent with publishedMs to serve such an event)`);
  }
  return { uuid: o.uuid, publishedMs, text };
}

/** Events from objects: the text served is `JSON.stringify(obj)`; uuid and published are taken from it. */
export function mockEventsFromObjects(objs: readonly unknown[]): MockEvent[] {
  return objs.map((obj, i) => eventFromParsed(obj, JSON.stringify(obj), `event #${i}`));
}

/** Events from JSON texts, each served byte for byte; uuid and published are read from the text. */
export function mockEventsFromTexts(texts: readonly string[]): MockEvent[] {
  return texts.map((text, i) => {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (cause) {
      throw new MockEventError(`event #${i} is not valid JSON`, { cause });
    }
    return eventFromParsed(obj, text, `event #${i}`);
  });
}

const STRING_STOP = /["\\]/g;

/**
 * Splits JSON text arriving in chunks into the exact texts of its elements: the elements of a
 * top-level array (`[ {...}, {...} ]`) or, when the text does not start with `[`, one JSON value per
 * non-empty line (JSON Lines). String-aware: commas, brackets and newlines inside strings are kept.
 */
export class JsonElementSplitter {
  #mode: 'unknown' | 'array' | 'lines' | 'done' = 'unknown';
  #depth = 0;
  #inString = false;
  #escape = false;
  #parts: string[] = [];
  #line = 1;
  #count = 0;
  readonly #out: string[] = [];

  /** Feeds a chunk; returns the elements completed by it. */
  push(chunk: string): string[] {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.#mode === 'unknown') {
        if (c === 0xfeff || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
          if (c === 0x0a) this.#line++;
          start = i + 1;
          continue;
        }
        if (c === 0x5b /* [ */) {
          this.#mode = 'array';
          start = i + 1;
          continue;
        }
        this.#mode = 'lines';
        start = i;
      }
      if (c === 0x0a) this.#line++;
      if (this.#mode === 'done') {
        if (!(c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)) throw new MockEventError(`unexpected text after the closing "]" (line ${this.#line})`);
        continue;
      }
      if (this.#inString) {
        if (this.#escape) {
          this.#escape = false;
          continue;
        }
        // Jump to the next quote or backslash: most of an event's text is inside strings.
        STRING_STOP.lastIndex = i;
        const found = STRING_STOP.exec(chunk);
        if (!found) {
          i = chunk.length - 1;
          continue;
        }
        i = found.index;
        if (chunk.charCodeAt(i) === 0x5c /* \ */) this.#escape = true;
        else this.#inString = false;
        continue;
      }
      if (c === 0x22) this.#inString = true;
      else if (c === 0x7b || c === 0x5b) this.#depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (this.#depth === 0 && this.#mode === 'array' && c === 0x5d) {
          this.#parts.push(chunk.slice(start, i));
          this.#emit('close');
          this.#mode = 'done';
          start = i + 1;
          continue;
        }
        this.#depth--;
        if (this.#depth < 0) throw new MockEventError(`unbalanced "${String.fromCharCode(c)}" (line ${this.#line})`);
      } else if (this.#depth === 0 && ((this.#mode === 'array' && c === 0x2c) || (this.#mode === 'lines' && c === 0x0a))) {
        this.#parts.push(chunk.slice(start, i));
        this.#emit(this.#mode === 'array' ? 'comma' : 'line');
        start = i + 1;
      }
    }
    if (this.#mode === 'array' || this.#mode === 'lines') this.#parts.push(chunk.slice(start));
    return this.#out.splice(0);
  }

  /** Ends the input; returns the last element (JSON Lines) or throws if an array was not closed. */
  end(): string[] {
    if (this.#mode === 'array') throw new MockEventError('the JSON array is not closed with "]"');
    if (this.#inString || this.#depth !== 0) throw new MockEventError('the input ends inside a JSON value');
    if (this.#mode === 'lines') this.#emit('line');
    return this.#out.splice(0);
  }

  #emit(kind: 'comma' | 'close' | 'line'): void {
    const text = this.#parts.join('').trim();
    this.#parts = [];
    if (text !== '') {
      this.#out.push(text);
      this.#count++;
    } else if (kind === 'comma' || (kind === 'close' && this.#count > 0)) {
      throw new MockEventError(`empty element in the JSON array (line ${this.#line})`);
    }
  }
}

/**
 * Reads events from a file: a JSON array of events (`.json`) or one event per line (`.jsonl`,
 * `.ndjson`); which one is decided by the first non-blank character (`[` means an array). Each
 * event's exact text is kept and served byte for byte. The file is streamed, so files larger than the
 * maximum string length are fine.
 */
export async function loadMockEventsFromFile(path: string): Promise<MockEvent[]> {
  const splitter = new JsonElementSplitter();
  const events: MockEvent[] = [];
  const take = (texts: string[]): void => {
    for (const text of texts) {
      const where = `${path}: event #${events.length}`;
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (cause) {
        throw new MockEventError(`${where} is not valid JSON`, { cause });
      }
      events.push(eventFromParsed(obj, text, where));
    }
  };
  try {
    const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
    for await (const chunk of stream) take(splitter.push(chunk as string));
    take(splitter.end());
  } catch (e) {
    if (e instanceof MockEventError) {
      throw e.message.startsWith(path) ? e : new MockEventError(`${path}: ${e.message}`, { cause: e.cause });
    }
    throw new MockEventError(`${path}: cannot read the events file`, { cause: e });
  }
  return events;
}

/** A sorted, append-friendly list of events with binary search by (published, uuid). */
export class EventIndex {
  #events: MockEvent[] = [];

  get size(): number {
    return this.#events.length;
  }

  add(events: readonly MockEvent[]): void {
    const list = this.#events;
    let sorted = true;
    for (const [i, e] of events.entries()) {
      if (typeof e !== 'object' || e === null || typeof e.uuid !== 'string' || typeof e.text !== 'string' || !Number.isFinite(e.publishedMs)) {
        throw new MockEventError(`event #${i} needs a string uuid, a finite publishedMs and a string text`);
      }
      if (e.visibleAtMs !== undefined && !Number.isFinite(e.visibleAtMs)) throw new MockEventError(`event #${i} has a non-finite visibleAtMs`);
      if (sorted && list.length > 0 && compareKeys(list[list.length - 1], e) > 0) sorted = false;
      list.push(e);
    }
    if (!sorted) list.sort(compareKeys);
  }

  /** Index of the first event whose key is >= `key` (or > `key` when `strict`). */
  lowerBound(key: EventKey, strict: boolean): number {
    const list = this.#events;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareKeys(list[mid], key);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Up to `limit` events visible at `nowMs` with key > `after` (or published >= `sinceMs` when there
   * is no cursor) and published < `untilMs`; `more` tells whether another visible one follows.
   */
  page(q: { sinceMs: number; untilMs?: number; after?: EventKey; limit: number; nowMs: number }): { events: MockEvent[]; more: boolean } {
    const list = this.#events;
    const fromSince = this.lowerBound({ publishedMs: q.sinceMs, uuid: '' }, false);
    const from = q.after ? Math.max(fromSince, this.lowerBound(q.after, true)) : fromSince;
    const events: MockEvent[] = [];
    for (let i = from; i < list.length; i++) {
      const e = list[i];
      if (q.untilMs !== undefined && e.publishedMs >= q.untilMs) break;
      if (e.visibleAtMs !== undefined && e.visibleAtMs > q.nowMs) continue;
      if (events.length === q.limit) return { events, more: true };
      events.push(e);
    }
    return { events, more: false };
  }
}
