/**
 * A page retried after the run that stored it died before its checkpoint, while a late event has
 * appeared in its range: the retried page ends earlier and its last events move to the next page.
 * The lake is write-once (S3 `If-None-Match: *`, refused by the emulator as by S3), so the first
 * attempt's objects stay as they are, byte for byte, and the resumed run reads the rest of the
 * window against the lake: it writes only the events the lake lacks, never an object over another,
 * and every event is in the lake once. Real pieces: mock Okta on a manual clock, the Okta client,
 * the DuckDB writer, s3rver (with conditional writes), dynalite.
 */
import '../support/aws-env';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbWatermarkStore } from '../../lib/adapters/dynamodb-watermark-store';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { runIngest, type IngestOptions, type IngestResult } from '../../lib/core/ingest/ingest';
import { SinkLakeIndex } from '../../lib/core/lake/lake-index';
import { reconcile } from '../../lib/core/ingest/reconcile';
import { eventObjectKey, pageObjectName, partitionOf, quarantineObjectKey } from '../../lib/core/layout';
import type { LakeSink } from '../../lib/core/ports';
import { FaultInjector, isSimulatedCrash, type FaultPlan } from '../../testkit/faults';
import { auditLake } from '../../testkit/lake-audit';
import type { MockEvent, MockOktaOptions } from '../../lib/mock-okta';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { createTestDynamoDbClient, createWatermarkTable, uniqueTableName } from '../support/dynamodb';
import { HOUR, MINUTE, T0, eventText, expectExactLake, startWorld, type World } from './support';

const SINCE = T0 + 20 * MINUTE;
const PAGE_SIZE = 5;
const iso = (ms: number): string => new Date(ms).toISOString();
/** The first window every case reads, and the name of its page 1 (the page the first run dies on). */
const WINDOW = { start: iso(SINCE), end: iso(SINCE + HOUR) };
const PAGE_1 = pageObjectName(WINDOW.start, WINDOW.end, 1);

interface Arranged {
  readonly events: MockEvent[];
  readonly texts: Map<string, string>;
  /** uuids every case must leave in the lake exactly once. */
  readonly expected: string[];
}

/**
 * Events at the given minutes after T0 (5-event pages). `late` ones become visible at `visibleAtMs`;
 * `unidentified` ones are served without a uuid (the writer quarantines them).
 */
function arrange(spec: readonly { readonly minute: number; readonly late?: boolean; readonly unidentified?: boolean }[], visibleAtMs: number): Arranged {
  const texts = new Map<string, string>();
  const events = spec.map((s, i): MockEvent => {
    const uuid = `ev-${String(i).padStart(6, '0')}`;
    const publishedMs = T0 + s.minute * MINUTE;
    const text = eventText(i, s.unidentified ? undefined : uuid, publishedMs);
    if (!s.unidentified) texts.set(uuid, text);
    return { uuid, publishedMs, text, ...(s.late ? { visibleAtMs } : {}) };
  });
  return { events, texts, expected: [...texts.keys()] };
}

/** The process dies after page `page`'s objects are stored, before the checkpoint that covers them. */
function killBeforeCheckpointOfPage(page: number): FaultPlan {
  const marker = `-p${String(page).padStart(5, '0')}.`;
  let stored = false;
  let killed = false;
  return {
    put: ({ key }) => {
      if (key.includes(marker)) stored = true;
      return undefined;
    },
    store: ({ op }) => (op === 'checkpoint' && stored && !killed ? ((killed = true), 'kill') : undefined),
  };
}

