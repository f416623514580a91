/**
 * Re-checks the choice of Parquet writer against the JavaScript alternatives: on the same realistic
 * pages, each writer's warm cost per page as a multiple of `JSON.parse` of that page, and its bytes
 * per event. DuckDB (the project's writer) is always measured; the others only when their packages
 * are importable (they are not project dependencies). The script prints the `npm install --no-save`
 * command for the missing ones.
 *
 *   npx tsx bench/compare-writers.ts [pages=4] [eventsPerPage=1000] [rounds=3]
 *
 * Every writer gets the same nested schema, generated from lib/core/schema.ts, as far as the
 * library allows (see the notes column). The JavaScript writers start from the page text too:
 * `JSON.parse`, the exact text of each element for `raw` (`arrayElementSpans`), the conversions to
 * the schema's types, then the library. They do not dedupe, quarantine or partition, which the
 * DuckDB writer does: the comparison favours them.
 */
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { JsonValue } from '../lib/core/fixtures';
import { EVENT_COLUMNS, LOG_EVENT_COLUMNS, type Field, type FieldType } from '../lib/core/schema';
import { arrayElementSpans } from '../lib/core/writer/json-text';
import { DuckDbParquetWriter } from '../lib/core/writer/parquet-writer';
import { realisticPages } from './writer';

/** Writes one page (its JSON text) as one Parquet file and returns the file's bytes. */
type PageToParquet = (page: string) => Promise<Uint8Array>;

interface Candidate {
  readonly name: string;
  /** npm packages the candidate needs, as `npm install` arguments. */
  readonly packages: readonly string[];
  readonly notes: string;
  /** Imports the packages and prepares the writer; throws `MissingPackageError` when one is absent. */
  load(): Promise<{ write: PageToParquet; close?: () => Promise<void> }>;
}

class MissingPackageError extends Error {}

const require = createRequire(import.meta.url);

/** Imports an optional package: ESM first, CommonJS (sloppy mode) when asked. */
async function optional(specifier: string, via: 'import' | 'require' = 'import'): Promise<Record<string, unknown>> {
  try {
    const mod: unknown = via === 'require' ? require(specifier) : await import(specifier);
    const record = mod as Record<string, unknown>;
    const inner = record.default;
    return inner !== null && typeof inner === 'object' ? { ...(inner as Record<string, unknown>), ...record } : record;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingPackageError(specifier, { cause: error });
    }
    throw error;
  }
}

function member<T>(mod: Record<string, unknown>, name: string): T {
  const value = mod[name];
  if (value === undefined) throw new Error(`the installed package has no export "${name}"`);
  return value as T;
}

// ---------------------------------------------------------------------------------------------
// The page as typed JavaScript values, with the same conversions the DuckDB writer applies.

type Typed = string | number | bigint | boolean | Date | null | Typed[] | { [k: string]: Typed } | Map<string, string | null>;

const isObject = (v: unknown): v is Record<string, JsonValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

function asText(v: JsonValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function typedValue(type: FieldType, v: JsonValue | undefined, mapAs: 'object' | 'map'): Typed {
  if (v === undefined || v === null) return null;
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        return asText(v);
      case 'json':
        return JSON.stringify(v);
      case 'timestamp': {
        const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
        return Number.isFinite(ms) ? new Date(ms) : null;
      }
      case 'bigint':
      case 'int': {
        const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
        if (!Number.isSafeInteger(n)) return null;
        return type === 'bigint' ? BigInt(n) : n;
      }
      case 'double': {
        const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
        return Number.isFinite(n) ? n : null;
      }
      case 'boolean':
        return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null;
    }
  }
  switch (type.kind) {
    case 'struct':
      return isObject(v) ? Object.fromEntries(type.fields.map((f) => [f.name, typedValue(f.type, v[f.name], mapAs)])) : null;
    case 'list':
      return Array.isArray(v) ? v.map((e) => typedValue(type.element, e, mapAs)) : null;
    case 'map': {
      if (!isObject(v)) return null;
      const entries = Object.entries(v).map(([k, x]): [string, string | null] => [k, x === null ? null : asText(x)]);
      return mapAs === 'map' ? new Map(entries) : Object.fromEntries(entries);
    }
  }
}

