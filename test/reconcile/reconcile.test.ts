/**
 * The reconciliation sweep against the mock Okta (late events held back on a manual clock), the real
 * client, the DuckDB writer and a lake read back through the lake index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors';
import { lateObjectName, pageElements, reconcile, type ReconcileOptions } from '../../lib/core/ingest/reconcile';
import { partitionsOfWindow } from '../../lib/core/layout';
import { sweepLineKey } from '../../lib/core/sweep-lines';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import { MemoryLateEvidenceLog } from '../../lib/core/late-evidence';
import { FaultInjector, isSimulatedCrash, scriptedPlan } from '../../testkit/faults';
import { auditLake, sha256 } from '../../testkit/lake-audit';
import { ManualClock } from '../../testkit/clock';
import { FakeIndex, FakeSource, FakeWriter, MemorySink, fakeEvents, type FakeEvent } from '../../testkit/fakes';
import { RecordingReporter } from '../../testkit/reporter';
import { OktaLogClient } from '../../lib/core/okta/client';
import { SswsToken } from '../../lib/core/okta/credentials';
import { SinkLakeIndex } from '../../lib/core/lake/lake-index';
import { HOUR, MINUTE, T0, TOKEN, runSchedule, scenario, startWorld, type Scenario, type World } from '../faults/support';

const iso = (ms: number): string => new Date(ms).toISOString();

/** A store holding sweep line `key` at `watermark`, its lease free. */
async function storeWithLineAt(key: string, watermark: string, nowMs: number): Promise<MemoryWatermarkStore> {
  const store = new MemoryWatermarkStore();
  const lease = (await store.acquire(key, 'setup', 60_000, nowMs))!.lease;
  await store.release(await store.checkpoint(lease, { org: key, watermark, totalEvents: 0, totalQuarantined: 0 }, 60_000, nowMs));
  return store;
}

function sweepOptions(world: World, sink: MemorySink, store: MemoryWatermarkStore, extra: Partial<ReconcileOptions> = {}): ReconcileOptions {
  return {
    org: world.org.host,
    source: world.client,
    writer: world.writer,
    sink,
    index: world.index,
    store,
    owner: 'sweep',
    clock: world.clock,
    offsetsMs: [HOUR],
    ...extra,
  };
}

