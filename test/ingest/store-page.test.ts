/**
 * The one step by which ingestion, the sweep and import store a page in the write-once lake.
 */
import { describe, expect, it } from 'vitest';
import { PageAlreadyStoredError, storePage } from '../../lib/core/lake/store-page';
import type { PageWriteInput } from '../../lib/core/ports';
import { FakeWriter, MemorySink, fakeEvents } from '../../testkit/fakes';

const ORG = 'acme.okta.com';

function input(name: string): PageWriteInput {
  // Six events 30 minutes apart from 23:10 on 05-01: hours 23 of 05-01 and 00, 01 of 05-02.
  const events = fakeEvents(6, '2024-05-01T23:10:00.000Z', 30 * 60_000);
  return { org: ORG, body: JSON.stringify(events), format: 'array', name, ingestedAt: new Date('2024-05-03T00:00:00.000Z') };
}

describe('storePage', () => {
  it('content naming: a page stored again finds its objects stored and writes nothing', async () => {
    // Prepare
    const sink = new MemorySink();
    const parts = { writer: new FakeWriter(), sink };
    const first = await storePage(parts, input('c-abc'), 'content');
    const before = new Map(sink.objects);
    // Act
    const again = await storePage(parts, input('c-abc'), 'content');
    // Assess
    expect(first.written).toHaveLength(3);
    expect(again.written).toEqual([]);
    expect([...again.alreadyStored].sort()).toEqual([...first.written].sort());
    expect(again.bytesWritten).toBe(0);
    expect(sink.objects).toEqual(before);
  });

  it('position naming: a page stored again is refused with the taken keys, the first objects unchanged', async () => {
    // Prepare
    const sink = new MemorySink();
    const parts = { writer: new FakeWriter(), sink };
    const first = await storePage(parts, input('w1-w2-p00000'), 'position');
    const before = new Map(sink.objects);
    // Act
    const error = await storePage(parts, input('w1-w2-p00000'), 'position').catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(PageAlreadyStoredError);
    expect([...(error as PageAlreadyStoredError).taken].sort()).toEqual([...first.written].sort());
    expect((error as PageAlreadyStoredError).written).toEqual([]);
    expect(sink.objects).toEqual(before);
  });

  it('puts the event objects of a frozen day under late/, the others under events/', async () => {
    // Prepare
    const sink = new MemorySink();
    const asked: string[] = [];
    const compaction = {
      frozenDays: async (org: string) => {
        asked.push(org);
        return new Set(['2024-05-01']);
      },
    };
    // Act
    const stored = await storePage({ writer: new FakeWriter(), sink, compaction }, input('c-def'), 'content');
    // Assess
    expect(asked).toEqual([ORG]);
    expect(stored.lateObjects).toBe(1);
    expect([...stored.written].sort()).toEqual([
      `events/org=${ORG}/dt=2024-05-02/hour=00/c-def.parquet`,
      `events/org=${ORG}/dt=2024-05-02/hour=01/c-def.parquet`,
      `late/org=${ORG}/dt=2024-05-01/hour=23/c-def.parquet`,
    ]);
  });
});
