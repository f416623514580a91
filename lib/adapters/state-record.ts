/**
 * Reading an org's stored ingestion state back, shared by the watermark stores: each store has its
 * own encoding (DynamoDB attribute values, a JSON document) behind a `RecordReader`, and this
 * module turns any of them into the same `IngestState` with the same checks, so the two stores
 * cannot drift apart on what a stored state holds.
 */
import { StateStoreError } from '../core/errors';
import type { IngestState, WindowProgress } from '../core/ports';

/** Typed access to one stored record; every accessor fails with a `StateStoreError` naming the field. */
export interface RecordReader {
  str(name: string): string;
  optStr(name: string): string | undefined;
  /** A safe integer. */
  int(name: string): number;
  optInt(name: string): number | undefined;
  /** A nested record, or undefined when the field is absent. */
  child(name: string): RecordReader | undefined;
}

/** A reader over a plain object whose field values are `V`, told how to get a string, integer or record out of one. */
export abstract class FieldReader<V> implements RecordReader {
  constructor(
    protected readonly fields: Readonly<Record<string, V | undefined>>,
    protected readonly where: string,
  ) {}

  /** The string in `value`, or undefined when it holds none. */
  protected abstract asString(value: V): string | undefined;
  /** The number in `value` (any number: the safe-integer check is shared), or undefined when it holds none. */
  protected abstract asNumber(value: V): number | undefined;
  /** The nested fields in `value`, or undefined when it holds none. */
  protected abstract asRecord(value: V): Readonly<Record<string, V | undefined>> | undefined;
  /** What each kind of value is called in this encoding, for error messages. */
  protected abstract readonly kinds: { readonly string: string; readonly integer: string; readonly record: string };
  protected abstract nested(fields: Readonly<Record<string, V | undefined>>, where: string): FieldReader<V>;

  private fail(name: string, expected: string): never {
    throw new StateStoreError(`${this.where}: "${name}" is missing or not ${expected}`);
  }

  str(name: string): string {
    const v = this.fields[name];
    const s = v === undefined ? undefined : this.asString(v);
    if (s === undefined) this.fail(name, this.kinds.string);
    return s;
  }

  optStr(name: string): string | undefined {
    return this.fields[name] === undefined ? undefined : this.str(name);
  }

  int(name: string): number {
    const v = this.fields[name];
    const n = v === undefined ? undefined : this.asNumber(v);
    if (n === undefined || !Number.isSafeInteger(n)) this.fail(name, this.kinds.integer);
    return n;
  }

  optInt(name: string): number | undefined {
    return this.fields[name] === undefined ? undefined : this.int(name);
  }

  child(name: string): RecordReader | undefined {
    const v = this.fields[name];
    if (v === undefined) return undefined;
    const record = this.asRecord(v);
    if (record === undefined) this.fail(name, this.kinds.record);
    return this.nested(record, `${this.where}, ${name}`);
  }
}

/**
 * The `IngestState` of `org` in a stored record (`org`'s key field is `orgField`). Optional fields
 * that are absent stay absent, so a state read back equals the state written.
 */
export function readIngestState(r: RecordReader, orgField: string): IngestState {
  const w = r.child('window');
  let window: WindowProgress | undefined;
  if (w !== undefined) {
    const nextUrl = w.optStr('nextUrl');
    const checkedUntil = w.optStr('checkedUntil');
    window = {
      start: w.str('start'),
      end: w.str('end'),
      ...(nextUrl !== undefined ? { nextUrl } : {}),
      pagesWritten: w.int('pagesWritten'),
      eventsWritten: w.int('eventsWritten'),
      ...(checkedUntil !== undefined ? { checkedUntil } : {}),
    };
  }
  const watermark = r.optStr('watermark');
  const updatedAt = r.optStr('updatedAt');
  return {
    org: r.str(orgField),
    ...(watermark !== undefined ? { watermark } : {}),
    ...(window !== undefined ? { window } : {}),
    totalEvents: r.int('totalEvents'),
    totalQuarantined: r.int('totalQuarantined'),
    ...(updatedAt !== undefined ? { updatedAt } : {}),
  };
}
