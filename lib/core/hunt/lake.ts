/**
 * A local lake opened for hunting: DuckDB (set up as the writer sets it up, see
 * `lib/core/writer/duckdb.ts`) with the compatibility layer installed and a view named
 * `okta_system_log` (`TABLE_NAME`) over `<dir>/events/**\/*.parquet`, so the Athena SQL of
 * `athena-queries/` reads the same table name and columns as in Athena:
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
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ConfigError, OktaLakeError } from '../errors';
import { EVENTS_PREFIX, TABLE_NAME } from '../layout';
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

/** Whether any `.parquet` file exists under `dir` (depth-first, stops at the first). */
function hasParquet(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) return true;
    if (entry.isDirectory() && hasParquet(join(dir, entry.name))) return true;
  }
  return false;
}

/** The `read_parquet` call over every Parquet file of the lake at `dir` (which must have one). */
export function lakeSource(dir: string): string {
  const types = PARTITION_KEYS.map((k) => `${quoteLiteral(k)}: VARCHAR`).join(', ');
  const glob = join(dir, EVENTS_PREFIX, '**', '*.parquet');
  return `read_parquet(${quoteLiteral(glob)}, hive_partitioning = true, hive_types = {${types}}, hive_types_autocast = false, union_by_name = true)`;
}

/**
 * The SQL of the `okta_system_log` view for the lake at `dir`. `fileTypes` are the column types of
 * its files read together (`DESCRIBE` of `lakeSource`, DuckDB's spelling) and `schemaTypes` the
 * schema's types in the same spelling: a column whose types differ is cast to the schema's type, a
 * column no file has is NULL. Without `fileTypes` (no Parquet file yet) the view is empty.
 */
export function lakeViewSql(dir: string, fileTypes?: ReadonlyMap<string, string>, schemaTypes?: ReadonlyMap<string, string>): string {
  if (fileTypes === undefined || !hasParquet(join(dir, EVENTS_PREFIX))) {
    const columns = [
      ...LOG_EVENT_COLUMNS.map((c) => `CAST(NULL AS ${duckDbType(c.type)}) AS ${quoteIdent(c.name)}`),
      ...PARTITION_KEYS.map((k) => `CAST(NULL AS VARCHAR) AS ${quoteIdent(k)}`),
    ];
    return `CREATE OR REPLACE TEMP VIEW ${TABLE_NAME} AS SELECT ${columns.join(', ')} WHERE false`;
  }
  const columns = [
    ...LOG_EVENT_COLUMNS.map((c) => {
      const name = quoteIdent(c.name);
      const inFiles = fileTypes.get(c.name);
      if (inFiles === undefined) return `CAST(NULL AS ${duckDbType(c.type)}) AS ${name}`;
      return inFiles === schemaTypes?.get(c.name) ? name : `CAST(${name} AS ${duckDbType(c.type)}) AS ${name}`;
    }),
    ...PARTITION_KEYS.map(quoteIdent),
  ];
  return `CREATE OR REPLACE TEMP VIEW ${TABLE_NAME} AS SELECT ${columns.join(', ')} FROM ${lakeSource(dir)}`;
}

/** The schema's column types as DuckDB spells them (`typeof` of a NULL of each type). */
async function schemaColumnTypes(connection: DuckDBConnection): Promise<Map<string, string>> {
  const select = LOG_EVENT_COLUMNS.map((c, i) => `typeof(CAST(NULL AS ${duckDbType(c.type)})) AS c${i}`).join(', ');
  const [row] = (await connection.runAndReadAll(`SELECT ${select}`)).getRows();
  return new Map(LOG_EVENT_COLUMNS.map((c, i) => [c.name, String(row[i])]));
}

/** The column types of the lake's files read together, or `undefined` when it has no Parquet file. */
async function fileColumnTypes(connection: DuckDBConnection, dir: string): Promise<Map<string, string> | undefined> {
  if (!hasParquet(join(dir, EVENTS_PREFIX))) return undefined;
  const rows = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${lakeSource(dir)}`)).getRowObjects();
  return new Map(rows.map((r) => [String(r.column_name), String(r.column_type)]));
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
    const lake: Lake = {
      dir: abs,
      connection,
      refresh: async () => {
        try {
          await connection.run(lakeViewSql(abs, await fileColumnTypes(connection, abs), schemaTypes));
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
