/**
 * The hunt runner: executes a query of `athena-queries/` on a local lake through the
 * compatibility layer, and returns its rows as plain JSON values.
 *
 * "Now": a query's lookback is written relative to `current_timestamp`. The runner replaces every
 * `current_timestamp` with `options.now` (default: the real time), so the same query can hunt an
 * old lake "as of" any instant and tests are deterministic. `okta-lake hunt --now <ISO>` sets it.
 *
 * Values: timestamps become ISO-8601 UTC strings with milliseconds (`2024-05-01T10:00:00.000Z`),
 * integers numbers (strings beyond 2^53), arrays arrays, structs objects, NULL `null`.
 */
import { ConfigError, OktaLakeError } from '../errors';
import { SEVERITIES, type QueryDefinition, type Severity } from '../queries';
import { portabilityProblems } from './compat';
import { pinNow } from '../sql/rewrite';
import type { Lake } from './lake';

export type FindingValue = string | number | boolean | null | FindingValue[] | { [key: string]: FindingValue };
export type FindingRow = Record<string, FindingValue>;

export interface QueryResult {
  /** Result column names, in order (also when there are no rows). */
  readonly columns: readonly string[];
  readonly rows: readonly FindingRow[];
}

export interface RunQueryOptions {
  /** The instant `current_timestamp` stands for. @default new Date() (the real time) */
  readonly now?: Date;
  /** Values of the query's `parameters` header, by name (all required, nothing else allowed). @default {} */
  readonly params?: Readonly<Record<string, string>>;
}

/**
 * What one query found on a local lake: its findings, for the hunt and local detect output. Not the
 * scheduled run's `DetectionResult` (lib/core/detect/evaluate.ts), which counts evaluations and alerts.
 */
export interface HuntResult {
  readonly id: string;
  readonly title: string;
  /**
   * The query's severity, raised to the highest valid `severity` column value of its findings
   * (e.g. MFA push bombing followed by an approval reports `critical`).
   */
  readonly severity: Severity;
  readonly columns: readonly string[];
  readonly findings: readonly FindingRow[];
}

/** A parameter is missing, unknown, or given to a query that takes none. */
export class QueryParameterError extends ConfigError {}

/** The query uses something the compatibility layer does not map to Trino semantics. */
export class NonPortableQueryError extends ConfigError {}

/** DuckDB failed to run the query. */
export class QueryExecutionError extends OktaLakeError {}

function orderedParams(query: QueryDefinition, params: Readonly<Record<string, string>>): string[] {
  const known = new Set(query.parameters);
  for (const name of Object.keys(params)) {
    if (!known.has(name)) {
      throw new QueryParameterError(
        query.parameters.length === 0
          ? `${query.id} takes no parameters, got "${name}"`
          : `${query.id} has no parameter "${name}" (its parameters: ${[...new Set(query.parameters)].join(', ')})`,
      );
    }
  }
  return query.parameters.map((name) => {
    const value = params[name];
    if (value === undefined) throw new QueryParameterError(`${query.id} needs the parameter "${name}"`);
    return value;
  });
}

/** Converts what `@duckdb/node-api` returns (`getRowObjectsJS`) into JSON values. */
export function toFindingValue(value: unknown): FindingValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : null;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(toFindingValue);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toFindingValue(v)]));
  }
  return String(value);
}

/** Runs one query and returns its columns and rows (see the module comment). */
export async function executeQuery(lake: Lake, query: QueryDefinition, options: RunQueryOptions = {}): Promise<QueryResult> {
  const problems = portabilityProblems(query.sql);
  if (problems.length > 0) {
    throw new NonPortableQueryError(`${query.id} (${query.file}) is not portable between Athena and DuckDB:\n  ${problems.join('\n  ')}`);
  }
  const values = orderedParams(query, options.params ?? {});
  const sql = pinNow(query.sql, options.now ?? new Date());
  await lake.refresh();
  try {
    const reader = await lake.connection.runAndReadAll(sql, values.length > 0 ? values : undefined);
    const columns = reader.columnNames();
    const rows = reader.getRowObjectsJS().map((row) => {
      const out: FindingRow = {};
      for (const c of columns) out[c] = toFindingValue(row[c]);
      return out;
    });
    return { columns, rows };
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new QueryExecutionError(`${query.id} failed in DuckDB: ${first}`, { cause: error });
  }
}

/** Runs one query and returns its rows. */
export async function runQuery(lake: Lake, query: QueryDefinition, options: RunQueryOptions = {}): Promise<FindingRow[]> {
  return [...(await executeQuery(lake, query, options)).rows];
}

const rank = (s: Severity): number => SEVERITIES.indexOf(s);

/** The query's severity raised to the highest valid `severity` value among its findings. */
export function effectiveSeverity(query: QueryDefinition, findings: readonly FindingRow[]): Severity {
  let severity = query.severity;
  for (const row of findings) {
    const value = row.severity;
    if (typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value) && rank(value as Severity) > rank(severity)) {
      severity = value as Severity;
    }
  }
  return severity;
}

/** Runs each query in turn (same `now` for all) and returns one result per query, in order. */
export async function runDetections(
  lake: Lake,
  queries: readonly QueryDefinition[],
  options: Omit<RunQueryOptions, 'params'> = {},
): Promise<HuntResult[]> {
  const now = options.now ?? new Date();
  const results: HuntResult[] = [];
  for (const query of queries) {
    const { columns, rows } = await executeQuery(lake, query, { now });
    results.push({ id: query.id, title: query.title, severity: effectiveSeverity(query, rows), columns, findings: rows });
  }
  return results;
}
