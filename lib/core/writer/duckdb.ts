/**
 * One place that opens DuckDB for okta-lake, configured for a Lambda function (one vCPU share,
 * little memory, only `/tmp` writable, no internet) and for a laptop alike. The Parquet writer
 * and the local hunting command both use it, so both see the same settings.
 *
 * - `threads` and `memory_limit` are small by default; raise them for local hunting.
 * - DuckDB's home, spill (`temp_directory`) and extension directories all live under `tmpDir`,
 *   so nothing is written to `~/.duckdb` (which does not exist or is read-only on Lambda). Each
 *   instance spills into its own folder (`spill/<pid>-<uuid>`, removed on close), so processes
 *   sharing `tmpDir` never touch each other's spill files.
 * - Extensions are never installed or auto-loaded: `json`, `parquet` and `icu` are built into
 *   the `@duckdb/node-api` binary, and nothing else is needed. No extension is downloaded.
 * - The session time zone is UTC, so `TIMESTAMPTZ` values convert to UTC wall-clock
 *   `TIMESTAMP`s, which is what the lake stores (see docs/writer.md, "Time").
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBPendingResultState,
  type DuckDBPreparedStatement,
  type DuckDBResult,
} from '@duckdb/node-api';
import { ConfigError, OktaLakeError } from '../errors';

export interface DuckDbOptions {
  /** Database file, or `:memory:` for an in-memory database. @default ':memory:' */
  readonly path?: string;
  /** Worker threads DuckDB may use. @default 1 */
  readonly threads?: number;
  /** DuckDB `memory_limit`, e.g. `'512MB'` or `'2GB'`. @default '512MB' */
  readonly memoryLimit?: string;
  /**
   * Directory for DuckDB's home, spill files and extension directory (created when missing).
   * @default join(os.tmpdir(), 'okta-lake-duckdb')
   */
  readonly tmpDir?: string;
}

/** An open DuckDB instance and one connection to it. `close()` releases both. */
export interface OpenDuckDb {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  /** The directory DuckDB uses for home, spill and extensions. */
  readonly tmpDir: string;
  close(): void;
}

/** DuckDB could not be opened or configured. */
export class DuckDbOpenError extends OktaLakeError {}

export const DEFAULT_DUCKDB_THREADS = 1;
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '512MB';
export const defaultDuckDbTmpDir = (): string => join(tmpdir(), 'okta-lake-duckdb');

const MEMORY_LIMIT = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

/** Validates `options` and returns the DuckDB configuration map `openDuckDb` uses. */
export function duckDbConfig(options: DuckDbOptions = {}): { tmpDir: string; config: Record<string, string> } {
  const threads = options.threads ?? DEFAULT_DUCKDB_THREADS;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new ConfigError(`DuckDB threads must be an integer from 1 to 256, got ${threads}`);
  }
  const memoryLimit = options.memoryLimit ?? DEFAULT_DUCKDB_MEMORY_LIMIT;
  if (!MEMORY_LIMIT.test(memoryLimit)) {
    throw new ConfigError(`DuckDB memoryLimit must look like '512MB' or '2GB', got '${memoryLimit}'`);
  }
  const tmpDir = options.tmpDir ?? defaultDuckDbTmpDir();
  if (tmpDir.trim() === '' || tmpDir.includes('\0')) {
    throw new ConfigError('DuckDB tmpDir must be a non-empty path');
  }
  return {
    tmpDir,
    config: {
      threads: String(threads),
      memory_limit: memoryLimit,
      home_directory: join(tmpDir, 'home'),
      temp_directory: join(tmpDir, 'spill', `${process.pid}-${randomUUID()}`),
      extension_directory: join(tmpDir, 'extensions'),
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
    },
  };
}

/**
 * Opens DuckDB with okta-lake's settings (see the module comment) and one connection whose
 * session time zone is UTC.
 */
export async function openDuckDb(options: DuckDbOptions = {}): Promise<OpenDuckDb> {
  const { tmpDir, config } = duckDbConfig(options);
  let instance: DuckDBInstance | undefined;
  try {
    // The spill folder itself is created by DuckDB only when it needs to spill.
    for (const dir of [config.home_directory, dirname(config.temp_directory), config.extension_directory]) {
      mkdirSync(dir, { recursive: true });
    }
    instance = await DuckDBInstance.create(options.path ?? ':memory:', config);
    const connection = await instance.connect();
    // ICU is built in but cannot be set through the creation options (it registers after them).
    await connection.run("SET GLOBAL TimeZone = 'UTC'");
    const opened = instance;
    let closed = false;
    return {
      instance: opened,
      connection,
      tmpDir,
      close: () => {
        if (closed) return;
        closed = true;
        connection.closeSync();
        opened.closeSync();
        rmSync(config.temp_directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    instance?.closeSync();
    throw new DuckDbOpenError(`could not open DuckDB (path ${options.path ?? ':memory:'}, tmpDir ${tmpDir})`, { cause: error });
  }
}

/** A statement failed while DuckDB executed it on the calling thread (see `runOnThisThread`). */
export class DuckDbQueryError extends OktaLakeError {}

/** How long `runOnThisThread` may keep the event loop waiting before it yields. */
const TASK_SLICE_MS = 5;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Executes a bound prepared statement with DuckDB's tasks run on the calling thread, yielding to
 * the event loop at least every few milliseconds, and returns its (materialized) result.
 *
 * Why not `statement.run()`: that runs the query on a libuv pool thread, a different one from
 * call to call. Each thread allocates from its own malloc arena (glibc) and thread cache
 * (jemalloc), and memory freed by one thread's query is not reused by the next query running on
 * another, so the process keeps the sum of the threads' high-water marks, more peak RSS than
 * running every query on one thread (the ingest's peak RSS: bench/results.md, "Ingest"). With
 * `threads = 1` (the default here), all of DuckDB's work for a query happens in `runTask`.
 * Only planning (`prepare`) and fetching an already-collected result still use the pool.
 *
 * When DuckDB has other worker threads (`threads > 1`), tasks they hold are waited for by polling.
 */
export async function runOnThisThread(statement: DuckDBPreparedStatement): Promise<DuckDBResult> {
  try {
    const pending = statement.start();
    let sliceStart = performance.now();
    for (;;) {
      const state = pending.runTask();
      if (state === DuckDBPendingResultState.RESULT_READY) break;
      if (state === DuckDBPendingResultState.NO_TASKS_AVAILABLE) {
        await sleep(1);
        sliceStart = performance.now();
      } else if (performance.now() - sliceStart >= TASK_SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    return await pending.getResult();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DuckDbQueryError(message.replace(/^Failure running pending result task: /, ''), { cause: error });
  }
}
