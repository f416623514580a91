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
 * https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html, which gives
 * `SELECT ? FROM table` as unsupported), which the parse tree lets this test check too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrinoSQL, TrinoSqlListener } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { pinNow, scopeTable } from '../../lib/core/sql/rewrite';
import { TABLE_NAME } from '../../lib/core/layout';
import { defaultQueriesDir, loadQueries } from '../../lib/core/queries';

const trino = new TrinoSQL();
type TerminalNode = Parameters<TrinoSqlListener['visitTerminal']>[0];

/** The parser's complaints about `sql`, one line each (empty when Trino's grammar accepts it). */
function syntaxErrors(sql: string): string[] {
  return trino.validate(sql).map((e) => `line ${e.startLine}:${e.startColumn}: ${e.message}`);
}

/** Where each `?` placeholder stands (line and column from 1) and whether it is inside a WHERE clause. */
function placeholders(sql: string): { line: number; column: number; inWhere: boolean }[] {
  const found: { line: number; column: number; inWhere: boolean }[] = [];
  class PlaceholderListener extends TrinoSqlListener {
    private whereDepth = 0;
    override enterWhereClause = (): void => {
      this.whereDepth++;
    };
    override exitWhereClause = (): void => {
      this.whereDepth--;
    };
    override visitTerminal(node: TerminalNode): void {
      if (node.getText() === '?') found.push({ line: node.symbol.line, column: node.symbol.column + 1, inWhere: this.whereDepth > 0 });
    }
  }
  trino.listen(new PlaceholderListener(), trino.parse(sql));
  return found;
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

  it.each(files)('%s: every ? placeholder is in a WHERE clause, where Athena takes parameters', (file) => {
    const outside = placeholders(readFileSync(join(dir, file), 'utf8')).filter((p) => !p.inWhere);
    expect(outside.map((p) => `${file}:${p.line}:${p.column}`)).toEqual([]);
  });
});

// What the runner sends Athena is the named query's text pinned at an instant and scoped to one org
// (lib/core/detect/evaluate.ts): that text must parse too.
describe("every scheduled detection, as the runner evaluates it, parses with Trino's grammar", () => {
  const scheduled = loadQueries(dir).filter((q) => q.schedule !== undefined);
  it.each(scheduled.map((q) => q.id))('%s', (id) => {
    const q = scheduled.find((s) => s.id === id)!;
    const sent = scopeTable(pinNow(q.sql, new Date('2026-11-20T12:15:00.000Z')), TABLE_NAME, { org: "acme.okta.com" });
    expect(sent).toContain("CAST('2026-11-20 12:15:00.000 UTC' AS TIMESTAMP WITH TIME ZONE)");
    expect(sent).toContain("FROM (SELECT * FROM okta_system_log WHERE org = 'acme.okta.com') okta_system_log");
    expect(syntaxErrors(sent)).toEqual([]);
  });
});

describe('the oracle', () => {
  it('accepts ? placeholders as they are, and tells WHERE from elsewhere', () => {
    expect(syntaxErrors('SELECT uuid FROM okta_system_log WHERE client.ipAddress = ?')).toEqual([]);
    expect(syntaxErrors("SELECT uuid FROM okta_system_log WHERE cardinality(filter(target, x -> lower(x.alternateId) = lower(CAST(? AS varchar)))) > 0")).toEqual([]);
    expect(placeholders('SELECT uuid FROM okta_system_log\nWHERE client.ipAddress = ?')).toEqual([{ line: 2, column: 26, inWhere: true }]);
    // user-timeline's shape before it was fixed: the value selected in a WITH query.
    const both = 'WITH p AS (SELECT lower(CAST(? AS varchar)) AS login) SELECT uuid FROM okta_system_log CROSS JOIN p WHERE dt > ?';
    expect(placeholders(both)).toEqual([
      { line: 1, column: both.indexOf('?') + 1, inWhere: false },
      { line: 1, column: both.lastIndexOf('?') + 1, inWhere: true },
    ]);
    expect(placeholders('SELECT ? FROM okta_system_log')).toEqual([{ line: 1, column: 8, inWhere: false }]);
    // A `?` in a string or a comment is not a placeholder.
    expect(placeholders("-- what ?\nSELECT coalesce(city, '?') FROM okta_system_log")).toEqual([]);
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

  it('finds one DuckDB-only cast deep inside a whole query file, with its line', () => {
    // Prepare: a real file (header and all), one CAST(x AS varchar) written the DuckDB way
    const sql = readFileSync(join(dir, 'mfa-push-bombing.sql'), 'utf8');
    const cast = /CAST\(([\w.]+) AS varchar\)/i.exec(sql);
    expect(cast, 'mfa-push-bombing.sql has a CAST(... AS varchar)').not.toBeNull();
    const broken = sql.replace(cast![0], `${cast![1]}::varchar`);
    const line = sql.slice(0, cast!.index).split('\n').length;
    // Act
    const errors = syntaxErrors(broken);
    // Assess
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(new RegExp(`^line ${line}:`));
  });
});
