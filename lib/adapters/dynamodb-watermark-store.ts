/**
 * The watermark store in a DynamoDB table: one item per org, keyed by `org` (S), no sort key.
 *
 * Item attributes:
 *   org (S), version (N, incremented on every write), leaseOwner (S), leaseExpiresAt (N, epoch ms),
 *   watermark (S), window (M: start S, end S, nextUrl S, pagesWritten N, eventsWritten N, checkedUntil S),
 *   totalEvents (N), totalQuarantined (N), updatedAt (S)
 *
 * Every write is one conditional UpdateItem, so two runs racing for the same org are arbitrated by
 * DynamoDB itself. The lease rules are those of `lib/core/lease.ts`, written as condition expressions.
 */
import { DynamoDBClient, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { ConfigError, LeaseLostError, StateStoreError } from '../core/errors';
import { assertLeaseArgs, assertStateForLease } from '../core/lease';
import type { IngestState, Lease, WatermarkStore, WindowProgress } from '../core/ports';
import { WATERMARK_TABLE_KEY } from '../config/table-contract';
import { FieldReader, readIngestState } from './state-record';

export { WATERMARK_TABLE_KEY } from '../config/table-contract';

export interface DynamoDbWatermarkStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

type Item = Record<string, AttributeValue>;

/** Attribute names, always used through `#placeholders` so no reserved word can bite. */
const NAMES = {
  '#org': WATERMARK_TABLE_KEY,
  '#version': 'version',
  '#leaseOwner': 'leaseOwner',
  '#leaseExpiresAt': 'leaseExpiresAt',
  '#watermark': 'watermark',
  '#window': 'window',
  '#totalEvents': 'totalEvents',
  '#totalQuarantined': 'totalQuarantined',
  '#updatedAt': 'updatedAt',
} as const;

type NameKey = keyof typeof NAMES;

/** Only the placeholders an expression uses may be sent (DynamoDB refuses unused ones). */
function namesFor(...keys: NameKey[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = NAMES[k];
  return out;
}

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

function windowToAttribute(w: WindowProgress): AttributeValue {
  const m: Item = { start: S(w.start), end: S(w.end), pagesWritten: N(w.pagesWritten), eventsWritten: N(w.eventsWritten) };
  if (w.nextUrl !== undefined) m.nextUrl = S(w.nextUrl);
  if (w.checkedUntil !== undefined) m.checkedUntil = S(w.checkedUntil);
  return { M: m };
}

/** A DynamoDB item (or map attribute) read through the stores' shared `RecordReader`. */
class ItemReader extends FieldReader<AttributeValue> {
  protected readonly kinds = { string: 'a string (S)', integer: 'a number (N) holding an integer', record: 'a map (M)' };

  protected asString(v: AttributeValue): string | undefined {
    return v.S;
  }

  protected asNumber(v: AttributeValue): number | undefined {
    return v.N === undefined ? undefined : Number(v.N);
  }

  protected asRecord(v: AttributeValue): Item | undefined {
    return v.M;
  }

  protected nested(fields: Item, where: string): ItemReader {
    return new ItemReader(fields, where);
  }
}

function stateFromItem(item: Item, where: string): { state: IngestState; version: number } {
  const r = new ItemReader(item, where);
  return { state: readIngestState(r, WATERMARK_TABLE_KEY), version: r.int('version') };
}

function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export class DynamoDbWatermarkStore implements WatermarkStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  constructor(options: DynamoDbWatermarkStoreOptions) {
    if (typeof options.tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(options.tableName)) {
      throw new ConfigError(
        `DynamoDB table name "${String(options.tableName)}" is not valid: use 3 to 255 letters, digits, "_", "-" and "."`,
      );
    }
    this.client = options.client;
    this.tableName = options.tableName;
  }

  async acquire(org: string, owner: string, ttlMs: number, nowMs: number): Promise<{ lease: Lease; state: IngestState } | undefined> {
    assertLeaseArgs(org, owner, ttlMs, nowMs);
    const expiresAt = nowMs + ttlMs;
    let attributes: Item | undefined;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [WATERMARK_TABLE_KEY]: S(org) },
          UpdateExpression:
            'SET #leaseOwner = :owner, #leaseExpiresAt = :expiresAt, #version = if_not_exists(#version, :zero) + :one, ' +
            '#totalEvents = if_not_exists(#totalEvents, :zero), #totalQuarantined = if_not_exists(#totalQuarantined, :zero)',
          ConditionExpression:
            'attribute_not_exists(#org) OR attribute_not_exists(#leaseOwner) OR #leaseExpiresAt < :now OR #leaseOwner = :owner',
          ExpressionAttributeNames: namesFor('#org', '#leaseOwner', '#leaseExpiresAt', '#version', '#totalEvents', '#totalQuarantined'),
          ExpressionAttributeValues: { ':owner': S(owner), ':expiresAt': N(expiresAt), ':now': N(nowMs), ':zero': N(0), ':one': N(1) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      attributes = out.Attributes;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw new StateStoreError(`could not take the lease of org "${org}" in table ${this.tableName}: ${describeError(err)}`, {
        cause: err,
      });
    }
    if (attributes === undefined) {
      throw new StateStoreError(`taking the lease of org "${org}" in table ${this.tableName} returned no item`);
    }
    const { state, version } = stateFromItem(attributes, `item of org "${org}" in table ${this.tableName}`);
    return { lease: { org, owner, expiresAt, version }, state };
  }

  async checkpoint(lease: Lease, state: IngestState, ttlMs: number, nowMs: number): Promise<Lease> {
    assertLeaseArgs(lease.org, lease.owner, ttlMs, nowMs);
    assertStateForLease(lease, state);
    const expiresAt = nowMs + ttlMs;
    const set = [
      '#version = #version + :one',
      '#leaseExpiresAt = :expiresAt',
      '#totalEvents = :totalEvents',
      '#totalQuarantined = :totalQuarantined',
      '#updatedAt = :updatedAt',
    ];
    const remove: string[] = [];
    const values: Item = {
      ':one': N(1),
      ':v': N(lease.version),
      ':owner': S(lease.owner),
      ':expiresAt': N(expiresAt),
      ':totalEvents': N(state.totalEvents),
      ':totalQuarantined': N(state.totalQuarantined),
      ':updatedAt': S(state.updatedAt ?? new Date(nowMs).toISOString()),
    };
    if (state.watermark !== undefined) {
      set.push('#watermark = :watermark');
      values[':watermark'] = S(state.watermark);
    } else {
      remove.push('#watermark');
    }
    if (state.window !== undefined) {
      set.push('#window = :window');
      values[':window'] = windowToAttribute(state.window);
    } else {
      remove.push('#window');
    }
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [WATERMARK_TABLE_KEY]: S(lease.org) },
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: '#version = :v AND #leaseOwner = :owner',
          ExpressionAttributeNames: namesFor(
            '#version',
            '#leaseOwner',
            '#leaseExpiresAt',
            '#totalEvents',
            '#totalQuarantined',
            '#updatedAt',
            '#watermark',
            '#window',
          ),
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        throw new LeaseLostError(
          `lease of org "${lease.org}" held by "${lease.owner}" at version ${lease.version} is no longer current`,
          { cause: err },
        );
      }
      throw new StateStoreError(`could not checkpoint org "${lease.org}" in table ${this.tableName}: ${describeError(err)}`, {
        cause: err,
      });
    }
    return { org: lease.org, owner: lease.owner, expiresAt, version: lease.version + 1 };
  }

  async release(lease: Lease): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [WATERMARK_TABLE_KEY]: S(lease.org) },
          UpdateExpression: 'SET #version = #version + :one REMOVE #leaseOwner, #leaseExpiresAt',
          ConditionExpression: '#version = :v AND #leaseOwner = :owner',
          ExpressionAttributeNames: namesFor('#version', '#leaseOwner', '#leaseExpiresAt'),
          ExpressionAttributeValues: { ':one': N(1), ':v': N(lease.version), ':owner': S(lease.owner) },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return; // already lost: nothing of ours to give up
      throw new StateStoreError(`could not release the lease of org "${lease.org}" in table ${this.tableName}: ${describeError(err)}`, {
        cause: err,
      });
    }
  }
}
