import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSink } from '../../lib/adapters/local-sink';
import {
  CompactionConflictError,
  SinkCompactionState,
  compactDay,
  compactLake,
  lakeFilesOf,
  parseManifest,
  splitHours,
  verifyDay,
  type CompactionWorkspace,
} from '../../lib/core/compact';
import { LATE_PREFIX } from '../../lib/core/layout';
import { openDuckDb } from '../../lib/core/writer/duckdb';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { FaultInjector, isSimulatedCrash, type SinkFault } from '../../testkit/faults';
import { DAY, ORG, dayEvents, expectEachOnce, textsOf, viewRows, writePages, openCompactionFixture, type CompactionFixture } from './support';

let writer: DuckDbParquetWriter;
let ws: CompactionWorkspace;
let root: string;

let fixture: CompactionFixture;
beforeAll(async () => {
  fixture = await openCompactionFixture('compact');
  ({ writer, ws, root } = fixture);
});
afterAll(() => fixture.close());

let lakes = 0;
async function newLake(): Promise<{ dir: string; sink: LocalSink }> {
  const dir = join(root, `lake-${++lakes}`);
  return { dir, sink: new LocalSink({ root: dir, fsync: false }) };
}

const now = { now: () => Date.parse('2024-05-04T00:00:00Z') };
const compactOpts = { clock: now, graceMs: 0, workspace: undefined as CompactionWorkspace | undefined };

