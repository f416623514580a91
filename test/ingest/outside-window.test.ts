/**
 * An answer outside the query's bounds cannot plant history: an event published long before (or
 * after) the window being read is quarantined verbatim, never written into a partition of its own.
 * Real writer (DuckDB) and folder sink; the source is a fake that answers one page with an extra
 * event, as a hostile or broken Okta would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalSink } from '../../lib/adapters/local-sink';
import { runIngest } from '../../lib/core/ingest/ingest';
import type { LogPage, LogPageSource } from '../../lib/core/ports';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { ManualClock } from '../../testkit/clock';
import { FakeSource, fakeEvents } from '../../testkit/fakes';
import { auditLake } from '../../testkit/lake-audit';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';

const ORG = 'acme.okta.com';
const root = mkdtempSync(join(tmpdir(), 'okta-lake-outside-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('runIngest: events outside the window', () => {
  it('quarantines a 2021 event and a 2030 event served in a 2024 window; every other event is written once', async () => {
    // Prepare: 30 events from 10:00, one minute apart; the first page also carries the two strays.
    const events = fakeEvents(30, '2024-05-01T10:00:00.000Z', 60_000);
    const strays = [
      JSON.stringify({ uuid: 'stray-2021', published: '2021-03-01T00:00:00.000Z', eventType: 'user.session.start' }),
      JSON.stringify({ uuid: 'stray-2030', published: '2030-03-01T00:00:00.000Z', eventType: 'user.session.start' }),
    ];
    const inner = new FakeSource(events, 10);
    let served = 0;
    const source: LogPageSource = {
      boundedQueryUrl: (since, until) => inner.boundedQueryUrl(since, until),
      async fetchPage(url: string): Promise<LogPage> {
        const page = await inner.fetchPage(url);
        if (served++ > 0) return page;
        return { ...page, body: `${page.body.slice(0, -1)},${strays.join(',')}]` };
      },
    };
    const sink = new LocalSink({ root: join(root, 'lake') });
    const writer = await DuckDbParquetWriter.open();
    try {
      // Act
      const result = await runIngest({
        org: ORG,
        source,
        writer,
        sink,
        store: new MemoryWatermarkStore(),
        owner: 'run',
        clock: new ManualClock(Date.parse('2024-05-01T12:00:00.000Z')),
        since: '2024-05-01T09:30:00.000Z',
        maxWindowMs: 3_600_000,
      });
      const audit = await auditLake(sink);
      // Assess
      expect(result.outcome).toBe('caught-up');
      expect(result.eventsWritten).toBe(30);
      expect(result.eventsQuarantined).toBe(2);
      expect([...audit.byUuid.keys()].sort()).toEqual(events.map((e) => e.uuid));
      expect([...audit.byUuid.values()].every((e) => e.count === 1)).toBe(true);
      expect(audit.quarantined.map((q) => [q.reason, q.raw])).toEqual(strays.map((raw) => ['outside_window', raw]));
      expect((await sink.list('events/')).filter((k) => !k.includes('/dt=2024-05-01/'))).toEqual([]);
    } finally {
      await writer.close();
    }
  });
});
