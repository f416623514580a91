/**
 * The SQL of the Parquet writer, generated from the schema (lib/core/schema.ts): the
 * `json_transform` structures, the staging, summary and dedupe statements, the SELECT list and the
 * COPY of a partition. Pure functions of the schema, no DuckDB connection: `parquet-writer.ts`
 * prepares and runs these statements. What each statement does and why: docs/writer.md.
 */
import type { PageWriteInput } from '../ports';
import { EVENT_COLUMNS, LOG_EVENT_COLUMNS, META_COLUMNS, duckDbType, type FieldType } from '../schema';
import { ParquetWriteError } from './errors';

/** The column that identifies an event and the one that places it in time (see schema.ts). */
export const ID_COLUMN = 'uuid';
export const TIME_COLUMN = 'published';

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/**
 * Whether a column's `json_transform` result differs from its schema type, so the COPY casts it:
 * timestamps are read as `TIMESTAMPTZ` and `json` fields as DuckDB's `JSON` (see below).
 */
function needsCast(type: FieldType): boolean {
  if (typeof type === 'string') return type === 'timestamp' || type === 'json';
  switch (type.kind) {
    case 'struct':
      return type.fields.some((f) => needsCast(f.type));
    case 'list':
      return needsCast(type.element);
    case 'map':
      return false;
  }
}

/**
 * The `json_transform` structure of a schema type. Scalars use the schema's DuckDB type, except
 * timestamps: `TIMESTAMPTZ` honours a UTC offset (a plain `TIMESTAMP` cast drops it), and the
 * column is cast back to the schema's type in the UTC session; and `json` fields: `JSON` keeps the
 * JSON text of any value (an object, a list, a number, a string with its quotes), which the cast to
 * the schema's VARCHAR keeps as it is, so the column always holds valid JSON.
 */
export function jsonTransformStructure(type: FieldType): unknown {
  if (typeof type === 'string') return type === 'timestamp' ? 'TIMESTAMPTZ' : type === 'json' ? 'JSON' : duckDbType(type);
  switch (type.kind) {
    case 'struct':
      return Object.fromEntries(type.fields.map((f) => [f.name, jsonTransformStructure(f.type)]));
    case 'list':
      return [jsonTransformStructure(type.element)];
    case 'map':
      return duckDbType(type);
  }
}

/** The writer's SQL relies on uuid, published and the META_COLUMNS being what they are today. */
function checkSchema(): void {
  const id = EVENT_COLUMNS.find((c) => c.name === ID_COLUMN);
  const time = EVENT_COLUMNS.find((c) => c.name === TIME_COLUMN);
  if (id?.type !== 'string' || time?.type !== 'timestamp') {
    throw new ParquetWriteError(`schema.ts must define ${ID_COLUMN} as string and ${TIME_COLUMN} as timestamp`);
  }
  const meta = META_COLUMNS.map((c) => `${c.name}:${String(c.type)}`).join(',');
  if (meta !== 'raw:string,ingested_at:timestamp') {
    throw new ParquetWriteError(`the writer fills META_COLUMNS raw:string,ingested_at:timestamp; schema.ts has ${meta}`);
  }
}

/** An ISO-8601 date-time as `published` may carry it; the cast then rejects impossible dates. */
const PUBLISHED_PATTERN = String.raw`\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?\s*([Zz]|[+-]\d{2}(:?\d{2})?)?`;

/** The temp table that holds the page being written; every page replaces it. */
export const STAGE_TABLE = 'okta_lake_page';

/** The writer's statements, as text; `$n` are the parameters each one is bound with. */
export interface WriterSql {
  /** Stages a page file of the given format into `STAGE_TABLE`. */
  readonly stage: (format: PageWriteInput['format']) => string;
  readonly summary: string;
  readonly dedupe: string;
  /** The COPY of one partition at ZSTD `level`, sorted by `published` when `sorted`. */
  readonly copy: (level: number, sorted: boolean) => string;
  /** Sets the `raw` text written for one staged element ($1 text, $2 position): `PageWriteInput.rawOf`. */
  readonly setRaw: string;
}

/** The `json_transform` structure of the typed event columns the COPY fills (all but uuid and published). */
export function eventStructure(): Record<string, unknown> {
  const typed = EVENT_COLUMNS.filter((c) => c.name !== ID_COLUMN && c.name !== TIME_COLUMN);
  return Object.fromEntries(typed.map((c) => [c.name, jsonTransformStructure(c.type)]));
}

/** The SELECT list of the COPY: every column of `LOG_EVENT_COLUMNS`, in schema order. */
export function selectList(): string {
  return LOG_EVENT_COLUMNS.map((c) => {
    const name = quoteIdent(c.name);
    if (c.name === ID_COLUMN) return `uuid AS ${name}`;
    if (c.name === TIME_COLUMN) return `ts AS ${name}`;
    if (c.name === 'raw') return `coalesce(original, raw) AS ${name}`;
    if (c.name === 'ingested_at') return `make_timestamp($3::BIGINT) AS ${name}`;
    return needsCast(c.type) ? `CAST(t.${name} AS ${duckDbType(c.type)}) AS ${name}` : `t.${name} AS ${name}`;
  }).join(',\n  ');
}

