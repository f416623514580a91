import '../support/aws-env';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbWatermarkStore, WATERMARK_TABLE_KEY } from '../../lib/adapters/dynamodb-watermark-store';
import { ConfigError, StateStoreError } from '../../lib/core/errors';
import { createTestDynamoDbClient, createWatermarkTable, deleteTable, uniqueTableName } from '../support/dynamodb';
import { describeWatermarkStoreContract } from './watermark-store-contract';

const endpoint = inject('dynamodbEndpoint');
// Two clients (two connection pools) stand for two Lambda invocations racing over HTTP.
const client = createTestDynamoDbClient(endpoint);
const otherClient = createTestDynamoDbClient(endpoint);
const tableName = uniqueTableName('watermarks');

beforeAll(async () => {
  await createWatermarkTable(client, tableName);
});

afterAll(async () => {
  await deleteTable(client, tableName);
  client.destroy();
  otherClient.destroy();
});

describeWatermarkStoreContract('DynamoDbWatermarkStore', () => ({
  store: new DynamoDbWatermarkStore({ client, tableName }),
  other: new DynamoDbWatermarkStore({ client: otherClient, tableName }),
}));

const T0 = Date.parse('2024-05-01T00:00:00.000Z');

describe('DynamoDbWatermarkStore item', () => {
  it('stores the documented attributes, and removes window and the lease when they go', async () => {
    // Prepare
    const store = new DynamoDbWatermarkStore({ client, tableName });
    const org = 'item-shape.okta.com';
    const got = await store.acquire(org, 'run-a', 60_000, T0);
    // Act
    let lease = await store.checkpoint(
      got!.lease,
      {
        org,
        watermark: '2024-05-01T00:00:00.000Z',
        window: { start: '2024-05-01T00:00:00.000Z', end: '2024-05-01T00:05:00.000Z', pagesWritten: 1, eventsWritten: 1000 },
        totalEvents: 1000,
        totalQuarantined: 1,
      },
      60_000,
      T0 + 1,
    );
    const withWindow = (await client.send(new GetItemCommand({ TableName: tableName, Key: { org: { S: org } }, ConsistentRead: true }))).Item;
    lease = await store.checkpoint(
      lease,
      { org, watermark: '2024-05-01T00:05:00.000Z', totalEvents: 1000, totalQuarantined: 1 },
      60_000,
      T0 + 2,
    );
    await store.release(lease);
    const released = (await client.send(new GetItemCommand({ TableName: tableName, Key: { org: { S: org } }, ConsistentRead: true }))).Item;
    // Assess
    expect(WATERMARK_TABLE_KEY).toBe('org');
    expect(withWindow).toStrictEqual({
      org: { S: org },
      version: { N: String(got!.lease.version + 1) },
      leaseOwner: { S: 'run-a' },
      leaseExpiresAt: { N: String(T0 + 1 + 60_000) },
      watermark: { S: '2024-05-01T00:00:00.000Z' },
      window: {
        M: {
          start: { S: '2024-05-01T00:00:00.000Z' },
          end: { S: '2024-05-01T00:05:00.000Z' },
          pagesWritten: { N: '1' },
          eventsWritten: { N: '1000' },
        },
      },
      totalEvents: { N: '1000' },
      totalQuarantined: { N: '1' },
      updatedAt: { S: new Date(T0 + 1).toISOString() },
    });
    expect(released).toStrictEqual({
      org: { S: org },
      version: { N: String(lease.version + 1) },
      watermark: { S: '2024-05-01T00:05:00.000Z' },
      totalEvents: { N: '1000' },
      totalQuarantined: { N: '1' },
      updatedAt: { S: new Date(T0 + 2).toISOString() },
    });
  });

  it('reports a malformed item as StateStoreError', async () => {
    // Prepare
    const store = new DynamoDbWatermarkStore({ client, tableName });
    const org = 'malformed.okta.com';
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { org: { S: org }, version: { N: '1' }, totalEvents: { S: 'many' } } }),
    );
    // Act / Assess
    await expect(store.acquire(org, 'run-a', 60_000, T0)).rejects.toThrow(/"totalEvents" is missing or not a number/);
  });

  it('wraps a missing table in StateStoreError with the cause', async () => {
    // Prepare
    const store = new DynamoDbWatermarkStore({ client, tableName: 'no-such-table-here' });
    // Act
    const error = await store.acquire('acme.okta.com', 'run-a', 60_000, T0).catch((e: unknown) => e);
    const lease = { org: 'acme.okta.com', owner: 'run-a', expiresAt: T0, version: 1 };
    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(store.checkpoint(lease, { org: 'acme.okta.com', totalEvents: 0, totalQuarantined: 0 }, 60_000, T0)).rejects.toThrow(
      StateStoreError,
    );
    await expect(store.release(lease)).rejects.toThrow(StateStoreError);
  });

  it('validates the table name', () => {
    expect(() => new DynamoDbWatermarkStore({ client, tableName: 'a' })).toThrow(ConfigError);
  });
});