interface TypedPage {
  readonly rows: Record<string, Typed>[];
  readonly events: number;
}

/** JSON.parse, exact element texts for `raw`, and the schema's typed values (what every JS writer needs). */
function typedPage(page: string, mapAs: 'object' | 'map'): TypedPage {
  const events = JSON.parse(page) as JsonValue[];
  const spans = arrayElementSpans(page) ?? [];
  const ingestedAt = new Date();
  const rows = events.map((e, i) => {
    const event = isObject(e) ? e : {};
    const row: Record<string, Typed> = {};
    for (const c of EVENT_COLUMNS) row[c.name] = typedValue(c.type, event[c.name], mapAs);
    row.raw = page.slice(spans[i].start, spans[i].end);
    row.ingested_at = ingestedAt;
    return row;
  });
  return { rows, events: events.length };
}

/** Reshapes a typed value for the parquetjs idioms: 3-level LIST/MAP wrappers, or 2-level repeated groups. */
function parquetjsShape(type: FieldType, v: Typed, style: 'annotated' | 'repeated'): Typed | undefined {
  if (typeof type === 'string') return v === null ? undefined : v;
  switch (type.kind) {
    case 'struct': {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date || v instanceof Map) return undefined;
      const out: Record<string, Typed> = {};
      for (const f of type.fields) {
        const shaped = parquetjsShape(f.type, (v as Record<string, Typed>)[f.name] ?? null, style);
        if (shaped !== undefined) out[f.name] = shaped;
      }
      return out;
    }
    case 'list': {
      const items = Array.isArray(v) ? v.map((e) => parquetjsShape(type.element, e, style) ?? null) : undefined;
      if (style === 'repeated') return items ?? [];
      return items === undefined ? undefined : { list: items.map((element) => ({ element })) };
    }
    case 'map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date || v instanceof Map) {
        return style === 'repeated' ? [] : undefined;
      }
      const pairs = Object.entries(v as Record<string, Typed>).map(([key, value]): Record<string, Typed> => (value === null ? { key } : { key, value }));
      return style === 'repeated' ? pairs : { key_value: pairs };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The candidates.

interface ParquetjsModule {
  ParquetSchema: new (definition: Record<string, unknown>) => unknown;
  ParquetWriter: {
    openStream(schema: unknown, stream: Writable, options?: Record<string, unknown>): Promise<{
      appendRow(row: Record<string, unknown>): Promise<void>;
      close(): Promise<void>;
    }>;
  };
}

function parquetjsField(type: FieldType, style: 'annotated' | 'repeated', optional = true): Record<string, unknown> {
  const leaf = (t: string): Record<string, unknown> => ({ type: t, optional, compression: 'SNAPPY' });
  if (typeof type === 'string') {
    const t = { string: 'UTF8', json: 'UTF8', timestamp: 'TIMESTAMP_MILLIS', bigint: 'INT64', int: 'INT32', double: 'DOUBLE', boolean: 'BOOLEAN' }[type];
    return leaf(t);
  }
  switch (type.kind) {
    case 'struct':
      return { optional, fields: Object.fromEntries(type.fields.map((f) => [f.name, parquetjsField(f.type, style)])) };
    case 'list':
      if (style === 'repeated') return { ...parquetjsField(type.element, style, false), optional: false, repeated: true };
      return { type: 'LIST', optional, fields: { list: { repeated: true, fields: { element: parquetjsField(type.element, style) } } } };
    case 'map': {
      const keyValue = { key: { ...leaf('UTF8'), optional: false }, value: leaf('UTF8') };
      if (style === 'repeated') return { repeated: true, fields: keyValue };
      return { type: 'MAP', optional, fields: { key_value: { repeated: true, fields: keyValue } } };
    }
  }
}

