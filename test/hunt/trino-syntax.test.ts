/**
 * A Trino syntax oracle: every file of `athena-queries/` must parse with a parser generated from
 * Trino's own ANTLR grammar, so a query that DuckDB (and the compatibility layer) accepts but Athena
 * would refuse to parse fails here, not in the console after a deployment.
 *
 * The parser is dt-sql-parser's `TrinoSQL` (pinned in package.json). Its grammar,
 * `src/grammar/trino/TrinoSql.g4` in the DTStack/dt-sql-parser repository (the npm package ships only
 * the generated parser), says it is an adaptation of Trino's
 * `core/trino-parser/src/main/antlr4/io/trino/sql/parser/SqlBase.g4` (it links Trino's tag 385) at
 * "current version 450". It is a syntax check only: names, types and functions are not resolved.
 * Its ESM build uses directory imports, so it loads under vitest or tsx, not plain `node`.
 *
 * Placeholders: the grammar has `?` (a `parameter` primary expression, Trino's `QUESTION_MARK`),
 * and the parser accepts it wherever an expression may stand, so the hunts are parsed exactly as
 * written, with no literal substituted. Athena is stricter than the grammar: it takes execution
 * parameters only in a WHERE clause ("Use parameterized queries",
 * https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html), which a
 * syntax check does not see.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrinoSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { defaultQueriesDir } from '../../lib/core/queries';

const trino = new TrinoSQL();

/** The parser's complaints about `sql`, one line each (empty when Trino's grammar accepts it). */
function syntaxErrors(sql: string): string[] {
  return trino.validate(sql).map((e) => `line ${e.startLine}:${e.startColumn}: ${e.message}`);
}

const dir = defaultQueriesDir();
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.sql'))
  .sort();

describe("every athena-queries file parses with Trino's grammar", () => {
  it('finds the query files', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  // No file is skipped and none is edited for the parse: the text Athena gets is the text parsed
  // (header comments included).
  it.each(files)('%s', (file) => {
    expect(syntaxErrors(readFileSync(join(dir, file), 'utf8'))).toEqual([]);
  });
});

describe('the oracle', () => {
  it('accepts ? placeholders as they are', () => {
    expect(syntaxErrors('SELECT uuid FROM okta_system_log WHERE client.ipAddress = ?')).toEqual([]);
    expect(syntaxErrors("SELECT uuid FROM okta_system_log WHERE cardinality(filter(target, x -> lower(x.alternateId) = lower(CAST(? AS varchar)))) > 0")).toEqual([]);
  });

  // Each DuckDB-only construct in a small query, beside the Trino way of writing it, which parses:
  // a rejection is then about the construct, not about the rest of the query.
  const duckdbOnly: ReadonlyArray<readonly [string, string, string]> = [
    ['`::` cast', 'SELECT CAST(published AS varchar) FROM okta_system_log', 'SELECT published::varchar FROM okta_system_log'],
    ['ILIKE', "SELECT uuid FROM okta_system_log WHERE lower(eventType) LIKE 'user.%'", "SELECT uuid FROM okta_system_log WHERE eventType ILIKE 'user.%'"],
    ['SELECT * EXCLUDE (...)', 'SELECT * FROM okta_system_log', 'SELECT * EXCLUDE (raw) FROM okta_system_log'],
    [
      'QUALIFY',
      'SELECT uuid FROM (SELECT uuid, row_number() OVER (PARTITION BY uuid ORDER BY published) AS n FROM okta_system_log) AS t WHERE n = 1',
      'SELECT uuid FROM okta_system_log QUALIFY row_number() OVER (PARTITION BY uuid ORDER BY published) = 1',
    ],
  ];

  it.each(duckdbOnly)('rejects %s (and accepts the Trino form)', (_construct, trinoForm, duckdbForm) => {
    expect(syntaxErrors(trinoForm)).toEqual([]);
    expect(syntaxErrors(duckdbForm).length).toBeGreaterThan(0);
  });
});
