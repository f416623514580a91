/**
 * `WatermarkReader` on the watermark table (the one `DynamoDbWatermarkStore` writes): the detection
 * runner reads where each org's ingestion stands, one strongly consistent GetItem, without touching
 * the lease. A separate class from the store, so that each role is granted only what its code sends
 * (the ingestion never reads this way; the runner never writes).
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { WatermarkReader } from '../core/detect/ports';
import { ConfigError, StateStoreError } from '../core/errors';
import { WATERMARK_TABLE_KEY } from '../config/table-contract';

export class DynamoDbWatermarkReader implements WatermarkReader {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  constructor(options: { readonly client: DynamoDBClient; readonly tableName: string }) {
    if (typeof options.tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(options.tableName)) {
      throw new ConfigError(`DynamoDB table name "${String(options.tableName)}" is not valid: use 3 to 255 letters, digits, "_", "-" and "."`);
    }
    this.client = options.client;
    this.tableName = options.tableName;
  }

  async watermark(org: string): Promise<number | undefined> {
    let watermark: string | undefined;
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [WATERMARK_TABLE_KEY]: { S: org } },
          ConsistentRead: true,
          ProjectionExpression: '#watermark',
          ExpressionAttributeNames: { '#watermark': 'watermark' },
        }),
      );
      watermark = out.Item?.watermark?.S;
    } catch (err) {
      throw new StateStoreError(`could not read the watermark of ${org} from table ${this.tableName}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
    }
    if (watermark === undefined) return undefined;
    const ms = Date.parse(watermark);
    if (!Number.isFinite(ms)) throw new StateStoreError(`the watermark of ${org} in table ${this.tableName} is not an instant: "${watermark}"`);
    return ms;
  }
}
