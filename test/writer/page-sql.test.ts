/**
 * The writer's SQL as text, without DuckDB: the structures, the SELECT list and the statements
 * that page-sql.ts generates from the schema. What the SQL does to pages is in the other writer tests.
 */
import { describe, expect, it } from 'vitest';
import { EVENT_COLUMNS, LOG_EVENT_COLUMNS, duckDbType, type FieldType } from '../../lib/core/schema';
import { STAGE_TABLE, buildPageSql, eventStructure, jsonTransformStructure, selectList } from '../../lib/core/writer/page-sql';

/** Every field path of a schema type, `a.b`, with `[]` for a list element. */
function schemaPaths(type: FieldType, prefix: string): string[] {
  if (typeof type === 'string' || type.kind === 'map') return [prefix];
  if (type.kind === 'list') return schemaPaths(type.element, `${prefix}[]`);
  return type.fields.flatMap((f) => schemaPaths(f.type, `${prefix}.${f.name}`));
}

/** Every leaf path of a `json_transform` structure, in the same notation. */
function structurePaths(structure: unknown, prefix: string): string[] {
  if (typeof structure === 'string') return [prefix];
  if (Array.isArray(structure)) {
    expect(structure).toHaveLength(1);
    return structurePaths(structure[0], `${prefix}[]`);
  }
  return Object.entries(structure as Record<string, unknown>).flatMap(([k, v]) => structurePaths(v, `${prefix}.${k}`));
}

describe('page-sql', () => {
  it('the COPY structure covers every schema field except uuid and published, and nothing else', () => {
    const structure = eventStructure();
    const typed = EVENT_COLUMNS.filter((c) => c.name !== 'uuid' && c.name !== 'published');
    expect(Object.keys(structure)).toEqual(typed.map((c) => c.name));
    for (const c of typed) {
      expect(structurePaths(structure[c.name], c.name)).toEqual(schemaPaths(c.type, c.name));
    }
  });

  it('maps scalars to their DuckDB types, timestamps to TIMESTAMPTZ and json fields to JSON', () => {
    expect(jsonTransformStructure('string')).toBe(duckDbType('string'));
    expect(jsonTransformStructure('bigint')).toBe(duckDbType('bigint'));
    expect(jsonTransformStructure('timestamp')).toBe('TIMESTAMPTZ');
    expect(jsonTransformStructure('json')).toBe('JSON');
    const map: FieldType = { kind: 'map' };
    expect(jsonTransformStructure(map)).toBe(duckDbType(map));
  });

  it('the SELECT list names every LOG_EVENT_COLUMNS column once, in schema order', () => {
    const aliases = selectList()
      .split(',\n  ')
      .map((item) => /AS "([^"]+)"$/.exec(item)?.[1]);
    expect(aliases).toEqual(LOG_EVENT_COLUMNS.map((c) => c.name));
  });

  it('generates the same text on every call, and sorts only the sorted COPY', () => {
    const a = buildPageSql();
    const b = buildPageSql();
    expect([a.stage('array'), a.stage('newline_delimited'), a.summary, a.dedupe, a.copy(1, false), a.setRaw]).toEqual([
      b.stage('array'),
      b.stage('newline_delimited'),
      b.summary,
      b.dedupe,
      b.copy(1, false),
      b.setRaw,
    ]);
    expect(a.copy(1, true)).toContain('ORDER BY ts, pos');
    expect(a.copy(1, false)).not.toContain('ORDER BY');
    expect(a.copy(7, false)).toContain('COMPRESSION_LEVEL 7)');
    expect(a.stage('newline_delimited')).toContain("format = 'newline_delimited'");
    for (const sql of [a.stage('array'), a.summary, a.dedupe, a.copy(1, false), a.setRaw]) expect(sql).toContain(STAGE_TABLE);
  });
});
