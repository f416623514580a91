/**
 * The rules every evaluation-cursor store and late-evidence log keeps, run against the in-memory
 * ones, the lake's state folder (FileDetectionState) and DynamoDB (dynalite); and the watermark
 * reader the runner uses on the watermark table.
 */
import '../support/aws-env';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbEvaluationStore, EVALUATION_TABLE_KEY } from '../../lib/adapters/dynamodb-evaluation-store';
import { DynamoDbWatermarkReader } from '../../lib/adapters/dynamodb-watermark-reader';
import { FileDetectionState } from '../../lib/adapters/file-detection-state';
import { FileWatermarkStore } from '../../lib/adapters/file-watermark-store';
import { MemoryCursorStore } from '../../lib/core/detect/memory-cursor-store';
import type { EvaluationCursorStore } from '../../lib/core/detect/ports';
import { LATE_RANGE_RETENTION_MS, MAX_LATE_RANGES, MemoryLateEvidenceLog, appendLateRange, EMPTY_LATE_LOG, type LateEvidenceLog } from '../../lib/core/late-evidence';
import { createKeyedTable, createTestDynamoDbClient, createWatermarkTable, deleteTable, uniqueTableName } from '../support/dynamodb';
import { describeSuppressionStoreContract } from './suppression-store-contract';

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
const endpoint = inject('dynamodbEndpoint');
const client = createTestDynamoDbClient(endpoint);
const otherClient = createTestDynamoDbClient(endpoint);
const tableName = uniqueTableName('evaluation');
const watermarkTable = uniqueTableName('watermarks');
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'okta-lake-detect-state-'));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  await createKeyedTable(client, tableName, EVALUATION_TABLE_KEY);
  await createWatermarkTable(client, watermarkTable);
});

afterAll(async () => {
  await deleteTable(client, tableName);
  await deleteTable(client, watermarkTable);
  client.destroy();
  otherClient.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let n = 0;
const org = (): string => `org${++n}.okta.com`;

function describeContract(name: string, make: () => { cursors: EvaluationCursorStore; late: LateEvidenceLog; other: EvaluationCursorStore & LateEvidenceLog }): void {
  describe(`${name} (evaluation state contract)`, () => {
    it('has no cursor before the first write, then the one written, with its version', async () => {
      const { cursors } = make();
      const o = org();
      expect(await cursors.read(o, 'admin-role-granted')).toBeUndefined();
      expect(await cursors.write(o, 'admin-role-granted', { evaluatedThroughMs: T0, lateSeq: 0 }, 0, T0)).toBe(1);
      expect(await cursors.read(o, 'admin-role-granted')).toEqual({ cursor: { evaluatedThroughMs: T0, lateSeq: 0 }, version: 1 });
      const progress = { evaluatedThroughMs: T0 + 900_000, lateSeq: 3, lateProgress: { seq: 4, throughMs: T0 - 5_000 } };
      expect(await cursors.write(o, 'admin-role-granted', progress, 1, T0)).toBe(2);
      expect(await cursors.read(o, 'admin-role-granted')).toEqual({ cursor: progress, version: 2 });
      // Other detections and orgs have cursors of their own.
      expect(await cursors.read(o, 'api-token-created')).toBeUndefined();
      expect(await cursors.read(org(), 'admin-role-granted')).toBeUndefined();
    });

    it('refuses a write that did not see the latest version: of two racing runs, one moves the cursor', async () => {
      const { cursors, other } = make();
      const o = org();
      const [a, b] = await Promise.all([
        cursors.write(o, 'mfa-push-bombing', { evaluatedThroughMs: T0, lateSeq: 0 }, 0, T0),
        other.write(o, 'mfa-push-bombing', { evaluatedThroughMs: T0 + 1, lateSeq: 0 }, 0, T0),
      ]);
      expect([a, b].filter((v) => v === 1)).toHaveLength(1);
      expect([a, b].filter((v) => v === undefined)).toHaveLength(1);
      expect(await cursors.write(o, 'mfa-push-bombing', { evaluatedThroughMs: T0 + 2, lateSeq: 0 }, 0, T0)).toBeUndefined();
      expect(await cursors.write(o, 'mfa-push-bombing', { evaluatedThroughMs: T0 + 2, lateSeq: 0 }, 1, T0)).toBe(2);
    });

    it('appends late evidence in order, from several writers, none lost', async () => {
      const { late, other } = make();
      const o = org();
      expect(await late.lateLog(o)).toEqual(EMPTY_LATE_LOG);
      // Ranges far apart (so none merges with another), recorded by two writers at once.
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? late : other).record(o, { fromMs: T0 + i * 10 * 3_600_000, toMs: T0 + i * 10 * 3_600_000 + 60_000, maxDelayMs: 3_600_000 }, T0)));
      const log = await late.lateLog(o);
      expect(log.lastSeq).toBe(6);
      expect(log.ranges.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(new Set(log.ranges.map((r) => r.fromMs)).size).toBe(6);
      expect(log.droppedThroughSeq).toBe(0);
    });
  });
}

