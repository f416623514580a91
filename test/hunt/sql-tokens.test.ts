import { describe, expect, it } from 'vitest';
import { dottedReferences, functionCalls, replaceWord, tableScans, tokenize } from '../../lib/core/sql/tokens';

const ROOTS = new Set(['actor', 'target', 'client', 'device', 'published', 'hour', 'severity', 'debugcontext']);

describe('SQL tokens', () => {
  it('gives the input back when the tokens are joined, and keeps strings, quoted names and comments whole', () => {
    // Prepare
    const sql = "SELECT 'it''s -- not a comment', \"odd \"\"name\"\" \" -- a comment\n/* block ? */ FROM t WHERE x = ? AND y->>'z' :: int";
    // Act
    const tokens = tokenize(sql);
    // Assess
    expect(tokens.map((t) => t.text).join('')).toBe(sql);
    expect(tokens.filter((t) => t.kind === 'string').map((t) => t.text)).toEqual(["'it''s -- not a comment'", "'z'"]);
    expect(tokens.filter((t) => t.kind === 'quoted').map((t) => t.text)).toEqual(['"odd ""name"" "']);
    expect(tokens.filter((t) => t.kind === 'comment').map((t) => t.text)).toEqual(['-- a comment', '/* block ? */']);
    expect(tokens.filter((t) => t.kind === 'param')).toHaveLength(1);
    expect(tokens.filter((t) => t.kind === 'op').map((t) => t.text)).toContain('->>');
  });

  it('lists function calls with their arguments, not keywords, fields or calls inside strings', () => {
    const calls = functionCalls(
      "SELECT count(*), date_format(ts, '%Y-%m-%d'), CAST(x AS varchar), element_at(filter(target, x -> x.type = 'User'), 1).alternateId, 'lower(' FROM t WHERE a IN (1, 2) AND EXISTS (SELECT 1) AND count(*) OVER (PARTITION BY b) > 0 AND s.f(1)",
    );
    expect(calls.map((c) => c.name)).toEqual(['count', 'date_format', 'cast', 'element_at', 'filter', 'count']);
    expect(calls[1].args).toEqual(['ts', "'%Y-%m-%d'"]);
    expect(calls[3].args).toEqual(["filter(target, x -> x.type = 'User')", '1']);
  });

  it('finds column references: dotted paths from a root, alias-qualified roots, not lambda fields, aliases or interval units', () => {
    const refs = dottedReferences(
      "SELECT actor.alternateId, l.published, client.device, x.type, 'actor.id' AS severity, filter(target, x -> x.type = 'User') FROM okta_system_log l WHERE published >= now - INTERVAL '1' HOUR AND hour >= '07' AND debugContext.debugData IS NOT NULL",
      ROOTS,
    );
    expect(refs.map((r) => r.join('.'))).toEqual(['actor.alternateId', 'published', 'client.device', 'target', 'published', 'hour', 'debugContext.debugData']);
  });

  it('counts how many times the table is read once WITH queries are expanded where used', () => {
    expect(tableScans('SELECT 1 FROM okta_system_log', 'okta_system_log')).toBe(1);
    expect(
      tableScans(
        'WITH a AS (SELECT * FROM okta_system_log), b AS (SELECT * FROM a), c AS (SELECT * FROM b x JOIN b y ON x.k = y.k) SELECT * FROM c JOIN a ON 1 = 1',
        'okta_system_log',
      ),
    ).toBe(3);
    expect(tableScans('WITH p AS (SELECT ? AS v) SELECT * FROM okta_system_log l CROSS JOIN p', 'okta_system_log')).toBe(1);
  });

  it('replaces a word only in code, not in strings, comments or field names', () => {
    expect(replaceWord("SELECT current_timestamp, 'current_timestamp', x.current_timestamp -- current_timestamp", 'CURRENT_TIMESTAMP', 'NOW')).toBe(
      "SELECT NOW, 'current_timestamp', x.current_timestamp -- current_timestamp",
    );
  });
});
