import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWED_FUNCTIONS, COMPAT_MACROS, openLake, portabilityProblems, toFindingValue, type Lake } from '../../lib/core/hunt';
import { pinNow } from '../../lib/core/sql/rewrite';
import { loadQueries } from '../../lib/core/queries';

/**
 * What Trino (Athena engine v3) returns for each expression, from Trino's documentation of the
 * function; the test runs the expression in DuckDB with the compatibility layer and compares.
 * Every function of the allow-list must have at least one case here.
 */
const TRINO_RESULTS: Record<string, ReadonlyArray<readonly [string, unknown]>> = {
  count: [
    ['(SELECT count(x) FROM (VALUES (1), (NULL), (1), (2)) AS t(x))', 3],
    ['(SELECT count(*) FROM (VALUES (1), (NULL)) AS t(x))', 2],
    ['(SELECT count(DISTINCT x) FROM (VALUES (1), (NULL), (1), (2)) AS t(x))', 2],
  ],
  count_if: [['(SELECT count_if(x > 1) FROM (VALUES (1), (NULL), (3), (2)) AS t(x))', 2]],
  min: [["(SELECT min(x) FROM (VALUES ('b'), (NULL), ('a')) AS t(x))", 'a']],
  max: [["(SELECT max(x) FROM (VALUES ('b'), (NULL), ('a')) AS t(x))", 'b']],
  sum: [
    ['(SELECT sum(x) FROM (VALUES (1), (NULL), (3)) AS t(x))', 4],
    ['(SELECT sum(x) FROM (VALUES (1)) AS t(x) WHERE x > 5)', null],
  ],
  array_agg: [
    ['(SELECT array_agg(x ORDER BY x) FROM (VALUES (2), (NULL), (1)) AS t(x))', [1, 2, null]],
    ["(SELECT array_agg(DISTINCT x) FILTER (WHERE x IS NOT NULL) FROM (VALUES ('a'), (NULL)) AS t(x) WHERE x = 'z')", null],
  ],
  lag: [['(SELECT array_agg(p ORDER BY x) FROM (SELECT x, lag(x) OVER (ORDER BY x) AS p FROM (VALUES (1), (2), (3)) AS t(x)) AS w)', [null, 1, 2]]],
  coalesce: [["coalesce(NULL, 'a', 'b')", 'a']],
  lower: [["lower('ÄBc')", 'äbc']],
  cast: [
    ["CAST('12' AS bigint)", 12],
    ['CAST(12 AS varchar)', '12'],
    ['CAST(true AS varchar)', 'true'],
    ["CAST('2024-05-01 10:00:00' AS timestamp)", '2024-05-01T10:00:00.000Z'],
  ],
  date_trunc: [
    ["date_trunc('hour', TIMESTAMP '2024-05-01 10:42:13.123')", '2024-05-01T10:00:00.000Z'],
    ["date_trunc('day', TIMESTAMP '2024-05-01 10:42:13.123')", '2024-05-01T00:00:00.000Z'],
  ],
  round: [
    ['round(CAST(2.5 AS double))', 3],
    ['round(CAST(-2.5 AS double))', -3],
    ['round(CAST(1.236 AS double), 2)', 1.24],
  ],
  sqrt: [['sqrt(CAST(16 AS double))', 4]],
  power: [['power(2, 10)', 1024]],
  sin: [['sin(0)', 0]],
  cos: [['cos(0)', 1]],
  asin: [['asin(1)', Math.PI / 2]],
  radians: [['radians(180)', Math.PI]],
  filter: [
    ['filter([1, NULL, 3, 0], x -> x > 0)', [1, 3]],
    ['filter(CAST(NULL AS INTEGER[]), x -> x > 0)', null],
    ["filter([{'type': 'App', 'id': 'a'}, {'type': 'User', 'id': 'u'}], x -> x.type = 'User')", [{ type: 'User', id: 'u' }]],
  ],
  array_sort: [["array_sort(['b', NULL, 'a'])", ['a', 'b', null]]],
  date_format: [
    ["date_format(TIMESTAMP '2024-03-05 07:08:09.123', '%Y-%m-%d %H:%i:%s')", '2024-03-05 07:08:09'],
    ["date_format(CAST('2024-03-05T23:30:00Z' AS TIMESTAMP WITH TIME ZONE) - INTERVAL '1' HOUR, '%Y-%m-%d')", '2024-03-05'],
    ["date_format(CAST('2024-03-06T00:30:00Z' AS TIMESTAMP WITH TIME ZONE) - INTERVAL '1' HOUR, '%H')", '23'],
  ],
  element_at: [
    ["element_at(MAP(['factor', 'risk'], ['OKTA_VERIFY_PUSH', '{level=LOW}']), 'factor')", 'OKTA_VERIFY_PUSH'],
    ["element_at(MAP(['factor'], ['OKTA_VERIFY_PUSH']), 'missing')", null],
    ["element_at(CAST(NULL AS MAP(VARCHAR, VARCHAR)), 'factor')", null],
    ['element_at([10, 20, 30], 1)', 10],
    ['element_at([10, 20, 30], -1)', 30],
    ['element_at([10, 20, 30], 4)', null],
    ['element_at(CAST([] AS INTEGER[]), 1)', null],
  ],
  cardinality: [
    ['cardinality([1, 2, 3])', 3],
    ['cardinality(CAST([] AS INTEGER[]))', 0],
    ['cardinality(CAST(NULL AS INTEGER[]))', null],
  ],
  to_unixtime: [
    ["to_unixtime(TIMESTAMP '2024-01-01 00:00:01.5')", 1_704_067_201.5],
    ["to_unixtime(CAST('2024-01-01T02:00:01.5+02:00' AS TIMESTAMP WITH TIME ZONE))", 1_704_067_201.5],
  ],
  from_iso8601_timestamp: [
    ["from_iso8601_timestamp('2024-01-01T10:00:00+02:00')", '2024-01-01T08:00:00.000Z'],
    ["from_iso8601_timestamp('2024-01-01T10:00:00.250Z')", '2024-01-01T10:00:00.250Z'],
    ["from_iso8601_timestamp('2024-01-01T10:00:00')", '2024-01-01T10:00:00.000Z'],
  ],
  array_join: [
    ["array_join(['a', NULL, 'b'], ', ')", 'a, b'],
    ['array_join(CAST(NULL AS VARCHAR[]), \', \')', null],
  ],
  // Trino: "the value referenced by json_path must be a scalar (boolean, number or string)"; NULL otherwise.
  json_extract_scalar: [
    [`json_extract_scalar('{"a":{"b":"x"}}', '$.a.b')`, 'x'],
    [`json_extract_scalar('{"a":true,"n":7}', '$.a')`, 'true'],
    [`json_extract_scalar('{"a":true,"n":7}', '$.n')`, '7'],
    [`json_extract_scalar('{"a":{"b":"x"}}', '$.a')`, null],
    [`json_extract_scalar('{"a":[1,2]}', '$.a')`, null],
    [`json_extract_scalar('{"a":null}', '$.a')`, null],
    [`json_extract_scalar('{"a":1}', '$.missing')`, null],
    [`json_extract_scalar('not json', '$.a')`, null],
    [`json_extract_scalar(CAST(NULL AS VARCHAR), '$.a')`, null],
    [`json_extract_scalar(json_extract_scalar('{"r":"{\\"m\\":\\"2FA\\"}"}', '$.r'), '$.m')`, '2FA'],
  ],
};

