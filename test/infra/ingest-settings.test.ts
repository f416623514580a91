import { describe, expect, it } from 'vitest';
import { INGEST_ENV } from '../../lib/config/ingest-contract';
import { ConfigError } from '../../lib/core/errors';
import { ALLOW_INSECURE_LOOPBACK_ENV, S3_ENDPOINT_ENV, readIngestSettings } from '../../lambdas/ingest/settings';

const BASE = {
  [INGEST_ENV.orgs]: JSON.stringify([
    { org: 'acme.okta.com', auth: 'ssws', secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:okta-lake/acme.okta.com-AbC123' },
    { org: 'beta.okta.com', auth: 'oauth', secretId: 'okta/beta' },
  ]),
  [INGEST_ENV.bucket]: 'lake-bucket',
  [INGEST_ENV.prefix]: '',
  [INGEST_ENV.table]: 'OktaLake-Watermarks',
  [INGEST_ENV.kmsKeyArn]: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
  [INGEST_ENV.settleLagMs]: '300000',
  [INGEST_ENV.initialLookbackMs]: '604800000',
  [INGEST_ENV.reconcileOffsetsMs]: '3600000,86400000',
};

describe('the ingestion function’s settings', () => {
  it('reads what the stack sets', () => {
    // Act
    const s = readIngestSettings(BASE);
    // Assess
    expect([...s.orgs.keys()]).toEqual(['acme.okta.com', 'beta.okta.com']);
    expect(s.orgs.get('beta.okta.com')).toEqual({ org: { origin: 'https://beta.okta.com', host: 'beta.okta.com' }, auth: 'oauth', secretId: 'okta/beta' });
    expect(s).toMatchObject({ bucket: 'lake-bucket', prefix: '', table: 'OktaLake-Watermarks', settleLagMs: 300_000, initialLookbackMs: 604_800_000 });
    expect(s.kmsKeyArn).toBe('arn:aws:kms:eu-west-1:123456789012:key/abc');
    expect(s.reconcileOffsetsMs).toEqual([3_600_000, 86_400_000]);
    expect(s.s3Endpoint).toBeUndefined();
  });

  it('reads one to four sweep offsets, and leaves them to the sweep’s defaults when unset', () => {
    // Act
    const one = readIngestSettings({ ...BASE, [INGEST_ENV.reconcileOffsetsMs]: '60000' });
    const four = readIngestSettings({ ...BASE, [INGEST_ENV.reconcileOffsetsMs]: '7776000000,60000,21600000,3600000' });
    const unset = readIngestSettings({ ...BASE, [INGEST_ENV.reconcileOffsetsMs]: undefined });
    // Assess
    expect(one.reconcileOffsetsMs).toEqual([60_000]);
    expect(four.reconcileOffsetsMs).toEqual([7_776_000_000, 60_000, 21_600_000, 3_600_000]);
    expect(unset.reconcileOffsetsMs).toBeUndefined();
  });

  it('labels a loopback mock org by host and port, and only when insecure loopback is allowed', () => {
    const env = { ...BASE, [INGEST_ENV.orgs]: JSON.stringify([{ org: 'http://127.0.0.1:8080', auth: 'ssws', secretId: 's' }]) };
    expect(() => readIngestSettings(env)).toThrow(/plain http is not allowed here/);
    const s = readIngestSettings({ ...env, [ALLOW_INSECURE_LOOPBACK_ENV]: 'true', [S3_ENDPOINT_ENV]: 'http://127.0.0.1:4568' });
    expect([...s.orgs.keys()]).toEqual(['127.0.0.1-8080']);
    expect(s.s3Endpoint).toBe('http://127.0.0.1:4568');
  });

  it('never allows plain http to a real host', () => {
    const env = { ...BASE, [ALLOW_INSECURE_LOOPBACK_ENV]: 'true', [INGEST_ENV.orgs]: JSON.stringify([{ org: 'http://acme.okta.com', auth: 'ssws', secretId: 's' }]) };
    expect(() => readIngestSettings(env)).toThrow(/plain http is allowed only for loopback hosts/);
  });

  const invalid: [string, Record<string, string | undefined>, RegExp][] = [
    ['no orgs', { ...BASE, [INGEST_ENV.orgs]: undefined }, /OKTA_LAKE_ORGS is missing/],
    ['orgs not JSON', { ...BASE, [INGEST_ENV.orgs]: '[{' }, /OKTA_LAKE_ORGS is not valid JSON/],
    ['orgs empty', { ...BASE, [INGEST_ENV.orgs]: '[]' }, /OKTA_LAKE_ORGS must be a non-empty JSON array/],
    ['bad auth', { ...BASE, [INGEST_ENV.orgs]: JSON.stringify([{ org: 'acme.okta.com', auth: 'basic', secretId: 's' }]) }, /OKTA_LAKE_ORGS\[0\]\.auth must be "ssws" or "oauth"/],
    ['no secret', { ...BASE, [INGEST_ENV.orgs]: JSON.stringify([{ org: 'acme.okta.com', auth: 'ssws' }]) }, /OKTA_LAKE_ORGS\[0\]\.secretId must be a secret name or ARN/],
    ['org twice', { ...BASE, [INGEST_ENV.orgs]: JSON.stringify([{ org: 'acme.okta.com', auth: 'ssws', secretId: 'a' }, { org: 'ACME.okta.com', auth: 'ssws', secretId: 'b' }]) }, /OKTA_LAKE_ORGS\[1\]\.org acme\.okta\.com is configured twice/],
    ['no bucket', { ...BASE, [INGEST_ENV.bucket]: '' }, /OKTA_LAKE_BUCKET is missing/],
    ['no table', { ...BASE, [INGEST_ENV.table]: undefined }, /OKTA_LAKE_TABLE is missing/],
    ['bad settle lag', { ...BASE, [INGEST_ENV.settleLagMs]: '5m' }, /OKTA_LAKE_SETTLE_LAG_MS must be a whole number of milliseconds/],
    ['sweep offsets as durations', { ...BASE, [INGEST_ENV.reconcileOffsetsMs]: '1h,24h' }, /OKTA_LAKE_RECONCILE_OFFSETS_MS must be 1 to 4 whole numbers of milliseconds, comma-separated \(got "1h,24h"\)/],
    ['a sweep offset left empty', { ...BASE, [INGEST_ENV.reconcileOffsetsMs]: '3600000,' }, /OKTA_LAKE_RECONCILE_OFFSETS_MS must be 1 to 4 whole numbers/],
    ['five sweep offsets', { ...BASE, [INGEST_ENV.reconcileOffsetsMs]: '60000,120000,180000,240000,300000' }, /OKTA_LAKE_RECONCILE_OFFSETS_MS must be 1 to 4 whole numbers/],
    ['a sweep offset of part of a minute', { ...BASE, [INGEST_ENV.reconcileOffsetsMs]: '3600000,90000' }, /OKTA_LAKE_RECONCILE_OFFSETS_MS must list whole minutes from 1 to 129600 minutes, in milliseconds \(got 90000\)/],
    ['a sweep offset of zero', { ...BASE, [INGEST_ENV.reconcileOffsetsMs]: '0' }, /OKTA_LAKE_RECONCILE_OFFSETS_MS must list whole minutes from 1 to 129600 minutes.*\(got 0\)/],
    ['a sweep offset beyond 90 days', { ...BASE, [INGEST_ENV.reconcileOffsetsMs]: '7776060000' }, /OKTA_LAKE_RECONCILE_OFFSETS_MS must list whole minutes from 1 to 129600 minutes.*\(got 7776060000\)/],
    ['a sweep offset twice', { ...BASE, [INGEST_ENV.reconcileOffsetsMs]: '3600000,86400000,3600000' }, /OKTA_LAKE_RECONCILE_OFFSETS_MS lists an offset twice/],
  ];
  it.each(invalid)('refuses %s', (_name, env, message) => {
    expect(() => readIngestSettings(env)).toThrow(ConfigError);
    expect(() => readIngestSettings(env)).toThrow(message);
  });
});
