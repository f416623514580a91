/**
 * The detection state in one DynamoDB table keyed by `key` (S): the evaluation cursors
 * (`EvaluationCursorStore`) and the late-evidence logs (`LateEvidenceLog`). The ingestion function
 * records late evidence; the detection runner reads it and moves its cursors.
 *
 * Items:
 *   cursor#<org>#<detectionId>: version (N), evaluatedThroughMs (N), lateSeq (N),
 *     lateProgressSeq (N) and lateProgressThroughMs (N) while a late range is half done, org (S),
 *     detectionId (S), updatedAt (S)
 *   late#<org>: version (N), lastSeq (N), droppedThroughSeq (N), ranges (L of M: seq, fromMs, toMs,
 *     recordedAtMs, maxDelayMs, all N), org (S), updatedAt (S)
 *
 * Every write is one conditional PutItem on the version read before it (optimistic concurrency): a
 * cursor write that loses tells its caller; a late-evidence append that loses reads again and retries.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { EvaluationStoreError } from '../core/detect/errors';
import type { EvaluationCursor, EvaluationCursorStore, StoredCursor } from '../core/detect/ports';
import { ConfigError } from '../core/errors';
import { appendLateRange, EMPTY_LATE_LOG, type LateEvidence, type LateEvidenceLog, type LateLog, type LateRange } from '../core/late-evidence';
import { assertOrgLabel } from '../core/layout';
import { EVALUATION_TABLE_KEY } from '../config/table-contract';

export { EVALUATION_TABLE_KEY } from '../config/table-contract';

export interface DynamoDbEvaluationStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Attempts of a late-evidence append that races another writer. @default 8 */
  readonly maxAppendAttempts?: number;
}

type Item = Record<string, AttributeValue>;
const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

function num(item: Item, name: string, where: string): number {
  const v = item[name]?.N;
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isSafeInteger(n)) throw new EvaluationStoreError(`${where}: attribute ${name} is not a whole number (N)`);
  return n;
}

function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export const cursorItemKey = (org: string, detectionId: string): string => `cursor#${assertOrgLabel(org)}#${detectionId}`;
export const lateItemKey = (org: string): string => `late#${assertOrgLabel(org)}`;

export class DynamoDbEvaluationStore implements EvaluationCursorStore, LateEvidenceLog {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly maxAppendAttempts: number;

  constructor(options: DynamoDbEvaluationStoreOptions) {
    if (typeof options.tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(options.tableName)) {
      throw new ConfigError(`DynamoDB table name "${String(options.tableName)}" is not valid: use 3 to 255 letters, digits, "_", "-" and "."`);
    }
    const attempts = options.maxAppendAttempts ?? 8;
    if (!(Number.isSafeInteger(attempts) && attempts >= 1)) throw new ConfigError(`maxAppendAttempts must be a whole number of at least 1, got ${attempts}`);
    this.client = options.client;
    this.tableName = options.tableName;
    this.maxAppendAttempts = attempts;
  }

  private async get(key: string): Promise<Item | undefined> {
    try {
      return (await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { [EVALUATION_TABLE_KEY]: S(key) }, ConsistentRead: true }))).Item;
    } catch (err) {
      throw new EvaluationStoreError(`could not read ${key} from table ${this.tableName}: ${describeError(err)}`, { cause: err });
    }
  }

  /** Puts `item` if the stored version is `expectedVersion` (0: no item); false when it is not. */
  private async put(key: string, item: Item, expectedVersion: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...item, [EVALUATION_TABLE_KEY]: S(key), version: N(expectedVersion + 1) },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(#key)' : '#version = :expected',
          ExpressionAttributeNames: expectedVersion === 0 ? { '#key': EVALUATION_TABLE_KEY } : { '#version': 'version' },
          ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':expected': N(expectedVersion) } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new EvaluationStoreError(`could not write ${key} to table ${this.tableName}: ${describeError(err)}`, { cause: err });
    }
  }

  async read(org: string, detectionId: string): Promise<StoredCursor | undefined> {
    const key = cursorItemKey(org, detectionId);
    const item = await this.get(key);
    if (item === undefined) return undefined;
    const where = `table ${this.tableName}, item ${key}`;
    const progressSeq = item.lateProgressSeq?.N;
    const cursor: EvaluationCursor = {
      evaluatedThroughMs: num(item, 'evaluatedThroughMs', where),
      lateSeq: num(item, 'lateSeq', where),
      ...(progressSeq !== undefined ? { lateProgress: { seq: num(item, 'lateProgressSeq', where), throughMs: num(item, 'lateProgressThroughMs', where) } } : {}),
    };
    return { cursor, version: num(item, 'version', where) };
  }

  async write(org: string, detectionId: string, cursor: EvaluationCursor, expectedVersion: number, nowMs: number): Promise<number | undefined> {
    const item: Item = {
      org: S(org),
      detectionId: S(detectionId),
      evaluatedThroughMs: N(cursor.evaluatedThroughMs),
      lateSeq: N(cursor.lateSeq),
      updatedAt: S(new Date(nowMs).toISOString()),
      ...(cursor.lateProgress ? { lateProgressSeq: N(cursor.lateProgress.seq), lateProgressThroughMs: N(cursor.lateProgress.throughMs) } : {}),
    };
    return (await this.put(cursorItemKey(org, detectionId), item, expectedVersion)) ? expectedVersion + 1 : undefined;
  }

  private async readStoredLog(org: string): Promise<{ log: LateLog; version: number }> {
    const key = lateItemKey(org);
    const item = await this.get(key);
    if (item === undefined) return { log: EMPTY_LATE_LOG, version: 0 };
    const where = `table ${this.tableName}, item ${key}`;
    const ranges: LateRange[] = (item.ranges?.L ?? []).map((v, i) => {
      const m = v.M;
      if (m === undefined) throw new EvaluationStoreError(`${where}: ranges[${i}] is not a map`);
      const at = `${where}, ranges[${i}]`;
      return { seq: num(m, 'seq', at), fromMs: num(m, 'fromMs', at), toMs: num(m, 'toMs', at), recordedAtMs: num(m, 'recordedAtMs', at), maxDelayMs: num(m, 'maxDelayMs', at) };
    });
    return { log: { ranges, lastSeq: num(item, 'lastSeq', where), droppedThroughSeq: num(item, 'droppedThroughSeq', where) }, version: num(item, 'version', where) };
  }

  async lateLog(org: string): Promise<LateLog> {
    return (await this.readStoredLog(org)).log;
  }

  async record(org: string, evidence: LateEvidence, nowMs: number): Promise<void> {
    const key = lateItemKey(org);
    for (let attempt = 1; attempt <= this.maxAppendAttempts; attempt++) {
      const { log, version } = await this.readStoredLog(org);
      const next = appendLateRange(log, evidence, nowMs);
      const item: Item = {
        org: S(org),
        lastSeq: N(next.lastSeq),
        droppedThroughSeq: N(next.droppedThroughSeq),
        updatedAt: S(new Date(nowMs).toISOString()),
        ranges: { L: next.ranges.map((r) => ({ M: { seq: N(r.seq), fromMs: N(r.fromMs), toMs: N(r.toMs), recordedAtMs: N(r.recordedAtMs), maxDelayMs: N(r.maxDelayMs) } })) },
      };
      if (await this.put(key, item, version)) return;
    }
    throw new EvaluationStoreError(`could not append late evidence to ${key} in table ${this.tableName}: ${this.maxAppendAttempts} attempts lost to concurrent writers`);
  }
}
