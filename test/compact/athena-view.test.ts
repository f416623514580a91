/**
 * The Athena view over the three lake tables (lib/core/compact/athena-view.ts): its SQL parses with
 * Trino's grammar, stays within Athena's query size for years of state, and, run on DuckDB over a
 * real lake shaped as Athena sees it, reads each event once while late objects arrive, wait for the
 * late cutoff and are absorbed, also through views made from an older state.
 */
import { join } from 'node:path';
import { TrinoSQL } from 'dt-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSink } from '../../lib/adapters/local-sink';
import {
  chooseLateCutoff,
  compactDay,
  compactedDaysOf,
  dayCondition,
  lakeFilesOf,
  lakeViewSql,
  type CompactedDayState,
  type CompactionWorkspace,
} from '../../lib/core/compact';
import { LATE_PREFIX } from '../../lib/core/layout';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { DAY, ORG, dayEvents, expectEachOnce, textsOf, writePages, openCompactionFixture, type CompactionFixture } from './support';

const trino = new TrinoSQL();
const syntaxErrors = (sql: string): string[] => trino.validate(sql).map((e) => `line ${e.startLine}:${e.startColumn}: ${e.message}`);

/** `n` consecutive days from `from`. */
const daysFrom = (from: string, n: number): string[] => Array.from({ length: n }, (_, i) => new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));