describe('compactDay', () => {
  it('rewrites a day of many objects as at most 2 sorted ZSTD parts with the same rows, raw byte for byte, each uuid once', async () => {
    // Prepare: 600 events in pages of 25 (one object per page and hour: ~48 objects), one page stored twice
    const { dir, sink } = await newLake();
    const events = dayEvents(600);
    const keys = await writePages(sink, writer, events, { pageSize: 20 });
    const again = await writePages(sink, writer, events.slice(100, 125), { pageSize: 25, name: 'again', ingestedAt: new Date('2024-05-03T00:00:00Z') });
    const before = await viewRows(dir);
    expect(before.get('ev-000110')?.n).toBe(2);
    // Act
    const result = await compactDay({ ...compactOpts, workspace: ws, sink, org: ORG, dt: DAY });
    // Assess
    expect(result.outcome).toBe('compacted');
    if (result.outcome !== 'compacted') return;
    expect(keys.length).toBeGreaterThan(24);
    expect(result.parts.length).toBeLessThanOrEqual(2);
    expect(result.rows).toBe(600);
    expect(result.duplicateRowsCollapsed).toBe(25);
    expect(result.sourceObjects).toBe(keys.length + again.length);
    await expectEachOnce(dir, sink, textsOf(events));
    // Compacted data holds only Parquet; the records are under compacted/_state.
    const files = await readdir(join(dir, 'compacted', `org=${ORG}`, `dt=${DAY}`));
    expect(files).toEqual(['g0001-part-0.parquet']);
    // Same columns and types as the originals; ZSTD; rows sorted by hour, eventType, published.
    const duck = await openDuckDb({ threads: 1 });
    try {
      const part = join(dir, 'compacted', `org=${ORG}`, `dt=${DAY}`, 'g0001-part-0.parquet');
      const describe = async (f: string) => (await duck.connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${f}', hive_partitioning = false)`)).getRowsJS();
      expect(await describe(part)).toEqual(await describe(join(dir, keys[0])));
      const codecs = (await duck.connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${part}')`)).getRowsJS();
      expect(codecs).toEqual([['ZSTD']]);
      const order = (
        await duck.connection.runAndReadAll(`SELECT strftime(published, '%H') AS h, eventType, published FROM read_parquet('${part}')`)
      ).getRowsJS() as [string, string, Date][];
      const sorted = [...order].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]) || a[2].getTime() - b[2].getTime());
      expect(order).toEqual(sorted);
      // The earliest-written copy of a repeated event is kept.
      const kept = (await duck.connection.runAndReadAll(`SELECT ingested_at FROM read_parquet('${part}') WHERE uuid = 'ev-000110'`)).getRowsJS();
      expect((kept[0][0] as Date).toISOString()).toBe('2024-05-02T00:00:00.000Z');
    } finally {
      duck.close();
    }
    // The manifest lists every source with its size and sha256, every output, the uuids and the checksum.
    const m = parseManifest((await sink.get(`compacted/_state/org=${ORG}/dt=${DAY}/g0001-manifest.json`))!, 'm', { org: ORG, dt: DAY, generation: 1 });
    expect(m.sources.map((s) => s.key)).toEqual([...(await lakeFilesOf(sink, { org: ORG, dt: DAY }))[0].events]);
    expect(m.sources.every((s) => /^[0-9a-f]{64}$/.test(s.sha256) && s.bytes > 0)).toBe(true);
    expect(m.uuids).toEqual([...textsOf(events).keys()].sort());
    expect(Object.values(m.rowsPerHour).reduce((a, b) => a + b, 0)).toBe(600);
    // A second run changes nothing.
    expect(await compactDay({ ...compactOpts, workspace: ws, sink, org: ORG, dt: DAY })).toEqual({ outcome: 'up-to-date', generation: 1 });
    expect((await verifyDay({ reader: sink, org: ORG, dt: DAY, workspace: ws })).status).toBe('verified');
  });

  it('splits a day larger than partRows into 2 parts at an hour boundary', async () => {
    // Prepare
    const { dir, sink } = await newLake();
    const events = dayEvents(480);
    await writePages(sink, writer, events, { pageSize: 60 });
    // Act
    const result = await compactDay({ ...compactOpts, workspace: ws, sink, org: ORG, dt: DAY, partRows: 100 });
    // Assess
    expect(result.outcome === 'compacted' && result.parts.map((p) => [p.hours, p.rows])).toEqual([
      [['00', '11'], 240],
      [['12', '23'], 240],
    ]);
    await expectEachOnce(dir, sink, textsOf(events));
    expect(splitHours([['00', 10], ['01', 1], ['02', 1]], 5)).toEqual([['00', '00'], ['01', '02']]);
    expect(splitHours([['00', 10]], 5)).toEqual([['00', '00']]);
  });

  it('freezes the day first and lists it only once the grace period has passed', async () => {
    // Prepare
    const { dir, sink } = await newLake();
    const events = dayEvents(50);
    await writePages(sink, writer, events);
    let t = Date.parse('2024-05-04T00:00:00Z');
    const clock = { now: () => t };
    const state = new SinkCompactionState({ sink });
    expect(await state.frozenDays(ORG)).toEqual(new Set());
    // Act
    const first = await compactDay({ workspace: ws, sink, org: ORG, dt: DAY, clock });
    t += 19 * 60_000;
    const second = await compactDay({ workspace: ws, sink, org: ORG, dt: DAY, clock });
    t += 60_000;
    const third = await compactDay({ workspace: ws, sink, org: ORG, dt: DAY, clock });
    // Assess
    expect(first).toEqual({ outcome: 'waiting', frozenAt: '2024-05-04T00:00:00.000Z', readyAt: '2024-05-04T00:20:00.000Z' });
    expect(second.outcome).toBe('waiting');
    expect(third.outcome).toBe('compacted');
    expect(await state.frozenDays(ORG)).toEqual(new Set([DAY]));
    await expectEachOnce(dir, sink, textsOf(events));
  });

  it('stops a day with a uuid stored under two raw texts (CompactionConflictError), writes nothing, and compacts the other days', async () => {
    // Prepare
    const { dir, sink } = await newLake();
    const events = dayEvents(60);
    await writePages(sink, writer, events);
    const tampered = { ...events[7], displayMessage: 'a different text' };
    await writePages(sink, writer, [tampered], { name: 'conflict' });
    const other = dayEvents(30, '2024-04-30', 'prev');
    await writePages(sink, writer, other);
    // Act
    const error = await compactDay({ ...compactOpts, workspace: ws, sink, org: ORG, dt: DAY }).catch((e: unknown) => e);
    const lake = await compactLake({ sink, clock: now, graceMs: 0, watermarks: { watermark: async () => Date.parse('2024-05-03T02:00:00Z') } });
    // Assess
    expect(error).toBeInstanceOf(CompactionConflictError);
    expect((error as CompactionConflictError).uuids).toEqual(['ev-000007']);
    expect(lake.days.map((d) => [d.dt, 'conflict' in d ? 'conflict' : 'result' in d ? d.result.outcome : 'failed'])).toEqual([
      ['2024-04-30', 'compacted'],
      [DAY, 'conflict'],
    ]);
    expect(await readdir(join(dir, 'compacted'))).toEqual(['_state', `org=${ORG}`]);
    expect(await readdir(join(dir, 'compacted', `org=${ORG}`))).toEqual(['dt=2024-04-30']);
    // Both texts stay readable: nothing was dropped.
    expect((await viewRows(dir)).get('ev-000007')?.n).toBe(2);
  });

  it('compacts only closed days: the watermark past the day end + 24 h sweep + 1 h margin', async () => {
    // Prepare
    const { sink } = await newLake();
    await writePages(sink, writer, dayEvents(20));
    await writePages(sink, writer, dayEvents(20, '2024-05-02', 'next'));
    // Act
    const result = await compactLake({ sink, clock: now, graceMs: 0, watermarks: { watermark: async () => Date.parse('2024-05-03T00:59:59Z') } });
    const later = await compactLake({ sink, clock: now, graceMs: 0, watermarks: { watermark: async () => Date.parse('2024-05-03T01:00:00Z') } });
    // Assess
    expect(result.days).toEqual([]);
    expect(result.open).toEqual({ [ORG]: 2 });
    expect(later.days.map((d) => d.dt)).toEqual([DAY]);
    expect(later.open).toEqual({ [ORG]: 1 });
  });
});

