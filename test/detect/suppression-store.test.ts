import '../support/aws-env';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbSuppressionStore, SUPPRESSION_TABLE_KEY, SUPPRESSION_TTL_ATTRIBUTE } from '../../lib/adapters/dynamodb-suppression-store';
import { SuppressionStoreError } from '../../lib/core/detect/errors';
import { MemorySuppressionStore } from '../../lib/core/detect/memory-suppression-store';
import { ConfigError } from '../../lib/core/errors';
import { createTestDynamoDbClient, deleteTable, uniqueTableName } from '../support/dynamodb';
import { createSuppressionTable } from './support';
import { describeSuppressionStoreContract } from './suppression-store-contract';

const endpoint = inject('dynamodbEndpoint');
// Two clients (two connection pools) stand for two Lambda invocations racing over HTTP.
const client = createTestDynamoDbClient(endpoint);
const otherClient = createTestDynamoDbClient(endpoint);
const tableName = uniqueTableName('suppression');

beforeAll(async () => {
  await createSuppressionTable(client, tableName);
});

afterAll(async () => {
  await deleteTable(client, tableName);
  client.destroy();
  otherClient.destroy();
});

describeSuppressionStoreContract('MemorySuppressionStore', () => {
  const store = new MemorySuppressionStore();
  return { store, other: store };
});

describeSuppressionStoreContract('DynamoDbSuppressionStore', () => ({
  store: new DynamoDbSuppressionStore({ client, tableName }),
  other: new DynamoDbSuppressionStore({ client: otherClient, tableName, concurrency: 3 }),
}));

describe('DynamoDbSuppressionStore item', () => {
  it('stores the fingerprint key, expiresAt in epoch seconds (DynamoDB TTL), the run id and the detection', async () => {
    // Prepare
    const store = new DynamoDbSuppressionStore({ client, tableName });
    const nowMs = Date.parse('2024-05-01T12:00:00.250Z');
    // Act
    await store.claim(['item-shape-fp'], { runId: 'run-a', detectionId: 'mfa-push-bombing', nowMs, windowMs: 3_600_000 });
    const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: { [SUPPRESSION_TABLE_KEY]: { S: 'item-shape-fp' } }, ConsistentRead: true })))
      .Item;
    // Assess
    expect(item).toEqual({
      fingerprint: { S: 'item-shape-fp' },
      [SUPPRESSION_TTL_ATTRIBUTE]: { N: String(Math.ceil((nowMs + 3_600_000) / 1000)) },
      suppressUntil: { N: String(Math.ceil((nowMs + 3_600_000) / 1000)) },
      claimedBy: { S: 'run-a' },
      detectionId: { S: 'mfa-push-bombing' },
      claimedAt: { S: '2024-05-01T12:00:00.250Z' },
      claimedFor: { S: '2024-05-01T12:00:00.250Z' },
    });
  });

  it('reclaims an expired item that TTL has not deleted yet', async () => {
    // Prepare
    const store = new DynamoDbSuppressionStore({ client, tableName });
    const t = Date.parse('2024-05-01T12:00:00.000Z');
    await store.claim(['expired-fp'], { runId: 'run-a', detectionId: 'd', nowMs: t, windowMs: 60_000 });
    // Act
    const at = await store.claim(['expired-fp'], { runId: 'run-b', detectionId: 'd', nowMs: t + 60_000, windowMs: 60_000 });
    const before = await store.claim(['expired-fp'], { runId: 'run-c', detectionId: 'd', nowMs: t + 119_000, windowMs: 60_000 });
    // Assess
    expect(at).toEqual(['expired-fp']);
    expect(before).toEqual([]);
  });

  it('wraps DynamoDB failures in SuppressionStoreError naming the table', async () => {
    // Prepare
    const missing = uniqueTableName('missing');
    const store = new DynamoDbSuppressionStore({ client, tableName: missing });
    // Act
    const error = await store.claim(['x'], { runId: 'r', detectionId: 'd', nowMs: Date.now(), windowMs: 60_000 }).catch((e: unknown) => e);
    const releaseError = await store.release(['x'], 'r').catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(SuppressionStoreError);
    expect((error as Error).message).toContain(missing);
    expect(((error as Error).cause as Error).name).toBe('ResourceNotFoundException');
    expect(releaseError).toBeInstanceOf(SuppressionStoreError);
  });

  it('refuses a table name or concurrency that is not allowed', () => {
    // Act / Assess
    expect(() => new DynamoDbSuppressionStore({ client, tableName: 'a b' })).toThrow(ConfigError);
    expect(() => new DynamoDbSuppressionStore({ client, tableName, concurrency: 0 })).toThrow(/concurrency must be a whole number from 1 to 64/);
  });
});
