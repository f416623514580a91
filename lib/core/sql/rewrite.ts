/**
 * The textual rewrites of a query file that Athena (Trino) and DuckDB both run: `current_timestamp`
 * pinned to an instant, instant literals, and the lake table scoped to one org and to what had
 * arrived by then. Shared by the scheduled detections and local hunting (lib/core/hunt/compat.ts
 * holds what only DuckDB needs).
 */
import { ConfigError } from '../errors';
import { replaceWord, tokenize, type Token } from './tokens';

/**
 * The textual rewrite: every `current_timestamp` in code (not in strings or comments) becomes the
 * given instant as a `timestamp with time zone`, which is what Trino's `current_timestamp` is
 * (Athena's session zone is UTC). Trino evaluates `current_timestamp` once per query, so pinning
 * every occurrence to one instant keeps the semantics.
 */
export function pinNow(sql: string, now: Date): string {
  if (!Number.isFinite(now.getTime())) throw new RangeError('now must be a valid instant');
  return replaceWord(sql, 'current_timestamp', timestampWithTimeZoneLiteral(now));
}

/** `2024-05-01 12:30:00.000` (UTC): the text both engines cast to a timestamp. */
function timestampText(instant: Date): string {
  if (!Number.isFinite(instant.getTime())) throw new RangeError('the instant must be valid');
  return instant.toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The instant as an expression of Trino's `current_timestamp` type (`timestamp(3) with time zone`)
 * that DuckDB reads as the same instant: `CAST('2024-05-01 12:30:00.000 UTC' AS TIMESTAMP WITH TIME
 * ZONE)`. Trino casts text of the form `yyyy-mm-dd hh:mm:ss.fff <zone>` (a space, not `T`, before
 * the time; the zone after a space), as its timestamptz literal tests write them
 * (trinodb/trino, core/trino-main/.../scalar/timestamptz/TestExtract.java).
 */
export function timestampWithTimeZoneLiteral(instant: Date): string {
  return `CAST('${timestampText(instant)} UTC' AS TIMESTAMP WITH TIME ZONE)`;
}

/** The instant as a `timestamp(3)` without zone (the type of `published` and `ingested_at`), UTC. */
export function timestampLiteral(instant: Date): string {
  return `CAST('${timestampText(instant)}' AS TIMESTAMP)`;
}

/** What an evaluation reads of the lake table: one org, and optionally only what had arrived by then. */
export interface TableScope {
  /** Only this org's rows (the `org` partition: Athena and DuckDB prune the other orgs' files). */
  readonly org?: string;
  /** Only rows written at or before this instant (`ingested_at`): the lake as it was then. */
  readonly ingestedThrough?: Date;
}

/** The query does not read the lake table the way scoping needs (exactly one `FROM <table>`). */
export class TableScopeError extends ConfigError {}

/** Words that may follow a table reference without being its alias. */
const NOT_AN_ALIAS = new Set([
  'where', 'group', 'order', 'having', 'limit', 'join', 'left', 'right', 'inner', 'full', 'cross',
  'natural', 'on', 'using', 'union', 'intersect', 'except', 'window', 'offset', 'fetch', 'tablesample',
]);

/**
 * `sql` with its one reference to `table` replaced by a subquery that reads only the rows of `scope`:
 * `FROM okta_system_log` becomes `FROM (SELECT * FROM okta_system_log WHERE org = '...' AND ingested_at
 * <= ...) okta_system_log` (an alias the query gives the table is kept). The query text is otherwise
 * unchanged, so the file stays the one source of truth; this is how the runner evaluates one org at a
 * time, and how a replay sees the lake as it was at each run.
 */
export function scopeTable(sql: string, table: string, scope: TableScope): string {
  const conditions: string[] = [];
  if (scope.org !== undefined) conditions.push(`org = '${scope.org.replace(/'/g, "''")}'`);
  if (scope.ingestedThrough !== undefined) conditions.push(`ingested_at <= ${timestampLiteral(scope.ingestedThrough)}`);
  if (conditions.length === 0) return sql;
  const tokens = tokenize(sql);
  const lower = table.toLowerCase();
  const at: number[] = [];
  let previousCode: Token | undefined;
  tokens.forEach((t, i) => {
    if (t.kind === 'word' && t.text.toLowerCase() === lower && previousCode?.text !== '.' && previousCode?.text.toLowerCase() === 'from') at.push(i);
    if (t.kind !== 'space' && t.kind !== 'comment') previousCode = t;
  });
  if (at.length !== 1) {
    throw new TableScopeError(`the query must read ${table} exactly once, as "FROM ${table}", to be evaluated one org at a time; it does so ${at.length} times`);
  }
  const next = tokens.slice(at[0] + 1).find((t) => t.kind !== 'space' && t.kind !== 'comment');
  const hasAlias = next !== undefined && (next.kind === 'word' || next.kind === 'quoted') && !NOT_AN_ALIAS.has(next.text.toLowerCase());
  const subquery = `(SELECT * FROM ${table} WHERE ${conditions.join(' AND ')})${hasAlias ? '' : ` ${table}`}`;
  return tokens.map((t, i) => (i === at[0] ? subquery : t.text)).join('');
}