describe('reconcile: late events', () => {
  it('the scheduled sweep recovers exactly the late events the ingestion missed, as new -late objects', async () => {
    // Prepare: the same org, ingested every 5 minutes with the 1-hour sweep after each run.
    const sc = scenario({ count: 2700, stepMs: 4_000, lateEvery: 40, lateByMs: 8 * MINUTE });
    const sink = new MemorySink();
    const store = new MemoryWatermarkStore();
    const world = await startWorld({ events: sc.events, sink, clockStartMs: T0 + 5 * MINUTE });
    try {
      // Act: until the 1-hour line has swept the last hour of data.
      const runs = await runSchedule({
        world,
        sink,
        store,
        since: iso(T0),
        everyMs: 5 * MINUTE,
        untilMs: T0 + 4 * HOUR + 10 * MINUTE,
        reconcile: { offsetsMs: [HOUR] },
      });

      // Assess
      expect(runs.filter((r) => r.error)).toEqual([]);
      const audit = await auditLake(sink);
      expect(audit.byUuid.size).toBe(sc.events.length);
      expect(audit.rows).toBe(sc.events.length);
      const lateKeys = [...sink.objects.keys()].filter((k) => k.includes('-late-'));
      expect(lateKeys.length).toBeGreaterThan(0);
      const recovered = [...audit.byUuid].filter(([, e]) => e.keys.some((k) => k.includes('-late-'))).map(([uuid]) => uuid);
      // Only late events needed the sweep, and a good part of them did (8 minutes late, 5-minute settle lag).
      for (const uuid of recovered) expect(sc.late.has(uuid)).toBe(true);
      expect(recovered.length).toBeGreaterThan(sc.late.size / 4);
      const swept = runs.reduce((n, r) => n + (r.reconcile?.lateEvents ?? 0), 0);
      expect(swept).toBe(recovered.length);
      // raw is what Okta served, byte for byte, for the recovered ones too.
      for (const [uuid, e] of audit.byUuid) expect(e.rawSha256).toBe(sha256(sc.texts.get(uuid)!));
      // Every hour of data was swept once by the line.
      const windows = runs.flatMap((r) => (r.reconcile ? [r.reconcile.windows] : []));
      expect(windows.reduce((a, b) => a + b, 0)).toBe(5); // [-2h,-1h), [-1h,0h) on the first run, then 00h, 01h, 02h
      expect(store.peek(sweepLineKey(world.org.host, HOUR))?.watermark).toBe(iso(T0 + 3 * HOUR));
    } finally {
      await world.close();
    }
  });

  it('records the published span of what it recovers as late evidence, so every detection evaluates it again', async () => {
    // Prepare
    const sc = scenario({ count: 2700, stepMs: 4_000, lateEvery: 40, lateByMs: 8 * MINUTE });
    const sink = new MemorySink();
    const store = new MemoryWatermarkStore();
    const late = new MemoryLateEvidenceLog();
    const world = await startWorld({ events: sc.events, sink, clockStartMs: T0 + 5 * MINUTE });
    try {
      // Act
      const runs = await runSchedule({ world, sink, store, since: iso(T0), everyMs: 5 * MINUTE, untilMs: T0 + 4 * HOUR + 10 * MINUTE, reconcile: { offsetsMs: [HOUR], lateEvidence: late } });
      // Assess: every event the sweep wrote lies inside a recorded range, recorded no later than it was written.
      expect(runs.filter((r) => r.error)).toEqual([]);
      const audit = await auditLake(sink);
      const publishedOf = new Map(sc.events.map((e) => [e.uuid, e.publishedMs]));
      const recovered = [...audit.byUuid].filter(([, e]) => e.keys.some((k) => k.includes('-late-'))).map(([uuid]) => publishedOf.get(uuid)!);
      expect(recovered.length).toBeGreaterThan(0);
      const log = await late.lateLog(world.org.host);
      expect(log.ranges.length).toBeGreaterThan(0);
      for (const published of recovered) {
        expect(log.ranges.some((r) => r.fromMs <= published && published <= r.toMs), `late event at ${iso(published)} is in a recorded range`).toBe(true);
      }
      expect(log.ranges.every((r) => r.maxDelayMs >= HOUR)).toBe(true);
    } finally {
      await world.close();
    }
  });
});

