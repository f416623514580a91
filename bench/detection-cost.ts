/**
 * What each scheduled detection costs in Athena on one day of a lake: the bytes of Parquet it
 * must read, which is what Athena bills, against the raw JSON bytes of that day. Goal: at most 3%
 * per run.
 *
 * Model (Athena engine v3 reading this lake's Parquet):
 * - Columns: Athena reads the column chunks of the leaf columns a query references, and nested
 *   fields separately (`actor.alternateId` reads only that leaf; a whole `target` or
 *   `debugContext.debugData` reference reads all its leaves). References are found in the SQL
 *   (`dottedReferences`), starting at the columns of `LOG_EVENT_COLUMNS`.
 * - Partitions: a run at instant `t` reads the hour partitions from the one holding `t - lookback`
 *   to the one holding `t` when the query filters on `hour`, else whole days (`dt`); the detection
 *   tests prove each query's filter skips older partitions. Partitions after `t` do not exist yet
 *   in a live lake, so they are not counted.
 * - Repeated reads: Trino expands each `WITH` query where it is used, so a query that references the
 *   table through three paths reads it three times (`tableScans`).
 * - Sizes: the compressed size of each column chunk (`parquet_metadata().total_compressed_size`),
 *   summed over the row groups of the files in the selected partitions. Footers and page indexes
 *   are ignored (a few KB per file).
 *
 * The runs of the day are the query's schedule over the day (`runInstants`); `bytesPerRun` is the
 * most expensive of them, `bytesPerDay` their sum.
 */
import { join, resolve } from 'node:path';
import { dottedReferences, runInstants, tableScans } from '../lib/core/hunt';
import { EVENTS_PREFIX, TABLE_NAME, parsePartitionKey, partitionOf } from '../lib/core/layout';
import { loadQueries, defaultQueriesDir, type QueryDefinition } from '../lib/core/queries';
import { LOG_EVENT_COLUMNS, PARTITION_KEYS } from '../lib/core/schema';
import { openDuckDb } from '../lib/core/writer/duckdb';

export const COST_GOAL = 0.03;

export interface DetectionCostOptions {
  /** The UTC day to measure, `YYYY-MM-DD`. @default the day with the most events in the lake */
  readonly day?: string;
  /** Only this org's partitions. @default every org */
  readonly org?: string;
  /**
   * Raw JSON bytes of that day (the denominator), e.g. the page bytes an ingest received.
   * @default the UTF-8 bytes of the `raw` column of that day's events (each event's JSON text)
   */
  readonly rawJsonBytes?: number;
  /** @default the installed athena-queries/ */
  readonly queriesDir?: string;
}

export interface DetectionCostFigure {
  readonly id: string;
  readonly title: string;
  readonly schedule: string;
  readonly lookback: string;
  /** Parquet leaf columns read, dotted (`actor.alternateId`), sorted. */
  readonly columns: readonly string[];
  /** Times one run reads the table (WITH queries expanded). */
  readonly scans: number;
  readonly runsPerDay: number;
  /** Bytes the most expensive run of the day reads. */
  readonly bytesPerRun: number;
  /** When that run is (ISO). */
  readonly worstRunAt: string;
  /** Bytes all the runs of the day read together. */
  readonly bytesPerDay: number;
  /** `bytesPerRun / rawJsonBytes`. */
  readonly shareOfJson: number;
  /** `shareOfJson <= COST_GOAL`. */
  readonly withinGoal: boolean;
}

export interface DetectionCostReport {
  readonly day: string;
  readonly events: number;
  readonly rawJsonBytes: number;
  /** Compressed bytes of every column chunk of the day (what `SELECT *` would read). */
  readonly parquetBytes: number;
  readonly goal: number;
  readonly detections: readonly DetectionCostFigure[];
}

/** A Parquet `path_in_schema` (`target, list, element, alternateId`) as a dotted field path. */
export function logicalPath(pathInSchema: string): string {
  return pathInSchema
    .split(', ')
    .filter((p) => p !== 'list' && p !== 'element' && p !== 'key_value')
    .join('.');
}

const ROOTS = new Set([...LOG_EVENT_COLUMNS.map((c) => c.name.toLowerCase()), ...PARTITION_KEYS]);

/** The leaf paths of `leaves` that the query's SQL references (partition keys have none). */
export function referencedLeaves(sql: string, leaves: readonly string[]): string[] {
  const refs = dottedReferences(sql, ROOTS).map((p) => p.join('.').toLowerCase());
  return leaves.filter((leaf) => {
    const l = leaf.toLowerCase();
    return refs.some((r) => l === r || l.startsWith(`${r}.`));
  });
}

