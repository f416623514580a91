/**
 * Fault injection on the Lambda path: the mock Okta (429 bursts, 5xx, resets, stalls, truncated and
 * malformed pages, a next link to another host), the S3 sink on s3rver failing PutObject, the
 * DynamoDB watermark store on dynalite failing UpdateItem, and the process killed at chosen points.
 * After every fault, the runs that follow leave each served uuid in the lake exactly once, with
 * `raw` byte for byte what Okta served.
 */
import '../support/aws-env';
import { basename } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbWatermarkStore } from '../../lib/adapters/dynamodb-watermark-store';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { IngestError, runIngest, type IngestResult } from '../../lib/core/ingest/ingest';
import { reconcile } from '../../lib/core/ingest/reconcile';
import { SinkLakeIndex } from '../../lib/core/lake/lake-index';
import { ForeignLinkError } from '../../lib/core/okta/errors';
import { FaultInjector, InjectedSinkError, InjectedStoreError, isSimulatedCrash, scriptedPlan, type FaultPlan, type KillPoint } from '../../testkit/faults';
import { ManualClock } from '../../testkit/clock';
import { auditLake } from '../../testkit/lake-audit';
import { RecordingReporter } from '../../testkit/reporter';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { createTestDynamoDbClient, createWatermarkTable, uniqueTableName } from '../support/dynamodb';
import { startRecorder } from '../okta/helpers';
import { HOUR, MINUTE, T0, expectExactLake as expectExact, scenario, startWorld, type Scenario, type World, ingestOptionsFor } from './support';

const SINCE = T0 + 20 * MINUTE;
const iso = (ms: number): string => new Date(ms).toISOString();