describe('reconcile: sweeping a lake the ingestion left', () => {
  // One ingestion (every 5 minutes, no sweep) whose lake each test copies.
  let sc: Scenario;
  let base: MemorySink;
  let world: World;
  let watermark: string;
  beforeAll(async () => {
    sc = scenario({ count: 2700, stepMs: 4_000, lateEvery: 40, lateByMs: 8 * MINUTE });
    base = new MemorySink();
    const store = new MemoryWatermarkStore();
    world = await startWorld({ events: sc.events, sink: base, clockStartMs: T0 + 5 * MINUTE });
    await runSchedule({ world, sink: base, store, since: iso(T0), everyMs: 5 * MINUTE, untilMs: T0 + 3 * HOUR + 15 * MINUTE });
    watermark = store.peek(world.org.host)!.watermark!;
  });
  afterAll(async () => {
    await world?.close();
  });

  /** A copy of the ingested lake, its index, and a line (offset 1 minute) standing at T0. */
  async function lake() {
    const sink = new MemorySink();
    for (const [k, v] of base.objects) sink.objects.set(k, v);
    const index = await SinkLakeIndex.open({ sink });
    const key = sweepLineKey(world.org.host, MINUTE);
    const lineStore = await storeWithLineAt(key, iso(T0), world.clock.now());
    const options = sweepOptions(world, sink, lineStore, { index, offsetsMs: [MINUTE], watermark });
    return { sink, index, key, lineStore, options };
  }

  it('a first sweep recovers what is missing; sweeping again finds nothing and writes nothing', async () => {
    // Prepare
    const { sink, index, key, options } = await lake();
    try {
      const before = await auditLake(sink);
      const missed = [...sc.late].filter((u) => !before.byUuid.has(u));
      expect(missed.length).toBeGreaterThan(0);
      expect(before.byUuid.size + missed.length).toBe(sc.events.length);
      expect(Date.parse(watermark)).toBeGreaterThanOrEqual(T0 + 3 * HOUR);

      // Act
      const first = await reconcile(options);
      const putsAfterFirst = sink.puts;
      const again = await reconcile({ ...options, store: new MemoryWatermarkStore() }); // a line with no memory: its last window again
      const everything = await reconcile({ ...options, store: await storeWithLineAt(key, iso(T0), world.clock.now()) }); // every window again

      // Assess
      expect(first.outcome).toBe('done');
      expect(first.windows).toBe(3);
      expect(first.lateEvents).toBe(missed.length);
      expect(first.eventsSeen).toBe(sc.events.length);
      expect(again.windows).toBe(1);
      expect(again.lateEvents).toBe(0);
      expect(everything.windows).toBe(3);
      expect(everything.lateEvents).toBe(0);
      expect(everything.objectsWritten).toBe(0);
      expect(sink.puts).toBe(putsAfterFirst);
      const after = await auditLake(sink);
      expect(after.byUuid.size).toBe(sc.events.length);
      expect(after.rows).toBe(sc.events.length);
    } finally {
      await index.close();
    }
  });

  it('a sweep killed after writing late events and before its checkpoint: the next run adds nothing twice', async () => {
    // Prepare: the first window's checkpoint kills the process.
    const { sink, index, lineStore, options } = await lake();
    const faults = new FaultInjector(scriptedPlan({ checkpoint: { 1: 'kill' } }));
    try {
      // Act
      const killed = await reconcile({ ...options, store: faults.store(lineStore), sink: faults.sink(sink), owner: 'dies' }).catch((e: unknown) => e);
      const keysAfterKill = [...sink.objects.keys()].filter((k) => k.includes('-late-'));
      faults.revive();
      const blocked = await reconcile({ ...options, owner: 'next' });
      const later = { now: () => world.clock.now() + 16 * MINUTE, sleep: async () => undefined };
      const resumed = await reconcile({ ...options, owner: 'after-ttl', clock: later });

      // Assess
      expect(isSimulatedCrash(killed)).toBe(true);
      expect(faults.kills).toEqual(['after-put-before-checkpoint']);
      expect(keysAfterKill.length).toBeGreaterThan(0);
      expect(blocked.lines[0].leaseHeld).toBe(true);
      expect(blocked.windows).toBe(0);
      expect(resumed.outcome).toBe('done');
      expect(resumed.windows).toBe(3);
      const audit = await auditLake(sink);
      expect(audit.byUuid.size).toBe(sc.events.length);
      expect(audit.rows).toBe(sc.events.length);
    } finally {
      await index.close();
    }
  });

  it('tells when the lake holds an event more than once (it cannot remove it, but nobody should miss it)', async () => {
    // Prepare: a copy of an ingested object of hour 01 under another name.
    const { sink, index, options } = await lake();
    const [key, body] = [...sink.objects].find(([k]) => k.includes('/hour=01/'))!;
    sink.objects.set(key.replace(/\.parquet$/, '-copy.parquet'), body);
    const audit = await auditLake(sink);
    const copied = audit.rows - audit.byUuid.size;
    const reporter = new RecordingReporter();
    try {
      // Act
      const result = await reconcile({ ...options, reporter });
      const warnings = reporter.messages('warn');

      // Assess
      expect(copied).toBeGreaterThan(0);
      expect(result.duplicatesFound).toBe(copied);
      expect(warnings).toEqual(['the lake holds some events of this window more than once']);
    } finally {
      await index.close();
    }
  });

  it('stops on its time budget between pages and resumes the unfinished window next time', async () => {
    // Prepare: 100-event pages, so an hour is 9 pages.
    const { sink, index, key, lineStore, options } = await lake();
    const client = new OktaLogClient({ org: world.org, credentials: new SswsToken(TOKEN), clock: world.clock, pageSize: 100 });
    let pages = 0;
    const counting = { boundedQueryUrl: client.boundedQueryUrl.bind(client), fetchPage: (u: string, s?: AbortSignal) => (pages++, client.fetchPage(u, s)) };
    try {
      // Act: the budget runs out after 12 pages (the second window is unfinished).
      const first = await reconcile({ ...options, source: counting, timeBudget: { remainingMs: () => (pages >= 12 ? 0 : 60_000), marginMs: 1 } });
      const line = lineStore.peek(key);
      const second = await reconcile({ ...options, source: counting });

      // Assess
      expect(first.outcome).toBe('time-budget');
      expect(first.windows).toBe(1);
      expect(first.pages).toBe(12);
      expect(line?.watermark).toBe(iso(T0 + HOUR));
      expect(second.outcome).toBe('done');
      expect(second.windows).toBe(2);
      const audit = await auditLake(sink);
      expect(audit.byUuid.size).toBe(sc.events.length);
      expect(audit.rows).toBe(sc.events.length);
    } finally {
      await index.close();
    }
  });
});

