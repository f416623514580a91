import { describe, expect, it } from 'vitest';
import { IngestError, runIngest, type IngestOptions } from '../../lib/core/ingest/ingest';
import { runScheduledInvocation } from '../../lib/core/ingest/invocation';
import { EmptyPagesError } from '../../lib/core/ingest/page-chain';
import { eventObjectKey, pageObjectName, partitionOf } from '../../lib/core/layout';
import type { LogPage, LogPageSource } from '../../lib/core/ports';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import { ManualClock } from '../../testkit/clock';
import { FakeIndex, FakeSource, FakeWriter, MemorySink, fakeEvents } from '../../testkit/fakes';
import { HOUR } from '../../lib/core/time';

const ORG = 'acme.okta.com';

function setup(eventCount = 100, pageSize = 7) {
  // 100 events one minute apart from 10:00, so they span two hours.
  const events = fakeEvents(eventCount, '2024-05-01T10:00:00.000Z', 60_000);
  const source = new FakeSource(events, pageSize);
  const writer = new FakeWriter();
  const sink = new MemorySink();
  const store = new MemoryWatermarkStore();
  const clock = new ManualClock(Date.parse('2024-05-01T14:00:00.000Z'));
  const base: IngestOptions = {
    org: ORG,
    source,
    writer,
    sink,
    store,
    owner: 'run-1',
    clock,
    since: '2024-05-01T09:30:00.000Z',
    maxWindowMs: HOUR,
    settleLagMs: 5 * 60_000,
  };
  return { events, source, writer, sink, store, clock, base };
}

/** Answers `[]` with a next link to the same position instead of the real page whenever `empty(n)` (n: 1-based request count). */
function withEmptyPages(inner: LogPageSource, empty: (n: number) => boolean): LogPageSource & { requests: number } {
  const source = {
    requests: 0,
    boundedQueryUrl: (since: string, until: string) => inner.boundedQueryUrl(since, until),
    async fetchPage(url: string): Promise<LogPage> {
      source.requests++;
      return empty(source.requests) ? { url, body: '[]', nextUrl: url } : inner.fetchPage(url);
    },
  };
  return source;
}

