import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadQueries } from '../../lib/core/queries';

describe('docs/detections.md catalog', () => {
  it('has one row per query file, with its title, kind, severity, schedule, lookback, MITRE ids and finding key', () => {
    // Prepare
    const doc = readFileSync(new URL('../../docs/detections.md', import.meta.url), 'utf8');
    const rows = new Map(
      doc
        .split('\n')
        .filter((l) => /^\| `[a-z0-9-]+`/.test(l))
        .map((l) => {
          const cells = l.split('|').slice(1, -1).map((c) => c.trim());
          return [/`([a-z0-9-]+)`/.exec(cells[0])?.[1] as string, cells.slice(1)];
        }),
    );
    // Assess
    const queries = loadQueries();
    expect([...rows.keys()].sort()).toEqual(queries.map((q) => q.id).sort());
    for (const q of queries) {
      expect(rows.get(q.id), q.id).toEqual([
        q.title,
        q.kind,
        q.severity,
        q.schedule ?? 'none',
        q.lookback,
        q.mitre.join(', ') || '–',
        q.findingKey.join(', ') || '–',
      ]);
    }
  });
});