function parquetjsCandidate(name: string, pkg: string, specifier: string, via: 'import' | 'require', style: 'annotated' | 'repeated', notes: string): Candidate {
  return {
    name,
    packages: [pkg],
    notes,
    load: async () => {
      const mod = (await optional(specifier, via)) as unknown as ParquetjsModule;
      const schema = new mod.ParquetSchema(
        Object.fromEntries(LOG_EVENT_COLUMNS.map((c: Field) => [c.name, parquetjsField(c.type, style)])),
      );
      return {
        write: async (page) => {
          const { rows } = typedPage(page, 'object');
          const chunks: Buffer[] = [];
          const sink = new Writable({
            write(chunk: Buffer, _encoding, done) {
              chunks.push(Buffer.from(chunk));
              done();
            },
          });
          const writer = await mod.ParquetWriter.openStream(schema, sink, { useDataPageV2: false, pageIndex: false });
          for (const row of rows) {
            const shaped: Record<string, unknown> = {};
            for (const c of LOG_EVENT_COLUMNS) {
              const value = parquetjsShape(c.type, row[c.name] ?? null, style);
              if (value !== undefined) shaped[c.name] = value;
            }
            await writer.appendRow(shaped);
          }
          await writer.close();
          return Buffer.concat(chunks);
        },
      };
    },
  };
}

interface SchemaElement {
  name: string;
  type?: string;
  converted_type?: string;
  repetition_type?: 'REQUIRED' | 'OPTIONAL' | 'REPEATED';
  num_children?: number;
}

function hyparquetElements(name: string, type: FieldType, repetition: SchemaElement['repetition_type'] = 'OPTIONAL'): SchemaElement[] {
  if (typeof type === 'string') {
    const physical = { string: ['BYTE_ARRAY', 'UTF8'], json: ['BYTE_ARRAY', 'UTF8'], timestamp: ['INT64', 'TIMESTAMP_MILLIS'], bigint: ['INT64'], int: ['INT32'], double: ['DOUBLE'], boolean: ['BOOLEAN'] }[type];
    return [{ name, type: physical[0], ...(physical[1] ? { converted_type: physical[1] } : {}), repetition_type: repetition }];
  }
  switch (type.kind) {
    case 'struct':
      return [{ name, repetition_type: repetition, num_children: type.fields.length }, ...type.fields.flatMap((f) => hyparquetElements(f.name, f.type))];
    case 'list':
      return [
        { name, repetition_type: repetition, num_children: 1, converted_type: 'LIST' },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...hyparquetElements('element', type.element),
      ];
    case 'map':
      return [
        { name, repetition_type: repetition, num_children: 1, converted_type: 'MAP' },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ];
  }
}

const hyparquetCandidate: Candidate = {
  name: 'hyparquet-writer',
  packages: ['hyparquet-writer'],
  notes: 'pure JS; SNAPPY (no ZSTD); its own page format choices',
  load: async () => {
    const mod = await optional('hyparquet-writer');
    const parquetWriteBuffer = member<(o: { columnData: { name: string; data: unknown[] }[]; schema: SchemaElement[] }) => ArrayBuffer>(
      mod,
      'parquetWriteBuffer',
    );
    const schema: SchemaElement[] = [
      { name: 'root', num_children: LOG_EVENT_COLUMNS.length },
      ...LOG_EVENT_COLUMNS.flatMap((c) => hyparquetElements(c.name, c.type)),
    ];
    return {
      write: async (page) => {
        const { rows } = typedPage(page, 'object');
        const columnData = LOG_EVENT_COLUMNS.map((c) => ({ name: c.name, data: rows.map((r) => r[c.name] ?? null) }));
        return new Uint8Array(parquetWriteBuffer({ columnData, schema }));
      },
    };
  },
};

interface ArrowModule {
  [type: string]: unknown;
}

