/**
 * Where compaction and verification do their DuckDB work: a DuckDB instance (see `openDuckDb`) and
 * a private folder into which lake objects are copied (from S3 or a folder alike, through the
 * sink), with their size and sha256 taken on the way. Also the comparison both compaction's verify
 * step and `verifyDay` rest on: two sets of Parquet files hold the same events, uuid by uuid, with
 * the same `raw`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OktaLakeError } from '../errors';
import { openDuckDb, type DuckDbOptions, type OpenDuckDb } from '../writer/duckdb';
import type { LakeReader } from './files';

/** An object of the lake could not be copied into the workspace. */
export class CompactionReadError extends OktaLakeError {}

export interface CompactionWorkspace {
  readonly db: OpenDuckDb;
  /** A private folder, removed on close. */
  readonly dir: string;
  close(): Promise<void>;
}

/**
 * @default threads 2, memoryLimit '2GB': a 100,000-event day's `raw` (sized in bench/compaction.md)
 * plus its typed columns (the security fields added since) ran a 1 GB limit out of memory while
 * reading the originals. Insertion order is not kept (every output is ordered explicitly), which
 * DuckDB's tuning guide names as the first way to lower the memory of large loads.
 */
export async function openCompactionWorkspace(options: DuckDbOptions = {}): Promise<CompactionWorkspace> {
  const db = await openDuckDb({ threads: 2, memoryLimit: '2GB', ...options });
  try {
    await db.connection.run('SET preserve_insertion_order = false');
  } catch (error) {
    db.close();
    throw error;
  }
  const dir = join(db.tmpDir, `compact-${process.pid}-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  let closed = false;
  return {
    db,
    dir,
    close: async () => {
      if (closed) return;
      closed = true;
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface LocalCopy {
  readonly key: string;
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

export const sha256Hex = (body: Uint8Array): string => createHash('sha256').update(body).digest('hex');

/** Copies `keys` into `dir` (as `<tag>-<n>.parquet`, in key order), `concurrency` at a time. */
export async function copyObjects(reader: LakeReader, keys: readonly string[], dir: string, tag: string, concurrency = 8): Promise<LocalCopy[]> {
  await mkdir(dir, { recursive: true });
  const out: LocalCopy[] = new Array(keys.length);
  let next = 0;
  const one = async (): Promise<void> => {
    for (let i = next++; i < keys.length; i = next++) {
      let body: Uint8Array | undefined;
      try {
        body = await reader.get(keys[i]);
      } catch (cause) {
        throw new CompactionReadError(`could not read ${reader.location}/${keys[i]}`, { cause });
      }
      if (body === undefined) throw new CompactionReadError(`${reader.location}/${keys[i]} was listed but cannot be found`);
      const file = join(dir, `${tag}-${String(i).padStart(6, '0')}.parquet`);
      await writeFile(file, body);
      out[i] = { key: keys[i], file, bytes: body.byteLength, sha256: sha256Hex(body) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, one));
  return out;
}

export const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;
export const fileList = (files: readonly string[]): string => `[${files.map(sqlString).join(', ')}]`;

/** At most this many uuids are named in each list of a comparison. */
export const LISTED_UUIDS = 50;

/** How two sets of files differ, event by event. */
export interface EventComparison {
  /** Rows and distinct uuids of the originals. */
  readonly originalRows: number;
  readonly originalEvents: number;
  /** Rows and distinct uuids of the compacted files. */
  readonly compactedRows: number;
  readonly compactedEvents: number;
  /** sha256 over `<uuid> <sha256(raw)>` lines of the distinct events, sorted by uuid (see `Manifest.checksum`). */
  readonly originalChecksum: string;
  readonly compactedChecksum: string;
  /** In the originals, not in the compacted files. */
  readonly removed: Counted;
  /** In the compacted files, not in the originals. */
  readonly added: Counted;
  /** In both, with a different `raw`. */
  readonly changed: Counted;
  /** More than once in the compacted files. */
  readonly duplicated: Counted;
  /** Different `raw` under the same uuid among the originals themselves. */
  readonly conflicting: Counted;
}

export interface Counted {
  readonly count: number;
  /** The first `LISTED_UUIDS` uuids, sorted. */
  readonly uuids: readonly string[];
}

/** Whether a comparison shows the compacted files hold exactly the originals' events. */
export const sameEvents = (c: EventComparison): boolean =>
  c.removed.count === 0 && c.added.count === 0 && c.changed.count === 0 && c.duplicated.count === 0 && c.conflicting.count === 0 && c.originalChecksum === c.compactedChecksum;

/** The checksum expression over a relation with `uuid` and `h` (sha256 of raw), one row per uuid. */
export const CHECKSUM_SQL = `sha256(coalesce(string_agg(uuid || ' ' || h, chr(10) ORDER BY uuid), ''))`;

const side = (files: readonly string[]): string =>
  files.length === 0 ? `(SELECT NULL::VARCHAR AS uuid, NULL::VARCHAR AS h WHERE false)` : `(SELECT uuid, sha256(raw) AS h FROM read_parquet(${fileList(files)}, hive_partitioning = false))`;

/** Compares the events of two sets of local Parquet files (originals against compacted). */
export async function compareEvents(ws: CompactionWorkspace, originals: readonly string[], compacted: readonly string[]): Promise<EventComparison> {
  const c = ws.db.connection;
  await c.run(`CREATE OR REPLACE TEMP TABLE okta_lake_cmp_o AS SELECT uuid, count(*)::BIGINT AS n, count(DISTINCT h)::BIGINT AS variants, min(h) AS h FROM ${side(originals)} GROUP BY uuid`);
  await c.run(`CREATE OR REPLACE TEMP TABLE okta_lake_cmp_c AS SELECT uuid, count(*)::BIGINT AS n, count(DISTINCT h)::BIGINT AS variants, min(h) AS h FROM ${side(compacted)} GROUP BY uuid`);
  try {
    const totals = (
      await c.runAndReadAll(
        `SELECT (SELECT coalesce(sum(n), 0)::BIGINT FROM okta_lake_cmp_o) AS orows, (SELECT count(*)::BIGINT FROM okta_lake_cmp_o) AS oevents,
                (SELECT coalesce(sum(n), 0)::BIGINT FROM okta_lake_cmp_c) AS crows, (SELECT count(*)::BIGINT FROM okta_lake_cmp_c) AS cevents,
                (SELECT ${CHECKSUM_SQL} FROM okta_lake_cmp_o) AS osum, (SELECT ${CHECKSUM_SQL} FROM okta_lake_cmp_c) AS csum`,
      )
    ).getRowObjectsJS()[0];
    const counted = async (where: string): Promise<Counted> => {
      const rows = (
        await c.runAndReadAll(
          `SELECT count(*) OVER ()::BIGINT AS total, uuid FROM okta_lake_cmp_o o FULL OUTER JOIN okta_lake_cmp_c c USING (uuid) WHERE ${where} ORDER BY uuid LIMIT ${LISTED_UUIDS}`,
        )
      ).getRowObjectsJS();
      return { count: Number(rows[0]?.total ?? 0), uuids: rows.map((r) => String(r.uuid)) };
    };
    return {
      originalRows: Number(totals.orows),
      originalEvents: Number(totals.oevents),
      compactedRows: Number(totals.crows),
      compactedEvents: Number(totals.cevents),
      originalChecksum: String(totals.osum),
      compactedChecksum: String(totals.csum),
      removed: await counted('c.n IS NULL'),
      added: await counted('o.n IS NULL'),
      changed: await counted('o.n IS NOT NULL AND c.n IS NOT NULL AND (o.h <> c.h OR c.variants > 1)'),
      duplicated: await counted('c.n > 1'),
      conflicting: await counted('o.variants > 1'),
    };
  } finally {
    await c.run('DROP TABLE IF EXISTS okta_lake_cmp_o');
    await c.run('DROP TABLE IF EXISTS okta_lake_cmp_c');
  }
}

/** `DESCRIBE` of a set of Parquet files: column names and types, in order. */
export async function describeFiles(ws: CompactionWorkspace, files: readonly string[]): Promise<string[]> {
  const rows = (await ws.db.connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${fileList(files)}, hive_partitioning = false)`)).getRowObjectsJS();
  return rows.map((r) => `${String(r.column_name)} ${String(r.column_type)}`);
}
