/**
 * DynamoDB helpers for tests against dynalite: a loopback-bound client and a watermark table created
 * with the same key as production (`WATERMARK_TABLE_KEY`), unique per test file.
 */
import './aws-env';
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { WATERMARK_TABLE_KEY } from '../../lib/adapters/dynamodb-watermark-store';
import { TEST_CREDENTIALS, TEST_REGION } from './aws-env';

export function createTestDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 2 });
}

/** A table name no other test file uses: `<label>-<random>`. */
export function uniqueTableName(label = 'watermarks'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

/** Creates a table keyed by the string attribute `key` alone and waits until it is ACTIVE. */
export async function createKeyedTable(client: DynamoDBClient, tableName: string, key: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  for (let i = 0; i < 200; i++) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (out.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

/** Creates the watermark table (partition key `org`, string) and waits until it is ACTIVE. */
export function createWatermarkTable(client: DynamoDBClient, tableName: string): Promise<void> {
  return createKeyedTable(client, tableName, WATERMARK_TABLE_KEY);
}

export async function deleteTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
}