describe('a compaction killed at every step', () => {
  const steps: { name: string; key: RegExp; fault: SinkFault; next: { generation: number; resumed: boolean } }[] = [
    { name: 'mid-write of the parts (part 0 stored, part 1 not)', key: /g0001-part-1\.parquet$/, fault: 'kill', next: { generation: 2, resumed: false } },
    { name: 'after the parts, before the manifest', key: /g0001-manifest\.json$/, fault: 'kill', next: { generation: 2, resumed: false } },
    { name: 'after the manifest, before the switch', key: /g0001-switch\.json$/, fault: 'kill', next: { generation: 1, resumed: true } },
    { name: 'after the switch', key: /g0001-switch\.json$/, fault: 'kill-after', next: { generation: 1, resumed: false } },
  ];

  for (const step of steps) {
    it(`leaves every uuid readable exactly once when killed ${step.name}, and the next run completes`, async () => {
      // Prepare
      const { dir, sink } = await newLake();
      const events = dayEvents(240);
      await writePages(sink, writer, events, { pageSize: 30 });
      // A day already frozen once: some events of it are under late/ (readers must read them too).
      const late = dayEvents(6, DAY, 'late');
      await writePages(sink, writer, late, { prefix: LATE_PREFIX, name: 'sweep' });
      const texts = new Map([...textsOf(events), ...textsOf(late)]);
      const faults = new FaultInjector({ put: (c) => (step.key.test(c.key) ? step.fault : undefined) });
      // Act: the killed run
      const killed = await compactDay({ ...compactOpts, workspace: ws, sink: faults.sink(sink), org: ORG, dt: DAY, partRows: 100 }).catch((e: unknown) => e);
      // Assess: dead where planned, and each event once through both readers
      expect(isSimulatedCrash(killed), String(killed)).toBe(true);
      await expectEachOnce(dir, sink, texts);
      // Act: the next run
      faults.revive();
      const next = await compactDay({ ...compactOpts, workspace: ws, sink, org: ORG, dt: DAY, partRows: 100 });
      // Assess
      if (step.fault === 'kill-after') expect(next).toEqual({ outcome: 'up-to-date', generation: 1 });
      else expect(next.outcome === 'compacted' && { generation: next.generation, resumed: next.resumed }).toEqual(step.next);
      await expectEachOnce(dir, sink, texts);
      const day = (await lakeFilesOf(sink, { org: ORG, dt: DAY }))[0];
      expect(day.current?.generation).toBe(step.next.generation);
      expect(day.originals).toEqual([]);
      expect((await verifyDay({ reader: sink, org: ORG, dt: DAY, workspace: ws })).status).toBe('verified');
    });
  }
});