describe('runIngest', () => {
  it('reads closed windows until caught up and writes each event once', async () => {
    // Prepare
    const { events, sink, store, base } = setup();
    // Act
    const result = await runIngest(base);
    // Assess
    expect(result.outcome).toBe('caught-up');
    expect(result.eventsWritten).toBe(events.length);
    expect(sink.uuids().sort()).toEqual(events.map((e) => e.uuid));
    // Windows are [09:30,10:30) [10:30,11:30) ... up to now - settle lag = 13:55.
    expect(result.watermark).toBe('2024-05-01T13:55:00.000Z');
    expect(result.windows).toBe(5);
    expect(store.peek(ORG)).toMatchObject({ watermark: '2024-05-01T13:55:00.000Z', totalEvents: events.length });
    expect(store.peek(ORG)?.window).toBeUndefined();
  });

  it('a second run with nothing new reads nothing and writes nothing', async () => {
    const { sink, source, base } = setup();
    await runIngest(base);
    const requests = source.requests.length;
    const puts = sink.puts;
    // Act
    const again = await runIngest({ ...base, owner: 'run-2' });
    // Assess
    expect(again).toMatchObject({ outcome: 'caught-up', pages: 0, eventsWritten: 0 });
    expect(source.requests.length).toBe(requests);
    expect(sink.puts).toBe(puts);
  });

  it('stops on the time budget mid-window with a checkpoint, and the next run resumes at the same page', async () => {
    // Prepare: the budget runs out after 3 pages.
    const { events, sink, store, source, base } = setup();
    let pages = 0;
    const first = await runIngest({
      ...base,
      timeBudget: { remainingMs: () => (pages >= 3 ? 0 : 60_000), marginMs: 1_000 },
      onProgress: () => void pages++,
    });
    expect(first.outcome).toBe('time-budget');
    expect(first.pages).toBe(3);
    const saved = store.peek(ORG);
    expect(saved?.window).toMatchObject({ pagesWritten: 3, eventsWritten: 21 });
    expect(saved?.window?.nextUrl).toContain('after=21');
    const requestsBefore = source.requests.length;
    // Act
    const second = await runIngest({ ...base, owner: 'run-2' });
    // Assess: resumed at the saved next link, not at the window start.
    expect(source.requests[requestsBefore]).toBe(saved?.window?.nextUrl);
    expect(second.outcome).toBe('caught-up');
    expect(first.eventsWritten + second.eventsWritten).toBe(events.length);
    expect(sink.uuids().sort()).toEqual(events.map((e) => e.uuid));
  });

  it('a crash between the S3 write and the checkpoint keeps what was stored and never duplicates', async () => {
    // Prepare: the 4th checkpoint fails as if the process died after writing the page.
    const { events, sink, store, base } = setup();
    let checkpoints = 0;
    const crashing = Object.create(store) as MemoryWatermarkStore;
    crashing.checkpoint = async (...args) => {
      if (++checkpoints === 4) throw new Error('process killed');
      return store.checkpoint(...args);
    };
    await expect(runIngest({ ...base, store: crashing })).rejects.toThrow('process killed');
    const keysAfterCrash = new Set(sink.objects.keys());
    // The lease of the dead run is still held; it expires.
    (base.clock as ManualClock).advance(16 * 60_000);
    // Act
    const resumed = await runIngest({ ...base, owner: 'run-2', until: '2024-05-01T13:55:00.000Z', index: new FakeIndex(sink) });
    // Assess: the sink is write-once, so nothing was put twice
    expect(resumed.outcome).toBe('caught-up');
    expect(resumed.retriedPages).toBe(1);
    expect(resumed.retriedPagesDiffering).toBe(0);
    for (const key of keysAfterCrash) expect(sink.objects.has(key)).toBe(true);
    expect(sink.uuids().sort()).toEqual(events.map((e) => e.uuid));
  });

  it('a positional key found taken with no earlier attempt known is read against the lake, never overwritten', async () => {
    // Prepare: an object already under page 1's name in hour 09 (as if the state had been restored
    // from an older backup), holding two of the window's events.
    const { events, sink, base } = setup();
    const name = pageObjectName('2024-05-01T09:30:00.000Z', '2024-05-01T10:30:00.000Z', 1);
    const planted = eventObjectKey(ORG, partitionOf(Date.parse('2024-05-01T10:07:00.000Z')), name);
    const body = new TextEncoder().encode(JSON.stringify(events.slice(7, 9)));
    await sink.put(planted, body);
    // Act
    const result = await runIngest({ ...base, index: new FakeIndex(sink), until: '2024-05-01T13:55:00.000Z' });
    // Assess
    expect(result.outcome).toBe('caught-up');
    expect(result.unexpectedObjects).toBe(1);
    expect(sink.objects.get(planted)).toBe(body);
    expect(sink.uuids().sort()).toEqual(events.map((e) => e.uuid));
  });

  it('exits without fetching while another run holds the lease', async () => {
    const { source, store, base } = setup();
    await store.acquire(ORG, 'someone-else', 60_000, base.clock!.now());
    // Act
    const result = await runIngest(base);
    // Assess
    expect(result.outcome).toBe('lease-held');
    expect(source.requests).toHaveLength(0);
  });

  it('does not write events at or after the window end: the next window reads them', async () => {
    // Prepare: a source that ignores `until` (as if Okta's bound were inclusive).
    const { events, sink, base, source } = setup(30, 50);
    const leaky = Object.create(source) as FakeSource;
    leaky.fetchPage = async (url) => {
      const u = new URL(url);
      u.searchParams.set('until', '2099-01-01T00:00:00.000Z');
      const page = await source.fetchPage(u.toString());
      return { ...page, url };
    };
    // Act
    const result = await runIngest({ ...base, source: leaky, maxWindowMs: 10 * 60_000 });
    // Assess
    expect(result.outcome).toBe('caught-up');
    expect(sink.uuids().sort()).toEqual(events.map((e) => e.uuid));
  });

  it.each([
    ['since exclusive', { sinceInclusive: false, untilInclusive: false }],
    ['since exclusive and until inclusive', { sinceInclusive: false, untilInclusive: true }],
    ['until inclusive', { sinceInclusive: true, untilInclusive: true }],
  ])('writes every event once whether Okta takes its bounds inclusive or not (%s)', async (_name, bounds) => {
    // Prepare: events every minute, so some sit exactly on window bounds (10:30, 11:30, ...)
    const { events, sink, base, source } = setup(100, 7);
    const other = Object.create(source) as FakeSource;
    other.fetchPage = async (url) => {
      const u = new URL(url);
      // The fake takes [since, until); move the bounds by 1 ms to make it (since, until].
      if (!bounds.sinceInclusive) u.searchParams.set('since', new Date(Date.parse(u.searchParams.get('since') ?? '') + 1).toISOString());
      if (bounds.untilInclusive) u.searchParams.set('until', new Date(Date.parse(u.searchParams.get('until') ?? '') + 1).toISOString());
      const page = await source.fetchPage(u.toString());
      return { ...page, url };
    };
    // Act
    const result = await runIngest({ ...base, source: other });
    // Assess: each event once (uuids() keeps repeats), those of the overlap skipped by the later window
    expect(result.outcome).toBe('caught-up');
    expect(sink.uuids().sort()).toEqual(events.map((e) => e.uuid));
    expect(result.eventsWritten).toBe(events.length);
  });

  it('refuses an overlap of more than a minute', async () => {
    const { base } = setup(1, 5);
    await expect(runIngest({ ...base, overlapMs: 60_001 })).rejects.toThrow(/overlapMs must be a whole number of ms from 0 to 60000/);
  });

  it('refetches a page that is not valid JSON, then keeps it whole in quarantine and goes on', async () => {
    const { sink, source, base } = setup(10, 5);
    // The first page of the first window is truncated three times: the fetch and both refetches.
    // (the window's query overlaps it by 1 s on both sides: see "Window bounds" in ingest.ts)
    const firstUrl = source.boundedQueryUrl('2024-05-01T09:29:59.000Z', '2024-05-01T10:30:01.000Z');
    source.corrupt.set(firstUrl, 3);
    // Act
    const result = await runIngest(base);
    // Assess
    expect(result.pagesQuarantined).toBe(1);
    const quarantined = [...sink.objects.keys()].filter((k) => k.startsWith('quarantine/'));
    expect(quarantined).toHaveLength(1);
    expect(new TextDecoder().decode(sink.objects.get(quarantined[0]))).toMatch(/^\[\{"uuid":"e000000"/);
    expect(result.outcome).toBe('caught-up');
    // The other page of that window and the rest were written.
    expect(result.eventsWritten).toBe(5);
  });

  it('starts a first run at the lookback, never more than 90 days back', async () => {
    const { source, base } = setup(1, 5);
    // Act
    await runIngest({ ...base, since: undefined, initialLookbackMs: 2 * HOUR, maxWindowMs: 3 * HOUR });
    // Assess
    // 12:00 less the 1 s overlap of the window's query
    expect(new URL(source.requests[0]).searchParams.get('since')).toBe('2024-05-01T11:59:59.000Z');
    await expect(runIngest({ ...base, initialLookbackMs: 91 * 24 * HOUR })).rejects.toThrow(/at most 90 days/);
  });

  it('follows empty pages that still carry a next link: they do not end the window', async () => {
    // Prepare: requests 2, 3 and 9 answer an empty page with a next link
    const { events, sink, source, base } = setup();
    const flaky = withEmptyPages(source, (n) => n === 2 || n === 3 || n === 9);
    // Act
    const result = await runIngest({ ...base, source: flaky });
    // Assess
    expect(result.outcome).toBe('caught-up');
    expect(result.emptyPagesFollowed).toBe(3);
    expect(result.eventsWritten).toBe(events.length);
    expect(sink.uuids().sort()).toEqual(events.map((e) => e.uuid));
  });

  it('fails with EmptyPagesError after maxConsecutiveEmptyPages empty pages in a row, keeping the window and its last link', async () => {
    // Prepare: from the 2nd request on, every page is empty with a next link
    const { store, source, base } = setup();
    const stuck = withEmptyPages(source, (n) => n >= 2);
    // Act
    const err = await runIngest({ ...base, source: stuck, maxConsecutiveEmptyPages: 5 }).catch((e: unknown) => e);
    // Assess: loud, not a silently ended window; 1 real page + 6 empty ones were read
    expect(err).toBeInstanceOf(EmptyPagesError);
    expect((err as EmptyPagesError).emptyPages).toBe(6);
    expect((err as Error).message).toMatch(/6 empty pages in a row/);
    expect(stuck.requests).toBeGreaterThanOrEqual(7); // and up to two more fetched ahead
    const saved = store.peek(ORG);
    expect(saved?.watermark).toBeUndefined();
    expect(saved?.window).toMatchObject({ start: '2024-05-01T09:30:00.000Z', pagesWritten: 7, nextUrl: (err as EmptyPagesError).nextUrl });
    await expect(runIngest({ ...base, maxConsecutiveEmptyPages: 0 })).rejects.toThrow(/maxConsecutiveEmptyPages must be a whole number/);
  });

  it('stops cleanly when aborted, with the window checkpointed', async () => {
    const { store, base } = setup();
    const controller = new AbortController();
    // Act
    const result = await runIngest({ ...base, signal: controller.signal, onProgress: () => controller.abort() });
    // Assess
    expect(result).toMatchObject({ outcome: 'stopped', pages: 1 });
    expect(store.peek(ORG)?.window?.pagesWritten).toBe(1);
  });
});

// One scheduled invocation (`runScheduledInvocation`): the run, then the sweep when it caught up; errors returned.
describe('runScheduledInvocation', () => {
  it('sweeps after a run that caught up, with the run’s parts, and returns both whole results', async () => {
    // Prepare
    const { source, sink, base: ingest } = setup();
    const order: string[] = [];
    // Act
    const run = await runScheduledInvocation({
      ingest,
      afterIngest: (r) => void order.push(`ingested ${r.outcome}`),
      sweep: async () => {
        order.push('sweep opened');
        return { index: new FakeIndex(sink), offsetsMs: [HOUR] };
      },
    });
    // Assess
    expect(run.error).toBeUndefined();
    expect(run.failedIn).toBeUndefined();
    expect(run.ingest).toMatchObject({ outcome: 'caught-up', eventsWritten: 100 });
    expect(run.reconcile).toMatchObject({ outcome: 'done', lateEvents: 0 });
    expect(run.reconcile!.lines).toHaveLength(1);
    expect(run.reconcile!.windows).toBeGreaterThan(0);
    expect(order).toEqual(['ingested caught-up', 'sweep opened']);
    // The sweep read through the run's source, behind the watermark the run left.
    expect(source.requests.length).toBeGreaterThan(run.ingest!.pages);
  });

  it('does not open the sweep when the run did not catch up, or when there is none', async () => {
    // Prepare
    const held = setup();
    await held.store.acquire(ORG, 'someone-else', 60_000, held.clock.now());
    const noSweep = setup();
    let opened = 0;
    const sweep = async () => {
      opened++;
      return { index: new FakeIndex(held.sink) };
    };
    // Act
    const leaseHeld = await runScheduledInvocation({ ingest: held.base, sweep });
    const outOfTime = await runScheduledInvocation({ ingest: setup().base, sweep, timeBudget: { remainingMs: () => 0 } });
    const ingestOnly = await runScheduledInvocation({ ingest: noSweep.base });
    // Assess
    expect(leaseHeld).toEqual({ ingest: expect.objectContaining({ outcome: 'lease-held' }) });
    expect(outOfTime).toEqual({ ingest: expect.objectContaining({ outcome: 'time-budget' }) });
    expect(ingestOnly).toEqual({ ingest: expect.objectContaining({ outcome: 'caught-up', eventsWritten: 100 }) });
    expect(opened).toBe(0);
  });

  it('returns what failed, and where, instead of throwing', async () => {
    // Prepare
    const broken = setup();
    const refused = new Error('PutObject refused');
    broken.sink.put = async () => {
      throw refused;
    };
    const sweepFails = setup();
    const indexFailed = new Error('index did not open');
    const afterIngestFails = setup();
    const metricsFailed = new Error('metrics failed');
    let opened = 0;
    // Act
    const inIngest = await runScheduledInvocation({ ingest: broken.base, sweep: async () => ((opened++, { index: new FakeIndex(broken.sink) })) });
    const inSweep = await runScheduledInvocation({ ingest: sweepFails.base, sweep: () => Promise.reject(indexFailed) });
    const inAfterIngest = await runScheduledInvocation({
      ingest: afterIngestFails.base,
      afterIngest: () => {
        throw metricsFailed;
      },
      sweep: async () => ((opened++, { index: new FakeIndex(afterIngestFails.sink) })),
    });
    // Assess
    expect(inIngest.failedIn).toBe('ingest');
    expect(inIngest.ingest).toBeUndefined();
    expect(inIngest.error).toBeInstanceOf(IngestError);
    expect((inIngest.error as Error).cause).toBe(refused);
    expect(inSweep).toEqual({ ingest: expect.objectContaining({ outcome: 'caught-up' }), error: indexFailed, failedIn: 'reconcile' });
    expect(inAfterIngest).toEqual({ ingest: expect.objectContaining({ outcome: 'caught-up' }), error: metricsFailed, failedIn: 'ingest' });
    expect(opened).toBe(0);
  });
});
