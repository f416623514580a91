import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS, DEFAULT_RETENTION, DETECTIONS_DEFAULTS, MAX_OBJECT_LOCK_DAYS, MAX_SUPPRESSION_WINDOW_HOURS, parseConfig, projectedOrgs } from '../../lib/config/config';
import { MAX_FINDINGS_IN_MESSAGE_LIMIT } from '../../lib/core/detect/input';
import { CONFIG_CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY, loadConfig, type ContextSource } from '../../lib/config/load';
import { ConfigError } from '../../lib/core/errors';

const ORG = { host: 'acme.okta.com', auth: 'ssws' };
const context = (values: Record<string, unknown>): ContextSource => ({ tryGetContext: (key) => values[key] });

describe('parseConfig', () => {
  it('applies every default to a minimal configuration', () => {
    // Prepare / Act
    const config = parseConfig({ orgs: [ORG] });
    // Assess
    expect(config).toEqual({
      orgs: [{ host: 'acme.okta.com', auth: 'ssws' }],
      queryOnlyOrgs: [],
      scheduleMinutes: 5,
      settleLagMinutes: 5,
      initialLookbackDays: 7,
      reconcileOffsetsMinutes: [60, 1440],
      alertEmails: [],
      // Non-current versions are kept as long as the lock, which lasts as long as S3 allows.
      retention: { ...DEFAULT_RETENTION, noncurrentVersionExpireAfterDays: 36_500 },
      objectLock: { mode: 'GOVERNANCE', days: 36_500, existingBucket: false },
      athenaBytesScannedCutoffPerQuery: 10 * 1024 ** 3,
      noEventsAlarmHours: 6,
      watermarkLagAlarmMinutes: 60,
      lambdaArchitecture: 'arm64',
      logRetentionDays: 365,
      detections: { enabled: true, suppressionWindowHours: 24, maxFindingsInMessage: 20, maxEvaluationsPerRun: 48, initialBackfillHours: 24, lagAlarmMinutes: 180, emails: [], minimumSeverity: 'info' },
      compaction: { enabled: true, scheduleExpression: 'rate(1 hour)' },
    });
    expect(MAX_OBJECT_LOCK_DAYS).toBe(36_500);
    expect(CONFIG_DEFAULTS.lambdaArchitecture).toBe('arm64');
  });

  it('locks every object for as long as the retention keeps it, in governance mode, by default', () => {
    // Prepare / Act
    const expiring = parseConfig({ orgs: [ORG], retention: { expireAfterDays: 400 } });
    const compliance = parseConfig({ orgs: [ORG], objectLock: { mode: 'COMPLIANCE' } });
    const shorter = parseConfig({ orgs: [ORG], objectLock: { days: 365 } });
    // Assess
    expect(expiring.objectLock).toEqual({ mode: 'GOVERNANCE', days: 400, existingBucket: false });
    expect(expiring.retention.noncurrentVersionExpireAfterDays).toBe(400);
    expect(compliance.objectLock).toEqual({ mode: 'COMPLIANCE', days: 36_500, existingBucket: false });
    expect(shorter.objectLock?.days).toBe(365);
    expect(shorter.retention.noncurrentVersionExpireAfterDays).toBe(365);
  });

  it('turns Object Lock off only when told to, and then leaves the retention as given', () => {
    // Prepare / Act
    const off = parseConfig({ orgs: [ORG], objectLock: { enabled: false } });
    const explicitOn = parseConfig({ orgs: [ORG], objectLock: { enabled: true } });
    // Assess
    expect(off.objectLock).toBeUndefined();
    expect('objectLock' in off).toBe(false);
    expect(off.retention).toEqual(DEFAULT_RETENTION);
    expect(explicitOn.objectLock).toEqual(parseConfig({ orgs: [ORG] }).objectLock);
  });

  it('keeps a non-current version expiry that is at least the lock', () => {
    const config = parseConfig({ orgs: [ORG], objectLock: { days: 90 }, retention: { noncurrentVersionExpireAfterDays: 120 } });
    expect(config.retention.noncurrentVersionExpireAfterDays).toBe(120);
  });

  it('keeps every valid field as given', () => {
    const input = {
      orgs: [
        { host: 'acme.okta.com', auth: 'oauth', secret: { name: 'okta/acme', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' } },
        { host: 'beta.oktapreview.com', auth: 'ssws', secret: { arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:okta/beta-AbC123' } },
      ],
      queryOnlyOrgs: ['retired.okta.com', 'acme-2019.export'],
      scheduleMinutes: 10,
      settleLagMinutes: 15,
      initialLookbackDays: 90,
      reconcileOffsetsMinutes: [1, 360, 10_080, 129_600],
      alertEmails: ['secops@example.com', 'oncall+okta@example.org'],
      retention: { infrequentAccessAfterDays: 60, archiveAfterDays: 'never', archiveStorageClass: 'DEEP_ARCHIVE', expireAfterDays: 3650, noncurrentVersionExpireAfterDays: 400 },
      objectLock: { mode: 'COMPLIANCE', days: 365, existingBucket: true },
      athenaBytesScannedCutoffPerQuery: 10_000_000,
      noEventsAlarmHours: 24,
      watermarkLagAlarmMinutes: 120,
      lambdaArchitecture: 'x86_64',
      logRetentionDays: 30,
      detections: {
        enabled: false,
        suppressionWindowHours: 72,
        maxFindingsInMessage: 50,
        maxEvaluationsPerRun: 100,
        initialBackfillHours: 168,
        lagAlarmMinutes: 60,
        emails: ['analysts@example.com'],
        minimumSeverity: 'high',
      },
      compaction: { enabled: false, scheduleExpression: 'rate(6 hours)' },
    };
    expect(parseConfig(input)).toEqual(input);
  });

  // Each invalid configuration fails with a ConfigError whose message names the field.
  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['not an object', [] as unknown as Record<string, unknown>, /must be an object/],
    ['unknown top-level field', { orgs: [ORG], scheduleMinute: 5 }, /"scheduleMinute" is not a known field/],
    ['no orgs', {}, /"orgs" must be a non-empty array/],
    ['empty orgs', { orgs: [] }, /"orgs" must be a non-empty array/],
    ['org not an object', { orgs: ['acme.okta.com'] }, /"orgs\[0\]" must be an object/],
    ['unknown org field', { orgs: [{ ...ORG, token: 'x' }] }, /"orgs\[0\].token" is not a known field/],
    ['host with scheme', { orgs: [{ ...ORG, host: 'https://acme.okta.com' }] }, /"orgs\[0\].host" must be a host name only, without "https:\/\/"/],
    ['host with path', { orgs: [{ ...ORG, host: 'acme.okta.com/admin' }] }, /"orgs\[0\].host" must be a host name only/],
    ['host upper case', { orgs: [{ ...ORG, host: 'Acme.okta.com' }] }, /"orgs\[0\].host" must be lower case/],
    ['host with port', { orgs: [{ ...ORG, host: 'acme.okta.com:8443' }] }, /"orgs\[0\].host" must not carry a port/],
    ['host single label', { orgs: [{ ...ORG, host: 'localhost' }] }, /"orgs\[0\].host" must be a valid DNS host name/],
    ['host bad label', { orgs: [{ ...ORG, host: 'acme-.okta.com' }] }, /"orgs\[0\].host" must be a valid DNS host name/],
    ['host IP address', { orgs: [{ ...ORG, host: '10.0.0.1' }] }, /"orgs\[0\].host" is not an Okta org host name the ingestion accepts/],
    ['host not a string', { orgs: [{ ...ORG, host: 42 }] }, /"orgs\[0\].host" must be the org host name/],
    ['duplicate host', { orgs: [ORG, { ...ORG, auth: 'oauth' }] }, /"orgs\[1\].host" must be unique/],
    ['bad auth', { orgs: [{ ...ORG, auth: 'basic' }] }, /"orgs\[0\].auth" must be one of "ssws", "oauth"/],
    ['missing auth', { orgs: [{ host: 'acme.okta.com' }] }, /"orgs\[0\].auth" must be one of/],
    ['secret with name and arn', { orgs: [{ ...ORG, secret: { name: 'a', arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbC123' } }] }, /"orgs\[0\].secret" must give exactly one of "name" or "arn"/],
    ['secret with neither', { orgs: [{ ...ORG, secret: {} }] }, /"orgs\[0\].secret" must give exactly one of/],
    ['secret bad name', { orgs: [{ ...ORG, secret: { name: 'okta acme' } }] }, /"orgs\[0\].secret.name" must be a Secrets Manager secret name/],
    ['secret bad arn', { orgs: [{ ...ORG, secret: { arn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/x' } }] }, /"orgs\[0\].secret.arn" must be a Secrets Manager secret ARN/],
    ['secret bad key arn', { orgs: [{ ...ORG, secret: { name: 'a', kmsKeyArn: 'alias/okta' } }] }, /"orgs\[0\].secret.kmsKeyArn" must be a KMS key ARN/],
    ['query-only orgs not an array', { orgs: [ORG], queryOnlyOrgs: 'old.okta.com' }, /"queryOnlyOrgs" must be an array of org labels as the lake names them.* \(got "old\.okta\.com"\)/],
    ['query-only org not a string', { orgs: [ORG], queryOnlyOrgs: [{ host: 'old.okta.com' }] }, /"queryOnlyOrgs\[0\]" must be an org label such as "old\.okta\.com" \(got an object\)/],
    ['query-only org upper case', { orgs: [ORG], queryOnlyOrgs: ['Old.okta.com'] }, /"queryOnlyOrgs\[0\]" must be an org label as the lake names it: lower-case letters/],
    ['query-only org with a comma', { orgs: [ORG], queryOnlyOrgs: ['old.okta.com,other.okta.com'] }, /"queryOnlyOrgs\[0\]" must be an org label as the lake names it/],
    ['query-only org with a port', { orgs: [ORG], queryOnlyOrgs: ['old.okta.com:443'] }, /"queryOnlyOrgs\[0\]" must be an org label as the lake names it/],
    ['query-only org empty', { orgs: [ORG], queryOnlyOrgs: ['old.okta.com', ''] }, /"queryOnlyOrgs\[1\]" must be an org label as the lake names it/],
    ['query-only org also ingested', { orgs: [{ host: 'beta.okta.com', auth: 'ssws' }, ORG], queryOnlyOrgs: ['old.okta.com', 'acme.okta.com'] }, /"queryOnlyOrgs\[1\]" is ingested \(orgs\[1\]\.host\), and so queryable already: list an org in one place \(got "acme\.okta\.com"\)/],
    ['query-only org twice', { orgs: [ORG], queryOnlyOrgs: ['old.okta.com', 'imported', 'old.okta.com'] }, /"queryOnlyOrgs\[2\]" must be unique \(got "old\.okta\.com"\)/],
    ['schedule zero', { orgs: [ORG], scheduleMinutes: 0 }, /"scheduleMinutes" must be a whole number from 1 to 60/],
    ['schedule fraction', { orgs: [ORG], scheduleMinutes: 2.5 }, /"scheduleMinutes" must be a whole number from 1 to 60/],
    ['schedule string', { orgs: [ORG], scheduleMinutes: '5' }, /"scheduleMinutes" must be a whole number/],
    ['settle lag too long', { orgs: [ORG], settleLagMinutes: 61 }, /"settleLagMinutes" must be a whole number from 1 to 60/],
    ['lookback too long', { orgs: [ORG], initialLookbackDays: 91 }, /"initialLookbackDays" must be a whole number from 1 to 90/],
    ['lookback zero', { orgs: [ORG], initialLookbackDays: 0 }, /"initialLookbackDays" must be a whole number from 1 to 90/],
    ['sweep offsets not an array', { orgs: [ORG], reconcileOffsetsMinutes: 60 }, /"reconcileOffsetsMinutes" must be an array of 1 to 4 offsets in minutes, e\.g\. \[60, 1440\].* \(got 60\)/],
    ['no sweep offset', { orgs: [ORG], reconcileOffsetsMinutes: [] }, /"reconcileOffsetsMinutes" must be an array of 1 to 4 offsets/],
    ['five sweep offsets', { orgs: [ORG], reconcileOffsetsMinutes: [60, 120, 180, 240, 300] }, /"reconcileOffsetsMinutes" must be an array of 1 to 4 offsets/],
    ['sweep offset zero', { orgs: [ORG], reconcileOffsetsMinutes: [60, 0] }, /"reconcileOffsetsMinutes\[1\]" must be a whole number from 1 to 129600 \(got 0\)/],
    ['sweep offset beyond 90 days', { orgs: [ORG], reconcileOffsetsMinutes: [129_601] }, /"reconcileOffsetsMinutes\[0\]" must be a whole number from 1 to 129600/],
    ['sweep offset fraction', { orgs: [ORG], reconcileOffsetsMinutes: [1.5] }, /"reconcileOffsetsMinutes\[0\]" must be a whole number/],
    ['sweep offset string', { orgs: [ORG], reconcileOffsetsMinutes: ['1h'] }, /"reconcileOffsetsMinutes\[0\]" must be a whole number from 1 to 129600 \(got "1h"\)/],
    ['sweep offset twice', { orgs: [ORG], reconcileOffsetsMinutes: [1440, 60, 1440] }, /"reconcileOffsetsMinutes\[2\]" must be unique: each offset is one sweep line \(got 1440\)/],
    ['emails not an array', { orgs: [ORG], alertEmails: 'secops@example.com' }, /"alertEmails" must be an array of e-mail addresses/],
    ['bad email', { orgs: [ORG], alertEmails: ['secops'] }, /"alertEmails\[0\]" must be an e-mail address/],
    ['duplicate email', { orgs: [ORG], alertEmails: ['a@example.com', 'A@example.com'] }, /"alertEmails\[1\]" must be unique/],
    ['retention unknown field', { orgs: [ORG], retention: { glacierDays: 90 } }, /"retention.glacierDays" is not a known field/],
    ['IA before 30 days', { orgs: [ORG], retention: { infrequentAccessAfterDays: 10 } }, /"retention.infrequentAccessAfterDays" must be a whole number of days from 30 to 36500, or "never"/],
    ['archive too soon after IA', { orgs: [ORG], retention: { infrequentAccessAfterDays: 30, archiveAfterDays: 45 } }, /"retention.archiveAfterDays" must be at least 30 days after/],
    ['bad archive class', { orgs: [ORG], retention: { archiveStorageClass: 'STANDARD' } }, /"retention.archiveStorageClass" must be one of "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"/],
    ['expiry before transitions', { orgs: [ORG], retention: { expireAfterDays: 60 } }, /"retention.expireAfterDays" must be later than every storage-class transition \(90 days\)/],
    ['expiry not a number', { orgs: [ORG], retention: { expireAfterDays: 'forever' } }, /"retention.expireAfterDays" must be a whole number of days/],
    ['noncurrent zero', { orgs: [ORG], retention: { noncurrentVersionExpireAfterDays: 0 } }, /"retention.noncurrentVersionExpireAfterDays" must be a whole number from 1/],
    ['object lock bad mode', { orgs: [ORG], objectLock: { mode: 'LEGAL_HOLD', days: 30 } }, /"objectLock.mode" must be one of "GOVERNANCE", "COMPLIANCE"/],
    ['object lock zero days', { orgs: [ORG], objectLock: { mode: 'GOVERNANCE', days: 0 } }, /"objectLock.days" must be a whole number from 1 to 36500/],
    ['object lock over 100 years', { orgs: [ORG], objectLock: { days: 36_501 } }, /"objectLock.days" must be a whole number from 1 to 36500/],
    ['object lock not an object', { orgs: [ORG], objectLock: false }, /"objectLock" must be an object/],
    ['object lock enabled not a boolean', { orgs: [ORG], objectLock: { enabled: 'no' } }, /"objectLock.enabled" must be true or false \(got "no"\)/],
    ['object lock off with a mode', { orgs: [ORG], objectLock: { enabled: false, mode: 'COMPLIANCE' } }, /"objectLock.mode" has no meaning with "enabled": false/],
    ['object lock unknown field', { orgs: [ORG], objectLock: { years: 1 } }, /"objectLock.years" is not a known field; allowed: enabled, mode, days, existingBucket/],
    ['object lock existingBucket not a boolean', { orgs: [ORG], objectLock: { existingBucket: 'yes' } }, /"objectLock.existingBucket" must be true or false/],
    ['noncurrent expiry shorter than the lock', { orgs: [ORG], objectLock: { days: 365 }, retention: { noncurrentVersionExpireAfterDays: 30 } }, /"retention.noncurrentVersionExpireAfterDays" must not be shorter than objectLock.days \(365\)/],
    ['noncurrent expiry shorter than the default lock', { orgs: [ORG], retention: { expireAfterDays: 400, noncurrentVersionExpireAfterDays: 30 } }, /"retention.noncurrentVersionExpireAfterDays" must not be shorter than objectLock.days \(400\)/],
    ['expiry shorter than lock', { orgs: [ORG], objectLock: { mode: 'COMPLIANCE', days: 3650 }, retention: { expireAfterDays: 365 } }, /"retention.expireAfterDays" must not be shorter than objectLock.days \(3650\)/],
    ['athena cutoff below minimum', { orgs: [ORG], athenaBytesScannedCutoffPerQuery: 1_000_000 }, /"athenaBytesScannedCutoffPerQuery" must be a whole number from 10000000/],
    ['no-events hours above a day', { orgs: [ORG], noEventsAlarmHours: 25 }, /"noEventsAlarmHours" must be a whole number from 1 to 24/],
    ['lag alarm below normal lag', { orgs: [ORG], watermarkLagAlarmMinutes: 10 }, /"watermarkLagAlarmMinutes" must be more than settleLagMinutes \+ scheduleMinutes \(10\)/],
    ['bad architecture', { orgs: [ORG], lambdaArchitecture: 'x64' }, /"lambdaArchitecture" must be one of "arm64", "x86_64"/],
    ['bad log retention', { orgs: [ORG], logRetentionDays: 100 }, /"logRetentionDays" must be one of 1, 3, 5/],
    ['compaction not an object', { orgs: [ORG], compaction: 'hourly' }, /"compaction" must be an object/],
    ['compaction unknown field', { orgs: [ORG], compaction: { schedule: 'rate(1 hour)' } }, /"compaction.schedule" is not a known field; allowed: enabled, scheduleExpression/],
    ['compaction enabled not a boolean', { orgs: [ORG], compaction: { enabled: 'no' } }, /"compaction.enabled" must be true or false/],
    ['compaction schedule not an expression', { orgs: [ORG], compaction: { scheduleExpression: 'hourly' } }, /"compaction.scheduleExpression" must be an EventBridge Scheduler rate\(\.\.\.\) or cron\(\.\.\.\) expression/],
    ['compaction schedule one-off', { orgs: [ORG], compaction: { scheduleExpression: 'at(2026-01-01T00:00:00)' } }, /"compaction.scheduleExpression" must be/],
    ['compaction schedule singular plural', { orgs: [ORG], compaction: { scheduleExpression: 'rate(1 hours)' } }, /"compaction.scheduleExpression" must be/],
    ['detections not an object', { orgs: [ORG], detections: true }, /"detections" must be an object/],
    ['detections unknown field', { orgs: [ORG], detections: { schedule: 'rate(5 minutes)' } }, /"detections.schedule" is not a known field; allowed: enabled, suppressionWindowHours/],
    ['detections enabled not a boolean', { orgs: [ORG], detections: { enabled: 'yes' } }, /"detections.enabled" must be true or false \(got "yes"\)/],
    ['suppression window zero', { orgs: [ORG], detections: { suppressionWindowHours: 0 } }, /"detections.suppressionWindowHours" must be a whole number from 1 to 8760/],
    ['suppression window over a year', { orgs: [ORG], detections: { suppressionWindowHours: 8761 } }, /"detections.suppressionWindowHours" must be a whole number from 1 to 8760/],
    ['suppression window fraction', { orgs: [ORG], detections: { suppressionWindowHours: 1.5 } }, /"detections.suppressionWindowHours" must be a whole number/],
    ['findings per message zero', { orgs: [ORG], detections: { maxFindingsInMessage: 0 } }, /"detections.maxFindingsInMessage" must be a whole number from 1 to 200/],
    ['findings per message too many', { orgs: [ORG], detections: { maxFindingsInMessage: 201 } }, /"detections.maxFindingsInMessage" must be a whole number from 1 to 200/],
    ['detection emails not an array', { orgs: [ORG], detections: { emails: 'soc@example.com' } }, /"detections.emails" must be an array of e-mail addresses/],
    ['bad detection email', { orgs: [ORG], detections: { emails: ['soc@example.com', 'soc'] } }, /"detections.emails\[1\]" must be an e-mail address/],
    ['duplicate detection email', { orgs: [ORG], detections: { emails: ['soc@example.com', 'SOC@example.com'] } }, /"detections.emails\[1\]" must be unique/],
    ['bad minimum severity', { orgs: [ORG], detections: { minimumSeverity: 'warning' } }, /"detections.minimumSeverity" must be one of "info", "low", "medium", "high", "critical"/],
  ];

  it('projects the ingested orgs, then the query-only ones', () => {
    // Prepare / Act
    const config = parseConfig({ orgs: [ORG, { host: 'beta.okta.com', auth: 'oauth' }], queryOnlyOrgs: ['retired.okta.com', 'imported'] });
    // Assess
    expect(projectedOrgs(config)).toEqual(['acme.okta.com', 'beta.okta.com', 'retired.okta.com', 'imported']);
    expect(projectedOrgs(parseConfig({ orgs: [ORG] }))).toEqual(['acme.okta.com']);
  });

  it.each(invalid)('refuses %s', (_name, input, message) => {
    // Act / Assess
    expect(() => parseConfig(input)).toThrow(ConfigError);
    expect(() => parseConfig(input)).toThrow(message);
  });

  it('takes a compaction schedule, or compaction off', () => {
    expect(parseConfig({ orgs: [ORG], compaction: { scheduleExpression: 'rate(3 hours)' } }).compaction).toEqual({ enabled: true, scheduleExpression: 'rate(3 hours)' });
    expect(parseConfig({ orgs: [ORG], compaction: { scheduleExpression: 'cron(15 * * * ? *)' } }).compaction.scheduleExpression).toBe('cron(15 * * * ? *)');
    expect(parseConfig({ orgs: [ORG], compaction: { enabled: false } }).compaction).toEqual({ enabled: false, scheduleExpression: 'rate(1 hour)' });
  });

  it('sends findings to the alert addresses unless detections name their own', () => {
    // Prepare
    const alertEmails = ['oncall@example.com'];
    // Act
    const inherited = parseConfig({ orgs: [ORG], alertEmails, detections: { suppressionWindowHours: 48 } });
    const own = parseConfig({ orgs: [ORG], alertEmails, detections: { emails: ['soc@example.com'] } });
    const none = parseConfig({ orgs: [ORG], alertEmails, detections: { emails: [] } });
    // Assess
    expect(inherited.detections).toEqual({ ...DETECTIONS_DEFAULTS, suppressionWindowHours: 48, emails: alertEmails });
    expect(own.detections.emails).toEqual(['soc@example.com']);
    expect(own.alertEmails).toEqual(alertEmails);
    expect(none.detections.emails).toEqual([]);
  });

  it('bounds the detection settings by what the runner accepts', () => {
    // The runner refuses a window over 365 days and more than 200 findings per message.
    expect(MAX_SUPPRESSION_WINDOW_HOURS).toBe(365 * 24);
    expect(MAX_FINDINGS_IN_MESSAGE_LIMIT).toBe(200);
    const edge = parseConfig({ orgs: [ORG], detections: { suppressionWindowHours: MAX_SUPPRESSION_WINDOW_HOURS, maxFindingsInMessage: MAX_FINDINGS_IN_MESSAGE_LIMIT } });
    expect(edge.detections).toMatchObject({ suppressionWindowHours: 8760, maxFindingsInMessage: 200 });
  });

  it('names the source of the configuration in its messages', () => {
    expect(() => parseConfig({ orgs: [] }, 'okta-lake.json')).toThrow(/okta-lake config in okta-lake.json: "orgs"/);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'okta-lake-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the configuration object from context', () => {
    const config = loadConfig(context({ [CONFIG_CONTEXT_KEY]: { orgs: [ORG], scheduleMinutes: 10 } }));
    expect(config.orgs).toEqual([ORG]);
    expect(config.scheduleMinutes).toBe(10);
  });

  it('parses a JSON string given with -c', () => {
    const config = loadConfig(context({ [CONFIG_CONTEXT_KEY]: JSON.stringify({ orgs: [ORG] }) }));
    expect(config.orgs[0].host).toBe('acme.okta.com');
  });

  it('reads a file named by context, relative to the working directory, over the context object', () => {
    // Prepare
    writeFileSync(join(dir, 'lake.json'), JSON.stringify({ orgs: [{ host: 'beta.okta.com', auth: 'oauth' }], alertEmails: ['a@example.com'] }));
    // Act
    const config = loadConfig(context({ [CONFIG_CONTEXT_KEY]: { orgs: [ORG], scheduleMinutes: 15 }, [CONFIG_FILE_CONTEXT_KEY]: 'lake.json' }), { cwd: dir });
    // Assess: the file's fields replace the context's; the others stay.
    expect(config.orgs).toEqual([{ host: 'beta.okta.com', auth: 'oauth' }]);
    expect(config.alertEmails).toEqual(['a@example.com']);
    expect(config.scheduleMinutes).toBe(15);
  });

  it('names the file when one of its fields is not allowed', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ orgs: [{ host: 'acme.okta.com', auth: 'sso' }] }));
    expect(() => loadConfig(context({ [CONFIG_FILE_CONTEXT_KEY]: 'bad.json' }), { cwd: dir })).toThrow(/bad\.json: "orgs\[0\]\.auth" must be one of/);
  });

  it('fails clearly without any configuration', () => {
    expect(() => loadConfig(context({}))).toThrow(/none found. Set context "oktaLake" in cdk.json, or pass -c oktaLakeConfig=<file.json>/);
  });

  it('fails clearly on a missing file, without parsing anything else', () => {
    expect(() => loadConfig(context({ [CONFIG_FILE_CONTEXT_KEY]: 'missing.json' }), { cwd: dir })).toThrow(/cannot read the file ".*missing\.json" named by context "oktaLakeConfig"/);
  });

  it('does not quote the text of a file that is not JSON', () => {
    // Prepare: a token pasted by mistake must not end up in the error message.
    writeFileSync(join(dir, 'broken.json'), '{"orgs": [ 00aSECRETTOKENVALUE ]');
    // Act
    let message = '';
    try {
      loadConfig(context({ [CONFIG_FILE_CONTEXT_KEY]: 'broken.json' }), { cwd: dir });
    } catch (e) {
      message = (e as Error).message;
    }
    // Assess
    expect(message).toMatch(/broken\.json" is not valid JSON/);
    expect(message).not.toContain('SECRETTOKENVALUE');
  });

  it('refuses a context value that is not an object', () => {
    expect(() => loadConfig(context({ [CONFIG_CONTEXT_KEY]: '[1,2]' }))).toThrow(/context "oktaLake" must be a JSON object/);
  });
});