/** The partitions (`dt` or `dt/hour`) a run at `t` reads. */
export function partitionsOfRun(t: number, lookbackMs: number, byHour: boolean): string[] {
  const out: string[] = [];
  const step = byHour ? 3_600_000 : 86_400_000;
  const first = t - lookbackMs;
  const key = (ms: number): string => {
    const p = partitionOf(ms);
    return byHour ? `${p.dt}/${p.hour}` : p.dt;
  };
  for (let ms = first - (first % step); ms <= t; ms += step) out.push(key(ms));
  return [...new Set(out)];
}

const quote = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** Measures every scheduled detection of the queries folder on one day of the lake at `lakeDir`. */
export async function detectionCost(lakeDir: string, options: DetectionCostOptions = {}): Promise<DetectionCostReport> {
  const glob = join(resolve(lakeDir), EVENTS_PREFIX, '**', '*.parquet');
  const db = await openDuckDb({ threads: 2, memoryLimit: '1GB' });
  try {
    const c = db.connection;
    const chunks = (
      await c.runAndReadAll(
        `SELECT file_name, path_in_schema, sum(total_compressed_size)::BIGINT AS bytes FROM parquet_metadata(${quote(glob)}) GROUP BY ALL`,
      )
    ).getRowObjectsJS();
    await c.run(
      `CREATE TEMP VIEW ${TABLE_NAME} AS SELECT * FROM read_parquet(${quote(glob)}, hive_partitioning = true, hive_types = {'org': VARCHAR, 'dt': VARCHAR, 'hour': VARCHAR})`,
    );
    const orgFilter = options.org ? `WHERE org = ${quote(options.org)}` : '';
    const days = (await c.runAndReadAll(`SELECT dt, count(*)::BIGINT AS n, sum(strlen(raw))::BIGINT AS bytes FROM ${TABLE_NAME} ${orgFilter} GROUP BY dt ORDER BY n DESC, dt`)).getRowObjectsJS();
    if (days.length === 0) throw new Error(`no events in ${lakeDir}`);
    const dayRow = options.day ? days.find((d) => d.dt === options.day) : days[0];
    if (!dayRow) throw new Error(`no events on ${options.day} in ${lakeDir}`);
    const day = String(dayRow.dt);
    const rawJsonBytes = options.rawJsonBytes ?? Number(dayRow.bytes);

    // Compressed bytes per partition (dt/hour) and leaf column, for the measured org(s).
    const sizes = new Map<string, Map<string, number>>();
    const leaves = new Set<string>();
    let parquetBytes = 0;
    for (const row of chunks) {
      const p = parsePartitionKey(String(row.file_name));
      if (!p.dt || !p.hour || (options.org && p.org !== options.org)) continue;
      const leaf = logicalPath(String(row.path_in_schema));
      leaves.add(leaf);
      const part = `${p.dt}/${p.hour}`;
      const m = sizes.get(part) ?? new Map<string, number>();
      m.set(leaf, (m.get(leaf) ?? 0) + Number(row.bytes));
      sizes.set(part, m);
      if (p.dt === day) parquetBytes += Number(row.bytes);
    }
    const bytesOf = (partitions: readonly string[], columns: readonly string[], byHour: boolean): number => {
      let total = 0;
      for (const [part, m] of sizes) {
        if (!partitions.includes(byHour ? part : part.slice(0, 10))) continue;
        for (const col of columns) total += m.get(col) ?? 0;
      }
      return total;
    };

    const dayStart = Date.parse(`${day}T00:00:00.000Z`);
    const queries = loadQueries(options.queriesDir ?? defaultQueriesDir()).filter((q): q is QueryDefinition & { scheduleMinutes: number; schedule: string } => q.kind === 'detection' && q.scheduleMinutes !== undefined);
    const detections = queries.map((q): DetectionCostFigure => {
      const columns = referencedLeaves(q.sql, [...leaves]).sort();
      const scans = tableScans(q.sql, TABLE_NAME);
      const byHour = dottedReferences(q.sql, new Set(['hour'])).length > 0;
      let worst = 0;
      let worstAt = dayStart;
      let perDay = 0;
      const runs = runInstants(dayStart, dayStart + 86_400_000, q.scheduleMinutes * 60_000);
      for (const t of runs) {
        const bytes = scans * bytesOf(partitionsOfRun(t, q.lookbackMs, byHour), columns, byHour);
        perDay += bytes;
        if (bytes > worst) {
          worst = bytes;
          worstAt = t;
        }
      }
      const shareOfJson = rawJsonBytes > 0 ? worst / rawJsonBytes : 0;
      return {
        id: q.id,
        title: q.title,
        schedule: q.schedule,
        lookback: q.lookback,
        columns,
        scans,
        runsPerDay: runs.length,
        bytesPerRun: worst,
        worstRunAt: new Date(worstAt).toISOString(),
        bytesPerDay: perDay,
        shareOfJson,
        withinGoal: shareOfJson <= COST_GOAL,
      };
    });
    return { day, events: Number(dayRow.n), rawJsonBytes, parquetBytes, goal: COST_GOAL, detections };
  } finally {
    db.close();
  }
}
