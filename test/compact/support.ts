/**
 * Shared set-up of the compaction tests: a day of fixture events written by the real DuckDB writer
 * as the production cadence writes it (one object per page per hour touched), and the two readers
 * every test checks after every step: the local `okta_system_log` view and `SinkLakeIndex`.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCompactionWorkspace, type CompactionWorkspace } from '../../lib/core/compact';
import { DuckDbParquetWriter as Writer } from '../../lib/core/writer/parquet-writer';
import { expect } from 'vitest';
import { fixtureEvents, type JsonObject } from '../../lib/core/fixtures';
import { SinkLakeIndex } from '../../lib/core/lake/lake-index';
import { compactedDaysOf, lakeViewSql } from '../../lib/core/compact';
import { TEST_LAKE_LOCATION, athenaViewRows } from './athena-view-duckdb';
import { openLake } from '../../lib/core/hunt/lake';
import { LATE_PREFIX, EVENTS_PREFIX, type Partition } from '../../lib/core/layout';
import type { LakeSink } from '../../lib/core/ports';
import type { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';

export const ORG = 'acme.okta.com';
export const DAY = '2024-05-01';

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** `count` events spread over `dt` (UTC), uuids `<tag>-000000`..., each with a distinct raw text. */
export function dayEvents(count: number, dt = DAY, tag = 'ev'): JsonObject[] {
  const spacing = Math.floor(86_400_000 / count);
  return fixtureEvents(count, { start: `${dt}T00:00:00.000Z`, spacingMs: spacing, seed: tag.length * 1000 }).map((e, i) => ({
    ...e,
    uuid: `${tag}-${String(i).padStart(6, '0')}`,
  }));
}

/** The exact text of each event as written (its `raw`). */
export const textsOf = (events: readonly JsonObject[]): Map<string, string> => new Map(events.map((e) => [String(e.uuid), JSON.stringify(e)]));

/**
 * Writes `events` in pages of `pageSize` (one object per page and hour, as ingestion does), under
 * `events/` or `late/`. Returns the keys written.
 */
export async function writePages(
  sink: LakeSink,
  writer: DuckDbParquetWriter,
  events: readonly JsonObject[],
  o: { readonly pageSize?: number; readonly prefix?: typeof EVENTS_PREFIX | typeof LATE_PREFIX; readonly name?: string; readonly ingestedAt?: Date } = {},
): Promise<string[]> {
  const pageSize = o.pageSize ?? 40;
  const keys: string[] = [];
  for (let i = 0; i < events.length; i += pageSize) {
    const page = events.slice(i, i + pageSize);
    const r = await writer.writePage({
      org: ORG,
      body: `[${page.map((e) => JSON.stringify(e)).join(',')}]`,
      format: 'array',
      name: `${o.name ?? 'page'}-${String(i / pageSize).padStart(4, '0')}`,
      ingestedAt: o.ingestedAt ?? new Date('2024-05-02T00:00:00Z'),
    });
    for (const obj of r.objects) {
      const key = o.prefix === LATE_PREFIX ? obj.key.replace(/^events\//, `${LATE_PREFIX}/`) : obj.key;
      await sink.put(key, obj.body, 'application/vnd.apache.parquet');
      keys.push(key);
    }
  }
  return keys;
}

export const hoursOf = (dt: string): Partition[] => Array.from({ length: 24 }, (_, h) => ({ dt, hour: String(h).padStart(2, '0') }));

/** uuid -> [rows, sha256 of raw] as the local `okta_system_log` view shows the lake at `dir`. */
export async function viewRows(dir: string, where = 'true'): Promise<Map<string, { n: number; raw: string; hours: string[] }>> {
  const lake = await openLake(dir, { duckdb: { threads: 1, memoryLimit: '512MB' } });
  try {
    const rows = (
      await lake.connection.runAndReadAll(
        `SELECT uuid, count(*)::INTEGER AS n, min(raw) AS raw, list(DISTINCT hour ORDER BY hour) AS hours FROM okta_system_log WHERE ${where} GROUP BY uuid`,
      )
    ).getRowObjectsJS();
    return new Map(rows.map((r) => [String(r.uuid), { n: Number(r.n), raw: String(r.raw), hours: (r.hours as string[]).map(String) }]));
  } finally {
    lake.close();
  }
}

/** The Athena views made for each lake folder so far, oldest first. */
const athenaViews = new Map<string, string[]>();

/**
 * Asserts that both readers (the view over `dir` and `SinkLakeIndex` over `sink`) see every event of
 * `texts` exactly once, and nothing else, with `raw` byte for byte (the view) and in the hour its
 * `published` gives.
 */
export async function expectEachOnce(
  dir: string,
  sink: LakeSink,
  texts: ReadonlyMap<string, string>,
  dt = DAY,
  athena: {
    /** What the Athena views see, when not `texts`. */
    readonly texts?: ReadonlyMap<string, string>;
    /** Check only the view made now, not the earlier ones. */
    readonly latestOnly?: boolean;
  } = {},
): Promise<void> {
  const expectRows = (rows: Map<string, { n: number; raw: string; hours: string[] }>, reader: string, want = texts) => {
    expect([...rows.keys()].sort(), reader).toEqual([...want.keys()].sort());
    for (const [uuid, text] of want) {
      const row = rows.get(uuid)!;
      expect(row.n, `${reader}: ${uuid}`).toBe(1);
      expect(row.raw === text, `${reader}: raw of ${uuid} byte for byte`).toBe(true);
      expect(row.hours, reader).toEqual([(JSON.parse(text) as { published: string }).published.slice(11, 13)]);
    }
  };
  expectRows(await viewRows(dir), 'local view');
  // The Athena view made from the lake's state now, and every one made earlier for this lake: a
  // view is regenerated only after a compaction run, so each must stay right as the lake moves on.
  const views = athenaViews.get(dir) ?? [];
  athenaViews.set(dir, views);
  views.push(lakeViewSql({ location: TEST_LAKE_LOCATION, days: await compactedDaysOf(sink, [ORG]) }));
  for (const [i, sql] of views.entries()) {
    if (athena.latestOnly && i < views.length - 1) continue;
    expectRows(await athenaViewRows(dir, sql), `Athena view ${i + 1} of ${views.length}`, athena.texts ?? texts);
  }
  const index = await SinkLakeIndex.open({ sink, threads: 1 });
  try {
    const held = await index.holdings(ORG, hoursOf(dt));
    expect([...held.uuids].sort()).toEqual([...texts.keys()].sort());
    expect(held.duplicateRows).toBe(0);
    // One hour alone: only that hour's events (parts are filtered by published).
    const h = hoursOf(dt)[13];
    const hour = await index.holdings(ORG, [h]);
    const expected = [...texts].filter(([, t]) => (JSON.parse(t) as { published: string }).published.slice(11, 13) === h.hour).map(([u]) => u);
    expect([...hour.uuids].sort()).toEqual(expected.sort());
  } finally {
    await index.close();
  }
}

/** What the compaction tests share: a writer, a DuckDB workspace and a scratch folder; `close()` releases them. */
export interface CompactionFixture {
  readonly writer: Writer;
  readonly ws: CompactionWorkspace;
  readonly root: string;
  close(): Promise<void>;
}

export async function openCompactionFixture(tag: string): Promise<CompactionFixture> {
  const writer = await Writer.open({});
  const ws = await openCompactionWorkspace({ threads: 1, memoryLimit: '512MB' });
  const root = await mkdtemp(join(tmpdir(), `okta-lake-${tag}-`));
  return {
    writer,
    ws,
    root,
    close: async () => {
      await writer.close();
      await ws.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
