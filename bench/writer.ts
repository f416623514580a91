/**
 * Writer benchmark: on the same pages in the same process, the warm cost of
 * `DuckDbParquetWriter.writePage` against `JSON.parse` of the page text, and the bytes per event of
 * the Parquet columns against the page JSON.
 *
 * Both are measured interleaved (parse, write, parse, write, ...) so that load from other processes
 * hits both alike; wall-clock and process CPU time are reported (CPU time is the steadier number
 * on a shared machine). `benchWriter` returns numbers only: it writes no result file.
 *
 *   npx tsx bench/writer.ts [pages=8] [eventsPerPage=1000] [rounds=5]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixtureEvents, mergeOverrides, seededRandom, type FixtureOverrides, type JsonObject } from '../lib/core/fixtures';
import type { PageWriter, PageWriteResult, WrittenObject } from '../lib/core/ports';
import { EVENT_COLUMNS } from '../lib/core/schema';
import { openDuckDb } from '../lib/core/writer/duckdb';
import { DuckDbParquetWriter, type DuckDbParquetWriterOptions } from '../lib/core/writer/parquet-writer';

export interface WriterBenchOptions {
  /** Passes over all pages before measuring. @default 2 */
  readonly warmupRounds?: number;
  /** Measured passes over all pages. @default 5 */
  readonly rounds?: number;
  /** Options of the writer the benchmark opens (ignored when `writer` is given). @default {} */
  readonly writerOptions?: DuckDbParquetWriterOptions;
  /** A writer to measure instead of a new `DuckDbParquetWriter` (not closed by the benchmark). */
  readonly writer?: PageWriter;
}

export interface Timing {
  /** Median milliseconds per 1,000 events (wall clock). */
  readonly medianMs: number;
  /** 25th percentile, milliseconds per 1,000 events (wall clock). */
  readonly p25Ms: number;
  /** Median process CPU milliseconds (user + system) per 1,000 events. */
  readonly medianCpuMs: number;
}

export interface WriterBenchResult {
  readonly pages: number;
  readonly events: number;
  /** Mean page JSON bytes per event. */
  readonly jsonBytesPerEvent: number;
  readonly jsonParse: Timing;
  readonly writePage: Timing;
  /** writePage / JSON.parse, median wall clock. */
  readonly ratio: number;
  /** writePage / JSON.parse, median CPU time. */
  readonly cpuRatio: number;
  /** Compressed column-chunk bytes per event (from `parquet_metadata`). */
  readonly parquetBytesPerEvent: {
    /** The typed columns (`EVENT_COLUMNS`). */
    readonly typed: number;
    /** The `raw` column. */
    readonly raw: number;
    /** Whole objects, footers included. */
    readonly total: number;
  };
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
}

/** Process CPU milliseconds (user + system) since `since`. */
export const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

/** Counts the elements of a page without parsing it in the measured path (once per page). */
const eventsOf = (page: string): number => (JSON.parse(page) as unknown[]).length;

export async function benchWriter(pages: readonly string[], options: WriterBenchOptions = {}): Promise<WriterBenchResult> {
  if (pages.length === 0) throw new RangeError('benchWriter needs at least one page');
  const warmupRounds = options.warmupRounds ?? 2;
  const rounds = options.rounds ?? 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  const counts = pages.map(eventsOf);
  const writer = options.writer ?? (await DuckDbParquetWriter.open(options.writerOptions));
  const input = (body: string, i: number) => ({
    org: 'bench.okta.com',
    body,
    format: 'array' as const,
    name: `bench-p${i}`,
    ingestedAt: new Date('2024-06-03T00:00:00.000Z'),
  });
  try {
    const firstResults: PageWriteResult[] = [];
    for (let r = 0; r < warmupRounds; r++) {
      for (const [i, page] of pages.entries()) {
        JSON.parse(page);
        const result = await writer.writePage(input(page, i));
        if (r === 0) firstResults.push(result);
      }
    }
    if (firstResults.length === 0) {
      for (const [i, page] of pages.entries()) firstResults.push(await writer.writePage(input(page, i)));
    }

    const parse = { wall: [] as number[], cpu: [] as number[] };
    const write = { wall: [] as number[], cpu: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      for (const [i, page] of pages.entries()) {
        const per1000 = 1000 / counts[i];
        let c0 = process.cpuUsage();
        let t0 = performance.now();
        JSON.parse(page);
        parse.wall.push((performance.now() - t0) * per1000);
        parse.cpu.push(cpuMs(c0) * per1000);
        c0 = process.cpuUsage();
        t0 = performance.now();
        await writer.writePage(input(page, i));
        write.wall.push((performance.now() - t0) * per1000);
        write.cpu.push(cpuMs(c0) * per1000);
      }
    }

    const events = counts.reduce((a, b) => a + b, 0);
    const jsonBytes = pages.reduce((n, p) => n + Buffer.byteLength(p, 'utf8'), 0);
    const sizes = await columnBytes(firstResults.flatMap((r) => r.objects));
    const timing = (t: { wall: number[]; cpu: number[] }): Timing => ({
      medianMs: median(t.wall),
      p25Ms: quantile(t.wall, 0.25),
      medianCpuMs: median(t.cpu),
    });
    const jsonParse = timing(parse);
    const writePage = timing(write);
    return {
      pages: pages.length,
      events,
      jsonBytesPerEvent: jsonBytes / events,
      jsonParse,
      writePage,
      ratio: writePage.medianMs / jsonParse.medianMs,
      cpuRatio: writePage.medianCpuMs / jsonParse.medianCpuMs,
      parquetBytesPerEvent: { typed: sizes.typed / events, raw: sizes.raw / events, total: sizes.total / events },
    };
  } finally {
    if (!options.writer) await writer.close();
  }
}

