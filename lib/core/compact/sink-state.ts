/**
 * Compaction state kept in the lake itself, as write-once records (see `records.ts`): the freeze
 * records, read by writers through the `CompactionState` port, and the write-once helper every
 * compaction record goes through. It needs nothing but a `LakeSink`, so it lives in the core (no
 * AWS SDK): the same class serves a folder and an S3 bucket.
 */
import { OktaLakeError } from '../errors';
import { assertOrgLabel } from '../layout';
import type { Clock, LakeSink } from '../ports';
import type { CompactionState } from './state';
import { JSON_TYPE, encodeRecord, freezeKey, frozenPrefix, parseFreeze, type FreezeRecord } from './records';
import type { LakeReader } from './files';

/** A compaction record could not be read or written. */
export class CompactionStateError extends OktaLakeError {}

/** A record was about to be written where a different one already is (write-once lake). */
export class RecordExistsError extends CompactionStateError {}

async function getOrFail(sink: LakeReader, key: string): Promise<Uint8Array | undefined> {
  try {
    return await sink.get(key);
  } catch (cause) {
    throw new CompactionStateError(`could not read ${sink.location}/${key}`, { cause });
  }
}

/**
 * Writes a small record under `key` unless one is there, and returns the one stored. Never
 * replaces an object: when the key exists (before the write, or because a concurrent writer won and
 * the sink refused the second write, as a write-once S3 bucket does), the stored bytes are returned
 * and the caller decides what they mean.
 */
export async function putRecordOnce(sink: LakeSink, key: string, body: Uint8Array): Promise<{ readonly stored: Uint8Array; readonly written: boolean }> {
  const before = await getOrFail(sink, key);
  if (before !== undefined) return { stored: before, written: false };
  try {
    await sink.put(key, body, JSON_TYPE);
    return { stored: body, written: true };
  } catch (cause) {
    // A write-once sink refuses an existing key (ObjectExistsError); anything else is a failure.
    const after = await getOrFail(sink, key).catch(() => undefined);
    if (after !== undefined) return { stored: after, written: false };
    throw new CompactionStateError(`could not store ${sink.location}/${key}`, { cause });
  }
}

/** The freeze record of a day, or undefined. */
export async function readFreeze(sink: LakeReader, org: string, dt: string): Promise<FreezeRecord | undefined> {
  const key = freezeKey(org, dt);
  const body = await getOrFail(sink, key);
  return body === undefined ? undefined : parseFreeze(body, key, { org, dt });
}

/** Freezes a day (once): returns the stored freeze record, new or not. */
export async function freezeDay(sink: LakeSink, org: string, dt: string, nowMs: number): Promise<FreezeRecord> {
  const key = freezeKey(org, dt);
  const record: FreezeRecord = { kind: 'okta-lake/freeze', version: 1, org, dt, frozenAt: new Date(nowMs).toISOString() };
  const { stored } = await putRecordOnce(sink, key, encodeRecord(record));
  return parseFreeze(stored, key, { org, dt });
}

const FROZEN_NAME = /^dt=(\d{4}-\d{2}-\d{2})\.json$/;

export interface SinkCompactionStateOptions {
  readonly sink: LakeReader;
  /**
   * How long an answer is reused. Must stay well under `FREEZE_GRACE_MS` (an answer may be at
   * most that old when the write it decided lands).
   * @default 0 (every call lists the freeze records: one LIST request per page stored)
   */
  readonly cacheMs?: number;
  readonly clock?: Pick<Clock, 'now'>;
}

/** `CompactionState` read from the freeze records in the lake (`compacted/_state/org=O/frozen/`). */
export class SinkCompactionState implements CompactionState {
  private readonly cache = new Map<string, { atMs: number; days: ReadonlySet<string> }>();
  private readonly sink: LakeReader;
  private readonly cacheMs: number;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(options: SinkCompactionStateOptions) {
    this.sink = options.sink;
    this.cacheMs = options.cacheMs ?? 0;
    this.clock = options.clock ?? { now: () => Date.now() };
  }

  async frozenDays(org: string): Promise<ReadonlySet<string>> {
    const now = this.clock.now();
    const hit = this.cache.get(org);
    if (hit && now - hit.atMs < this.cacheMs) return hit.days;
    const prefix = frozenPrefix(assertOrgLabel(org));
    let keys: string[];
    try {
      keys = await this.sink.list(prefix);
    } catch (cause) {
      throw new CompactionStateError(`could not list the frozen days under ${this.sink.location}/${prefix}`, { cause });
    }
    const days = new Set<string>();
    for (const key of keys) {
      const m = FROZEN_NAME.exec(key.slice(prefix.length));
      if (m) days.add(m[1]);
    }
    this.cache.set(org, { atMs: now, days });
    return days;
  }
}