describe('compatibility layer: DuckDB gives Trino results', () => {
  let dir: string;
  let lake: Lake;
  const evaluate = async (expression: string): Promise<unknown> => {
    const reader = await lake.connection.runAndReadAll(`SELECT ${expression} AS v`);
    return toFindingValue(reader.getRowObjectsJS()[0].v);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'okta-lake-compat-'));
    lake = await openLake(dir);
  });
  afterAll(() => {
    lake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has a Trino result for every allowed function, and nothing else', () => {
    expect(Object.keys(TRINO_RESULTS).sort()).toEqual(Object.keys(ALLOWED_FUNCTIONS).sort());
  });

  for (const [name, cases] of Object.entries(TRINO_RESULTS)) {
    it.each(cases.map(([expression, expected]) => ({ expression, expected })))(`${name}: $expression`, async ({ expression, expected }) => {
      // Act
      const actual = await evaluate(expression);
      // Assess
      if (typeof expected === 'number' && !Number.isInteger(expected)) expect(actual).toBeCloseTo(expected, 9);
      else expect(actual).toEqual(expected);
    });
  }

  it('installs a macro for every function the allow-list marks as macro', () => {
    const macros = COMPAT_MACROS.map((m) => /MACRO (\w+)\(/.exec(m)?.[1]);
    const needed = Object.entries(ALLOWED_FUNCTIONS).filter(([, r]) => r.duckdb === 'macro').map(([n]) => n);
    expect(macros.sort()).toEqual(needed.sort());
  });

  it('divides integers as Trino does (truncating), and sorts NULLs last in both directions', async () => {
    expect(await evaluate('7 / 2')).toBe(3);
    expect(await evaluate('-7 / 2')).toBe(-3);
    expect(await evaluate('CAST(7 AS double) / 2')).toBe(3.5);
    expect(await evaluate('(SELECT array_agg(x ORDER BY x DESC) FROM (VALUES (1), (NULL), (2)) AS t(x))')).toEqual([2, 1, null]);
  });

  it('pins current_timestamp to the given instant everywhere in code, and nowhere else', async () => {
    // Prepare
    const sql = "SELECT current_timestamp - INTERVAL '1' HOUR AS a, 'current_timestamp' AS b -- current_timestamp\n, CURRENT_TIMESTAMP AS c";
    // Act
    const pinned = pinNow(sql, new Date('2024-05-01T12:30:00.000Z'));
    const row = (await lake.connection.runAndReadAll(pinned)).getRowObjectsJS()[0];
    // Assess
    expect(pinned).toContain("'current_timestamp' AS b -- current_timestamp");
    expect(toFindingValue(row.a)).toBe('2024-05-01T11:30:00.000Z');
    expect(row.b).toBe('current_timestamp');
    expect(toFindingValue(row.c)).toBe('2024-05-01T12:30:00.000Z');
  });

  it('compares a UTC timestamp column with the pinned instant as Athena does (session zone UTC)', async () => {
    const sql = pinNow("SELECT TIMESTAMP '2024-05-01 11:30:00' >= current_timestamp - INTERVAL '1' HOUR AS inside, TIMESTAMP '2024-05-01 11:29:59.999' >= current_timestamp - INTERVAL '1' HOUR AS outside", new Date('2024-05-01T12:30:00Z'));
    const row = (await lake.connection.runAndReadAll(sql)).getRowObjectsJS()[0];
    expect(row).toEqual({ inside: true, outside: false });
  });
});

