import { describe, expect, it } from 'vitest';
import { parseQuery, QueryDefinitionError } from '../lib/core/queries';

const header = (over: Record<string, string> = {}): string => {
  const fields: Record<string, string> = {
    id: 'sample-detection',
    title: 'Sample',
    kind: 'detection',
    severity: 'high',
    schedule: 'rate(15 minutes)',
    lookback: '1h',
    mitre: 'T1621, T1110.003',
    finding_key: 'actor_id, session_id',
    description: 'Finds a thing',
    runbook: 'Check the thing.',
    ...over,
  };
  return Object.entries(fields)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `-- ${k}: ${v}`)
    .join('\n');
};

describe('query catalog header', () => {
  it('parses every field, with continuation lines', () => {
    // Prepare
    const sql = `${header()}\n--   and why it matters\nSELECT 1 AS actor_id, 2 AS session_id`;
    // Act
    const q = parseQuery('/x/sample-detection.sql', sql);
    // Assess
    expect(q).toMatchObject({
      id: 'sample-detection',
      kind: 'detection',
      severity: 'high',
      schedule: 'rate(15 minutes)',
      scheduleMinutes: 15,
      lookbackMs: 3_600_000,
      mitre: ['T1621', 'T1110.003'],
      findingKey: ['actor_id', 'session_id'],
      runbook: 'Check the thing. and why it matters',
      parameters: [],
    });
    expect(q.sql).toBe(sql);
  });

  it.each([
    [{ id: 'other-name' }, /id.*must equal the file name/],
    [{ severity: 'urgent' }, /severity.*must be one of/],
    [{ schedule: 'cron(0 * * * ? *)' }, /schedule.*rate/],
    [{ lookback: '10m' }, /lookback.*at least one schedule period/],
    [{ mitre: 'ATT1' }, /mitre/],
    [{ finding_key: '' }, /finding_key.*missing/],
    [{ runbook: '' }, /runbook.*missing/],
    [{ kind: 'hunt' }, /schedule.*must be none for a hunt/],
    [{ parameters: 'user' }, /parameters.*hunts only/],
  ])('rejects %o', (over, message) => {
    expect(() => parseQuery('/x/sample-detection.sql', `${header(over)}\nSELECT 1`)).toThrow(QueryDefinitionError);
    expect(() => parseQuery('/x/sample-detection.sql', `${header(over)}\nSELECT 1`)).toThrow(message);
  });

  it('checks that a hunt names each ? placeholder, ignoring ? inside strings and comments', () => {
    const hunt = header({ kind: 'hunt', schedule: 'none', finding_key: '', parameters: 'user' });
    expect(parseQuery('/x/sample-detection.sql', `${hunt}\nSELECT '?' -- ?\nWHERE a = ?`).parameters).toEqual(['user']);
    expect(() => parseQuery('/x/sample-detection.sql', `${hunt}\nSELECT 1`)).toThrow(/1 parameter\(s\) but the SQL has 0/);
  });
});