const parquetWasmCandidate: Candidate = {
  name: 'parquet-wasm + apache-arrow',
  packages: ['parquet-wasm', 'apache-arrow'],
  notes: 'Rust parquet crate in WASM; ZSTD; timestamps as milliseconds',
  load: async () => {
    const arrow = (await optional('apache-arrow')) as ArrowModule;
    const pq = await optional('parquet-wasm');
    type Ctor = new (...args: unknown[]) => unknown;
    const A = (name: string): Ctor => member<Ctor>(arrow, name);
    const field = (name: string, type: unknown, nullable = true): unknown => new (A('Field'))(name, type, nullable);
    const arrowType = (type: FieldType): unknown => {
      if (typeof type === 'string') {
        const name = { string: 'Utf8', json: 'Utf8', timestamp: 'TimestampMillisecond', bigint: 'Int64', int: 'Int32', double: 'Float64', boolean: 'Bool' }[type];
        return new (A(name))();
      }
      switch (type.kind) {
        case 'struct':
          return new (A('Struct'))(type.fields.map((f) => field(f.name, arrowType(f.type))));
        case 'list':
          return new (A('List'))(field('element', arrowType(type.element)));
        case 'map':
          return new (A('Map_'))(field('entries', new (A('Struct'))([field('key', new (A('Utf8'))(), false), field('value', new (A('Utf8'))())]), false));
      }
    };
    const types = LOG_EVENT_COLUMNS.map((c) => arrowType(c.type));
    const vectorFromArray = member<(values: unknown[], type: unknown) => unknown>(arrow, 'vectorFromArray');
    const tableToIPC = member<(table: unknown, kind: string) => Uint8Array>(arrow, 'tableToIPC');
    const writeParquet = member<(table: unknown, properties: unknown) => Uint8Array>(pq, 'writeParquet');
    const builder = new (member<Ctor>(pq, 'WriterPropertiesBuilder'))() as { setCompression(c: unknown): { build(): unknown } };
    const compression = member<Record<string, unknown>>(pq, 'Compression').ZSTD;
    const properties = builder.setCompression(compression).build();
    const wasmTable = pq.Table as { fromIPCStream?: (ipc: Uint8Array) => unknown } | undefined;
    const toMillis = (v: Typed): Typed => (v instanceof Date ? v.getTime() : v);
    return {
      write: async (page) => {
        const { rows } = typedPage(page, 'map');
        const columns: Record<string, unknown> = {};
        LOG_EVENT_COLUMNS.forEach((c, i) => {
          const values = rows.map((r) => (c.type === 'timestamp' ? toMillis(r[c.name] ?? null) : (r[c.name] ?? null)));
          columns[c.name] = vectorFromArray(values, types[i]);
        });
        const table = new (A('Table'))(columns);
        const ipc = tableToIPC(table, 'stream');
        // parquet-wasm >= 0.6 takes its own Table; older versions took the IPC bytes.
        return writeParquet(wasmTable?.fromIPCStream ? wasmTable.fromIPCStream(ipc) : ipc, properties);
      },
    };
  },
};

const duckDbCandidate: Candidate = {
  name: '@duckdb/node-api (okta-lake writer)',
  packages: ['@duckdb/node-api'],
  notes: 'full writePage: classify, dedupe, partition; ZSTD; v1 pages, 3-level LIST, MAP',
  load: async () => {
    const writer = await DuckDbParquetWriter.open();
    let n = 0;
    return {
      write: async (page) => {
        const result = await writer.writePage({ org: 'bench.okta.com', body: page, format: 'array', name: `cmp-${++n}`, ingestedAt: new Date() });
        return concat(result.objects.map((o) => o.body));
      },
      close: () => writer.close(),
    };
  },
};

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

export const CANDIDATES: readonly Candidate[] = [
  duckDbCandidate,
  hyparquetCandidate,
  parquetWasmCandidate,
  parquetjsCandidate('@dsnp/parquetjs', '@dsnp/parquetjs', '@dsnp/parquetjs', 'import', 'annotated', 'pure JS; SNAPPY (no ZSTD); hand-built LIST/MAP groups; v1 pages'),
  parquetjsCandidate(
    'parquetjs-lite',
    'parquetjs-lite@0.8.7',
    'parquetjs-lite',
    'require',
    'repeated',
    'unmaintained; SNAPPY; 2-level repeated lists/maps (Athena reads arrays of structs as NULL)',
  ),
];