describe('reconcile: sweep lines', () => {
  const ORG = 'acme.okta.com';
  function fakes(events: FakeEvent[]) {
    const sink = new MemorySink();
    const store = new MemoryWatermarkStore();
    const source = new FakeSource(events, 50);
    const base: ReconcileOptions = {
      org: ORG,
      source,
      writer: new FakeWriter(),
      sink,
      index: new FakeIndex(sink),
      store,
      owner: 'sweep',
      clock: new ManualClock(Date.parse('2024-05-03T00:00:00.000Z')),
    };
    return { sink, store, source, base };
  }

  it('with the default offsets, a first run sweeps the last due window of the 1-hour and of the 24-hour line', async () => {
    // Prepare: one event a minute for 2 days, none in the lake.
    const { sink, store, base } = fakes(fakeEvents(2 * 24 * 60, '2024-05-01T00:00:00.000Z', 60_000));

    // Act
    const result = await reconcile({ ...base, watermark: '2024-05-02T23:55:00.000Z' });

    // Assess
    expect(result.lines.map((l) => [l.key, l.sweptUntil, l.windows])).toEqual([
      [`${ORG}.reconcile-60m`, '2024-05-02T22:00:00.000Z', 1],
      [`${ORG}.reconcile-1440m`, '2024-05-01T23:00:00.000Z', 1],
    ]);
    expect(result.lateEvents).toBe(120);
    expect(store.peek(`${ORG}.reconcile-60m`)?.totalEvents).toBe(60);
    const keys = [...sink.objects.keys()];
    expect(keys.some((k) => k.startsWith(`events/org=${ORG}/dt=2024-05-02/hour=21/w20240502T210000.000Z-20240502T220000.000Z-late-`))).toBe(true);
    expect(keys.some((k) => k.startsWith(`events/org=${ORG}/dt=2024-05-01/hour=22/`))).toBe(true);
  });

  it('sweeps each window once per line however often it runs, and a line too far behind skips ahead with a warning', async () => {
    // Prepare
    const { store, base } = fakes(fakeEvents(3 * 24 * 60, '2024-05-01T00:00:00.000Z', 60_000));
    const reporter = new RecordingReporter();

    // Act: runs every 20 minutes over 3 hours, then one after a 2-day pause.
    const runs = [];
    for (let t = Date.parse('2024-05-01T12:00:00.000Z'); t <= Date.parse('2024-05-01T15:00:00.000Z'); t += 20 * MINUTE) {
      runs.push(await reconcile({ ...base, offsetsMs: [HOUR], watermark: iso(t), reporter }));
    }
    const afterPause = await reconcile({ ...base, offsetsMs: [HOUR], watermark: '2024-05-03T15:10:00.000Z', maxBacklogMs: 6 * HOUR, reporter });
    const warnings = reporter.messages('warn');

    // Assess: windows 10h (first run), 11h, 12h, 13h: each once.
    expect(runs.map((r) => r.windows)).toEqual([1, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
    expect(afterPause.windowsSkipped).toBe(2 * 24 - 6 + 0);
    expect(afterPause.windows).toBe(6);
    expect(warnings).toEqual(['sweep line fell behind; skipping windows the ingestion read long after they closed']);
    expect(store.peek(`${ORG}.reconcile-60m`)?.watermark).toBe('2024-05-03T14:00:00.000Z');
  });

  it('skips a line whose lease another run holds, and reads the watermark from the store when none is given', async () => {
    // Prepare
    const { store, base } = fakes(fakeEvents(24 * 60, '2024-05-01T00:00:00.000Z', 60_000));
    const now = Date.parse('2024-05-03T00:00:00.000Z');
    const org = (await store.acquire(ORG, 'ingest', 60_000, now))!;
    await store.checkpoint(org.lease, { org: ORG, watermark: '2024-05-01T12:00:00.000Z', totalEvents: 1, totalQuarantined: 0 }, 60_000, now);
    const busy = await reconcile({ ...base, offsetsMs: [HOUR] });
    await store.release((await store.acquire(ORG, 'ingest', 60_000, now))!.lease);
    await store.acquire(`${ORG}.reconcile-1440m`, 'other-sweep', 60_000, now);

    // Act
    const result = await reconcile({ ...base });

    // Assess
    expect(busy.outcome).toBe('lease-held');
    expect(result.outcome).toBe('done');
    expect(result.lines.map((l) => [l.offsetMs, l.leaseHeld, l.windows])).toEqual([
      [HOUR, false, 1],
      [24 * HOUR, true, 0],
    ]);
    expect((await reconcile({ ...base, store: new MemoryWatermarkStore() })).outcome).toBe('no-watermark');
  });

  it('refuses options it cannot honour, naming them', async () => {
    const { base } = fakes([]);
    const cases: [Partial<ReconcileOptions>, RegExp][] = [
      [{ offsetsMs: [] }, /offsetsMs must list at least one/],
      [{ offsetsMs: [30_000] }, /whole minutes from 1 minute/],
      [{ offsetsMs: [HOUR, HOUR] }, /offsets must differ/],
      [{ spanMs: 5 * HOUR }, /divides a day/],
      [{ spanMs: HOUR, maxBacklogMs: MINUTE }, /maxBacklogMs must be at least spanMs/],
      [{ leaseTtlMs: 5 }, /leaseTtlMs/],
      [{ watermark: 'yesterday' }, /watermark must be an ISO-8601 instant/],
    ];
    for (const [extra, message] of cases) {
      await expect(reconcile({ ...base, ...extra })).rejects.toThrow(ConfigError);
      await expect(reconcile({ ...base, ...extra })).rejects.toThrow(message);
    }
  });
});

describe('reconcile: helpers', () => {
  it('splits a page into exact element texts and uuids', () => {
    const body = '[ {"uuid":"a","x":[1,2]} ,\n{"uuid":""},{"no":"uuid"},"text",{"uuid":"b","s":"],[,"} ]';
    expect(pageElements(body)).toEqual([
      { text: '{"uuid":"a","x":[1,2]}', uuid: 'a' },
      { text: '{"uuid":""}' },
      { text: '{"no":"uuid"}' },
      { text: '"text"' },
      { text: '{"uuid":"b","s":"],[,"}', uuid: 'b' },
    ]);
    expect(pageElements('[{"uuid":"a"},]')).toBeUndefined();
    expect(pageElements('{"uuid":"a"}')).toBeUndefined();
  });

  it('names late objects by window and content, so the same events always give the same name', () => {
    const a = lateObjectName('2024-05-01T10:00:00.000Z', '2024-05-01T11:00:00.000Z', ['u2', 'u1']);
    expect(a).toMatch(/^w20240501T100000\.000Z-20240501T110000\.000Z-late-[0-9a-f]{20}$/);
    expect(lateObjectName('2024-05-01T10:00:00.000Z', '2024-05-01T11:00:00.000Z', ['u1', 'u2'])).toBe(a);
    expect(lateObjectName('2024-05-01T10:00:00.000Z', '2024-05-01T11:00:00.000Z', ['u1'])).not.toBe(a);
  });

  it('gives each hour of a window its partition and each line its own store key', () => {
    expect(partitionsOfWindow(Date.parse('2024-05-01T22:00:00Z'), Date.parse('2024-05-02T01:00:00Z'))).toEqual([
      { dt: '2024-05-01', hour: '22' },
      { dt: '2024-05-01', hour: '23' },
      { dt: '2024-05-02', hour: '00' },
    ]);
    expect(sweepLineKey('acme.okta.com', 90 * MINUTE)).toBe('acme.okta.com.reconcile-90m');
  });
});
