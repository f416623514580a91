import { describe, expect, it } from 'vitest';
import { DetectionInputError } from '../../lib/core/detect/errors';
import { detectionPayload, parseDetectionInput, querySha256, type DetectionPayload } from '../../lib/core/detect/input';
import { ConfigError } from '../../lib/core/errors';
import { parseQuery } from '../../lib/core/queries';
import { HOUR } from '../../lib/core/time';

const payload: DetectionPayload = {
  detectionId: 'mfa-push-bombing',
  namedQueryId: '0b5c7a52-3c1e-4b6e-9d0e-2f3b4a5c6d7e',
  title: 'MFA push bombing',
  severity: 'high',
  findingKey: ['actor_id', 'session_id'],
  runbook: 'Call the user.',
  description: 'Many pushes.',
  lookbackMs: HOUR,
  scheduleMs: 15 * 60_000,
  sqlSha256: 'a'.repeat(64),
};

const SQL = `-- id: mfa-push-bombing
-- title: MFA push bombing
-- kind: detection
-- severity: high
-- schedule: rate(15 minutes)
-- lookback: 2h
-- mitre: T1621
-- finding_key: actor_id, session_id
-- description: Many pushes denied in a short time.
-- runbook: 1. Call the user. 2. Reset factors.
SELECT 1 AS actor_id, 2 AS session_id
`;

describe('parseDetectionInput', () => {
  it('fills the suppression window and console region from the defaults, and maxFindingsInMessage with 20', () => {
    // Act
    const input = parseDetectionInput(payload, { suppressionWindowMs: 24 * HOUR, consoleRegion: 'eu-central-1' });
    // Assess
    expect(input).toEqual({ ...payload, suppressionWindowMs: 24 * HOUR, consoleRegion: 'eu-central-1', maxFindingsInMessage: 20 });
  });

  it('raises the suppression window to the lookback, so a finding still inside the lookback is not alerted twice', () => {
    // Act
    const input = parseDetectionInput({ ...payload, suppressionWindowMs: HOUR, lookbackMs: 7 * 24 * HOUR, consoleRegion: 'us-east-1' });
    // Assess
    expect(input.suppressionWindowMs).toBe(7 * 24 * HOUR);
  });

  it.each([
    [null, /must be a JSON object, got null/],
    [[], /must be a JSON object, got an array/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, extra: 1 }, /"extra" is not a known field/],
    [{ ...payload, consoleRegion: 'us-east-1' }, /"suppressionWindowMs" is missing and has no default/],
    [{ ...payload, suppressionWindowMs: HOUR }, /"consoleRegion" must be an AWS region/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: 1000 }, /"suppressionWindowMs" must be a whole number from 60000/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, severity: 'urgent' }, /"severity" must be one of info, low, medium, high, critical/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, findingKey: [] }, /"findingKey" must be a non-empty array/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, findingKey: ['Actor'] }, /"findingKey" has "Actor", not a lower-case column name/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, findingKey: ['a', 'a'] }, /names a column twice/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, detectionId: 'MFA' }, /"detectionId" must be lower-case words/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, namedQueryId: 'a b' }, /"namedQueryId" must be an Athena named query id/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, title: ' ' }, /"title" must be a non-empty string/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, maxFindingsInMessage: 0 }, /"maxFindingsInMessage" must be a whole number from 1 to 200/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, sqlSha256: undefined }, /"sqlSha256" must be the SHA-256 of the deployed query text/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, sqlSha256: 'ABC' }, /"sqlSha256" must be the SHA-256/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, scheduleMs: 2 * HOUR }, /"scheduleMs" must not be longer than lookbackMs/],
    [{ ...payload, consoleRegion: 'us-east-1', suppressionWindowMs: HOUR, scheduleMs: undefined }, /"scheduleMs" is missing/],
  ])('refuses payload %# with a specific message', (value, message) => {
    // Act / Assess
    expect(() => parseDetectionInput(value)).toThrow(message);
    expect(() => parseDetectionInput(value)).toThrow(DetectionInputError);
  });

  it('is a ConfigError, so callers can treat every bad configuration alike', () => {
    // Act / Assess
    expect(() => parseDetectionInput({})).toThrow(ConfigError);
  });
});

describe('detectionPayload', () => {
  it('builds the schedule payload from the query file header, which the runner reads back', () => {
    // Prepare
    const query = parseQuery('/q/mfa-push-bombing.sql', SQL);
    // Act
    const p = detectionPayload(query, 'nq-123', { consoleRegion: 'eu-west-1' });
    const input = parseDetectionInput(JSON.parse(JSON.stringify(p)), { suppressionWindowMs: HOUR });
    // Assess
    expect(p).toEqual({
      detectionId: 'mfa-push-bombing',
      namedQueryId: 'nq-123',
      title: 'MFA push bombing',
      severity: 'high',
      findingKey: ['actor_id', 'session_id'],
      runbook: '1. Call the user. 2. Reset factors.',
      description: 'Many pushes denied in a short time.',
      lookbackMs: 2 * HOUR,
      scheduleMs: 15 * 60_000,
      sqlSha256: querySha256(SQL),
      consoleRegion: 'eu-west-1',
    });
    expect(input).toMatchObject({ sqlSha256: querySha256(SQL), scheduleMs: 15 * 60_000, lookbackMs: 2 * HOUR });
    expect(input.suppressionWindowMs).toBe(2 * HOUR);
  });

  it('refuses a hunt, which has no schedule', () => {
    // Prepare
    const hunt = parseQuery(
      '/q/user-timeline.sql',
      '-- id: user-timeline\n-- title: One user\n-- kind: hunt\n-- severity: info\n-- schedule: none\n-- lookback: 7d\n-- description: d\n-- parameters: user\nSELECT ?\n',
    );
    // Act / Assess
    expect(() => detectionPayload(hunt, 'nq')).toThrow(/is a hunt, not a detection/);
  });
});
