/**
 * The Trino-to-DuckDB compatibility layer: what lets the Athena (engine v3, Trino) SQL of
 * `athena-queries/` run unchanged in DuckDB 1.5 for `okta-lake hunt` and the detection tests.
 *
 * It has four parts, documented with their reasons in docs/detections.md:
 *
 * 1. Session settings that make DuckDB behave as Trino where both accept the same text
 *    (`DUCKDB_SETTINGS`): UTC time zone, NULLs sorted last, `/` on integers truncating, and the
 *    `x -> expr` lambda syntax enabled explicitly.
 * 2. Macros for the Trino functions DuckDB lacks or spells differently (`COMPAT_MACROS`), each
 *    with Trino's semantics for the argument types the rules allow.
 * 3. One textual rewrite: `current_timestamp` becomes a fixed instant (`pinNow`, lib/core/sql/rewrite.ts), so a hunt can
 *    run "as of" any moment and every reference in one query sees the same instant, as in Trino.
 * 4. Rules on what a query may contain (`portabilityProblems`): only the functions of
 *    `ALLOWED_FUNCTIONS` (identical in both engines, or bridged by a macro), no syntax that only
 *    one engine accepts or that means different things in each (`FORBIDDEN_SYNTAX`).
 *
 * Anything not in the allow-list is refused, so a query cannot silently mean one thing in Athena
 * and another thing locally.
 */
import { codeTokens, functionCalls, stringValue, type Token } from '../sql/tokens';

/** Statements run once per DuckDB connection before any query (see the module comment). */
export const DUCKDB_SETTINGS: readonly string[] = [
  // Athena runs every query in UTC; `published` is a UTC wall-clock TIMESTAMP.
  "SET TimeZone = 'UTC'",
  // Trino sorts NULLs last in both directions unless told otherwise.
  "SET default_null_order = 'NULLS_LAST'",
  // Trino's `/` on two integers is integer division truncating toward zero; DuckDB's default is float.
  'SET integer_division = true',
  // `x -> expr` is Trino's lambda syntax; DuckDB 1.5 still accepts it, deprecated. Enabled
  // explicitly so a DuckDB whose default changes fails loudly here rather than at parse time.
  "SET lambda_syntax = 'ENABLE_SINGLE_ARROW'",
];

/** How a Trino function is provided in DuckDB. */
export interface FunctionRule {
  /** `same`: DuckDB's built-in has Trino's semantics for the allowed uses; `macro`: see `COMPAT_MACROS`. */
  readonly duckdb: 'same' | 'macro';
  /** Trino's meaning and the limits of the equivalence. */
  readonly note: string;
}

const same = (note: string): FunctionRule => ({ duckdb: 'same', note });
const macro = (note: string): FunctionRule => ({ duckdb: 'macro', note });

/**
 * Every function a query may call, lower-case. Each entry is checked by test/hunt/compat.test.ts
 * against Trino's documented result.
 */
