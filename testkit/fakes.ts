/**
 * In-memory fakes of the ingestion ports, for testing the run logic without servers or DuckDB.
 * They keep the semantics the real parts promise: the source serves bounded, published-ordered pages
 * with opaque next links; the writer drops events at or after `until` and names objects by page; the
 * sink is write-once (a second put to a key throws `ObjectExistsError`); the index reads the fake
 * writer's objects.
 */
import { ObjectExistsError } from '../lib/core/errors';
import type { LakeHoldings, LakeIndex } from '../lib/core/ports';
import { partitionOf, partitionPrefix, eventObjectKey, quarantineObjectKey, type Partition } from '../lib/core/layout';
import type { LakeSink, LogPage, LogPageSource, PageWriteInput, PageWriteResult, PageWriter } from '../lib/core/ports';
import { MalformedPageError } from '../lib/core/writer/errors';

export interface FakeEvent {
  readonly uuid: string;
  readonly published: string;
}

export class FakeSource implements LogPageSource {
  readonly requests: string[] = [];
  /** URL -> how many more times fetching it returns a truncated body. */
  readonly corrupt = new Map<string, number>();

  constructor(
    private readonly events: readonly FakeEvent[],
    private readonly pageSize = 3,
  ) {}

  boundedQueryUrl(since: string, until: string): string {
    return `https://fake.okta.test/api/v1/logs?since=${since}&until=${until}&limit=${this.pageSize}`;
  }

  async fetchPage(url: string): Promise<LogPage> {
    this.requests.push(url);
    const u = new URL(url);
    const since = Date.parse(u.searchParams.get('since') ?? '');
    const until = Date.parse(u.searchParams.get('until') ?? '');
    const after = Number(u.searchParams.get('after') ?? '0');
    const inWindow = this.events.filter((e) => Date.parse(e.published) >= since && Date.parse(e.published) < until);
    const slice = inWindow.slice(after, after + this.pageSize);
    const next = after + this.pageSize < inWindow.length ? new URL(url) : undefined;
    next?.searchParams.set('after', String(after + this.pageSize));
    let body = JSON.stringify(slice);
    const times = this.corrupt.get(url) ?? 0;
    if (times > 0) {
      this.corrupt.set(url, times - 1);
      body = body.slice(0, body.length >> 1);
    }
    return { url, body, nextUrl: next?.toString() };
  }
}

/** Writes each page as one JSON "object" per hour partition holding the page's events. */
export class FakeWriter implements PageWriter {
  pagesWritten = 0;

  async writePage(input: PageWriteInput): Promise<PageWriteResult> {
    let events: FakeEvent[];
    try {
      events = JSON.parse(input.body) as FakeEvent[];
    } catch (cause) {
      throw new MalformedPageError('not JSON', { cause });
    }
    this.pagesWritten++;
    const until = input.until ? Date.parse(input.until) : Number.POSITIVE_INFINITY;
    const keep = events.filter((e) => Date.parse(e.published) < until && e.uuid);
    const bad = events.filter((e) => !e.uuid);
    const byKey = new Map<string, FakeEvent[]>();
    for (const e of keep) {
      const key = eventObjectKey(input.org, partitionOf(Date.parse(e.published)), input.name);
      byKey.set(key, [...(byKey.get(key) ?? []), e]);
    }
    const enc = new TextEncoder();
    const published = keep.map((e) => e.published).sort();
    return {
      objects: [...byKey].map(([key, list]) => ({ key, body: enc.encode(JSON.stringify(list)), events: list.length })),
      quarantine: bad.length
        ? { key: quarantineObjectKey(input.org, input.ingestedAt.toISOString().slice(0, 10), input.name), body: enc.encode(bad.map((b) => JSON.stringify(b)).join('\n')), events: bad.length }
        : undefined,
      eventsWritten: keep.length,
      eventsQuarantined: bad.length,
      duplicatesDropped: 0,
      outsideWindow: events.length - keep.length - bad.length,
      minPublished: published[0],
      maxPublished: published.at(-1),
    };
  }

  async close(): Promise<void> {}
}

export class MemorySink implements LakeSink {
  readonly location = 'memory://lake';
  readonly objects = new Map<string, Uint8Array>();
  puts = 0;

  async put(key: string, body: Uint8Array): Promise<void> {
    this.puts++;
    if (this.objects.has(key)) throw new ObjectExistsError(`${key} already exists`, key);
    this.objects.set(key, body);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key);
  }

  /** Every uuid in the fake writer's event objects, with repeats. */
  uuids(): string[] {
    const dec = new TextDecoder();
    return [...this.objects]
      .filter(([k]) => k.startsWith('events/'))
      .flatMap(([, body]) => (JSON.parse(dec.decode(body)) as FakeEvent[]).map((e) => e.uuid));
  }
}

/** A lake index over the fake writer's JSON objects. */
export class FakeIndex implements LakeIndex {
  constructor(private readonly sink: MemorySink) {}
  async holdings(org: string, partitions: readonly Partition[]): Promise<LakeHoldings> {
    const uuids = new Set<string>();
    let duplicateRows = 0;
    for (const p of partitions) {
      for (const key of await this.sink.list(partitionPrefix(org, p))) {
        for (const e of JSON.parse(Buffer.from((await this.sink.get(key))!).toString()) as FakeEvent[]) {
          if (uuids.has(e.uuid)) duplicateRows++;
          uuids.add(e.uuid);
        }
      }
    }
    return { uuids, duplicateRows };
  }
}

/** Events every `stepMs` from `start`, uuids `e000000`, `e000001`, ... */
export function fakeEvents(count: number, start: string, stepMs: number): FakeEvent[] {
  const t0 = Date.parse(start);
  return Array.from({ length: count }, (_, i) => ({ uuid: `e${String(i).padStart(6, '0')}`, published: new Date(t0 + i * stepMs).toISOString() }));
}
