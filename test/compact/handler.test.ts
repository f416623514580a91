/**
 * The compaction function's handler against real parts: a lake in s3rver written by the real
 * DuckDB writer, the watermark in dynalite, DuckDB compacting in a temporary folder; Athena (no
 * emulator) mocked at the SDK level. Checks that closed days are compacted in S3, that the DDL sent
 * to Athena is the view `lakeViewSql` makes of the lake's state, that `viewOnly` compacts nothing,
 * that a failed DDL fails the run with a named error, and that a table in the view's way is skipped.
 */
import '../support/aws-env';
import { AthenaClient, GetQueryExecutionCommand, GetTableMetadataCommand, MetadataException, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { AthenaViewPublisher, ViewPublishError } from '../../lib/adapters/athena-view-publisher';
import { DynamoDbWatermarkReader } from '../../lib/adapters/dynamodb-watermark-reader';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { COMPACT_METRICS } from '../../lib/config/compact-contract';
import { FREEZE_GRACE_MS, LAKE_TABLES, compactedDaysOf, lakeViewSql } from '../../lib/core/compact';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { createCompactHandler, type CompactHandler } from '../../lambdas/compact/handler';
import type { CompactSettings } from '../../lambdas/compact/settings';
import { ManualClock } from '../../testkit/clock';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { createTestDynamoDbClient, createWatermarkTable, deleteTable, uniqueTableName } from '../support/dynamodb';
import { DAY, ORG, dayEvents, writePages } from './support';

const athena = mockClient(AthenaClient);
const s3 = createS3Client({ endpoint: inject('s3Endpoint'), region: TEST_REGION, credentials: TEST_CREDENTIALS });
const ddb = createTestDynamoDbClient(inject('dynamodbEndpoint'));
const table = uniqueTableName('compact-watermarks');
const NEXT_DAY = '2024-05-02';
/** Past both days' end + 24 h sweep + 1 h margin: both are closed. */
const WATERMARK = '2024-05-05T00:00:00.000Z';
const START = Date.parse('2024-05-05T00:10:00.000Z');

interface Emf {
  readonly _aws: { readonly CloudWatchMetrics: { readonly Metrics: { readonly Name: string }[] }[] };
  readonly [name: string]: unknown;
}

let writer: DuckDbParquetWriter;
let work: string;
let emitted: Emf[];
let logged: string[];
let lakes = 0;

beforeAll(async () => {
  writer = await DuckDbParquetWriter.open({});
  work = await mkdtemp(join(tmpdir(), 'okta-lake-compact-handler-'));
  await createWatermarkTable(ddb, table);
  await ddb.send(new PutItemCommand({ TableName: table, Item: { org: { S: ORG }, version: { N: '1' }, watermark: { S: WATERMARK } } }));
});

afterAll(async () => {
  await writer.close();
  await rm(work, { recursive: true, force: true });
  await deleteTable(ddb, table);
});

beforeEach(() => {
  athena.reset();
  emitted = [];
  logged = [];
  // Logs and EMF records (stdout; warnings and errors go to stderr), kept instead of printed.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      for (const line of text.split('\n').filter((l) => l.trim().length > 0)) {
        if (line.includes('"CloudWatchMetrics"')) emitted.push(JSON.parse(line) as Emf);
        else logged.push(line);
      }
      return true;
    }) as typeof stream.write);
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Athena answering: no table of the view's name yet, the DDL started and then `state`. */
function athenaAnswers(state: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED', tableType?: string): void {
  if (tableType) athena.on(GetTableMetadataCommand).resolves({ TableMetadata: { Name: LAKE_TABLES.view, TableType: tableType, CreateTime: new Date() } });
  else athena.on(GetTableMetadataCommand).rejects(new MetadataException({ message: `Entity Not Found (table ${LAKE_TABLES.view})`, $metadata: {} }));
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-1' });
  athena
    .on(GetQueryExecutionCommand)
    .resolvesOnce({ QueryExecution: { QueryExecutionId: 'qe-1', Status: { State: 'RUNNING' } } })
    .resolves({
      QueryExecution: {
        QueryExecutionId: 'qe-1',
        Status:
          state === 'SUCCEEDED'
            ? { State: 'SUCCEEDED' }
            : { State: 'FAILED', StateChangeReason: 'line 1:8: mismatched input', AthenaError: { ErrorCategory: 2, ErrorMessage: 'line 1:8: mismatched input' } },
      },
    });
}

