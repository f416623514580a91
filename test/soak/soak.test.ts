/**
 * The CI soak: 10,000 events with every fault mixed in and 1% of them late, ingested by scheduled
 * runs into S3 (s3rver) with the watermark in DynamoDB (dynalite), as the Lambda does, then swept.
 * Nothing may be lost or doubled, and every late event must be in the lake. The full soak is
 * `npm run soak` (bench/soak.ts, report in bench/soak.md).
 */
import '../support/aws-env';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runSoak } from '../../bench/soak-harness';
import { DynamoDbWatermarkStore } from '../../lib/adapters/dynamodb-watermark-store';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { KILL_POINTS } from '../../testkit/faults';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { createTestDynamoDbClient, createWatermarkTable, uniqueTableName } from '../support/dynamodb';

describe('soak (CI size) on S3 and DynamoDB', () => {
  const s3 = createS3Client({ endpoint: inject('s3Endpoint'), region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const ddb = createTestDynamoDbClient(inject('dynamodbEndpoint'));
  const tmp = mkdtempSync(join(tmpdir(), 'okta-lake-soak-test-'));

  afterAll(() => {
    s3.destroy();
    ddb.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('loses nothing, doubles nothing, and recovers every late event, with every fault mixed in', { timeout: 240_000 }, async () => {
    // Prepare
    const bucket = `soak-${Date.now().toString(36)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const table = uniqueTableName('soak');
    await createWatermarkTable(ddb, table);

    // Act
    const report = await runSoak({
      events: 10_000,
      seed: 7,
      // Smaller pages than Okta's 1000, so that 10,000 events make many pages with next links.
      pageSize: 250,
      sink: new S3Sink({ client: s3, bucket, prefix: 'lake' }),
      store: new DynamoDbWatermarkStore({ client: ddb, tableName: table }),
      tmpDir: tmp,
    });

    // Assess: completeness.
    expect(report.served).toBe(10_000);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.rawMismatches).toBe(0);
    expect(report.unexpected).toBe(0);
    expect(report.inLake).toBe(10_000);
    expect(report.sweepDuplicatesFound).toBe(0);
    expect(report.lateServed).toBeGreaterThan(50);
    expect(report.lateMissing).toBe(0);
    // The sweep had work to do, and only late events (or those of a page kept whole in quarantine) needed it.
    expect(report.lateRecovered).toBeGreaterThan(0);
    if (report.quarantinedPages === 0) expect(report.recoveredNotLate).toBe(0);
    // Every fault kind happened, and runs failed and were retried by the schedule.
    for (const kind of ['429', '5xx', 'reset', 'stall', 'truncated', 'malformed', 'foreign-next-link']) {
      expect(report.faultsInjected[`okta:${kind}`] ?? 0, kind).toBeGreaterThan(0);
    }
    expect(report.failures['next link to another host refused'] ?? 0).toBeGreaterThan(0);
    for (const kind of ['sink:put:fail', 'store:acquire:fail', 'store:checkpoint:fail', 'store:checkpoint:fail-after-write', 'store:release:fail']) {
      expect(report.faultsInjected[kind] ?? 0, kind).toBeGreaterThan(0);
    }
    for (const point of KILL_POINTS) expect(report.faultsInjected[`kill:${point}`] ?? 0, point).toBeGreaterThan(0);
    expect(report.runs['lease-held'] ?? 0).toBeGreaterThan(0);
    expect(report.runs['time-budget'] ?? 0).toBeGreaterThan(0);
    expect(Object.values(report.clientRetries).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});