/** Every statement of the writer. Throws `ParquetWriteError` when schema.ts breaks what the SQL assumes. */
export function buildPageSql(): WriterSql {
  checkSchema();
  const keyStructure = JSON.stringify({ [ID_COLUMN]: 'JSON', [TIME_COLUMN]: 'VARCHAR' });
  const structure = JSON.stringify(eventStructure());
  const id = quoteIdent(ID_COLUMN);
  const time = quoteIdent(TIME_COLUMN);

  // $1 page file, $2 until (epoch µs, or NULL when there is no window end), $3 and $4 the accepted
  // range [from, to) of `published` (epoch µs, or NULL for no bound).
  // Replacing the table (rather than deleting its rows) returns the previous page's memory.
  // Rows stay in page order: no window function and no sort here, as both would move every
  // row's text (a page's worth of JSON) around; repeats and order are settled by the summary.
  const stage = (format: PageWriteInput['format']): string => `
CREATE OR REPLACE TEMP TABLE ${STAGE_TABLE} AS
WITH src AS (
  SELECT ordinality - 1 AS pos, json::VARCHAR AS raw, json_transform(json, ${quoteLiteral(keyStructure)}) AS k
  FROM read_json_objects($1, format = ${quoteLiteral(format)}) WITH ORDINALITY
), parsed AS (
  SELECT pos, raw, starts_with(raw, '{') AS is_object,
    CASE WHEN starts_with(k.${id}, '"') AND k.${id} <> '""' THEN k.${id} ->> '$' END AS uuid,
    CASE WHEN regexp_full_match(k.${time}, ${quoteLiteral(PUBLISHED_PATTERN)})
      THEN date_trunc('millisecond', try_cast(upper(k.${time}) AS TIMESTAMPTZ)::TIMESTAMP) END AS ts
  FROM src
), classified AS (
  SELECT pos, raw, uuid, ts,
    CASE WHEN NOT is_object THEN 'not_an_object'
         WHEN uuid IS NULL THEN 'missing_uuid'
         WHEN ts IS NULL OR year(ts) NOT BETWEEN 1 AND 9999 THEN 'invalid_published'
         WHEN ($3::BIGINT IS NOT NULL AND ts < make_timestamp($3::BIGINT)) OR ($4::BIGINT IS NOT NULL AND ts >= make_timestamp($4::BIGINT)) THEN 'outside_window' END AS problem
  FROM parsed
)
SELECT pos, raw, NULL::VARCHAR AS original, uuid, ts, problem,
  CASE WHEN (problem IS NULL OR problem = 'missing_uuid') AND ts >= make_timestamp($2::BIGINT)
            AND ($4::BIGINT IS NULL OR ts < make_timestamp($4::BIGINT)) THEN 'outside'
       WHEN problem IS NOT NULL THEN 'quarantine'
       ELSE 'write' END AS status,
  strftime(ts, '%Y-%m-%d') AS dt, strftime(ts, '%H') AS hour
FROM classified`;

  // Besides the counts: 'repeats', how many placeable elements repeat an earlier uuid (the
  // dedupe statement then marks them, and the summary runs again), and 'unordered', 1 when the
  // placeable elements are not in `published` order in the page (the files are then sorted).
  const iso = (col: string): string => `strftime(${col}, '%Y-%m-%dT%H:%M:%S.%fZ')`;
  const summary = `
SELECT status, dt, hour, count(*)::INTEGER AS n, ${iso('min(ts)')} AS min_ts, ${iso('max(ts)')} AS max_ts,
  NULL::INTEGER AS pos, NULL::VARCHAR AS problem, NULL::VARCHAR AS raw
FROM ${STAGE_TABLE} WHERE status <> 'quarantine' GROUP BY status, dt, hour
UNION ALL
SELECT status, NULL, NULL, 1, NULL, NULL, pos::INTEGER, problem, coalesce(original, raw) FROM ${STAGE_TABLE} WHERE status = 'quarantine'
UNION ALL
SELECT 'repeats', NULL, NULL, (count(*) - count(DISTINCT uuid))::INTEGER, NULL, NULL, NULL, NULL, NULL
FROM ${STAGE_TABLE} WHERE problem IS NULL AND status <> 'duplicate'
UNION ALL
SELECT 'unordered', NULL, NULL, coalesce(list(ts ORDER BY pos) <> list_sort(list(ts)), false)::INTEGER, NULL, NULL, NULL, NULL, NULL
FROM ${STAGE_TABLE} WHERE problem IS NULL
ORDER BY status, dt, hour, pos`;

  // Within a page the first element with a uuid is kept; later ones with the same uuid are
  // duplicates, whether or not they are in the window. Run only when the summary finds repeats.
  const dedupe = `
UPDATE ${STAGE_TABLE} SET status = 'duplicate'
WHERE problem IS NULL AND pos IN (
  SELECT s.pos FROM ${STAGE_TABLE} s
  JOIN (SELECT uuid, min(pos) AS first_pos FROM ${STAGE_TABLE} WHERE problem IS NULL GROUP BY uuid HAVING count(*) > 1) f
    ON s.uuid = f.uuid AND s.pos > f.first_pos
  WHERE s.problem IS NULL)`;

  const select = selectList();
  // $1 dt, $2 hour, $3 ingested_at (epoch µs), $4 output file.
  const copy = (level: number, sorted: boolean): string => `
COPY (
  SELECT ${select}
  FROM (SELECT pos, uuid, ts, raw, original, json_transform(raw, ${quoteLiteral(structure)}) AS t
        FROM ${STAGE_TABLE} WHERE status = 'write' AND dt = $1 AND hour = $2)${sorted ? '\n  ORDER BY ts, pos' : ''}
) TO $4 (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${level})`;

  const setRaw = `UPDATE ${STAGE_TABLE} SET original = $1 WHERE pos = $2`;

  return { stage, summary, dedupe, copy, setRaw };
}
