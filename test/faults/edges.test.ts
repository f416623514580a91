/**
 * Okta's edges on the real pieces (mock Okta on a manual clock, the Okta client, the DuckDB writer,
 * a local lake and its `SinkLakeIndex`): a query Okta times out on (E0000009) is split, a stale
 * `next` link (HTTP 400) restarts its window, and every served uuid ends in the lake exactly once,
 * with `raw` byte for byte what Okta served.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalSink } from '../../lib/adapters/local-sink';
import { CursorRestartError, runIngest, WindowSplitError } from '../../lib/core/ingest/ingest';
import { SinkLakeIndex } from '../../lib/core/lake/lake-index';
import { reconcile } from '../../lib/core/ingest/reconcile';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import { lakeSuite } from './lake-suite';
import { HOUR, MINUTE, T0, eventText, expectExactLake, startWorld, type Scenario, type World } from './support';

const SINCE = T0 + 20 * MINUTE;
const iso = (ms: number): string => new Date(ms).toISOString();

describe('Okta edges on the real pieces', () => {
  let sc: Scenario;
  let world: World;
  let expected: string[];
  // 600 events, one every 11 s (to 01:50); 50-event pages; windows of an hour from 00:20.
  const { lake } = lakeSuite('edges', { sinceMs: SINCE }, (s) => ({ sc, world, expected } = s));

  it('splits a window Okta times out on (E0000009) and reads the halves, every event once', async () => {
    // Prepare: Okta times out on every query wider than 20 minutes
    const { sink, options } = await lake();
    const before = world.mock.stats.faultsInjected['query-timeout'];
    world.setLogHook((info) => {
      const width = Date.parse(info.url.searchParams.get('until') ?? '') - Date.parse(info.url.searchParams.get('since') ?? '');
      return width > 20 * MINUTE ? 'query-timeout' : undefined;
    });
    // Act
    const result = await runIngest(options('split'));
    // Assess: 60 min -> 30 -> 15 (then 15-minute windows for the rest of the run)
    expect(result.outcome).toBe('caught-up');
    expect(result.windowSplits).toBe(2);
    expect(world.mock.stats.faultsInjected['query-timeout'] - before).toBe(2);
    expect(result.eventsAlreadyInLake).toBe(0);
    expect(result.watermark).toBe(iso(T0 + 3 * HOUR - 5 * MINUTE));
    await expectExactLake(sink, expected, sc.texts);
  });

  it('the sweep, too, reads a range Okta times out on in halves, and finds nothing missing after a split ingestion', async () => {
    // Prepare: Okta times out on every query wider than 20 minutes; the ingestion has split its windows
    const { sink, store, options } = await lake();
    world.setLogHook((info) => {
      const width = Date.parse(info.url.searchParams.get('until') ?? '') - Date.parse(info.url.searchParams.get('since') ?? '');
      return width > 20 * MINUTE ? 'query-timeout' : undefined;
    });
    const ingested = await runIngest(options('split-then-sweep'));
    // A 1-minute sweep line standing at 01:00 sweeps [01:00, 02:00): 60 -> 30 -> 15 minutes
    const key = `${world.org.host}.reconcile-1m`;
    const line = await store.acquire(key, 'setup', 60_000, world.clock.now());
    await store.release(await store.checkpoint(line!.lease, { org: key, watermark: iso(T0 + HOUR), totalEvents: 0, totalQuarantined: 0 }, 60_000, world.clock.now()));
    const index = await SinkLakeIndex.open({ sink });
    // Act
    const sweep = await reconcile({
      org: world.org.host, source: world.client, writer: world.writer, sink, index, store, owner: 'sweep', clock: world.clock,
      offsetsMs: [MINUTE], watermark: ingested.watermark,
    }).finally(() => index.close());
    // Assess
    expect(sweep.outcome).toBe('done');
    expect(sweep.windows).toBe(1);
    expect(sweep.windowSplits).toBe(1 + 2);
    expect(sweep.eventsSeen).toBe(sc.events.filter((e) => e.publishedMs >= T0 + HOUR && e.publishedMs < T0 + 2 * HOUR).length);
    expect(sweep.lateEvents).toBe(0);
    await expectExactLake(sink, expected, sc.texts);
  });

  it('splits a window that times out after pages of it were stored, checking the halves against the lake', async () => {
    // Prepare: the third page (a next link) of the first hour-long window times out
    const { sink, store, options } = await lake();
    const wide = { since: iso(SINCE - 1_000), until: iso(SINCE + HOUR + 1_000) }; // the window's query, 1 s overlap
    let pagesOfWide = 0;
    world.setLogHook((info) => {
      const q = info.url.searchParams;
      if (q.get('since') !== wide.since || q.get('until') !== wide.until) return undefined;
      return ++pagesOfWide === 3 ? 'query-timeout' : undefined;
    });
    // Act
    const result = await runIngest(options('split-late'));
    // Assess: the two stored pages are not written again; the rest is, once
    expect(result.outcome).toBe('caught-up');
    expect(result.windowSplits).toBe(1);
    // 100 events in two pages, one of them (00:19:59) in the overlap before the window: 99 stored
    expect(result.eventsAlreadyInLake).toBe(99);
    expect(store.peek(world.org.host)?.window).toBeUndefined();
    await expectExactLake(sink, expected, sc.texts);
  });

  it('fails with WindowSplitError when even a window of minWindowMs times out, keeping the window', async () => {
    const { store, options } = await lake();
    world.setLogHook(() => 'query-timeout');
    // Act
    const err = await runIngest(options('floor', { minWindowMs: 10 * MINUTE })).catch((e: unknown) => e);
    // Assess: 60 -> 30 -> 15, and 7.5 would be below the floor
    expect(err).toBeInstanceOf(WindowSplitError);
    expect((err as Error).message).toMatch(/cannot be split below minWindowMs = 600000 ms/);
    expect(store.peek(world.org.host)?.window).toMatchObject({ start: iso(SINCE), end: iso(SINCE + 15 * MINUTE) });
  });

  it('restarts a window from its start when Okta refuses its stored next link (HTTP 400), writing nothing twice', async () => {
    // Prepare: a run stops after two pages of the first window; then Okta refuses every cursor once
    const { sink, store, options } = await lake();
    let pages = 0;
    const first = await runIngest(options('before', { timeBudget: { remainingMs: () => (pages >= 2 ? 0 : 60_000), marginMs: 1 }, onProgress: () => void pages++ }));
    const stored = store.peek(world.org.host)?.window?.nextUrl;
    let refused = 0;
    world.setLogHook((info) => (info.url.toString() === stored && refused++ === 0 ? 'bad-cursor' : undefined));
    // Act
    const second = await runIngest(options('after'));
    // Assess
    expect(first.outcome).toBe('time-budget');
    expect(stored).toContain('after=');
    expect(second.outcome).toBe('caught-up');
    expect(second.cursorRestarts).toBe(1);
    // the two pages stored before: 100 events, one of them (00:19:59) in the overlap before the window
    expect(second.eventsAlreadyInLake).toBe(99);
    expect(second.overlapEventsSkipped).toBe(1);
    await expectExactLake(sink, expected, sc.texts);
  });

  it('gives up with CursorRestartError when the restarted window\'s next links are refused again and again', async () => {
    const { store, options } = await lake();
    world.setLogHook((info) => (info.url.searchParams.has('after') ? 'bad-cursor' : undefined));
    // Act
    const err = await runIngest(options('stale', { maxCursorRestarts: 2 })).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(CursorRestartError);
    expect((err as Error).message).toMatch(/after 2 restart\(s\)/);
    expect(store.peek(world.org.host)?.window).toMatchObject({ start: iso(SINCE), checkedUntil: iso(SINCE + HOUR) });
  });
});

describe('window bounds overlap on the real pieces', () => {
  it('reads events within the overlap of two windows twice and writes them once, in ingestion and in the sweep (which follows empty pages with a next link)', async () => {
    // Prepare: events half a second either side of the hour bounds 01:00 and 02:00, and between
    const times = [30 * MINUTE, HOUR - 500, HOUR, HOUR + 500, 90 * MINUTE, 2 * HOUR - 500, 2 * HOUR + 500, 150 * MINUTE];
    const events = times.map((t, i) => ({ uuid: `edge-${i}`, publishedMs: T0 + t, text: eventText(i, `edge-${i}`, T0 + t) }));
    const texts = new Map(events.map((e) => [e.uuid, e.text]));
    const root = await mkdtemp(join(tmpdir(), 'edges-overlap-'));
    const sink = new LocalSink({ root, fsync: false });
    const world = await startWorld({ events, sink, clockStartMs: T0 + 4 * HOUR, pageSize: 3 });
    const store = new MemoryWatermarkStore();
    try {
      // Act: hour-long windows from 00:00; then a 1-minute sweep line standing at 00:00 sweeps [00:00, 03:00)
      const ingested = await runIngest({
        org: world.org.host, source: world.client, writer: world.writer, sink, store, owner: 'ingest', clock: world.clock,
        since: iso(T0), settleLagMs: 5 * MINUTE, maxWindowMs: HOUR,
      });
      const key = `${world.org.host}.reconcile-1m`;
      const line = await store.acquire(key, 'setup', 60_000, world.clock.now());
      await store.release(await store.checkpoint(line!.lease, { org: key, watermark: iso(T0), totalEvents: 0, totalQuarantined: 0 }, 60_000, world.clock.now()));
      // The sweep's first request of each window is answered [] with a next link: it must go on.
      let sweepHookHits = 0;
      const answered = new Set<string>();
      world.setLogHook((info) => {
        const url = info.url.toString();
        if (info.url.searchParams.has('after') || answered.has(url)) return undefined;
        answered.add(url);
        sweepHookHits++;
        return 'empty-next';
      });
      const index = await SinkLakeIndex.open({ sink });
      const sweep = await reconcile({
        org: world.org.host, source: world.client, writer: world.writer, sink, index, store, owner: 'sweep', clock: world.clock,
        offsetsMs: [MINUTE], watermark: iso(T0 + 3 * HOUR + MINUTE),
      }).finally(() => index.close());
      // Assess: 01:00-0.5 s and 02:00-0.5 s are in the overlap of the window after theirs
      expect(sweepHookHits).toBe(3);
      expect(ingested.eventsWritten).toBe(events.length);
      expect(ingested.overlapEventsSkipped).toBe(2);
      expect(sweep.windows).toBe(3);
      expect(sweep.eventsSeen).toBe(events.length);
      expect(sweep.lateEvents).toBe(0);
      await expectExactLake(sink, events.map((e) => e.uuid), texts);
    } finally {
      await world.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