describeContract('memory', () => {
  const cursors = new MemoryCursorStore();
  const late = new MemoryLateEvidenceLog();
  const shared = Object.assign(Object.create(null) as object, { read: cursors.read.bind(cursors), write: cursors.write.bind(cursors), record: late.record.bind(late), lateLog: late.lateLog.bind(late) });
  return { cursors, late, other: shared as EvaluationCursorStore & LateEvidenceLog };
});

describeContract('FileDetectionState', () => {
  const dir = tempDir();
  return { cursors: new FileDetectionState({ dir, fsync: false }), late: new FileDetectionState({ dir, fsync: false }), other: new FileDetectionState({ dir, fsync: false }) };
});

describeContract('DynamoDbEvaluationStore', () => ({
  cursors: new DynamoDbEvaluationStore({ client, tableName }),
  late: new DynamoDbEvaluationStore({ client, tableName }),
  other: new DynamoDbEvaluationStore({ client: otherClient, tableName }),
}));

describeSuppressionStoreContract('FileDetectionState', () => {
  const dir = tempDir();
  return { store: new FileDetectionState({ dir, fsync: false }), other: new FileDetectionState({ dir, fsync: false }) };
});

describe('the late-evidence log', () => {
  it('keeps one range for evidence recorded twice, and a range of its own for any other, even one that overlaps', () => {
    const a = appendLateRange(EMPTY_LATE_LOG, { fromMs: 100, toMs: 200, maxDelayMs: 10 }, T0);
    expect(appendLateRange(a, { fromMs: 120, toMs: 200, maxDelayMs: 10 }, T0 + 1)).toBe(a);
    const b = appendLateRange(a, { fromMs: 150, toMs: 300, maxDelayMs: 50 }, T0 + 1);
    expect(b).toEqual({
      ranges: [
        { seq: 1, fromMs: 100, toMs: 200, recordedAtMs: T0, maxDelayMs: 10 },
        { seq: 2, fromMs: 150, toMs: 300, recordedAtMs: T0 + 1, maxDelayMs: 50 },
      ],
      lastSeq: 2,
      droppedThroughSeq: 0,
    });
  });

  it('drops ranges kept too long or too many, and says up to which seq', () => {
    let log = EMPTY_LATE_LOG;
    for (let i = 0; i < MAX_LATE_RANGES + 3; i++) log = appendLateRange(log, { fromMs: i * 10, toMs: i * 10 + 1, maxDelayMs: 0 }, T0);
    expect(log.ranges).toHaveLength(MAX_LATE_RANGES);
    expect(log.droppedThroughSeq).toBe(3);
    const later = appendLateRange(log, { fromMs: 1e9, toMs: 1e9, maxDelayMs: 0 }, T0 + LATE_RANGE_RETENTION_MS + 1);
    expect(later.ranges).toHaveLength(1);
    expect(later.droppedThroughSeq).toBe(MAX_LATE_RANGES + 3);
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => appendLateRange(EMPTY_LATE_LOG, { fromMs: 2, toMs: 1, maxDelayMs: 0 }, T0)).toThrow(/fromMs <= toMs/);
  });
});

describe('watermark readers', () => {
  it('DynamoDbWatermarkReader reads the watermark the store wrote, and nothing for an org never ingested', async () => {
    const reader = new DynamoDbWatermarkReader({ client, tableName: watermarkTable });
    await client.send(new PutItemCommand({ TableName: watermarkTable, Item: { org: { S: 'acme.okta.com' }, version: { N: '3' }, watermark: { S: '2026-11-20T11:55:00.000Z' } } }));
    expect(await reader.watermark('acme.okta.com')).toBe(Date.parse('2026-11-20T11:55:00.000Z'));
    expect(await reader.watermark('never.okta.com')).toBeUndefined();
  });

  it('FileWatermarkStore reads the watermark of its state file', async () => {
    const store = new FileWatermarkStore({ dir: tempDir(), fsync: false });
    expect(await store.watermark('acme.okta.com')).toBeUndefined();
    const acquired = await store.acquire('acme.okta.com', 'run', 60_000, T0);
    await store.checkpoint(acquired!.lease, { ...acquired!.state, watermark: '2026-11-20T11:00:00.000Z' }, 60_000, T0);
    expect(await store.watermark('acme.okta.com')).toBe(Date.parse('2026-11-20T11:00:00.000Z'));
  });
});
