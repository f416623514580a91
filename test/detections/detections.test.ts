/**
 * Every query of athena-queries/ executed through the hunt runner (DuckDB and the compatibility
 * layer) on Parquet written by the project's writer: each scenario of scenarios.ts fires with the
 * expected finding keys, each near miss does not, and each query's dt/hour condition matches its
 * declared lookback. Every scenario lives in its own org of one shared lake, so one run of each
 * query answers all its tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeQuery, type FindingRow, type FindingValue, type Lake } from '../../lib/core/hunt';
import { loadQueries, type QueryDefinition } from '../../lib/core/queries';
import { SCENARIOS, writesOf, type Fired } from './scenarios';
import { DAY, HOUR, MINUTE, TestLake, shiftedWrites, type PageWrite } from './support';

const NOW = Date.parse('2024-05-01T12:30:00.000Z');
const QUERIES = new Map(loadQueries().map((q) => [q.id, q]));

const query = (id: string): QueryDefinition => {
  const q = QUERIES.get(id);
  if (!q) throw new Error(`no query ${id} in athena-queries/`);
  return q;
};

const keysOf = (id: string): readonly string[] => SCENARIOS.find((s) => s.id === id)?.keys ?? query(id).findingKey.filter((k) => k !== 'org');

const project = (rows: readonly Record<string, FindingValue>[], keys: readonly string[], ordered = false): string[] => {
  const projected = rows.map((r) => JSON.stringify(keys.map((k) => [k, r[k] ?? null])));
  return ordered ? projected : projected.sort();
};

describe('detections and hunts on Parquet written by the writer', () => {
  let testLake: TestLake;
  let lake: Lake;
  const fired = new Map<string, Fired>();
  const rows = new Map<string, readonly FindingRow[]>();
  const columns = new Map<string, readonly string[]>();
  const findingsOf = (id: string, variant: string): FindingRow[] => (rows.get(id) ?? []).filter((r) => r.org === `${variant}.${id}`);

  beforeAll(async () => {
    // Prepare: one lake, every scenario in its own org.
    testLake = await TestLake.create();
    const writeAll = async (org: string, writes: readonly PageWrite[], partitionAt?: number): Promise<void> => {
      for (const w of writes) await testLake.write(org, partitionAt === undefined ? w : { ...w, partitionAt });
    };
    for (const s of SCENARIOS) {
      const q = query(s.id);
      const f = s.fires(NOW);
      fired.set(s.id, f);
      const writes = writesOf(f);
      await writeAll(`fire.${s.id}`, writes);
      await writeAll(`miss.${s.id}`, writesOf(s.nearMiss(NOW)));
      const first = Math.min(...writes.flatMap((w) => w.events.map((e) => Date.parse(e.published))));
      if (s.firesAtLookbackEdge !== false) await writeAll(`edge.${s.id}`, shiftedWrites(writes, NOW - q.lookbackMs + 2 * MINUTE - first));
      // The same in-window events, in files placed in partitions the lookback excludes.
      await writeAll(`stale-day.${s.id}`, shiftedWrites(writes, 0), NOW - q.lookbackMs - DAY);
      if (q.lookbackMs < 2 * DAY) await writeAll(`stale-hour.${s.id}`, shiftedWrites(writes, 0), NOW - q.lookbackMs - HOUR);
    }
    lake = await testLake.open();
    // Act: each query once.
    for (const s of SCENARIOS) {
      const result = await executeQuery(lake, query(s.id), { now: new Date(NOW), params: s.params });
      rows.set(s.id, result.rows);
      columns.set(s.id, result.columns);
    }
  }, 180_000);

  afterAll(async () => {
    lake?.close();
    await testLake?.close();
  });

  it('has scenarios for every query of athena-queries/', () => {
    expect(SCENARIOS.map((s) => s.id).sort()).toEqual([...QUERIES.keys()].sort());
  });

  for (const s of SCENARIOS) {
    describe(s.id, () => {
      it(`finds: ${s.what}`, () => {
        const f = fired.get(s.id) as Fired;
        const compared = [...new Set([...keysOf(s.id), ...f.expect.flatMap((e) => Object.keys(e))])];
        expect(project(findingsOf(s.id, 'fire'), compared, s.ordered)).toEqual(project(f.expect, compared, s.ordered));
      });

      it(`does not fire on the near miss: ${s.nearMissWhat}`, () => {
        expect(findingsOf(s.id, 'miss')).toEqual([]);
      });

      it('returns lower-case snake_case columns, the finding key among them, and org', () => {
        const cols = columns.get(s.id) ?? [];
        for (const c of cols) expect(c).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(cols).toEqual(expect.arrayContaining(['org', ...query(s.id).findingKey]));
      });

      if (s.firesAtLookbackEdge !== false) {
        it('still finds the scenario when its first event is just inside the lookback', () => {
          expect(findingsOf(s.id, 'edge').length).toBeGreaterThan(0);
        });
      }

      it('does not read a dt partition older than its lookback + 1 day (in-window events filed there)', () => {
        expect(findingsOf(s.id, 'stale-day')).toEqual([]);
      });

      if (query(s.id).lookbackMs < 2 * DAY) {
        it('does not read the hour partition before its lookback starts (in-window events filed there)', () => {
          expect(findingsOf(s.id, 'stale-hour')).toEqual([]);
        });
      }
    });
  }
});
