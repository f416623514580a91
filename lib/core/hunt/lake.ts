/**
 * A local lake opened for hunting: DuckDB (set up as the writer sets it up, see
 * `lib/core/writer/duckdb.ts`) with the compatibility layer installed and a view named
 * `okta_system_log` (`TABLE_NAME`) over the files that hold each org-day exactly once (its
 * `events/` and `late/` objects, or once compacted its current parts and unabsorbed `late/`
 * objects: `lakeFilesOf`, docs/compaction.md), so the Athena SQL of `athena-queries/` reads the
 * same table name and columns as in Athena:
 *
 * - the Parquet columns (`LOG_EVENT_COLUMNS`, Okta's names);
 * - the partition columns `org`, `dt` and `hour` taken from the path, as VARCHAR (they are
 *   strings in the Glue table too, so `dt >= '2024-05-01'` and `hour >= '07'` compare the same way).
 *
 * Files written before a field was added to the schema (lib/core/schema.ts) are read with it NULL:
 * the files are read with `union_by_name`, which matches columns and struct fields by name across
 * files (without it DuckDB takes the first file's schema and silently drops the fields the others
 * add), and a column whose type in the files differs from the schema's (an old file's
 * `securityContext` has no `ipDetails`) is cast to the schema's type, which fills the missing struct
 * fields with NULL. So the view always has the schema's columns and types, whichever files the lake
 * holds. Athena does the same by name: its Parquet SerDe resolves columns by name by default
 * (https://docs.aws.amazon.com/athena/latest/ug/handling-schema-updates-chapter.html: "By default,
 * Parquet will access columns by name"), and the Glue table's columns are the schema's.
 *
 * DuckDB prunes partitions from the path before reading a file when a query's `dt`/`hour`
 * conditions are constant (they are once `current_timestamp` is pinned), as Athena does.
 * The view is defined again before each query, so files written after `openLake` are seen; a lake
 * with no Parquet files yet is an empty table with the same columns.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ConfigError, OktaLakeError } from '../errors';
import { TABLE_NAME } from '../layout';
import { dirLakeReader, lakeFilesOf, readerFiles, type DayFiles } from '../compact/files';
import { LOG_EVENT_COLUMNS, PARTITION_KEYS, duckDbType } from '../schema';
import { openDuckDb, type DuckDbOptions, type OpenDuckDb } from '../writer/duckdb';
import { COMPAT_MACROS, DUCKDB_SETTINGS } from './compat';

/** The lake folder does not exist or is not a folder. */
export class LakeNotFoundError extends ConfigError {}

/** DuckDB failed while preparing the lake for hunting. */
export class LakeOpenError extends OktaLakeError {}

export interface OpenLakeOptions {
  /**
   * DuckDB settings (see `openDuckDb`).
   * @default { threads: 2, memoryLimit: '1GB' }
   */
  readonly duckdb?: DuckDbOptions;
}

/** An open lake; `close()` releases DuckDB. One query at a time. */
export interface Lake {
  /** Absolute path of the lake folder (the one holding `events/`). */
  readonly dir: string;
  readonly connection: DuckDBConnection;
  /** Defines the `okta_system_log` view for the files present now. */
  refresh(): Promise<void>;
  close(): void;
}

const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;
const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const HIVE_TYPES = (keys: readonly string[]): string => `{${keys.map((k) => `${quoteLiteral(k)}: VARCHAR`).join(', ')}}`;
const fileArray = (files: readonly string[]): string => `[${files.map(quoteLiteral).join(', ')}]`;
const COLUMNS = LOG_EVENT_COLUMNS.map((c) => quoteIdent(c.name)).join(', ');

/** A `read_parquet` call over `files` (absolute paths), with `keys` from their paths, fields matched by name. */
function source(files: readonly string[], keys: readonly string[]): string {
  return `read_parquet(${fileArray(files)}, hive_partitioning = true, hive_types = ${HIVE_TYPES(keys)}, hive_types_autocast = false, union_by_name = true)`;
}

/**
 * The schema's columns as selected from a source whose files have `fileTypes` (DuckDB's spelling,
 * from `DESCRIBE`): a column whose type differs from the schema's (`schemaTypes`) is cast to it, a
 * column no file has is NULL. Without `fileTypes` the columns are selected as they are.
 */
function selectColumns(fileTypes?: ReadonlyMap<string, string>, schemaTypes?: ReadonlyMap<string, string>): string {
  if (fileTypes === undefined) return COLUMNS;
  return LOG_EVENT_COLUMNS.map((c) => {
    const name = quoteIdent(c.name);
    const inFiles = fileTypes.get(c.name);
    if (inFiles === undefined) return `CAST(NULL AS ${duckDbType(c.type)}) AS ${name}`;
    return inFiles === schemaTypes?.get(c.name) ? name : `CAST(${name} AS ${duckDbType(c.type)}) AS ${name}`;
  }).join(', ');
}

/** The column types of each half of the view, when known. */
interface ViewTypes {
  readonly schema?: ReadonlyMap<string, string>;
  readonly originals?: ReadonlyMap<string, string>;
  readonly parts?: ReadonlyMap<string, string>;
}

/** The originals and the parts readers read, as the two `read_parquet` sources of the view. */
function viewSources(dir: string, days: readonly DayFiles[]): { originals?: string; parts?: string } {
  const { originals, parts } = readerFiles(days);
  const abs = (key: string): string => join(dir, ...key.split('/'));
  return {
    ...(originals.length > 0 ? { originals: source(originals.map(abs), PARTITION_KEYS) } : {}),
    ...(parts.length > 0 ? { parts: source(parts.map(abs), ['org', 'dt']) } : {}),
  };
}

