/** The mock Okta's pages on their own: cursors, retention and the next link, without HTTP. */
import { describe, expect, it } from 'vitest';
import { EventIndex } from '../../lib/mock-okta/events';
import { BadRequest } from '../../lib/mock-okta/http';
import { decodeCursor, encodeCursor, LogPages } from '../../lib/mock-okta/pages';
import { ManualClock } from '../../testkit/clock';
import { makeEvents } from './helpers';
import { DAY } from '../../lib/core/time';

const T0 = Date.parse('2024-05-01T00:00:00.000Z');
const ORIGIN = 'http://127.0.0.1:1';
const iso = (ms: number): string => new Date(ms).toISOString();

function pages(nowMs: number, o: { retentionDays?: number; foreign?: boolean | string } = {}): LogPages {
  const index = new EventIndex();
  index.add([...makeEvents(3, T0 - 100 * DAY, 1000, 'old'), ...makeEvents(5, T0, 1000)]);
  return new LogPages({ index, clock: new ManualClock(nowMs), retentionDays: o.retentionDays ?? 90, boundedNext: 'exact', origin: () => ORIGIN, foreignNextLink: () => o.foreign ?? false });
}
const uuids = (body: Buffer): string[] => (JSON.parse(body.toString('utf8')) as { uuid: string }[]).map((e) => e.uuid);

describe('LogPages (mock Okta)', () => {
  it('round-trips a cursor and refuses one it did not make with E0000001', () => {
    const key = { publishedMs: T0, uuid: 'ev-000001' };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
    for (const bad of ['', 'bm90IGpzb24', Buffer.from('[1]').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(BadRequest);
    }
  });

  it('follows next links page by page to the end of a bounded query, the last page without next', () => {
    // Prepare
    const p = pages(T0 + DAY);
    let url: string | undefined = `${ORIGIN}/api/v1/logs?since=${iso(T0)}&until=${iso(T0 + DAY)}&limit=2`;
    const seen: string[][] = [];
    // Act
    while (url !== undefined) {
      const page = p.build(new URL(url));
      seen.push(uuids(page.body));
      url = page.links.map((l) => /^<([^>]+)>; rel="next"$/.exec(l)?.[1]).find((u) => u !== undefined);
    }
    // Assess
    expect(seen).toEqual([['ev-000000', 'ev-000001'], ['ev-000002', 'ev-000003'], ['ev-000004']]);
  });

  it('does not return events older than the retention, while the query itself succeeds', () => {
    const since = `since=${iso(T0 - 120 * DAY)}&until=${iso(T0 + DAY)}`;
    expect(uuids(pages(T0 + DAY).build(new URL(`${ORIGIN}/api/v1/logs?${since}`)).body)).toHaveLength(5);
    expect(uuids(pages(T0 + DAY, { retentionDays: 150 }).build(new URL(`${ORIGIN}/api/v1/logs?${since}`)).body)).toHaveLength(8);
  });

  it('points next links at a foreign origin when the fault plan says so', () => {
    const page = pages(T0 + DAY, { foreign: 'http://127.0.0.1:9999/x' }).build(new URL(`${ORIGIN}/api/v1/logs?limit=1`));
    expect(page.links[1]).toMatch(/^<http:\/\/127\.0\.0\.1:9999\/api\/v1\/logs\?limit=1&after=[A-Za-z0-9_-]+>; rel="next"$/);
  });
});