/** Sums compressed column-chunk sizes by kind, reading the objects' footers with DuckDB. */
async function columnBytes(objects: readonly WrittenObject[]): Promise<{ typed: number; raw: number; total: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'okta-lake-bench-writer-'));
  const db = await openDuckDb({ tmpDir: join(dir, 'duckdb') });
  try {
    const files = objects.map((o, i) => {
      const file = join(dir, `o${i}.parquet`);
      writeFileSync(file, o.body);
      return file;
    });
    const total = objects.reduce((n, o) => n + o.body.byteLength, 0);
    if (files.length === 0) return { typed: 0, raw: 0, total };
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const rows = (
      await db.connection.runAndReadAll(
        `SELECT split_part(path_in_schema, ',', 1) AS col, sum(total_compressed_size)::BIGINT AS bytes
         FROM parquet_metadata([${list}]) GROUP BY col`,
      )
    ).getRowObjectsJS();
    const typedNames = new Set(EVENT_COLUMNS.map((c) => c.name));
    let typed = 0;
    let raw = 0;
    for (const r of rows) {
      if (typedNames.has(String(r.col))) typed += Number(r.bytes);
      else if (r.col === 'raw') raw += Number(r.bytes);
    }
    return { typed, raw, total };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Realistic pages made from the schema-driven fixtures, with the shapes real events show: most
 * events have no `device`, many no `target` and a shorter `debugData`, and one IP in the chain.
 * About 2.4 KB of JSON per event, as measured on real Okta exports.
 */
export function realisticPages(pageCount: number, eventsPerPage = 1000, seed = 1): string[] {
  const rnd = seededRandom(seed);
  const pages: string[] = [];
  const start = Date.UTC(2024, 5, 3, 8, 0, 0);
  for (let p = 0; p < pageCount; p++) {
    const events = fixtureEvents(eventsPerPage, {
      seed: seed * 1_000_000 + p * eventsPerPage,
      start: start + p * eventsPerPage * 250,
      spacingMs: 250,
    }).map((e) => realistic(e, rnd));
    pages.push(JSON.stringify(events));
  }
  return pages;
}

function realistic(event: JsonObject, rnd: () => number): JsonObject {
  const overrides: FixtureOverrides = {};
  if (rnd() < 0.8) overrides.device = null;
  if (rnd() < 0.4) overrides.target = null;
  const chain = (event.request as JsonObject | null)?.ipChain;
  if (Array.isArray(chain) && chain.length > 1) overrides.request = { ipChain: chain.slice(0, 1) };
  if (rnd() < 0.6) {
    overrides.debugContext = { debugData: { logOnlySecurityData: undefined, dtHash: undefined, factor: undefined } };
  }
  if (rnd() < 0.3) overrides.authenticationContext = { issuer: null, rootSessionId: null };
  return mergeOverrides(event, overrides);
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

async function main(): Promise<void> {
  const [pageCount = 8, eventsPerPage = 1000, rounds = 5] = process.argv.slice(2).map(Number);
  const pages = realisticPages(pageCount, eventsPerPage);
  const r = await benchWriter(pages, { rounds });
  const rows: [string, string][] = [
    ['pages x events', `${r.pages} x ${Math.round(r.events / r.pages)}`],
    ['page JSON bytes/event', fmt(r.jsonBytesPerEvent, 0)],
    ['JSON.parse ms/1000 ev (median, p25, cpu)', `${fmt(r.jsonParse.medianMs)}  ${fmt(r.jsonParse.p25Ms)}  ${fmt(r.jsonParse.medianCpuMs)}`],
    ['writePage ms/1000 ev (median, p25, cpu)', `${fmt(r.writePage.medianMs)}  ${fmt(r.writePage.p25Ms)}  ${fmt(r.writePage.medianCpuMs)}`],
    ['writePage / JSON.parse (wall, cpu)', `${fmt(r.ratio, 2)}  ${fmt(r.cpuRatio, 2)}`],
    ['Parquet bytes/event typed', fmt(r.parquetBytesPerEvent.typed)],
    ['Parquet bytes/event raw', fmt(r.parquetBytesPerEvent.raw)],
    ['Parquet bytes/event total', fmt(r.parquetBytesPerEvent.total)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
