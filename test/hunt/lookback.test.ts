/**
 * Each query's partition and time conditions are written for its declared lookback. The detection
 * tests prove the effect on real Parquet (an event just inside is found, a file in a partition
 * older than lookback + 1 day is not read); this test checks the text, for every query, so that a
 * query whose header and SQL disagree fails with a message naming both.
 */
import { describe, expect, it } from 'vitest';
import { codeTokens, tableScans } from '../../lib/core/hunt';
import { loadQueries } from '../../lib/core/queries';

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** The code (no comments), in lower case, with single spaces. */
const code = (sql: string): string =>
  codeTokens(sql)
    .map((t) => (t.kind === 'string' || t.kind === 'quoted' ? t.text : t.text.toLowerCase()))
    .join(' ');

const interval = /current_timestamp - interval '(\d+)' (minute|hour|day)/;

describe('lookback of every query', () => {
  for (const q of loadQueries()) {
    it(`${q.id}: dt, hour and published conditions match lookback ${q.lookback}`, () => {
      const text = code(q.sql);
      const reads = tableScans(q.sql, 'okta_system_log');
      const dt = [...text.matchAll(new RegExp(`(?:\\w+ \\. )?dt >= date_format \\( ${interval.source} , '%Y-%m-%d' \\)`, 'g'))];
      const published = [...text.matchAll(new RegExp(`(?:\\w+ \\. )?published >= ${interval.source}`, 'g'))];
      const upper = [...text.matchAll(/(?:\w+ \. )?published <= current_timestamp/g)];
      const ms = (m: RegExpMatchArray): number => Number(m[1]) * UNIT_MS[m[2]];

      // Every FROM okta_system_log has its own dt and published bounds (one WHERE per read).
      const fromTable = [...text.matchAll(/\bfrom okta_system_log\b/g)].length;
      expect(fromTable).toBeGreaterThan(0);
      expect(reads).toBeGreaterThanOrEqual(fromTable);
      expect(dt.length, 'a dt >= date_format(current_timestamp - INTERVAL ...) condition per read').toBe(fromTable);
      // More published conditions may narrow a part of the query (never widen it).
      expect(published.filter((m) => ms(m) === q.lookbackMs).length, 'a published >= current_timestamp - INTERVAL ... condition per read').toBe(fromTable);
      for (const m of published) expect(ms(m)).toBeLessThanOrEqual(q.lookbackMs);
      expect(upper.length, 'a published <= current_timestamp condition per read').toBe(fromTable);
      for (const m of dt) expect(ms(m), `${m[0]} vs lookback ${q.lookback}`).toBe(q.lookbackMs);

      if (q.lookbackMs < 2 * UNIT_MS.day) {
        const hour = [...text.matchAll(new RegExp(`(?:\\w+ \\. )?hour >= date_format \\( ${interval.source} , '%H' \\)`, 'g'))];
        expect(hour.length, 'an hour >= date_format(... , %H) condition per read').toBe(fromTable);
        for (const m of hour) expect(ms(m)).toBe(q.lookbackMs);
      }
    });
  }
});