/** A new bucket with two closed days of events written as ingestion writes them. */
async function newLake(): Promise<{ bucket: string; sink: S3Sink }> {
  const bucket = `compact-handler-${++lakes}-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const sink = new S3Sink({ client: s3, bucket, serverSideEncryption: {} });
  await writePages(sink, writer, dayEvents(300, DAY, 'a'), { pageSize: 50 });
  await writePages(sink, writer, dayEvents(200, NEXT_DAY, 'bb'), { pageSize: 50 });
  return { bucket, sink };
}

function handlerFor(bucket: string, sink: S3Sink, clock: ManualClock, o: { viewOnly?: boolean } = {}): CompactHandler {
  const settings: CompactSettings = { bucket, watermarkTable: table, orgs: [ORG], database: 'okta_lake', workGroup: 'okta-lake', viewOnly: o.viewOnly ?? false };
  return createCompactHandler({
    settings,
    sink,
    watermarks: new DynamoDbWatermarkReader({ client: ddb, tableName: table }),
    publisher: new AthenaViewPublisher({ client: new AthenaClient({ region: TEST_REGION, credentials: TEST_CREDENTIALS }), workGroup: 'okta-lake', database: 'okta_lake', viewName: LAKE_TABLES.view, sleep: async () => undefined }),
    logger: new Logger({ serviceName: COMPACT_METRICS.service }),
    metrics: new Metrics({ namespace: COMPACT_METRICS.namespace, serviceName: COMPACT_METRICS.service }),
    clock,
    duckdb: { threads: 1, memoryLimit: '512MB', tmpDir: join(work, 'duckdb') },
  });
}

const context = { getRemainingTimeInMillis: () => 15 * 60_000 };
const ddlSent = (): string[] => athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.QueryString ?? '');
const metric = (name: string): unknown[] => emitted.filter((e) => e._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name))).map((e) => e[name]);

describe('the compaction handler', () => {
  it('freezes the closed days, compacts them a grace period later, and publishes the view of the state each time', async () => {
    // Prepare
    const { bucket, sink } = await newLake();
    const clock = new ManualClock(START);
    const handler = handlerFor(bucket, sink, clock);
    athenaAnswers();
    // Act 1: the first run freezes both days; nothing is compacted before the grace period.
    const first = await handler({}, context);
    // Assess 1
    expect(first.compaction).toMatchObject({ compacted: 0, failures: 0, waiting: 2, deferred: 0 });
    expect(ddlSent()).toEqual([lakeViewSql({ location: `s3://${bucket}`, days: [] })]);
    expect(first.view).toMatchObject({ outcome: 'published', compactedDays: 0 });
    // Act 2: a grace period later.
    clock.advance(FREEZE_GRACE_MS + 60_000);
    const second = await handler({}, context);
    // Assess 2: both days switched in S3, each to one part, the DDL the view of that state.
    expect(second.compaction).toMatchObject({ compacted: 2, failures: 0, waiting: 0, deferred: 0 });
    for (const dt of [DAY, NEXT_DAY]) {
      const state = await sink.list(`compacted/_state/org=${ORG}/dt=${dt}/`);
      expect(state.map((k) => k.split('/').pop())).toEqual(['g0001-manifest.json', 'g0001-switch.json']);
      expect(await sink.list(`compacted/org=${ORG}/dt=${dt}/`)).toEqual([`compacted/org=${ORG}/dt=${dt}/g0001-part-0.parquet`]);
    }
    const days = await compactedDaysOf(sink, [ORG]);
    expect(days.map((d) => [d.dt, d.generation])).toEqual([
      [DAY, 1],
      [NEXT_DAY, 1],
    ]);
    expect(ddlSent()[1]).toBe(lakeViewSql({ location: `s3://${bucket}`, days }));
    expect(ddlSent()[1]).toContain(`"$path" LIKE '%/g0001-part-%'`);
    const start = athena.commandCalls(StartQueryExecutionCommand)[1].args[0].input;
    expect(start).toMatchObject({ WorkGroup: 'okta-lake', QueryExecutionContext: { Database: 'okta_lake' } });
    // Metrics per run; logs name days and counts, never an event.
    expect(metric(COMPACT_METRICS.names.daysCompacted)).toEqual([0, 2]);
    expect(metric(COMPACT_METRICS.names.failures)).toEqual([0, 0]);
    expect(metric(COMPACT_METRICS.names.daysDeferred)).toEqual([0, 0]);
    const dayLogs = logged.filter((l) => l.includes('"compaction of a day"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(dayLogs.filter((l) => l.outcome === 'compacted').map((l) => [l.dt, l.rows, l.parts])).toEqual([
      [DAY, 300, 1],
      [NEXT_DAY, 200, 1],
    ]);
    expect(logged.join('\n')).not.toContain('"raw"');
    expect(logged.join('\n')).not.toMatch(/"displayMessage"|"actor"/);
    // Act 3: nothing new: the days are up to date, the same view again.
    const third = await handler({}, context);
    expect(third.compaction).toMatchObject({ compacted: 0, upToDate: 2 });
    expect(ddlSent()[2]).toBe(ddlSent()[1]);
  });

  it('leaves the days it cannot start in time to the next run', async () => {
    const { bucket, sink } = await newLake();
    const clock = new ManualClock(START);
    const handler = handlerFor(bucket, sink, clock);
    athenaAnswers();
    await handler({}, context);
    clock.advance(FREEZE_GRACE_MS + 60_000);
    // Less time left than the safety margin: no day is started.
    const run = await handler({}, { getRemainingTimeInMillis: () => 60_000 });
    expect(run.compaction).toMatchObject({ compacted: 0, deferred: 2 });
    expect(metric(COMPACT_METRICS.names.daysDeferred)).toEqual([0, 2]);
    expect(run.view.outcome).toBe('published');
  });

  it('publishes the view without compacting for {"viewOnly": true}, and on the view function whatever the event', async () => {
    // Prepare: a lake with one compacted generation per day.
    const { bucket, sink } = await newLake();
    const clock = new ManualClock(START);
    athenaAnswers();
    await handlerFor(bucket, sink, clock)({}, context);
    clock.advance(FREEZE_GRACE_MS + 60_000);
    await handlerFor(bucket, sink, clock)({}, context);
    const before = (await sink.list('')).sort();
    athena.resetHistory();
    emitted = [];
    // Act
    const viaEvent = await handlerFor(bucket, sink, clock)({ viewOnly: true }, context);
    const viaFunction = await handlerFor(bucket, sink, clock, { viewOnly: true })({}, context);
    // Assess: nothing written, no compaction metrics, the DDL of the state twice.
    expect((await sink.list('')).sort()).toEqual(before);
    for (const r of [viaEvent, viaFunction]) {
      expect(r.viewOnly).toBe(true);
      expect(r.compaction).toBeUndefined();
      expect(r.view).toMatchObject({ outcome: 'published', compactedDays: 2 });
    }
    const sql = lakeViewSql({ location: `s3://${bucket}`, days: await compactedDaysOf(sink, [ORG]) });
    expect(ddlSent()).toEqual([sql, sql]);
    expect(emitted).toEqual([]);
  });

  it('does not start compaction on a frozen lake for viewOnly: no freeze record is written', async () => {
    const { bucket, sink } = await newLake();
    athenaAnswers();
    await handlerFor(bucket, sink, new ManualClock(START))({ viewOnly: true }, context);
    expect(await sink.list('compacted/')).toEqual([]);
    expect(ddlSent()).toEqual([lakeViewSql({ location: `s3://${bucket}`, days: [] })]);
  });

  it('fails the run with ViewPublishError, Athena’s reason and cause, when the DDL fails', async () => {
    // Prepare
    const { bucket, sink } = await newLake();
    athenaAnswers('FAILED');
    // Act
    const run = handlerFor(bucket, sink, new ManualClock(START))({}, context);
    // Assess
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ViewPublishError);
    expect((error as ViewPublishError).name).toBe('ViewPublishError');
    expect((error as ViewPublishError).message).toContain('line 1:8: mismatched input');
    expect((error as ViewPublishError).state).toBe('FAILED');
    expect((error as ViewPublishError).cause).toMatchObject({ ErrorMessage: 'line 1:8: mismatched input' });
    // The compaction part of the run still happened (the days were frozen) and was counted.
    expect(metric(COMPACT_METRICS.names.failures)).toEqual([0]);
    expect(logged.some((l) => l.includes('"compaction run failed"'))).toBe(true);
  });

  it('skips, with a warning, when a table that is not a view holds the view’s name (an upgrade), and sends no DDL', async () => {
    const { bucket, sink } = await newLake();
    athenaAnswers('SUCCEEDED', 'EXTERNAL_TABLE');
    const run = await handlerFor(bucket, sink, new ManualClock(START))({ viewOnly: true }, context);
    expect(run.view.outcome).toBe('skipped');
    expect(run.view).toMatchObject({ reason: expect.stringContaining('EXTERNAL_TABLE') });
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
    expect(athena.commandCalls(GetTableMetadataCommand)[0].args[0].input).toMatchObject({ CatalogName: 'AwsDataCatalog', DatabaseName: 'okta_lake', TableName: LAKE_TABLES.view });
    expect(logged.some((l) => l.includes('"the lake view was not created"') && l.includes('"WARN"'))).toBe(true);
  });

  it('replaces an existing view (GetTableMetadata says VIRTUAL_VIEW)', async () => {
    const { bucket, sink } = await newLake();
    athenaAnswers('SUCCEEDED', 'VIRTUAL_VIEW');
    const run = await handlerFor(bucket, sink, new ManualClock(START))({ viewOnly: true }, context);
    expect(run.view.outcome).toBe('published');
    expect(ddlSent()).toHaveLength(1);
  });
});
