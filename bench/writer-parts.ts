/**
 * Where the writer's time goes: on the same pages, in the same process, interleaved with
 * `JSON.parse` of the page, the steps any DuckDB writer of this schema must take, each timed on its
 * own in a DuckDB instance set up like the writer's (one thread, same memory limit):
 *
 *  - `read`: `read_json_objects` of the page file into a table of element texts (DuckDB's JSON
 *    reader finding the elements and keeping their exact text: the `raw` column);
 *  - `type`: `json_transform` of those texts into the schema's typed struct, counted, not stored;
 *  - `encode typed`: `COPY` of rows already typed (a table made before timing) to ZSTD Parquet,
 *    without `raw`: what a survey of Parquet writers timing "rows in, Parquet out" compares;
 *  - `encode typed + raw`: the same with the `raw` column, which the lake keeps.
 *
 * Each is a lower bound for its step: the writer also classifies, deduplicates, partitions and
 * reads its files back. Their sum against `writePage` shows what the writer adds; each one against
 * `JSON.parse` shows how far a goal stated as a multiple of `JSON.parse` can be met with DuckDB.
 *
 *   npx tsx bench/writer-parts.ts [pages=8] [rounds=5]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { EVENT_COLUMNS, LOG_EVENT_COLUMNS } from '../lib/core/schema';
import { openDuckDb, runOnThisThread } from '../lib/core/writer/duckdb';
import { jsonTransformStructure } from '../lib/core/writer/parquet-writer';
import { cpuMs, median, realisticPages } from './writer';

export const PART_NAMES = ['JSON.parse', 'read', 'type', 'encode typed', 'encode typed + raw'] as const;
export type PartName = (typeof PART_NAMES)[number];

export interface PartTiming {
  /** Median wall-clock milliseconds per 1,000 events. */
  readonly medianMs: number;
  /** Median process CPU milliseconds per 1,000 events. */
  readonly medianCpuMs: number;
}

export type WriterParts = Readonly<Record<PartName, PartTiming>>;

const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

async function run(connection: DuckDBConnection, sql: string): Promise<void> {
  const statement = await connection.prepare(sql);
  try {
    await runOnThisThread(statement);
  } finally {
    statement.destroySync();
  }
}

export async function benchWriterParts(pages: readonly string[], options: { rounds?: number; warmupRounds?: number } = {}): Promise<WriterParts> {
  const rounds = options.rounds ?? 5;
  const warmupRounds = options.warmupRounds ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'okta-lake-bench-parts-'));
  const db = await openDuckDb({ tmpDir: join(dir, 'duckdb') });
  const c = db.connection;
  const structure = literal(JSON.stringify(Object.fromEntries(EVENT_COLUMNS.map((col) => [col.name, jsonTransformStructure(col.type)]))));
  const typedColumns = LOG_EVENT_COLUMNS.filter((col) => col.name !== 'raw' && col.name !== 'ingested_at')
    .map((col) => `t."${col.name}"`)
    .join(', ');
  try {
    const counts = pages.map((p) => (JSON.parse(p) as unknown[]).length);
    const files = pages.map((page, i) => {
      const file = join(dir, `page-${i}.json`);
      writeFileSync(file, page);
      return file;
    });
    // The typed rows of every page, made once, for the encode steps.
    for (const [i, file] of files.entries()) {
      await run(c, `CREATE TABLE texts_${i} AS SELECT json::VARCHAR AS raw FROM read_json_objects(${literal(file)}, format = 'array')`);
      await run(c, `CREATE TABLE typed_${i} AS SELECT ${typedColumns}, raw FROM (SELECT raw, json_transform(raw, ${structure}) AS t FROM texts_${i})`);
    }
    const out = join(dir, 'out.parquet');
    const copy = (select: string): string => `COPY (${select}) TO ${literal(out)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`;
    const steps: Record<PartName, (i: number) => Promise<unknown> | unknown> = {
      'JSON.parse': (i) => JSON.parse(pages[i]),
      read: (i) => run(c, `CREATE OR REPLACE TEMP TABLE texts AS SELECT json::VARCHAR AS raw FROM read_json_objects(${literal(files[i])}, format = 'array')`),
      type: (i) => run(c, `SELECT count(json_transform(raw, ${structure})) FROM texts_${i}`),
      'encode typed': (i) => run(c, copy(`SELECT * EXCLUDE (raw) FROM typed_${i}`)),
      'encode typed + raw': (i) => run(c, copy(`SELECT * FROM typed_${i}`)),
    };
    const wall = new Map<PartName, number[]>(PART_NAMES.map((n) => [n, []]));
    const cpu = new Map<PartName, number[]>(PART_NAMES.map((n) => [n, []]));
    for (let r = 0; r < warmupRounds + rounds; r++) {
      for (const i of pages.keys()) {
        const per1000 = 1000 / counts[i];
        for (const name of PART_NAMES) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await steps[name](i);
          if (r < warmupRounds) continue;
          wall.get(name)?.push((performance.now() - t0) * per1000);
          cpu.get(name)?.push(cpuMs(c0) * per1000);
        }
      }
    }
    return Object.fromEntries(
      PART_NAMES.map((n) => [n, { medianMs: median(wall.get(n) ?? []), medianCpuMs: median(cpu.get(n) ?? []) }]),
    ) as unknown as WriterParts;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [pageCount = 8, rounds = 5] = process.argv.slice(2).map(Number);
  const parts = await benchWriterParts(realisticPages(pageCount), { rounds });
  const base = parts['JSON.parse'];
  for (const name of PART_NAMES) {
    const p = parts[name];
    console.log(
      `${name.padEnd(20)} ${p.medianMs.toFixed(1).padStart(6)} ms  cpu ${p.medianCpuMs.toFixed(1).padStart(6)} ms  ${(p.medianCpuMs / base.medianCpuMs).toFixed(2)}x JSON.parse (cpu)`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
