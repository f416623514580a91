/**
 * Okta's edges on the real pieces (mock Okta on a manual clock, the Okta client, the DuckDB writer,
 * a local lake and its `SinkLakeIndex`): a query Okta times out on (E0000009) is split, a stale
 * `next` link (HTTP 400) restarts its window, and every served uuid ends in the lake exactly once,
 * with `raw` byte for byte what Okta served.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalSink } from '../../lib/adapters/local-sink';
import { CursorRestartError, runIngest, WindowSplitError, type IngestOptions } from '../../lib/core/ingest/ingest';
import { MemoryWatermarkStore } from '../../lib/core/memory-watermark-store';
import { HOUR, MINUTE, T0, expectExactLake, scenario, startWorld, type Scenario, type World } from './support';

const SINCE = T0 + 20 * MINUTE;
const iso = (ms: number): string => new Date(ms).toISOString();

describe('Okta edges on the real pieces', () => {
  let sc: Scenario;
  let world: World;
  let expected: string[];
  const dirs: string[] = [];

  beforeAll(async () => {
    // 600 events, one every 11 s (to 01:50); 50-event pages; windows of an hour from 00:20.
    sc = scenario({ count: 600, stepMs: 11_000 });
    expected = sc.events.filter((e) => e.publishedMs >= SINCE).map((e) => e.uuid);
    const placeholder = new LocalSink({ root: await mkdtemp(join(tmpdir(), 'edges-unused-')), fsync: false });
    world = await startWorld({ events: sc.events, sink: placeholder, clockStartMs: T0 + 3 * HOUR, pageSize: 50 });
  });

  afterEach(() => world.setLogHook(undefined));

  afterAll(async () => {
    await world?.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function lake() {
    const root = await mkdtemp(join(tmpdir(), 'edges-lake-'));
    dirs.push(root);
    const sink = new LocalSink({ root, fsync: false });
    const store = new MemoryWatermarkStore();
    const options = (owner: string, extra: Partial<IngestOptions> = {}): IngestOptions => ({
      org: world.org.host,
      source: world.client,
      writer: world.writer,
      sink,
      store,
      owner,
      clock: world.clock,
      since: iso(SINCE),
      settleLagMs: 5 * MINUTE,
      maxWindowMs: HOUR,
      ...extra,
    });
    return { sink, store, options };
  }

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

  it('splits a window that times out after pages of it were stored, checking the halves against the lake', async () => {
    // Prepare: the third page (a next link) of the first hour-long window times out
    const { sink, store, options } = await lake();
    const wide = { since: iso(SINCE), until: iso(SINCE + HOUR) };
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
    expect(result.eventsAlreadyInLake).toBe(100);
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
    expect(second.eventsAlreadyInLake).toBe(100);
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