describe('portability rules', () => {
  it.each([
    ['SELECT CAST(x AS varchar) FROM t', []],
    ["SELECT 'a::b [x] greatest(' AS s -- now() :: [\nFROM t", []],
    ['SELECT x::varchar FROM t', [/"::" is not allowed/]],
    ['SELECT greatest(a, b) FROM t', [/greatest\(\) is not allowed: .*NULL/]],
    ['SELECT concat(a, b) FROM t', [/concat\(\) is not allowed: .*\|\|/]],
    ['SELECT date_diff(\'second\', a, b) FROM t', [/date_diff\(\) is not allowed/]],
    ['SELECT levenshtein_distance(a, b) FROM t', [/levenshtein_distance\(\) is not in the compatibility layer's allow-list/]],
    ["SELECT date_format(ts, '%Y-%M') FROM t", [/format uses %M/]],
    ['SELECT date_format(ts, fmt) FROM t', [/needs a string literal/]],
    ["SELECT json_extract_scalar(j, '$.a.b_c') FROM t", []],
    ["SELECT json_extract_scalar(j, '$.a[0]') FROM t", [/json_extract_scalar\(\) needs a string literal path of dotted keys/]],
    ["SELECT json_extract_scalar(j, p) FROM t", [/json_extract_scalar\(\) needs a string literal path/]],
    ["SELECT ts - INTERVAL 1 DAY FROM t", [/INTERVAL must be followed by a quoted whole number/]],
    ["SELECT ts - INTERVAL '2' DAYS FROM t", [/INTERVAL unit must be one of/]],
    ["SELECT m['k'] FROM t", [/"\[" is not allowed: .*element_at/]],
    ['SELECT a FROM t GROUP BY ALL', [/GROUP BY ALL/]],
    ['SELECT now() FROM t', [/now\(\) is not allowed/]],
    ['SELECT current_date FROM t', [/"current_date" is not allowed/]],
    ['SELECT list_filter(l, lambda x: x > 1) FROM t', [/list_filter/, /"lambda" is not allowed/]],
    ['SELECT 1; SELECT 2', [/";" is not allowed/]],
    ["SELECT filter(t.target, t -> t.type = 'User') FROM okta_system_log t", [/lambda parameter "t" is also a table, alias/]],
    ["SELECT filter(target, x -> x.type = 'User') AS users FROM okta_system_log t", []],
  ])('%s', (sql, expected) => {
    const problems = portabilityProblems(sql);
    if (expected.length === 0) expect(problems).toEqual([]);
    for (const pattern of expected) expect(problems.some((p) => pattern.test(p))).toBe(true);
  });

  it('accepts every query of athena-queries/ (each function call is in the allow-list)', () => {
    const queries = loadQueries();
    expect(queries.length).toBeGreaterThanOrEqual(20);
    const problems = queries.flatMap((q) => portabilityProblems(q.sql).map((p) => `${q.id}: ${p}`));
    expect(problems).toEqual([]);
  });
});