describe('lakeViewSql', () => {
  const state: CompactedDayState[] = [
    ...daysFrom('2025-01-01', 300).map((dt) => ({ org: 'acme.okta.com', dt, generation: 1, absorbedLate: [], lateCutoff: '2025-12-01T00:00:00.000Z' })),
    { org: 'acme.okta.com', dt: '2025-03-04', generation: 3, absorbedLate: ['late/org=acme.okta.com/dt=2025-03-04/hour=01/a.parquet'], lateCutoff: '2025-12-02T10:11:12.345Z' },
    { org: 'acme.okta.com', dt: '2025-03-05', generation: 2, absorbedLate: ['late/org=acme.okta.com/dt=2025-03-05/hour=01/b.parquet'], lateCutoff: '2025-12-02T10:11:12.345Z' },
    // A switch record written before late cutoffs existed names its absorbed objects.
    { org: 'beta.okta.com', dt: '2025-06-01', generation: 2, absorbedLate: ["late/org=beta.okta.com/dt=2025-06-01/hour=02/c'd.parquet"] },
  ].filter((d, _i, all) => all.findIndex((x) => x.org === d.org && x.dt === d.dt && x.generation > d.generation) < 0);

  it("parses with Trino's grammar, with no compacted day and with many", () => {
    expect(syntaxErrors(lakeViewSql({ location: 's3://b', days: [] }))).toEqual([]);
    expect(syntaxErrors(lakeViewSql({ location: 's3://b', days: state }))).toEqual([]);
  });

  it('states each day choice as ranges of days, per org, per generation and per late cutoff', () => {
    const sql = lakeViewSql({ location: 's3://lake-bucket/', days: state });
    expect(sql).toContain(`NOT ((org = 'acme.okta.com' AND dt BETWEEN '2025-01-01' AND '2025-10-27')\n    OR (org = 'beta.okta.com' AND dt = '2025-06-01'))`);
    expect(sql).toContain(`(org = 'acme.okta.com' AND (dt BETWEEN '2025-01-01' AND '2025-03-03' OR dt BETWEEN '2025-03-06' AND '2025-10-27') AND "$path" LIKE '%/g0001-part-%')`);
    expect(sql).toContain(`(org = 'acme.okta.com' AND dt = '2025-03-04' AND "$path" LIKE '%/g0003-part-%')`);
    expect(sql).toContain(
      `(org = 'acme.okta.com' AND dt BETWEEN '2025-03-04' AND '2025-03-05' AND ingested_at IS NOT NULL AND ingested_at <= TIMESTAMP '2025-12-02 10:11:12.345')`,
    );
    expect(sql).toContain(`"$path" IN ('s3://lake-bucket/late/org=beta.okta.com/dt=2025-06-01/hour=02/c''d.parquet')`);
    expect(dayCondition(['2025-01-03', '2025-01-01', '2025-01-02', '2025-02-28', '2025-03-01', '2025-03-03'])).toBe(
      "(dt BETWEEN '2025-01-01' AND '2025-01-03' OR dt BETWEEN '2025-02-28' AND '2025-03-01' OR dt = '2025-03-03')",
    );
  });

  it("stays far below Athena's 262,144-byte query limit for 3 orgs x 3 years with a re-compacted day a week", () => {
    // "The maximum query string length (262,144 bytes) is not an adjustable quota":
    // https://repost.aws/knowledge-center/athena-query-string-length
    const days: CompactedDayState[] = [];
    for (const org of ['a.okta.com', 'b.okta.com', 'c.okta.com']) {
      daysFrom('2024-01-01', 3 * 365).forEach((dt, i) => {
        const recompacted = i % 7 === 3;
        days.push({ org, dt, generation: recompacted ? 2 + (i % 3) : 1, absorbedLate: recompacted ? ['late/x.parquet'] : [], lateCutoff: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00.000Z` });
      });
    }
    const sql = lakeViewSql({ location: 's3://b', days });
    expect(syntaxErrors(sql)).toEqual([]);
    expect(Buffer.byteLength(sql)).toBeLessThan(262_144 / 2);
  });
});

describe('chooseLateCutoff', () => {
  const us = (iso: string) => Date.parse(iso) * 1000;
  it('takes the bound when no object straddles it, and absorbs the objects wholly at or before it', () => {
    const cut = chooseLateCutoff(
      [
        { key: 'old', minUs: us('2024-05-01T00:00:00Z'), maxUs: us('2024-05-01T00:00:01Z') },
        { key: 'new', minUs: us('2024-05-01T00:10:00Z'), maxUs: us('2024-05-01T00:10:00Z') },
        { key: 'empty' },
      ],
      Date.parse('2024-05-01T00:05:00Z'),
    );
    expect(cut).toEqual({ cutoffMs: Date.parse('2024-05-01T00:05:00Z'), absorbed: ['old', 'empty'], left: ['new'] });
  });

  it('moves below an object that straddles it (and below one that then straddles), so no object is split', () => {
    const cut = chooseLateCutoff(
      [
        { key: 'a', minUs: us('2024-05-01T00:04:00Z'), maxUs: us('2024-05-01T00:06:00Z') },
        { key: 'b', minUs: us('2024-05-01T00:03:00Z'), maxUs: us('2024-05-01T00:04:30Z') },
        { key: 'c', minUs: us('2024-05-01T00:01:00Z'), maxUs: us('2024-05-01T00:02:00Z') },
      ],
      Date.parse('2024-05-01T00:05:00Z'),
    );
    expect(cut).toEqual({ cutoffMs: Date.parse('2024-05-01T00:03:00Z') - 1, absorbed: ['c'], left: ['a', 'b'] });
  });

  it('keeps a row stamped within the millisecond after the cutoff out of the absorbed side (Athena reads milliseconds)', () => {
    const t = Date.parse('2024-05-01T00:05:00Z');
    const cut = chooseLateCutoff([{ key: 'x', minUs: t * 1000 + 500, maxUs: t * 1000 + 500 }], t);
    expect(cut.cutoffMs).toBe(t - 1);
    expect(cut.left).toEqual(['x']);
  });
});

describe('late objects and the late cutoff, through every reader', () => {
  let writer: DuckDbParquetWriter;
  let ws: CompactionWorkspace;
  let root: string;
  let fixture: CompactionFixture;
  beforeAll(async () => {
    fixture = await openCompactionFixture('athena-view');
    ({ writer, ws, root } = fixture);
  });
  afterAll(() => fixture.close());

  it('leaves a late object stamped after the cutoff for the next run, and every view reads each event once at every step', async () => {
    // Prepare: a day written on 2024-05-02, compacted on 2024-05-04 (grace 20 min)
    const dir = join(root, 'lake');
    const sink = new LocalSink({ root: dir, fsync: false });
    let t = Date.parse('2024-05-04T00:00:00Z');
    const clock = { now: () => t };
    const events = dayEvents(80);
    await writePages(sink, writer, events);
    expect((await compactDay({ workspace: ws, sink, org: ORG, dt: DAY, clock })).outcome).toBe('waiting');
    t += 20 * 60_000;
    expect((await compactDay({ workspace: ws, sink, org: ORG, dt: DAY, clock })).outcome).toBe('compacted');
    await expectEachOnce(dir, sink, textsOf(events));
    // A sweep stores late events for the frozen day: one object 25 minutes ago, one 5 minutes ago
    const early = dayEvents(5, DAY, 'early');
    const recent = dayEvents(4, DAY, 'recent');
    t += 60 * 60_000;
    const earlyKeys = await writePages(sink, writer, early, { prefix: LATE_PREFIX, name: 'sweep-a', ingestedAt: new Date(t - 25 * 60_000) });
    await writePages(sink, writer, recent, { prefix: LATE_PREFIX, name: 'sweep-b', ingestedAt: new Date(t - 5 * 60_000) });
    const all = new Map([...textsOf(events), ...textsOf(early), ...textsOf(recent)]);
    await expectEachOnce(dir, sink, all);
    // Act: compaction absorbs only what was stamped at or before now - grace
    const second = await compactDay({ workspace: ws, sink, org: ORG, dt: DAY, clock });
    // Assess
    expect(second.outcome === 'compacted' && [second.generation, second.absorbedLate, second.rows]).toEqual([2, earlyKeys.length, 85]);
    const day = (await lakeFilesOf(sink, { org: ORG, dt: DAY }))[0];
    expect(day.current?.lateCutoff).toBe(new Date(t - 20 * 60_000).toISOString());
    expect([...(day.current?.absorbedLate ?? [])].sort()).toEqual([...earlyKeys].sort());
    expect(day.unabsorbedLate.length).toBeGreaterThan(0);
    expect((await compactedDaysOf(sink, [ORG]))[0]).toMatchObject({ dt: DAY, generation: 2, lateCutoff: new Date(t - 20 * 60_000).toISOString() });
    await expectEachOnce(dir, sink, all);
    // Act: at once, nothing more can be absorbed; 20 minutes later the recent object can
    const third = await compactDay({ workspace: ws, sink, org: ORG, dt: DAY, clock });
    t += 20 * 60_000;
    const fourth = await compactDay({ workspace: ws, sink, org: ORG, dt: DAY, clock });
    // Assess
    expect(third.outcome).toBe('waiting');
    expect(fourth.outcome === 'compacted' && [fourth.generation, fourth.rows]).toEqual([3, 89]);
    expect((await lakeFilesOf(sink, { org: ORG, dt: DAY }))[0].originals).toEqual([]);
    await expectEachOnce(dir, sink, all);
  });
});
