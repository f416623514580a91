/**
 * `SuppressionStore` in a DynamoDB table: one item per alerted finding, keyed by `fingerprint` (S),
 * expiring through DynamoDB TTL on `expiresAt` (N, epoch seconds).
 *
 * Item attributes:
 *   fingerprint (S), expiresAt (N, epoch seconds, TTL), suppressUntil (N, epoch seconds of event
 *   time), claimedBy (S, the run id), detectionId (S), claimedAt (S, ISO-8601), claimedFor (S,
 *   ISO-8601: the evaluated instant)
 *
 * A claim is one conditional PutItem per fingerprint, so two runs racing for a finding are arbitrated
 * by DynamoDB. TTL deletes expired items late (hours, not seconds), so the condition checks the expiry
 * itself. The rule is `claimable` (lib/core/detect/suppression.ts), written as a condition:
 * `attribute_not_exists(fingerprint) OR expiresAt <= :nowSeconds OR suppressUntil <= :atSeconds OR
 * claimedBy = :runId` (the last clause lets a retried invocation, same run id, claim again what it
 * claimed before; `suppressUntil` compares event time, so a late re-evaluation repeats nothing).
 * A release is a DeleteItem conditional on `claimedBy = :runId`.
 */
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ConfigError } from '../core/errors';
import { SuppressionStoreError } from '../core/detect/errors';
import { claimTimes } from '../core/detect/suppression';
import type { SuppressionClaim, SuppressionStore } from '../core/detect/ports';
import { SUPPRESSION_TABLE_KEY, SUPPRESSION_TTL_ATTRIBUTE } from '../config/table-contract';

export { SUPPRESSION_TABLE_KEY, SUPPRESSION_TTL_ATTRIBUTE } from '../config/table-contract';

export interface DynamoDbSuppressionStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Conditional writes in flight at once. @default 8 */
  readonly concurrency?: number;
}

const NAMES = {
  '#fp': SUPPRESSION_TABLE_KEY,
  '#exp': SUPPRESSION_TTL_ATTRIBUTE,
  '#by': 'claimedBy',
  '#until': 'suppressUntil',
} as const;

function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Runs `task` over `items` with at most `limit` in flight; rejects with the first error after all settle. */
async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && firstError === undefined) {
      const i = next++;
      try {
        await task(items[i], i);
      } catch (error) {
        firstError ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError.error;
}

export class DynamoDbSuppressionStore implements SuppressionStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly concurrency: number;

  constructor(options: DynamoDbSuppressionStoreOptions) {
    if (typeof options.tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(options.tableName)) {
      throw new ConfigError(
        `DynamoDB table name "${String(options.tableName)}" is not valid: use 3 to 255 letters, digits, "_", "-" and "."`,
      );
    }
    const concurrency = options.concurrency ?? 8;
    if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64)) {
      throw new ConfigError(`DynamoDbSuppressionStore concurrency must be a whole number from 1 to 64, got ${concurrency}`);
    }
    this.client = options.client;
    this.tableName = options.tableName;
    this.concurrency = concurrency;
  }

  async claim(fingerprints: readonly string[], claim: SuppressionClaim): Promise<string[]> {
    if (!(Number.isSafeInteger(claim.nowMs) && claim.nowMs > 0)) throw new ConfigError(`claim nowMs must be epoch milliseconds, got ${claim.nowMs}`);
    if (!(Number.isSafeInteger(claim.windowMs) && claim.windowMs > 0)) throw new ConfigError(`claim windowMs must be more than 0, got ${claim.windowMs}`);
    if (claim.runId.length === 0) throw new ConfigError('claim runId must not be empty');
    if (claim.atMs !== undefined && !(Number.isSafeInteger(claim.atMs) && claim.atMs > 0)) throw new ConfigError(`claim atMs must be epoch milliseconds, got ${claim.atMs}`);
    const { expiresAt, suppressUntil, nowSeconds, atSeconds } = claimTimes(claim);
    const won = new Array<boolean>(fingerprints.length).fill(false);
    try {
      await forEachLimited(fingerprints, this.concurrency, async (fp, i) => {
        try {
          await this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: {
                [SUPPRESSION_TABLE_KEY]: { S: fp },
                [SUPPRESSION_TTL_ATTRIBUTE]: { N: String(expiresAt) },
                suppressUntil: { N: String(suppressUntil) },
                claimedBy: { S: claim.runId },
                detectionId: { S: claim.detectionId },
                claimedAt: { S: new Date(claim.nowMs).toISOString() },
                claimedFor: { S: new Date(claim.atMs ?? claim.nowMs).toISOString() },
              },
              ConditionExpression: 'attribute_not_exists(#fp) OR #exp <= :now OR #until <= :at OR #by = :runId',
              ExpressionAttributeNames: NAMES,
              ExpressionAttributeValues: { ':now': { N: String(nowSeconds) }, ':at': { N: String(atSeconds) }, ':runId': { S: claim.runId } },
            }),
          );
          won[i] = true;
        } catch (error) {
          if (!isConditionalCheckFailed(error)) throw error;
        }
      });
    } catch (error) {
      throw new SuppressionStoreError(
        `could not claim findings of detection "${claim.detectionId}" in table ${this.tableName}: ${describeError(error)}`,
        { cause: error },
      );
    }
    return fingerprints.filter((_, i) => won[i]);
  }

  async release(fingerprints: readonly string[], runId: string): Promise<void> {
    try {
      await forEachLimited(fingerprints, this.concurrency, async (fp) => {
        try {
          await this.client.send(
            new DeleteItemCommand({
              TableName: this.tableName,
              Key: { [SUPPRESSION_TABLE_KEY]: { S: fp } },
              ConditionExpression: '#by = :runId',
              ExpressionAttributeNames: { '#by': NAMES['#by'] },
              ExpressionAttributeValues: { ':runId': { S: runId } },
            }),
          );
        } catch (error) {
          if (!isConditionalCheckFailed(error)) throw error; // another run's claim, or already gone
        }
      });
    } catch (error) {
      throw new SuppressionStoreError(`could not release suppression claims of run ${runId} in table ${this.tableName}: ${describeError(error)}`, {
        cause: error,
      });
    }
  }
}
