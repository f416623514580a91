/**
 * Helpers for the writer tests: read produced Parquet objects back with DuckDB, and compute the
 * typed row the writer must produce for an input event (the documented conversions, walked over
 * the schema, so the expectations follow schema.ts like the writer does).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WrittenObject } from '../../lib/core/ports';
import { EVENT_COLUMNS, type FieldType } from '../../lib/core/schema';
import type { JsonValue } from '../../lib/core/fixtures';
import { openDuckDb, type OpenDuckDb } from '../../lib/core/writer/duckdb';

/** A DuckDB-JSON value as `getRowObjectsJson()` returns it (BIGINT as string, MAP as key/value list). */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export interface ParquetReader {
  readonly db: OpenDuckDb;
  readonly dir: string;
  /** Writes the objects to files and returns their rows (timestamps as epoch µs strings) in file order. */
  rows(objects: readonly WrittenObject[]): Promise<Record<string, Json>[]>;
  /** Runs a query on one object written to a file; `$file` in the SQL is replaced by its path. */
  query(object: WrittenObject, sql: string): Promise<Record<string, Json>[]>;
  close(): void;
}

export async function openParquetReader(): Promise<ParquetReader> {
  const dir = mkdtempSync(join(tmpdir(), 'okta-lake-writer-test-'));
  const db = await openDuckDb({ tmpDir: join(dir, 'duckdb') });
  let n = 0;
  const toFile = (o: WrittenObject): string => {
    const file = join(dir, `object-${++n}.parquet`);
    writeFileSync(file, o.body);
    return file;
  };
  const query = async (object: WrittenObject, sql: string): Promise<Record<string, Json>[]> => {
    const file = toFile(object);
    const reader = await db.connection.runAndReadAll(sql.replaceAll('$file', `'${file}'`));
    return reader.getRowObjectsJson() as Record<string, Json>[];
  };
  return {
    db,
    dir,
    query,
    rows: async (objects) => {
      const out: Record<string, Json>[] = [];
      for (const o of objects) {
        out.push(
          ...(await query(
            o,
            `SELECT * REPLACE (epoch_us(published) AS published, epoch_us(ingested_at) AS ingested_at) FROM read_parquet($file)`,
          )),
        );
      }
      return out;
    },
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const isPlainObject = (v: unknown): v is Record<string, JsonValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON text DuckDB produces for a value found where a string is expected (integers and plain JSON only). */
function jsonText(v: JsonValue): string {
  if (typeof v === 'number' && !Number.isInteger(v)) {
    throw new Error(`test helper: write the expectation for the non-integer ${v} by hand`);
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The typed value the writer must store for input `v` of schema type `type` (JSON form). */
export function expectedValue(type: FieldType, v: JsonValue | undefined): Json {
  if (v === undefined || v === null) return null;
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        return jsonText(v);
      case 'json':
        // The JSON text of any value, compact (a string keeps its quotes).
        if (typeof v === 'number' && !Number.isInteger(v)) throw new Error(`test helper: write the expectation for the non-integer ${v} by hand`);
        return JSON.stringify(v);
      case 'bigint':
      case 'int': {
        const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v.trim()) : undefined;
        if (n === undefined) return null;
        return type === 'bigint' ? String(n) : n;
      }
      case 'double': {
        if (typeof v === 'number') return v;
        if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
        return null;
      }
      case 'boolean':
        if (typeof v === 'boolean') return v;
        if (v === 'true' || v === 'false') return v === 'true';
        throw new Error(`test helper: write the expectation for boolean ${JSON.stringify(v)} by hand`);
      case 'timestamp':
        throw new Error('test helper: nested timestamps are not in the schema');
    }
  }
  switch (type.kind) {
    case 'struct': {
      if (!isPlainObject(v)) throw new Error(`test helper: write the expectation for struct ${JSON.stringify(v)} by hand`);
      return Object.fromEntries(type.fields.map((f) => [f.name, expectedValue(f.type, v[f.name])]));
    }
    case 'list':
      return Array.isArray(v) ? v.map((e) => expectedValue(type.element, e)) : null;
    case 'map':
      return isPlainObject(v)
        ? Object.entries(v).map(([key, value]) => ({ key, value: value === null ? null : jsonText(value) }))
        : null;
  }
}

/** Epoch microseconds (as DuckDB's JSON form, a string) of an ISO instant with up to 6 fractional digits. */
export function epochMicros(iso: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(.*)$/.exec(iso);
  if (!m) throw new Error(`test helper: not an ISO instant ${iso}`);
  const whole = Date.parse(`${m[1]}${m[3] === '' ? 'Z' : m[3]}`);
  const micros = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return (BigInt(whole) * 1000n + BigInt(micros)).toString();
}

/** The row the writer must produce for `event` (parsed element), whose text in the page is `raw`. */
export function expectedRow(event: Record<string, JsonValue>, raw: string, ingestedAt: Date): Record<string, Json> {
  const row: Record<string, Json> = {};
  for (const c of EVENT_COLUMNS) {
    if (c.name === 'published') row.published = epochMicros(String(event.published));
    else row[c.name] = expectedValue(c.type, event[c.name]);
  }
  row.raw = raw;
  row.ingested_at = (BigInt(ingestedAt.getTime()) * 1000n).toString();
  return row;
}

/** A JSON array page made of the given element texts, exactly as given. */
export const arrayPage = (texts: readonly string[], separator = ','): string => `[${texts.join(separator)}]`;
