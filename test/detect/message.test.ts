import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  athenaConsoleUrl,
  formatBody,
  formatBytes,
  formatCell,
  formatDuration,
  formatSubject,
  formatTable,
  MESSAGE_MAX_BYTES,
  SUBJECT_MAX_LENGTH,
  truncateUtf8,
  wrapText,
  type AlertContent,
} from '../../lib/core/detect/message';

describe('formatSubject', () => {
  it('reads [SEVERITY] title: N new findings, singular for one', () => {
    // Act / Assess
    expect(formatSubject('critical', 'Okta support impersonation', 3)).toBe('[CRITICAL] Okta support impersonation: 3 new findings');
    expect(formatSubject('low', 'API token created', 1)).toBe('[LOW] API token created: 1 new finding');
  });

  it('is always printable ASCII within the SNS limit, keeping severity and count', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'grapheme' }), fc.integer({ min: 1, max: 1_000_000 }), (title, n) => {
        // Act
        const s = formatSubject('medium', title, n);
        // Assess
        expect(s.length).toBeLessThanOrEqual(SUBJECT_MAX_LENGTH);
        expect(s).toMatch(/^[\x20-\x7e]+$/);
        expect(s.startsWith('[MEDIUM] ')).toBe(true);
        expect(s.endsWith(`: ${n} new finding${n === 1 ? '' : 's'}`)).toBe(true);
      }),
    );
  });

  it('drops accents and replaces other characters rather than sending non-ASCII', () => {
    // Act / Assess
    expect(formatSubject('high', 'Connexion refusée\nà Zürich ✓', 2)).toBe('[HIGH] Connexion refusee a Zurich ?: 2 new findings');
  });
});

describe('formatTable', () => {
  it('aligns columns, shows NULL as (null), truncates long values with ...', () => {
    // Act
    const lines = formatTable(['a', 'bb'], [{ a: 'x'.repeat(50), bb: null }, { a: 'y', bb: 'line\nbreak' }], 10);
    // Assess
    expect(lines).toEqual(['a           bb', '----------  ----------', 'xxxxxxx...  (null)', 'y           line break']);
  });

  it('cuts by characters, not UTF-16 units', () => {
    // Act / Assess
    expect(formatCell('😀😀😀😀😀😀', 5)).toBe('😀😀...');
  });
});

describe('text helpers', () => {
  it('wraps at word boundaries and starts numbered steps on their own lines', () => {
    // Act
    const lines = wrapText('1. Check the actor against the HR system of record before anything else. 2. Revoke.', 40);
    // Assess
    expect(lines).toEqual(['  1. Check the actor against the HR', '  system of record before anything else.', '  2. Revoke.']);
    expect(lines.every((l) => l.length <= 40)).toBe(true);
  });

  it('formats bytes, durations and the console link', () => {
    // Act / Assess
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1_234_567)).toBe('1.2 MB');
    expect(formatDuration(24 * 3_600_000)).toBe('1 day');
    expect(formatDuration(90 * 60_000)).toBe('90 minutes');
    expect(formatDuration(2 * 3_600_000)).toBe('2 hours');
    expect(athenaConsoleUrl('ap-southeast-2', 'e-1')).toBe(
      'https://ap-southeast-2.console.aws.amazon.com/athena/home?region=ap-southeast-2#/query-editor/history/e-1',
    );
  });

  it('truncateUtf8 never splits a character and stays within the byte limit', () => {
    // Act
    const out = truncateUtf8('é'.repeat(100), 51);
    // Assess
    expect(Buffer.byteLength(out, 'utf8')).toBeLessThanOrEqual(51);
    expect(out).toMatch(/^é+\n\[message truncated\]\n$/);
  });
});

describe('formatBody', () => {
  it('lists fewer findings when the table would make the message larger than SNS accepts', () => {
    // Prepare
    const columns = Array.from({ length: 150 }, (_, i) => `column_${i}`);
    const row = Object.fromEntries(columns.map((c) => [c, 'v'.repeat(100)]));
    const content: AlertContent = {
      detectionId: 'wide',
      title: 'Wide',
      severity: 'low',
      description: 'd',
      runbook: 'r',
      findingKey: ['column_0'],
      namedQueryName: 'wide',
      workGroup: 'wg',
      executionId: 'e',
      consoleRegion: 'us-east-1',
      ranAt: '2024-05-01T00:00:00.000Z',
      columns,
      newFindings: Array.from({ length: 200 }, () => row),
      rows: 200,
      findings: 200,
      suppressed: 0,
      suppressionWindowMs: 3_600_000,
      maxFindingsInMessage: 200,
    };
    // Act
    const body = formatBody(content);
    // Assess
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThanOrEqual(MESSAGE_MAX_BYTES);
    const shown = /New findings \(first (\d+) of 200\)/.exec(body);
    expect(Number(shown?.[1])).toBeGreaterThan(0);
    expect(body).toContain(`... and ${200 - Number(shown?.[1])} more`);
    expect(body).toContain('Runbook');
  });
});