describe('a page retried after a crash, with a late event in its range (mock Okta, s3rver, dynalite)', () => {
  const s3 = createS3Client({ endpoint: inject('s3Endpoint'), region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const ddb = createTestDynamoDbClient(inject('dynamodbEndpoint'));
  const bucket = `retried-page-${Date.now().toString(36)}`;
  let n = 0;
  let world: World | undefined;

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(() => {
    s3.destroy();
    ddb.destroy();
  });

  /** A fresh lake, watermark table and mock Okta serving `events`, with the clock at `clockStartMs`. */
  async function setUp(events: readonly MockEvent[], clockStartMs: number, mock: Partial<MockOktaOptions> = {}) {
    n++;
    const sink = new S3Sink({ client: s3, bucket, prefix: `case-${n}` });
    const table = uniqueTableName('retried');
    await createWatermarkTable(ddb, table);
    const store = new DynamoDbWatermarkStore({ client: ddb, tableName: table });
    const w = await startWorld({ events, sink, clockStartMs, pageSize: PAGE_SIZE, mock });
    world = w;
    const options = (owner: string, extra: Partial<IngestOptions> = {}): IngestOptions => ({
      org: w.org.host,
      source: w.client,
      writer: w.writer,
      sink,
      store,
      owner,
      clock: w.clock,
      since: iso(SINCE),
      settleLagMs: 5 * MINUTE,
      maxWindowMs: HOUR,
      ...extra,
    });
    /** The first run: dies after storing page 1 of the first window, before its checkpoint. */
    const dieAfterPage1 = async (): Promise<unknown> => {
      const faults = new FaultInjector(killBeforeCheckpointOfPage(1));
      return runIngest(options('dies', { sink: faults.sink(sink), store: faults.store(store) })).catch((e: unknown) => e);
    };
    return { world: w, sink, store, options, dieAfterPage1 };
  }

  /** Every object of the lake with its bytes. */
  async function snapshot(sink: LakeSink): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (const key of await sink.list('')) out.set(key, Buffer.from((await sink.get(key))!));
    return out;
  }

  /** Every object of `before` is in `after` with the same bytes. */
  function expectKeptByteForByte(before: Map<string, Buffer>, after: Map<string, Buffer>): void {
    for (const [key, body] of before) expect(after.get(key)?.equals(body), key).toBe(true);
  }

  /** Each case closes its world (mock Okta, writer, index) in a finally block. */
  async function closeWorld(): Promise<void> {
    await world?.close();
    world = undefined;
  }

  it('the event the late one pushed into the next page stays in the first attempt\'s object of its hour, and is not written again', async () => {
    // Prepare: page 1 of [00:20, 01:20) is 00:40..00:43 and 01:05, alone in hour 01. A late event
    // published at 00:44 becomes visible after the first run died on that page: the retried page 1
    // ends at 00:44 (hour 00 only) and 01:05 moves to page 2.
    const visibleAtMs = T0 + 2 * HOUR + 10 * MINUTE;
    const arranged = arrange(
      [
        ...[30, 31, 32, 33, 34, 40, 41, 42, 43, 65, 66, 67, 68, 90, 91].map((minute) => ({ minute })),
        { minute: 44, late: true },
      ],
      visibleAtMs,
    );
    const { world: w, sink, options, dieAfterPage1 } = await setUp(arranged.events, T0 + 2 * HOUR);
    const staleKey = eventObjectKey(w.org.host, partitionOf(T0 + 65 * MINUTE), PAGE_1);
    try {
      // Act
      const dead = await dieAfterPage1();
      const heldAfterCrash = (await auditLake(sink)).byUuid.get('ev-000009')?.keys;
      const afterCrash = await snapshot(sink);
      w.clock.advanceTo(visibleAtMs);
      w.clock.advance(16 * MINUTE); // the dead run's lease expires
      const resumed = await runIngest(options('resumes'));

      // Assess
      expect(isSimulatedCrash(dead)).toBe(true);
      expect(heldAfterCrash).toEqual([staleKey]);
      expect(resumed.outcome).toBe('caught-up');
      expect(resumed.retriedPages).toBe(1);
      expect(resumed.retriedPagesDiffering).toBe(1);
      expect(resumed.unexpectedObjects).toBe(0);
      expectKeptByteForByte(afterCrash, await snapshot(sink));
      const audit = await expectExactLake(sink, arranged.expected, arranged.texts);
      expect(audit.byUuid.get('ev-000009')?.keys).toEqual([staleKey]);
      // The late event: in hour 00, under a name made from its text (not page 1's name, which is taken).
      const lateKeys = audit.byUuid.get('ev-000015')?.keys ?? [];
      expect(lateKeys).toHaveLength(1);
      expect(lateKeys[0]).toMatch(new RegExp(`/dt=2024-05-01/hour=00/w[0-9TZ.]+-[0-9TZ.]+-c-[0-9a-f]{20}\\.parquet$`));
    } finally {
      await closeWorld();
    }
  });

  it('every object of the first attempt is kept byte for byte and each event and quarantined element is stored once, also across a day boundary', async () => {
    // Prepare: page 1 is 00:40, 00:41, an element without uuid at 00:42, 00:43, and 01:05 (alone in
    // hour 01). The first run dies on it at 23:54 (its quarantine object is filed under 05-01); a
    // late event at 00:44 is visible at midnight; the resumed run comes at 00:16 on 05-02.
    const visibleAtMs = T0 + 24 * HOUR;
    const arranged = arrange(
      [
        ...[30, 31, 32, 33, 34, 40, 41].map((minute) => ({ minute })),
        { minute: 42, unidentified: true },
        ...[43, 65, 66, 67, 68].map((minute) => ({ minute })),
        { minute: 44, late: true },
      ],
      visibleAtMs,
    );
    const { world: w, sink, options, dieAfterPage1 } = await setUp(arranged.events, T0 + 24 * HOUR - 6 * MINUTE);
    const org = w.org.host;
    const firstParquet = eventObjectKey(org, partitionOf(T0 + 65 * MINUTE), PAGE_1);
    const firstQuarantine = quarantineObjectKey(org, '2024-05-01', PAGE_1);
    const unidentifiedText = arranged.events[7].text;
    try {
      // Act
      const dead = await dieAfterPage1();
      const afterCrash = await snapshot(sink);
      w.clock.advanceTo(visibleAtMs);
      w.clock.advance(16 * MINUTE);
      const resumed = await runIngest(options('resumes'));
      const afterResume = await snapshot(sink);

      // Assess: what the first attempt stored is all there, unchanged.
      expect(isSimulatedCrash(dead)).toBe(true);
      expect([...afterCrash.keys()]).toEqual(expect.arrayContaining([firstParquet, firstQuarantine]));
      expectKeptByteForByte(afterCrash, afterResume);
      expect(resumed.outcome).toBe('caught-up');
      expect(resumed.retriedPages).toBe(1);
      // The element without a uuid: quarantined once, by the first attempt, on 05-01.
      const audit = await expectExactLake(sink, arranged.expected, arranged.texts);
      const quarantined = audit.quarantined.filter((q) => q.raw === unidentifiedText);
      expect(quarantined.map((q) => q.key)).toEqual([firstQuarantine]);
      expect(audit.quarantined).toHaveLength(1);
      expect(audit.byUuid.get('ev-000009')?.keys).toEqual([firstParquet]);
    } finally {
      await closeWorld();
    }
  });

  it('a retried page that comes back empty (its events past retention) leaves the first attempt\'s objects: nothing later can write them again', async () => {
    // Prepare: the mock keeps one day of events; the resumed run comes a day later, when the window's
    // events are no longer returned, so the retried page 1 is `[]` and ends the window.
    const arranged = arrange([30, 31, 32, 33, 34, 40, 41, 42, 43, 65, 66, 67, 68].map((minute) => ({ minute })), 0);
    const { world: w, sink, options, dieAfterPage1 } = await setUp(arranged.events, T0 + 2 * HOUR, { retentionDays: 1 });
    try {
      // Act
      const dead = await dieAfterPage1();
      w.clock.advance(24 * HOUR);
      const resumed = await runIngest(options('resumes'));

      // Assess: pages 0 and 1 of the first attempt are kept; the rest of the window expired unread.
      expect(isSimulatedCrash(dead)).toBe(true);
      expect(resumed.outcome).toBe('caught-up');
      expect(resumed.eventsWritten).toBe(0);
      expect(resumed.retriedPages).toBe(1);
      expect(resumed.retriedPagesDiffering).toBe(0);
      await expectExactLake(sink, arranged.expected.slice(0, 10), arranged.texts);
    } finally {
      await closeWorld();
    }
  });

  it('a retried page kept whole in quarantine leaves the first attempt\'s objects of it; the sweep adds only the late event', async () => {
    // Prepare: as in the first case, but the retried page 1 is malformed at every fetch.
    const visibleAtMs = T0 + 2 * HOUR + 10 * MINUTE;
    const arranged = arrange(
      [...[30, 31, 32, 33, 34, 40, 41, 42, 43, 65, 66, 67, 68].map((minute) => ({ minute })), { minute: 44, late: true }],
      visibleAtMs,
    );
    const { world: w, sink, store, options, dieAfterPage1 } = await setUp(arranged.events, T0 + 2 * HOUR);
    const org = w.org.host;
    try {
      // Act
      const dead = await dieAfterPage1();
      w.clock.advanceTo(visibleAtMs);
      w.clock.advance(16 * MINUTE);
      // The resumed run's first request is page 1 (the link the state holds); it is refetched as is.
      let page1: string | undefined;
      w.setLogHook((info) => {
        page1 ??= info.url.toString();
        return info.url.toString() === page1 ? 'malformed' : undefined;
      });
      let resumed: IngestResult;
      try {
        resumed = await runIngest(options('resumes'));
      } finally {
        w.setLogHook(undefined);
      }
      const afterIngest = await auditLake(sink);
      // A 1-minute sweep line standing at 00:00 sweeps [00:00, 01:00) and [01:00, 02:00).
      const key = `${org}.reconcile-1m`;
      const line = await store.acquire(key, 'setup', 60_000, w.clock.now());
      await store.release(await store.checkpoint(line!.lease, { org: key, watermark: iso(T0), totalEvents: 0, totalQuarantined: 0 }, 60_000, w.clock.now()));
      const index = await SinkLakeIndex.open({ sink });
      const sweep = await reconcile({
        org,
        source: w.client,
        writer: w.writer,
        sink,
        index,
        store,
        owner: 'sweep',
        clock: w.clock,
        offsetsMs: [MINUTE],
        watermark: resumed.watermark,
      }).finally(() => index.close());

      // Assess: after the ingestion, page 1's events are in the first attempt's objects; 01:05
      // (pushed into page 2) is not written again; the late event, only in the unreadable retried
      // page, is added by the sweep, once.
      expect(isSimulatedCrash(dead)).toBe(true);
      expect(resumed.outcome).toBe('caught-up');
      expect(resumed.pagesQuarantined).toBe(1);
      expect([...afterIngest.byUuid.values()].every((e) => e.count === 1)).toBe(true);
      expect(afterIngest.byUuid.has('ev-000005')).toBe(true);
      expect(afterIngest.byUuid.has('ev-000013')).toBe(false);
      expect(afterIngest.byUuid.get('ev-000009')?.keys).toEqual([eventObjectKey(org, partitionOf(T0 + 65 * MINUTE), PAGE_1)]);
      expect(sweep.lateEvents).toBe(1);
      await expectExactLake(sink, arranged.expected, arranged.texts);
    } finally {
      await closeWorld();
    }
  });
});
