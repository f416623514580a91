/**
 * End to end, every part real: the mock Okta on loopback serves 25,000 realistic events; the Okta
 * client, the DuckDB writer, the S3 sink (s3rver) and the DynamoDB watermark store (dynalite) ingest
 * them in several runs: one stopped by its time budget mid-window, one killed between the S3 write
 * and the checkpoint (its lease left behind), and the ones that finish. The lake must hold each uuid
 * exactly once, with `raw` equal to what Okta served.
 */
import '../support/aws-env';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbWatermarkStore } from '../../lib/adapters/dynamodb-watermark-store';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { runIngest, type IngestOptions } from '../../lib/core/ingest/ingest';
import { OktaLogClient } from '../../lib/core/okta/client';
import { SswsToken } from '../../lib/core/okta/credentials';
import { parseOrg } from '../../lib/core/okta/org';
import type { Clock, WatermarkStore } from '../../lib/core/ports';
import { openDuckDb, type OpenDuckDb } from '../../lib/core/writer/duckdb';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { generateEvents } from '../../lib/demo/generate';
import { mockEventsFromTexts, startMockOkta, type MockOkta } from '../../lib/mock-okta';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { createTestDynamoDbClient, createWatermarkTable, uniqueTableName } from '../support/dynamodb';
import { MINUTE } from '../../lib/core/time';

const EVENTS = 25_000;
const TOKEN = 'e2e-test-token-not-a-secret';

describe('ingest end to end: mock Okta -> client -> DuckDB writer -> s3rver, watermark in dynalite', () => {
  let mock: MockOkta;
  let texts: string[];
  let writer: DuckDbParquetWriter;
  let duck: OpenDuckDb;
  let work: string;
  const s3 = createS3Client({ endpoint: inject('s3Endpoint'), region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const ddb = createTestDynamoDbClient(inject('dynamodbEndpoint'));
  const bucket = `e2e-${Date.now().toString(36)}`;
  const table = uniqueTableName('e2e');
  // Six hours of events ending an hour ago: every window is closed.
  const start = Math.floor((Date.now() - 7 * 60 * MINUTE) / MINUTE) * MINUTE;

  beforeAll(async () => {
    texts = generateEvents(EVENTS, { start: new Date(start), hours: 6, seed: 7 }).map((e) => JSON.stringify(e));
    mock = await startMockOkta({ events: mockEventsFromTexts(texts), apiToken: TOKEN, rateLimitPerMinute: 10_000 });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await createWatermarkTable(ddb, table);
    writer = await DuckDbParquetWriter.open({});
    duck = await openDuckDb({});
    work = mkdtempSync(join(tmpdir(), 'okta-lake-e2e-'));
  });

  afterAll(async () => {
    await writer?.close();
    duck?.connection.closeSync();
    await mock?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const org = () => parseOrg(mock.origin, { allowInsecureLoopback: true });
  const options = (owner: string, extra: Partial<IngestOptions> = {}): IngestOptions => ({
    org: org().host,
    source: new OktaLogClient({ org: org(), credentials: new SswsToken(TOKEN) }),
    writer,
    sink: new S3Sink({ client: s3, bucket, prefix: 'lake' }),
    store: new DynamoDbWatermarkStore({ client: ddb, tableName: table }),
    owner,
    since: new Date(start).toISOString(),
    maxWindowMs: 2 * 60 * MINUTE,
    ...extra,
  });

  it('holds every served uuid exactly once after interrupted, crashed and resumed runs', async () => {
    // Run 1: its time budget runs out after 4 pages, in the middle of the first window.
    let pages = 0;
    const first = await runIngest(options('run-1', { timeBudget: { remainingMs: () => (pages >= 4 ? 0 : 600_000), marginMs: 1 }, onProgress: () => void pages++ }));
    expect(first.outcome).toBe('time-budget');
    expect(first.eventsWritten).toBeGreaterThan(0);

    // Run 2: killed after writing its 3rd page to S3 and before checkpointing it; it never releases its lease.
    const store = new DynamoDbWatermarkStore({ client: ddb, tableName: table });
    let checkpoints = 0;
    const dying: WatermarkStore = {
      acquire: (...a) => store.acquire(...a),
      checkpoint: async (...a) => {
        if (++checkpoints === 3) throw new Error('SIGKILL');
        return store.checkpoint(...a);
      },
      release: async () => undefined,
    };
    await expect(runIngest(options('run-2', { store: dying }))).rejects.toThrow('SIGKILL');

    // Run 3 starts while the dead run's lease is still valid: it must not fetch anything.
    const requestsBefore = mock.stats.logRequests;
    const blocked = await runIngest(options('run-3'));
    expect(blocked.outcome).toBe('lease-held');
    expect(mock.stats.logRequests).toBe(requestsBefore);

    // Run 4: after the lease expired (16 minutes later), it resumes at the page that was not checkpointed.
    const later: Clock = { now: () => Date.now() + 16 * MINUTE, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
    const last = await runIngest(options('run-4', { clock: later }));
    expect(last.outcome).toBe('caught-up');

    // Assess: read every Parquet object back from S3 and count uuids.
    const sink = new S3Sink({ client: s3, bucket, prefix: 'lake' });
    const keys = (await sink.list('events/')).filter((k) => k.endsWith('.parquet'));
    for (const key of keys) {
      const path = join(work, key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, (await sink.get(key))!);
    }
    const glob = join(work, 'events', '**', '*.parquet');
    const counts = await duck.connection.runAndReadAll(`SELECT count(*)::BIGINT AS n, count(DISTINCT uuid)::BIGINT AS d FROM read_parquet('${glob}')`);
    const [n, d] = counts.getRows()[0] as [bigint, bigint];
    expect(Number(d)).toBe(EVENTS);
    expect(Number(n)).toBe(EVENTS);

    // Every served event is there, and its raw text is what Okta served, byte for byte.
    writeFileSync(join(work, 'served.jsonl'), texts.join('\n'));
    const diff = await duck.connection.runAndReadAll(
      `SELECT count(*)::BIGINT FROM read_json_objects('${join(work, 'served.jsonl')}', format='newline_delimited') s ` +
        `ANTI JOIN read_parquet('${glob}') p ON p.raw = s.json::VARCHAR`,
    );
    expect(Number(diff.getRows()[0][0])).toBe(0);

    // The watermark reached the end of the data's last closed window.
    const state = await store.acquire(org().host, 'inspector', 60_000, Date.now() + 60 * MINUTE);
    expect(state?.state.window).toBeUndefined();
    expect(Date.parse(state!.state.watermark!)).toBeGreaterThan(start + 6 * 60 * MINUTE);
    expect(state?.state.totalEvents).toBe(EVENTS);
  });
});