/**
 * The SQL of the `okta_system_log` view over the files readers read (`lakeFilesOf`): for each
 * org-day, its current compacted generation's parts and the late objects that generation did not
 * absorb, or, for a day not compacted, its `events/` and `late/` objects. Originals carry `org`,
 * `dt` and `hour` in their path; parts carry `org` and `dt`, and `hour` is derived from `published`
 * (UTC, 2 digits), so both halves have the same columns and a `dt` condition still prunes files.
 * Each half's columns are cast to the schema's types where its files differ (`types`, see the
 * module comment).
 */
function lakeViewSqlOf(dir: string, days: readonly DayFiles[], types: ViewTypes = {}): string {
  const sources = viewSources(dir, days);
  const branches: string[] = [];
  if (sources.originals) branches.push(`SELECT ${selectColumns(types.originals, types.schema)}, org, dt, hour FROM ${sources.originals}`);
  if (sources.parts) branches.push(`SELECT ${selectColumns(types.parts, types.schema)}, org, dt, strftime(published, '%H') AS hour FROM ${sources.parts}`);
  if (branches.length > 0) return `CREATE OR REPLACE TEMP VIEW ${TABLE_NAME} AS ${branches.join(' UNION ALL ')}`;
  const columns = [
    ...LOG_EVENT_COLUMNS.map((c) => `CAST(NULL AS ${duckDbType(c.type)}) AS ${quoteIdent(c.name)}`),
    ...PARTITION_KEYS.map((k) => `CAST(NULL AS VARCHAR) AS ${quoteIdent(k)}`),
  ];
  return `CREATE OR REPLACE TEMP VIEW ${TABLE_NAME} AS SELECT ${columns.join(', ')} WHERE false`;
}

/** The schema's column types as DuckDB spells them (`typeof` of a NULL of each type). */
async function schemaColumnTypes(connection: DuckDBConnection): Promise<Map<string, string>> {
  const select = LOG_EVENT_COLUMNS.map((c, i) => `typeof(CAST(NULL AS ${duckDbType(c.type)})) AS c${i}`).join(', ');
  const [row] = (await connection.runAndReadAll(`SELECT ${select}`)).getRows();
  return new Map(LOG_EVENT_COLUMNS.map((c, i) => [c.name, String(row[i])]));
}

/** The column types of a source's files read together. */
async function sourceColumnTypes(connection: DuckDBConnection, from: string): Promise<Map<string, string>> {
  const rows = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjects();
  return new Map(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

/**
 * The column types of a source, remembered for the last source text seen: lake objects are
 * write-once, so the same list of files always has the same types, and a replay that refreshes the
 * view before each of its queries reads the files' schemas once, not once a query.
 */
type TypeCache = Map<'originals' | 'parts', { readonly from: string; readonly types: Map<string, string> }>;

async function cachedTypes(connection: DuckDBConnection, cache: TypeCache, half: 'originals' | 'parts', from: string): Promise<Map<string, string>> {
  const hit = cache.get(half);
  if (hit && hit.from === from) return hit.types;
  const types = await sourceColumnTypes(connection, from);
  cache.set(half, { from, types });
  return types;
}

/** The view's SQL for `days` of the lake at `dir`, with each half's file types read through `connection`. */
async function typedViewSql(connection: DuckDBConnection, dir: string, days: readonly DayFiles[], schema: ReadonlyMap<string, string>, cache: TypeCache): Promise<string> {
  const sources = viewSources(dir, days);
  const types: ViewTypes = {
    schema,
    ...(sources.originals ? { originals: await cachedTypes(connection, cache, 'originals', sources.originals) } : {}),
    ...(sources.parts ? { parts: await cachedTypes(connection, cache, 'parts', sources.parts) } : {}),
  };
  return lakeViewSqlOf(dir, days, types);
}

/** Installs the compatibility layer's settings and macros on a connection. */
export async function installCompatibility(connection: DuckDBConnection): Promise<void> {
  for (const statement of [...DUCKDB_SETTINGS, ...COMPAT_MACROS]) await connection.run(statement);
}

/** Opens the lake at `dir` for hunting (see the module comment). */
export async function openLake(dir: string, options: OpenLakeOptions = {}): Promise<Lake> {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new LakeNotFoundError(`lake folder ${abs} does not exist (it is the folder that holds events/)`);
  }
  let db: OpenDuckDb | undefined;
  try {
    db = await openDuckDb({ threads: 2, memoryLimit: '1GB', ...options.duckdb });
    const connection = db.connection;
    await installCompatibility(connection);
    const opened = db;
    const schemaTypes = await schemaColumnTypes(connection);
    const typeCache: TypeCache = new Map();
    const lake: Lake = {
      dir: abs,
      connection,
      refresh: async () => {
        try {
          await connection.run(await typedViewSql(connection, abs, await lakeFilesOf(dirLakeReader(abs)), schemaTypes, typeCache));
        } catch (error) {
          throw new LakeOpenError(`could not read the Parquet files of ${abs}`, { cause: error });
        }
      },
      close: () => opened.close(),
    };
    await lake.refresh();
    return lake;
  } catch (error) {
    db?.close();
    if (error instanceof OktaLakeError) throw error;
    throw new LakeOpenError(`could not open ${abs} for hunting`, { cause: error });
  }
}