describe('late objects', () => {
  it('are queryable at once for a compacted day, and a second compaction absorbs them as generation 2', async () => {
    // Prepare: a compacted day
    const { dir, sink } = await newLake();
    const events = dayEvents(120);
    await writePages(sink, writer, events);
    await compactDay({ ...compactOpts, workspace: ws, sink, org: ORG, dt: DAY });
    // Act: events for the frozen day arrive, written under late/
    const late = dayEvents(12, DAY, 'late');
    const lateKeys = await writePages(sink, writer, late, { prefix: LATE_PREFIX, name: 'sweep' });
    const all = new Map([...textsOf(events), ...textsOf(late)]);
    // Assess: readable at once, once
    expect(lateKeys.every((k) => k.startsWith(`late/org=${ORG}/dt=${DAY}/hour=`))).toBe(true);
    await expectEachOnce(dir, sink, all);
    // Act: compaction again
    const again = await compactDay({ ...compactOpts, workspace: ws, sink, org: ORG, dt: DAY });
    // Assess
    expect(again.outcome === 'compacted' && [again.generation, again.absorbedLate, again.rows]).toEqual([2, lateKeys.length, 132]);
    await expectEachOnce(dir, sink, all);
    const day = (await lakeFilesOf(sink, { org: ORG, dt: DAY }))[0];
    expect(day.current?.absorbedLate).toEqual([...lateKeys].sort());
    expect(day.parts).toEqual([`compacted/org=${ORG}/dt=${DAY}/g0002-part-0.parquet`]);
    // Originals stay; generation 1 stays too (never deleted), unread.
    expect(await readdir(join(dir, 'compacted', `org=${ORG}`, `dt=${DAY}`))).toEqual(['g0001-part-0.parquet', 'g0002-part-0.parquet']);
    expect((await verifyDay({ reader: sink, org: ORG, dt: DAY, workspace: ws })).status).toBe('verified');
  });
});

describe('an events/ object stored for a compacted day despite the freeze', () => {
  it('is still read once (the switch lists the events/ objects it absorbed) and absorbed by the next compaction', async () => {
    // Prepare
    const { dir, sink } = await newLake();
    const events = dayEvents(60);
    await writePages(sink, writer, events);
    await compactDay({ ...compactOpts, workspace: ws, sink, org: ORG, dt: DAY });
    // Act: a writer that did not ask the compaction state
    const stray = dayEvents(3, DAY, 'stray');
    await writePages(sink, writer, stray, { name: 'stray' });
    const all = new Map([...textsOf(events), ...textsOf(stray)]);
    // Assess: the local readers read it at once. Athena's view leaves out the events/ objects of a
    // compacted day (reading them would open every small file again), so it sees the stray events
    // once the next compaction has absorbed them and the view is made again.
    await expectEachOnce(dir, sink, all, DAY, { texts: textsOf(events) });
    const again = await compactDay({ ...compactOpts, workspace: ws, sink, org: ORG, dt: DAY });
    expect(again.outcome === 'compacted' && [again.generation, again.rows]).toEqual([2, 63]);
    await expectEachOnce(dir, sink, all, DAY, { latestOnly: true });
  });
});