export const ALLOWED_FUNCTIONS: Readonly<Record<string, FunctionRule>> = {
  // aggregates
  count: same('count(*), count(x) (non-NULL x), count(DISTINCT x); BIGINT in both'),
  count_if: same('number of rows where the condition is true; BIGINT in both'),
  min: same('minimum, NULLs ignored'),
  max: same('maximum, NULLs ignored'),
  sum: same('sum, NULLs ignored; BIGINT in Trino, HUGEINT in DuckDB for integers (same value; the runner returns a number)'),
  array_agg: same('array of the values, NULLs included, NULL for no rows; order only with ORDER BY inside the call'),
  // window functions
  lag: same('value of the previous row of the window partition, NULL for the first'),
  // scalars
  coalesce: same('first non-NULL argument'),
  lower: same('lower case'),
  cast: same('CAST(x AS varchar|bigint|double|boolean|timestamp); fails on a value it cannot convert'),
  date_trunc: same("date_trunc('hour'|'day', ts): the timestamp truncated to the unit"),
  round: same('round(x) / round(x, d): half away from zero'),
  sqrt: same('square root (double)'),
  power: same('x raised to y (double)'),
  sin: same('sine of radians (double)'),
  cos: same('cosine of radians (double)'),
  asin: same('arc sine in radians (double)'),
  radians: same('degrees to radians (double)'),
  filter: same('filter(array, x -> predicate): elements whose predicate is true, in order; NULL array gives NULL'),
  array_sort: same('ascending, NULLs last (DuckDB: with default_null_order NULLS_LAST)'),
  // bridged by macros
  date_format: macro("MySQL-style format of a timestamp; only %Y %m %d %H %i %s (and literal text) are allowed"),
  element_at: macro('element_at(map, key): the value or NULL when the key is missing; element_at(array, i): 1-based, negative from the end, NULL when out of range'),
  cardinality: macro('number of elements of an ARRAY (not allowed on maps)'),
  to_unixtime: macro('seconds since 1970-01-01 UTC as double, with the fraction'),
  from_iso8601_timestamp: macro('ISO-8601 text to timestamp with time zone; text without an offset is UTC'),
  array_join: macro('array_join(array, separator): the elements joined, NULL elements skipped'),
  json_extract_scalar: macro(
    "json_extract_scalar(json_text, '$.key.key'): the string, boolean or integer at the path as varchar; NULL for an object, an array, a JSON null, a missing path or text that is not JSON. Paths are literal dotted keys only",
  ),
};

/** Functions a query must not call, with the reason and what to use instead (for error messages). */
export const FORBIDDEN_FUNCTIONS: Readonly<Record<string, string>> = {
  greatest: 'Trino returns NULL if any argument is NULL, DuckDB ignores NULLs: use CASE',
  least: 'Trino returns NULL if any argument is NULL, DuckDB ignores NULLs: use CASE',
  concat: "Trino returns NULL if any argument is NULL, DuckDB skips NULLs: use the || operator",
  date_diff: 'DuckDB counts unit boundaries crossed, Trino counts whole units: use to_unixtime(b) - to_unixtime(a)',
  date_add: "the argument order differs (Trino date_add(unit, n, ts)): use ts + INTERVAL 'n' UNIT",
  approx_distinct: 'approximations differ between engines: use count(DISTINCT x)',
  array_distinct: 'DuckDB neither keeps the order nor the NULL: use array_agg(DISTINCT x) with array_sort',
  split_part: "out of range gives NULL in Trino, '' in DuckDB",
  min_by: 'DuckDB ignores rows whose value is NULL, Trino does not: use a window or a join',
  max_by: 'DuckDB ignores rows whose value is NULL, Trino does not: use a window or a join',
  arbitrary: 'not deterministic: use min or max',
  if: 'DuckDB-only spelling in practice: use CASE WHEN',
  now: 'not pinned by the runner: use current_timestamp',
  regexp_like: 'regular-expression dialects differ (Java vs RE2): use LIKE',
};

/** Tokens that only one engine accepts, or that mean different things in each. */
export const FORBIDDEN_SYNTAX: ReadonlyArray<{ readonly token: string; readonly why: string }> = [
  { token: '::', why: 'DuckDB-only cast shorthand: use CAST(x AS type)' },
  { token: '->>', why: 'DuckDB-only JSON operator' },
  { token: '//', why: 'DuckDB-only integer division operator' },
  { token: '**', why: 'DuckDB-only power operator: use power(x, y)' },
  { token: ':=', why: 'DuckDB-only named argument' },
  { token: '=>', why: 'named arguments differ between engines' },
  { token: '[', why: "Trino's subscript fails on a missing key or index, DuckDB's gives NULL: use element_at" },
  { token: ';', why: 'one statement per file (Athena runs the file as one query)' },
  { token: '$', why: 'DuckDB-only positional parameter: use ?' },
  { token: 'lambda', why: "DuckDB-only lambda syntax: use x -> expr" },
  { token: 'qualify', why: 'DuckDB-only clause: filter a window function in an outer query' },
  { token: 'ilike', why: 'DuckDB-only: use lower(x) LIKE' },
  { token: 'glob', why: 'DuckDB-only' },
  { token: 'window', why: 'named windows are not supported by every Athena engine v3 release: repeat the OVER (...)' },
  { token: 'now', why: 'not pinned by the runner: use current_timestamp' },
  { token: 'current_date', why: 'not pinned by the runner: use current_timestamp' },
  { token: 'current_time', why: 'not pinned by the runner: use current_timestamp' },
  { token: 'localtimestamp', why: 'not pinned by the runner: use current_timestamp' },
  { token: 'localtime', why: 'not pinned by the runner: use current_timestamp' },
];

