/**
 * The CI soak: 10,000 events with every fault mixed in and 1% of them late, ingested by scheduled
 * runs into S3 (s3rver) with the watermark in DynamoDB (dynalite), as the Lambda does, then swept.
 * Nothing may be lost or doubled, and every late event must be in the lake. Every scheduled
 * detection runs in the loop on its schedule (DuckDB on a local copy of every object written to the
 * bucket, the watermark read from the table), and each of the four planted attacks, two of them
 * completed by an event Okta served late, is alerted exactly once. The full soak is `npm run soak`
 * (bench/soak.ts, report in bench/soak.md).
 */
import '../support/aws-env';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runSoak } from '../../bench/soak-harness';
import { DynamoDbWatermarkReader } from '../../lib/adapters/dynamodb-watermark-reader';
import { DynamoDbWatermarkStore } from '../../lib/adapters/dynamodb-watermark-store';
import { LocalSink } from '../../lib/adapters/local-sink';
import { mirroredSink } from '../../testkit/mirror-sink';
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

  it('loses nothing, doubles nothing, recovers every late event and alerts each planted attack once, with every fault mixed in', { timeout: 480_000 }, async () => {
    // Prepare
    const bucket = `soak-${Date.now().toString(36)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const table = uniqueTableName('soak');
    await createWatermarkTable(ddb, table);
    const mirror = new LocalSink({ root: join(tmp, 'mirror'), fsync: false });

    // Act
    const report = await runSoak({
      events: 10_000,
      seed: 7,
      // Smaller pages than Okta's 1000, so that 10,000 events make many pages with next links.
      pageSize: 250,
      sink: mirroredSink(new S3Sink({ client: s3, bucket, prefix: 'lake' }), mirror),
      store: new DynamoDbWatermarkStore({ client: ddb, tableName: table }),
      watermarks: new DynamoDbWatermarkReader({ client: ddb, tableName: table }),
      lakeDir: mirror.location,
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

    // Assess: detections. Each planted attack alerted by its detection, each of its findings exactly once, nothing twice.
    const d = report.detection;
    expect(d.failures).toEqual([]);
    expect(d.unsettled).toEqual([]);
    expect(d.planted.map((p) => p.kind).sort()).toEqual(['mfa-push-bombing', 'mfa-reset-takeover', 'support-impersonation', 'support-password-reset']);
    for (const p of d.planted) {
      expect(p.findings.length, `${p.kind} found by ${p.detectionId}`).toBeGreaterThan(0);
      expect(p.findings.map((f) => f.alerted), p.kind).toEqual(p.findings.map(() => 1));
      expect(p.alertedOnce, p.kind).toBe(true);
    }
    // One alert each, or one per finding when its findings fell in different evaluations (push bombing: the approval
    // after the denials is a second, critical finding).
    for (const p of d.planted) {
      expect(p.alerts, p.kind).toBeGreaterThanOrEqual(1);
      expect(p.alerts, p.kind).toBeLessThanOrEqual(p.findings.length);
    }
    expect(d.repeatedFindings).toBe(0);
    // The late ones: their decisive event was withheld past the ingestion, and only the sweep brought it.
    const late = d.planted.filter((p) => p.late !== undefined);
    expect(late.map((p) => p.kind).sort()).toEqual(['mfa-reset-takeover', 'support-impersonation']);
    for (const p of late) expect(p.late?.recoveredBySweep, p.kind).toBe(true);
    // The impersonation's event came by the 24 h sweep, far behind every cursor: a late-evidence re-evaluation alerted it.
    const impersonation = d.planted.find((p) => p.kind === 'support-impersonation');
    expect(impersonation?.firstAlert?.kind).toBe('late');
    expect(Date.parse(impersonation!.firstAlert!.alertedAt)).toBeGreaterThan(Date.parse(impersonation!.late!.visibleAt));
    expect(d.evaluations).toBeGreaterThan(0);
    expect(d.lateRangesRecorded).toBeGreaterThan(0);
  });
});