describe('faults on the Lambda path (mock Okta, s3rver, dynalite)', () => {
  const s3 = createS3Client({ endpoint: inject('s3Endpoint'), region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const ddb = createTestDynamoDbClient(inject('dynamodbEndpoint'));
  const bucket = `faults-${Date.now().toString(36)}`;
  let sc: Scenario;
  let world: World;
  /** The events a run from SINCE must leave in the lake. */
  let expected: string[];
  let n = 0;

  beforeAll(async () => {
    // 600 events, one every 11 s (to 01:50); 50-event pages, one of which spans 01:00; windows
    // [00:20, 01:20), [01:20, 02:20), [02:20, 02:55).
    sc = scenario({ count: 600, stepMs: 11_000 });
    expected = sc.events.filter((e) => e.publishedMs >= SINCE).map((e) => e.uuid);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const placeholder = new S3Sink({ client: s3, bucket, prefix: 'unused' });
    world = await startWorld({ events: sc.events, sink: placeholder, clockStartMs: T0 + 3 * HOUR, pageSize: 50, requestTimeoutMs: 300 });
  });

  afterAll(async () => {
    await world?.close();
    s3.destroy();
    ddb.destroy();
  });

  /** A fresh lake (S3 prefix) and watermark table for one case. */
  async function lambdaPath() {
    n++;
    const sink = new S3Sink({ client: s3, bucket, prefix: `case-${n}` });
    const table = uniqueTableName('faults');
    await createWatermarkTable(ddb, table);
    const store = new DynamoDbWatermarkStore({ client: ddb, tableName: table });
    const options = ingestOptionsFor(world, sink, store, SINCE);
    return { sink, store, options };
  }

  /** Each expected uuid exactly once, raw byte for byte, nothing else. */
  const expectExactLake = async (sink: S3Sink): Promise<void> => void (await expectExact(sink, expected, sc.texts));

  const retries = () => ({ ...world.client.stats.retries });

  it('Okta faults in one run: 429 burst, 5xx, reset, stall, truncated and malformed pages are retried or refetched', async () => {
    // Prepare
    const { sink, options } = await lambdaPath();
    const before = retries();
    const faultsBefore = world.mock.stats.faultsInjected;
    world.mock.faults.next429 = 3;
    world.mock.faults.next5xx = 2;
    world.mock.faults.nextResets = 1;
    world.mock.faults.nextStalls = 1;
    world.mock.faults.nextTruncated = 1;
    world.mock.faults.nextMalformed = 1;
    const reporter = new RecordingReporter();

    // Act
    const result = await runIngest(options('okta-faults', { reporter }));
    const warnings = reporter.messages('warn');

    // Assess
    expect(result.outcome).toBe('caught-up');
    expect(result.pagesQuarantined).toBe(0);
    const after = retries();
    expect(after['rate-limited'] - before['rate-limited']).toBe(3);
    expect(after['server-error'] - before['server-error']).toBe(2);
    expect(after.network - before.network).toBe(1);
    expect(after.timeout - before.timeout).toBe(1);
    expect(after['incomplete-body'] - before['incomplete-body']).toBe(1);
    expect(world.mock.stats.faultsInjected.malformed - faultsBefore.malformed).toBe(1);
    expect(warnings).toContain('page is not valid JSON; fetching it again');
    await expectExactLake(sink);
  });

  it('a page malformed at every fetch is kept whole in quarantine, and the sweep recovers its events', async () => {
    // Prepare: the first page of the second window is malformed every time it is served.
    const { sink, store, options } = await lambdaPath();
    // The query of the second window starts 1 s before it (the overlap: see "Window bounds" in ingest.ts).
    const secondWindow = iso(SINCE + HOUR - 1_000);
    world.setLogHook((info) => (info.url.searchParams.get('since') === secondWindow && !info.url.searchParams.has('after') ? 'malformed' : undefined));
    let result: IngestResult;
    try {
      // Act
      result = await runIngest(options('malformed'));
    } finally {
      world.setLogHook(undefined);
    }
    const afterIngest = await auditLake(sink);
    // The 1-minute line, standing at 01:00, sweeps [01:00, 02:00).
    const key = `${world.org.host}.reconcile-1m`;
    const line = await store.acquire(key, 'setup', 60_000, world.clock.now());
    await store.release(await store.checkpoint(line!.lease, { org: key, watermark: iso(T0 + HOUR), totalEvents: 0, totalQuarantined: 0 }, 60_000, world.clock.now()));
    const index = await SinkLakeIndex.open({ sink });
    const sweep = await reconcile({
      org: world.org.host,
      source: world.client,
      writer: world.writer,
      sink,
      index,
      store,
      owner: 'sweep',
      clock: world.clock,
      offsetsMs: [MINUTE],
      watermark: result.watermark,
    }).finally(() => index.close());

    // Assess: a whole page (50 events) was quarantined verbatim; the sweep found exactly those.
    expect(result.outcome).toBe('caught-up');
    expect(result.pagesQuarantined).toBe(1);
    expect(afterIngest.rows).toBe(expected.length - 50);
    const page = afterIngest.quarantined.filter((q) => q.reason === 'page');
    expect(page).toHaveLength(1);
    expect(page[0].raw.endsWith(',]')).toBe(true);
    expect(sweep.windows).toBe(1);
    expect(sweep.lateEvents).toBe(50);
    await expectExactLake(sink);
  });

  it('a next link to another host stops the run before anything is sent there; the next run resumes', async () => {
    // Prepare: only the third page carries a next link to another (loopback) host.
    const { sink, options } = await lambdaPath();
    const elsewhere = await startRecorder();
    let requests = 0;
    world.setLogHook(() => {
      world.mock.faults.foreignNextLink = ++requests === 3 ? elsewhere.origin : false;
      return undefined;
    });
    try {
      // Act
      const failed = await runIngest(options('foreign')).catch((e: unknown) => e);
      world.setLogHook(undefined);
      world.mock.faults.foreignNextLink = false;
      const resumed = await runIngest(options('after-foreign'));

      // Assess
      expect(failed).toBeInstanceOf(ForeignLinkError);
      expect(elsewhere.received).toHaveLength(0);
      expect(resumed.outcome).toBe('caught-up');
      await expectExactLake(sink);
    } finally {
      world.setLogHook(undefined);
      world.mock.faults.foreignNextLink = false;
      await elsewhere.stop();
    }
  });

  it('PutObject failures fail the run with the page not checkpointed; the lease is given back and the next run resumes', async () => {
    // Prepare
    const { sink, options } = await lambdaPath();
    const faults = new FaultInjector(scriptedPlan({ put: { 4: 'fail' } }));

    // Act
    const failed = await runIngest(options('put-fails', { sink: faults.sink(sink) })).catch((e: unknown) => e);
    const resumed = await runIngest(options('after-put-fails'));

    // Assess
    expect(failed).toBeInstanceOf(IngestError);
    expect((failed as IngestError).cause).toBeInstanceOf(InjectedSinkError);
    expect(faults.injected).toEqual({ 'sink:put:fail': 1 });
    expect(resumed.outcome).toBe('caught-up');
    await expectExactLake(sink);
  });

  it.each([
    ['a checkpoint UpdateItem fails: the lease is given back, the next run resumes at once', { checkpoint: { 3: 'fail' } }, false],
    ['a checkpoint takes effect but its answer is lost: the lease stays until it expires', { checkpoint: { 3: 'fail-after-write' } }, true],
    ['taking the lease fails: nothing is fetched', { acquire: { 1: 'fail' } }, false],
  ] as const)('%s', async (_name, script, waitsForTtl) => {
    // Prepare
    const { sink, store, options } = await lambdaPath();
    const faults = new FaultInjector(scriptedPlan(script));
    const requestsBefore = world.mock.stats.logRequests;

    // Act
    const failed = await runIngest(options('store-fails', { store: faults.store(store) })).catch((e: unknown) => e);
    const requestsOfFailedRun = world.mock.stats.logRequests - requestsBefore;
    const next = await runIngest(options('next'));
    let resumed: IngestResult = next;
    if (waitsForTtl) {
      world.clock.advance(16 * MINUTE);
      resumed = await runIngest(options('after-ttl'));
    }

    // Assess
    expect(failed).toBeInstanceOf(InjectedStoreError);
    if ('acquire' in script) expect(requestsOfFailedRun).toBe(0);
    expect(next.outcome).toBe(waitsForTtl ? 'lease-held' : 'caught-up');
    expect(resumed.outcome).toBe('caught-up');
    await expectExactLake(sink);
  });

  it('killed after writing the first page of a window the run had just opened: a later run resumes that same window', async () => {
    // Prepare: a run at 01:00 opens [00:20, 00:55) (its end is now minus the settle lag) and dies
    // after storing the window's first page, before the checkpoint that covers it.
    const { sink, store, options } = await lambdaPath();
    let puts = 0;
    let killed = false;
    const faults = new FaultInjector({
      put: () => void puts++,
      store: ({ op }) => (op === 'checkpoint' && puts > 0 && !killed ? ((killed = true), 'kill') : undefined),
    });
    const at = (ms: number) => new ManualClock(ms);

    // Act: the next run comes after the lease expired, when "now minus the settle lag" is later.
    const dead = await runIngest(options('opens-window', { clock: at(T0 + HOUR), sink: faults.sink(sink), store: faults.store(store) })).catch((e: unknown) => e);
    faults.revive();
    const next = await runIngest(options('later', { clock: at(T0 + HOUR + 16 * MINUTE) }));
    const last = await runIngest(options('catches-up'));

    // Assess
    expect(isSimulatedCrash(dead)).toBe(true);
    expect(puts).toBeGreaterThan(0);
    expect(next.outcome).toBe('caught-up');
    expect(last.outcome).toBe('caught-up');
    await expectExactLake(sink);
  });

  /** Kills the process at the first page that writes two objects, between its two PutObjects. */
  function killMidPage(): FaultPlan {
    let last = '';
    let seen = 0;
    return {
      put: ({ key }) => {
        const name = basename(key);
        const secondOfPage = name === last;
        last = name;
        return secondOfPage && ++seen === 1 ? 'kill' : undefined;
      },
    };
  }

  it.each([
    ['mid-page', killMidPage()],
    ['after-put-before-checkpoint', scriptedPlan({ checkpoint: { 5: 'kill' } })],
    ['after-acquire', scriptedPlan({ acquire: { 1: 'kill-after-write' } })],
    ['mid-fetch', scriptedPlan({ fetch: { 6: 'kill' } })],
    ['after-checkpoint', scriptedPlan({ checkpoint: { 7: 'kill-after-write' } })],
  ] as [KillPoint, FaultPlan][])('killed %s: a run before the lease expires fetches nothing, the one after resumes', async (point, plan) => {
    // Prepare
    const { sink, store, options } = await lambdaPath();
    const faults = new FaultInjector(plan);

    // Act
    const killed = await runIngest(options(`dies-${point}`, { sink: faults.sink(sink), store: faults.store(store), source: faults.source(world.client) })).catch(
      (e: unknown) => e,
    );
    faults.revive();
    const requestsBefore = world.mock.stats.logRequests;
    const early = await runIngest(options('too-early'));
    const requestsWhileHeld = world.mock.stats.logRequests - requestsBefore;
    world.clock.advance(16 * MINUTE);
    const resumed = await runIngest(options('after-ttl'));

    // Assess
    expect(isSimulatedCrash(killed)).toBe(true);
    expect(faults.kills).toEqual([point]);
    expect(early.outcome).toBe('lease-held');
    expect(requestsWhileHeld).toBe(0);
    expect(resumed.outcome).toBe('caught-up');
    await expectExactLake(sink);
  });
});