/** Interval units both engines accept in `INTERVAL 'n' UNIT` (singular only: Trino rejects `DAYS`). */
export const INTERVAL_UNITS: ReadonlySet<string> = new Set(['day', 'hour', 'minute', 'second']);

/** The `date_format` specifiers the macro translates exactly (`%i` minutes, `%s` seconds in Trino). */
export const DATE_FORMAT_SPECIFIERS: ReadonlySet<string> = new Set(['%Y', '%m', '%d', '%H', '%i', '%s']);

/**
 * The macros, one statement each. TEMP macros take precedence over DuckDB's built-ins of the same
 * name (`element_at`, `cardinality`) on the connection that created them.
 */
export const COMPAT_MACROS: readonly string[] = [
  // Trino's %i (minutes) and %s (seconds) are strftime's %M and %S; the other allowed specifiers
  // mean the same in both. Formats are checked to use only DATE_FORMAT_SPECIFIERS.
  "CREATE OR REPLACE TEMP MACRO date_format(ts, fmt) AS strftime(ts, replace(replace(fmt, '%i', '%M'), '%s', '%S'))",
  // DuckDB's subscript already has element_at's semantics for both maps and lists (NULL when the
  // key or index is missing, negative index from the end); its own element_at returns a list.
  'CREATE OR REPLACE TEMP MACRO element_at(container, key) AS container[key]',
  'CREATE OR REPLACE TEMP MACRO cardinality(arr) AS len(arr)',
  'CREATE OR REPLACE TEMP MACRO to_unixtime(ts) AS epoch(ts)',
  'CREATE OR REPLACE TEMP MACRO from_iso8601_timestamp(text) AS CAST(text AS TIMESTAMP WITH TIME ZONE)',
  'CREATE OR REPLACE TEMP MACRO array_join(arr, separator) AS array_to_string(arr, separator)',
  // Trino returns NULL for text that is not JSON, DuckDB's json functions fail on it: test first
  // (a nested CASE, so json_type never sees such text). DuckDB's json_extract_string returns the
  // JSON text of an object or array, Trino's json_extract_scalar NULL: keep scalars only.
  "CREATE OR REPLACE TEMP MACRO json_extract_scalar(j, path) AS CASE WHEN json_valid(j) THEN CASE WHEN json_type(j, path) IN ('VARCHAR', 'BOOLEAN', 'BIGINT', 'UBIGINT') THEN json_extract_string(j, path) END END",
];

/** The JSONPath both engines read the same way: `$` then one or more `.key` (letters, digits, `_`). */
export const JSON_PATH_PATTERN = /^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/**
 * What in `sql` the compatibility layer does not cover, one message per problem (empty when the
 * query is portable). `sql` is a whole query file; its header comments are ignored.
 */