// ---------------------------------------------------------------------------------------------

export interface CompareRow {
  readonly name: string;
  readonly status: 'measured' | 'missing' | 'failed';
  readonly detail?: string;
  /** Median writer time / median JSON.parse time, wall clock and process CPU. */
  readonly ratio?: number;
  readonly cpuRatio?: number;
  readonly bytesPerEvent?: number;
  readonly notes: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(candidate: Candidate, pages: readonly string[], rounds: number): Promise<CompareRow> {
  let loaded: Awaited<ReturnType<Candidate['load']>>;
  try {
    loaded = await candidate.load();
  } catch (error) {
    if (error instanceof MissingPackageError) return { name: candidate.name, status: 'missing', notes: candidate.notes };
    return { name: candidate.name, status: 'failed', detail: firstLine(error), notes: candidate.notes };
  }
  try {
    const counts = pages.map((p) => (JSON.parse(p) as unknown[]).length);
    let bytes = 0;
    for (const page of pages) bytes += (await loaded.write(page)).byteLength; // warm-up and sizes
    const parse: number[] = [];
    const write: number[] = [];
    const parseCpu: number[] = [];
    const writeCpu: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const [i, page] of pages.entries()) {
        const per1000 = 1000 / counts[i];
        let c0 = process.cpuUsage();
        let t0 = performance.now();
        JSON.parse(page);
        parse.push((performance.now() - t0) * per1000);
        let d = process.cpuUsage(c0);
        parseCpu.push(((d.user + d.system) / 1000) * per1000);
        c0 = process.cpuUsage();
        t0 = performance.now();
        await loaded.write(page);
        write.push((performance.now() - t0) * per1000);
        d = process.cpuUsage(c0);
        writeCpu.push(((d.user + d.system) / 1000) * per1000);
      }
    }
    const events = counts.reduce((a, b) => a + b, 0);
    return {
      name: candidate.name,
      status: 'measured',
      ratio: median(write) / median(parse),
      cpuRatio: median(writeCpu) / median(parseCpu),
      bytesPerEvent: bytes / events,
      notes: candidate.notes,
    };
  } catch (error) {
    return { name: candidate.name, status: 'failed', detail: firstLine(error), notes: candidate.notes };
  } finally {
    await loaded.close?.();
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 160);
}

/** Measures every candidate on `pages` (same pages, same process) and returns one row each. */
export async function compareWriters(pages: readonly string[], rounds = 3): Promise<CompareRow[]> {
  const rows: CompareRow[] = [];
  for (const candidate of CANDIDATES) rows.push(await measure(candidate, pages, rounds));
  return rows;
}

async function main(): Promise<void> {
  const [pageCount = 4, eventsPerPage = 1000, rounds = 3] = process.argv.slice(2).map(Number);
  const pages = realisticPages(pageCount, eventsPerPage);
  const bytes = pages.reduce((n, p) => n + Buffer.byteLength(p), 0) / (pageCount * eventsPerPage);
  console.log(`${pageCount} pages x ${eventsPerPage} events, ${bytes.toFixed(0)} JSON bytes/event, ${rounds} rounds\n`);
  const rows = await compareWriters(pages, rounds);
  const table = [
    ['writer', 'status', 'x JSON.parse (wall)', 'x JSON.parse (cpu)', 'bytes/event', 'notes'],
    ...rows.map((r) => [
      r.name,
      r.status === 'failed' ? `failed: ${r.detail}` : r.status,
      r.ratio === undefined ? '-' : r.ratio.toFixed(1),
      r.cpuRatio === undefined ? '-' : r.cpuRatio.toFixed(1),
      r.bytesPerEvent === undefined ? '-' : r.bytesPerEvent.toFixed(0),
      r.notes,
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  const missing = CANDIDATES.filter((c) => rows.find((r) => r.name === c.name)?.status === 'missing').flatMap((c) => c.packages);
  if (missing.length > 0) {
    console.log(`\nNot installed (not project dependencies). To measure them too:\n  npm install --no-save ${missing.join(' ')}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