describe('verifyDay', () => {
  let base: string;
  beforeAll(async () => {
    const lake = await newLake();
    base = lake.dir;
    await writePages(lake.sink, writer, dayEvents(90));
    await compactDay({ ...compactOpts, workspace: ws, sink: lake.sink, org: ORG, dt: DAY });
  });

  /** A scratch copy of the compacted lake, tampered with by `plant`. */
  async function scratch(plant: (dir: string, sink: LocalSink) => Promise<void>) {
    const dir = join(root, `scratch-${++lakes}`);
    await cp(base, dir, { recursive: true });
    const sink = new LocalSink({ root: dir, fsync: false });
    await plant(dir, sink);
    return verifyDay({ reader: sink, org: ORG, dt: DAY, workspace: ws });
  }

  /** Replaces part 0 in place (what a bucket policy forbids; a scratch copy allows it) with its rows changed by `select`. */
  async function rewritePart(dir: string, select: string) {
    const part = join(dir, 'compacted', `org=${ORG}`, `dt=${DAY}`, 'g0001-part-0.parquet');
    const duck = await openDuckDb({ threads: 1 });
    try {
      await duck.connection.run(`CREATE TABLE p AS SELECT * FROM read_parquet('${part}')`);
      await duck.connection.run(`COPY (${select}) TO '${part}' (FORMAT parquet, COMPRESSION zstd)`);
    } finally {
      duck.close();
    }
  }

  it('proves an untouched compacted day', async () => {
    const v = await scratch(async () => undefined);
    expect(v.status).toBe('verified');
    expect(v.status !== 'not-compacted' && [v.comparison.originalEvents, v.comparison.compactedEvents, v.problems]).toEqual([90, 90, []]);
  });

  it('detects an event of the originals missing from the parts (removed)', async () => {
    const v = await scratch(async (_dir, sink) => {
      await writePages(sink, writer, dayEvents(1, DAY, 'planted'), { name: 'after-compaction' });
    });
    expect(v.status).toBe('failed');
    if (v.status === 'not-compacted') return;
    expect(v.comparison.removed).toEqual({ count: 1, uuids: ['planted-000000'] });
    expect(v.comparison.added.count + v.comparison.changed.count).toBe(0);
    expect(v.problems.some((p) => p.includes('not among the sources'))).toBe(true);
  });

  it('detects an event in the parts that is in no original (added)', async () => {
    const v = await scratch(async (dir) => {
      await rewritePart(dir, `SELECT * FROM p UNION ALL SELECT * REPLACE ('added-1' AS uuid, replace(raw, uuid, 'added-1') AS raw) FROM p LIMIT 91`);
    });
    expect(v.status).toBe('failed');
    if (v.status === 'not-compacted') return;
    expect(v.comparison.added).toEqual({ count: 1, uuids: ['added-1'] });
    expect(v.comparison.removed.count + v.comparison.changed.count).toBe(0);
    expect(v.problems.some((p) => p.includes('is not the file the manifest lists'))).toBe(true);
  });

  it('detects an event whose raw differs in the parts (changed)', async () => {
    const v = await scratch(async (dir) => {
      await rewritePart(dir, `SELECT * REPLACE (CASE WHEN uuid = 'ev-000042' THEN replace(raw, '"published"', '"published" ') ELSE raw END AS raw) FROM p`);
    });
    expect(v.status).toBe('failed');
    if (v.status === 'not-compacted') return;
    expect(v.comparison.changed).toEqual({ count: 1, uuids: ['ev-000042'] });
    expect(v.comparison.removed.count + v.comparison.added.count).toBe(0);
  });

  it("detects a late object that Athena's view would not read: not absorbed, yet stamped before the late cutoff", async () => {
    // The base day was compacted at 2024-05-04T00:00Z with no grace: its late cutoff is that instant.
    const stampedBefore = await scratch(async (_dir, sink) => {
      await writePages(sink, writer, dayEvents(2, DAY, 'old-stamp'), { prefix: LATE_PREFIX, name: 'late-a', ingestedAt: new Date('2024-05-03T23:59:59.999Z') });
    });
    const stampedAfter = await scratch(async (_dir, sink) => {
      await writePages(sink, writer, dayEvents(2, DAY, 'new-stamp'), { prefix: LATE_PREFIX, name: 'late-b', ingestedAt: new Date('2024-05-04T00:00:00.001Z') });
    });
    expect(stampedBefore.status).toBe('failed');
    // One problem per late object (the two events are in two hours, so two objects), and nothing else.
    expect(stampedBefore.status !== 'not-compacted' && stampedBefore.problems.map((p) => p.includes("Athena's view does not read them"))).toEqual([true, true]);
    expect(stampedAfter.status !== 'not-compacted' && [stampedAfter.status, stampedAfter.unabsorbedLate, stampedAfter.problems]).toEqual(['verified', 2, []]);
  });

  it('says a day that is not compacted has nothing to prove', async () => {
    const { sink } = await newLake();
    await writePages(sink, writer, dayEvents(5));
    expect(await verifyDay({ reader: sink, org: ORG, dt: DAY, workspace: ws })).toEqual({ org: ORG, dt: DAY, status: 'not-compacted', originals: 5 });
  });
});