export function portabilityProblems(sql: string): string[] {
  const problems: string[] = [];
  for (const call of functionCalls(sql)) {
    if (FORBIDDEN_FUNCTIONS[call.name]) {
      problems.push(`function ${call.name}() is not allowed: ${FORBIDDEN_FUNCTIONS[call.name]}`);
    } else if (!ALLOWED_FUNCTIONS[call.name]) {
      problems.push(`function ${call.name}() is not in the compatibility layer's allow-list (lib/core/hunt/compat.ts)`);
    } else if (call.name === 'date_format') {
      problems.push(...dateFormatProblems(call.args));
    } else if (call.name === 'json_extract_scalar') {
      problems.push(...jsonPathProblems(call.args));
    }
  }
  const code = codeTokens(sql);
  code.forEach((t, k) => {
    const text = t.kind === 'word' ? t.text.toLowerCase() : t.text;
    const forbidden = (t.kind === 'word' || t.kind === 'op') && FORBIDDEN_SYNTAX.find((f) => f.token === text);
    // `now(` is reported once, as a function.
    if (forbidden && !(t.kind === 'word' && code[k + 1]?.text === '(' && FORBIDDEN_FUNCTIONS[text])) {
      problems.push(`"${t.text}" is not allowed: ${forbidden.why}`);
    }
    if (t.kind === 'word' && text === 'interval') problems.push(...intervalProblems(code[k + 1], code[k + 2]));
    if (t.kind === 'word' && (text === 'group' || text === 'order') && code[k + 1]?.text.toLowerCase() === 'by' && code[k + 2]?.text.toLowerCase() === 'all') {
      problems.push(`"${text.toUpperCase()} BY ALL" is not allowed: it means different things in DuckDB and Trino`);
    }
  });
  problems.push(...lambdaProblems(code));
  return problems;
}

/**
 * DuckDB resolves `t.type` inside `t -> t.type = 'User'` to a table or alias `t` when there is
 * one (silently wrong), Trino to the lambda parameter: a lambda parameter must not be a name the
 * query also uses for a table, an alias or a WITH query.
 */
function lambdaProblems(code: readonly Token[]): string[] {
  const lower = (t: Token | undefined): string => (t?.kind === 'word' ? t.text.toLowerCase() : '');
  const params = new Set(code.filter((t, k) => t.kind === 'word' && code[k + 1]?.text === '->').map((t) => t.text.toLowerCase()));
  if (params.size === 0) return [];
  const names = new Set<string>();
  code.forEach((t, k) => {
    const word = lower(t);
    if (word === 'as' && code[k + 1]?.kind === 'word') names.add(lower(code[k + 1]));
    if (word === 'from' || word === 'join') {
      names.add(lower(code[k + 1]));
      const alias = lower(code[k + 2]) === 'as' ? code[k + 3] : code[k + 2];
      if (alias?.kind === 'word') names.add(lower(alias));
    }
  });
  return [...params].filter((p) => names.has(p)).map((p) => `lambda parameter "${p}" is also a table, alias or WITH query name: DuckDB would read ${p}.field from that table`);
}

function dateFormatProblems(args: readonly string[]): string[] {
  if (args.length !== 2) return [`date_format() takes 2 arguments, got ${args.length}`];
  const fmt = codeTokens(args[1]);
  if (fmt.length !== 1 || fmt[0].kind !== 'string') return ['date_format() needs a string literal as its format'];
  const bad = (stringValue(fmt[0]).match(/%./g) ?? []).filter((s) => !DATE_FORMAT_SPECIFIERS.has(s));
  return bad.length === 0 ? [] : [`date_format() format uses ${bad.join(' ')}; only ${[...DATE_FORMAT_SPECIFIERS].join(' ')} mean the same in both engines`];
}

function jsonPathProblems(args: readonly string[]): string[] {
  if (args.length !== 2) return [`json_extract_scalar() takes 2 arguments, got ${args.length}`];
  const path = codeTokens(args[1]);
  if (path.length !== 1 || path[0].kind !== 'string' || !JSON_PATH_PATTERN.test(stringValue(path[0]))) {
    return [`json_extract_scalar() needs a string literal path of dotted keys such as '$.policyRuleActionJson', got ${args[1].trim()}`];
  }
  return [];
}

function intervalProblems(value: Token | undefined, unit: Token | undefined): string[] {
  if (value?.kind !== 'string' || !/^\d+$/.test(stringValue(value))) {
    return [`INTERVAL must be followed by a quoted whole number such as '10', got ${value?.text ?? 'nothing'}`];
  }
  if (unit?.kind !== 'word' || !INTERVAL_UNITS.has(unit.text.toLowerCase())) {
    return [`INTERVAL unit must be one of ${[...INTERVAL_UNITS].map((u) => u.toUpperCase()).join(', ')}, got ${unit?.text ?? 'nothing'}`];
  }
  return [];
}
