import { Match } from 'aws-cdk-lib/assertions';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WATERMARK_TABLE_KEY } from '../../lib/config/table-contract';
import { INGEST_ENV, INGEST_METRICS } from '../../lib/config/ingest-contract';
import { DEFAULT_SWEEP_OFFSETS_MS } from '../../lib/core/sweep-lines';
import { readIngestSettings } from '../../lambdas/ingest/settings';
import { ATHENA_ENGINE_V3, ATHENA_RESULTS_PREFIX, PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT, PARQUET_SERDE } from '../../lib/constructs/catalog';
import { LAKE_TABLES } from '../../lib/core/compact/athena-view';
import { INGEST_SCHEDULE_GROUP, createdSecretName } from '../../lib/constructs/ingestion';
import { PROJECT_ROOT } from '../../lib/constructs/lambda-defaults';
import { KEY_ENCRYPT_ONLY_ACTIONS } from '../../lib/constructs/scoped-key';
import { LAKE_PREFIXES, WRITE_ONCE_SID } from '../../lib/constructs/lake-storage';
import { COMPACTED_PREFIX, DT_FORMAT, EVENTS_PREFIX, HOUR_DIGITS, LATE_PREFIX, QUARANTINE_PREFIX, eventObjectKey, partitionPrefix } from '../../lib/core/layout';
import { EVENT_COLUMNS, META_COLUMNS, PARTITION_KEYS, glueType } from '../../lib/core/schema';
import {
  allPolicyStatements,
  asList,
  dependencyCycles,
  flatten,
  grantsOnBucket,
  iamActionMatches,
  onlyResourceOfType,
  resourcesOfType,
  synth,
  type CfnTemplate,
  type PolicyStatementJson,
  type Synthesized,
} from './support';

const BETA_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const GAMMA_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:okta/gamma-AbC123';

/** Three orgs, one per way of naming the credential; every optional feature on. */
const FULL = {
  orgs: [
    { host: 'acme.okta.com', auth: 'ssws' },
    { host: 'beta.okta.com', auth: 'oauth', secret: { name: 'okta/beta', kmsKeyArn: BETA_KEY } },
    { host: 'gamma.oktapreview.com', auth: 'ssws', secret: { arn: GAMMA_SECRET } },
  ],
  scheduleMinutes: 1,
  settleLagMinutes: 3,
  initialLookbackDays: 30,
  reconcileOffsetsMinutes: [30, 720, 4320],
  alertEmails: ['secops@example.com', 'oncall@example.org'],
  retention: { infrequentAccessAfterDays: 30, archiveAfterDays: 120, archiveStorageClass: 'GLACIER', expireAfterDays: 400, noncurrentVersionExpireAfterDays: 60 },
  objectLock: { mode: 'COMPLIANCE', days: 60 },
  athenaBytesScannedCutoffPerQuery: 1_000_000_000,
  noEventsAlarmHours: 3,
  watermarkLagAlarmMinutes: 45,
  lambdaArchitecture: 'x86_64',
  logRetentionDays: 90,
};
/** One org, every default. */
const MINIMAL = { orgs: [{ host: 'acme.okta.com', auth: 'oauth' }] };

let full: Synthesized;
let minimal: Synthesized;

beforeAll(() => {
  full = synth(FULL);
  minimal = synth(MINIMAL);
});

/** For `it.each`: the table is built before `beforeAll` runs, so it names the stacks. */
const both = ['full', 'minimal'] as const;
const get = (name: (typeof both)[number]): Synthesized => (name === 'full' ? full : minimal);

function logicalIdOf(s: Synthesized, construct: IConstruct): string {
  const child = construct.node.defaultChild ?? construct;
  return s.stack.getLogicalId(child as Parameters<typeof s.stack.getLogicalId>[0]);
}

function props(t: CfnTemplate, id: string): Record<string, unknown> {
  const r = t.Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r.Properties ?? {};
}

describe('lake storage', () => {
  it.each(both)('encrypts the data bucket with the stack key and a bucket key, versions it and blocks public access (%s)', (name) => {
    const s = get(name);
    const bucket = logicalIdOf(s, s.stack.storage.bucket);
    const key = logicalIdOf(s, s.stack.storage.key);
    const p = props(s.json, bucket);
    expect(p.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } } },
      ],
    });
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(p.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(p.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logicalIdOf(s, s.stack.storage.accessLogsBucket) }, LogFilePrefix: 'lake/' });
    expect(s.json.Resources[bucket].DeletionPolicy).toBe('Retain');
  });

  it.each(both)('refuses plain HTTP and old TLS on every bucket (%s)', (name) => {
    const s = get(name);
    const buckets = resourcesOfType(s.json, 'AWS::S3::Bucket').map(([id]) => id);
    expect(buckets).toHaveLength(3);
    for (const id of buckets) {
      s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
          ]),
        },
      });
    }
  });

  it.each(both)('refuses, for every principal, a write under the lake prefixes that could replace an object (%s)', (name) => {
    // Prepare
    const s = get(name);
    const bucketId = logicalIdOf(s, s.stack.storage.bucket);
    const [, policy] = resourcesOfType(s.json, 'AWS::S3::BucketPolicy').find(([, r]) => JSON.stringify((r.Properties as { Bucket: unknown }).Bucket) === JSON.stringify({ Ref: bucketId }))!;
    const statements = (policy.Properties as { PolicyDocument: { Statement: PolicyStatementJson[] } }).PolicyDocument.Statement;
    // Act
    const writeOnce = statements.filter((st) => st.Sid === WRITE_ONCE_SID);
    // Assess: the enforcement of "Enforce conditional writes on Amazon S3 buckets" (AWS S3 User Guide).
    expect(writeOnce).toHaveLength(1);
    const [st] = writeOnce;
    expect(st.Effect).toBe('Deny');
    expect(st.Principal).toEqual({ AWS: '*' });
    expect(st.Action).toBe('s3:PutObject');
    expect(st.Condition).toEqual({ Null: { 's3:if-none-match': 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } });
    expect((st.Resource as unknown[]).map((r) => flatten(r)).sort()).toEqual(LAKE_PREFIXES.map((p) => `<${bucketId}.Arn>/${p}/*`).sort());
    expect([...LAKE_PREFIXES].sort()).toEqual([COMPACTED_PREFIX, EVENTS_PREFIX, LATE_PREFIX, QUARANTINE_PREFIX].sort());
  });

  it.each(both)('lets every PutObject the stack grants land under a write-once lake prefix, or in the results or access-log buckets, which no write-once rule covers (%s)', (name) => {
    // Prepare
    const s = get(name);
    const lake = `<${logicalIdOf(s, s.stack.storage.bucket)}.Arn>`;
    const resultsId = logicalIdOf(s, s.stack.storage.athenaResultsBucket);
    const logs = `<${logicalIdOf(s, s.stack.storage.accessLogsBucket)}.Arn>`;
    const allowed = new Set([
      ...LAKE_PREFIXES.map((p) => `${lake}/${p}/*`),
      `<${resultsId}.Arn>/${ATHENA_RESULTS_PREFIX}/*`,
      // S3 server access log delivery (logging.s3.amazonaws.com), one prefix per logged bucket.
      `${logs}/lake/*`,
      `${logs}/athena-results/*`,
    ]);
    // Act
    const granted = allPolicyStatements(s.json)
      .filter(({ statement }) => statement.Effect === 'Allow' && asList(statement.Action).includes('s3:PutObject'))
      .flatMap(({ statement }) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map((r) => flatten(r)));
    // Assess: ingestion writes the lake (with If-None-Match), the runner's Athena queries their results.
    expect(granted.length).toBeGreaterThan(0);
    for (const resource of granted) expect(allowed, resource).toContain(resource);
    const denies = allPolicyStatements(s.json).filter(({ where, statement }) => statement.Effect === 'Deny' && s.json.Resources[where.split('.')[0]].Type === 'AWS::S3::BucketPolicy');
    const resultsPolicy = denies.filter(({ statement }) => JSON.stringify(statement.Resource).includes(resultsId));
    expect(resultsPolicy.map(({ statement }) => statement.Condition)).toEqual([{ Bool: { 'aws:SecureTransport': 'false' } }, { NumericLessThan: { 's3:TlsVersion': 1.2 } }]);
  });

  it('applies the configured lifecycle to the lake', () => {
    const p = props(full.json, logicalIdOf(full, full.stack.storage.bucket));
    expect(p.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'lake-retention',
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          ExpirationInDays: 400,
          NoncurrentVersionExpiration: { NoncurrentDays: 60 },
          Transitions: [
            { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
            { StorageClass: 'GLACIER', TransitionInDays: 120 },
          ],
        },
      ],
    });
  });

  it('keeps lake objects forever by default, moving them to Standard-IA and Glacier Instant Retrieval, and their non-current versions as long as the lock', () => {
    const p = props(minimal.json, logicalIdOf(minimal, minimal.stack.storage.bucket));
    expect(p.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'lake-retention',
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          ExpiredObjectDeleteMarker: true,
          NoncurrentVersionExpiration: { NoncurrentDays: 36_500 },
          Transitions: [
            { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
            { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
          ],
        },
      ],
    });
  });

  it('locks every object version in governance mode for as long as objects are kept, by default', () => {
    const p = props(minimal.json, logicalIdOf(minimal, minimal.stack.storage.bucket));
    expect(p.ObjectLockEnabled).toBe(true);
    expect(p.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 36_500 } } });
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('locks for the configured expiry, in the configured mode', () => {
    const p = props(full.json, logicalIdOf(full, full.stack.storage.bucket));
    expect(p.ObjectLockEnabled).toBe(true);
    expect(p.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 60 } } });
    const expiring = synth({ ...MINIMAL, retention: { expireAfterDays: 730 } });
    const q = props(expiring.json, logicalIdOf(expiring, expiring.stack.storage.bucket));
    expect(q.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 730 } } });
    expect((q.LifecycleConfiguration as { Rules: { NoncurrentVersionExpiration: unknown }[] }).Rules[0].NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 730 });
  });

  it('leaves Object Lock off when the configuration opts out, and keeps the write-once policy', () => {
    // Prepare / Act
    const off = synth({ ...MINIMAL, objectLock: { enabled: false } });
    const bucketId = logicalIdOf(off, off.stack.storage.bucket);
    const p = props(off.json, bucketId);
    // Assess
    expect(p.ObjectLockEnabled).toBeUndefined();
    expect(p.ObjectLockConfiguration).toBeUndefined();
    expect((p.LifecycleConfiguration as { Rules: { NoncurrentVersionExpiration: unknown }[] }).Rules[0].NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 30 });
    expect(allPolicyStatements(off.json).some(({ statement }) => statement.Sid === WRITE_ONCE_SID)).toBe(true);
  });

  it('turns Object Lock on for a bucket created without it in place, never through the property CloudFormation replaces a bucket for', () => {
    // Prepare / Act: a deployment whose lake bucket predates Object Lock by default.
    const upgraded = synth({ ...MINIMAL, objectLock: { existingBucket: true } });
    const p = props(upgraded.json, logicalIdOf(upgraded, upgraded.stack.storage.bucket));
    // Assess: the same logical id, no top-level ObjectLockEnabled (that change requires replacement).
    expect(logicalIdOf(upgraded, upgraded.stack.storage.bucket)).toBe(logicalIdOf(minimal, minimal.stack.storage.bucket));
    expect(p).not.toHaveProperty('ObjectLockEnabled');
    expect(p.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 36_500 } } });
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('expires Athena query results and encrypts them with the stack key', () => {
    const s = minimal;
    const p = props(s.json, logicalIdOf(s, s.stack.storage.athenaResultsBucket));
    expect(p.LifecycleConfiguration).toEqual({
      Rules: [expect.objectContaining({ Id: 'expire-query-results', Status: 'Enabled', ExpirationInDays: 30 })],
    });
    expect(p.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        expect.objectContaining({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.storage.key), 'Arn'] } } }),
      ],
    });
  });

  it('keeps server access logs in an S3-encrypted, TLS-only bucket that expires them', () => {
    const p = props(minimal.json, logicalIdOf(minimal, minimal.stack.storage.accessLogsBucket));
    expect(p.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(p.LifecycleConfiguration).toEqual({ Rules: [expect.objectContaining({ ExpirationInDays: 365 })] });
  });

  it.each(both)('rotates every KMS key and scopes its use to this account through named services (%s)', (name) => {
    const s = get(name);
    const keys = resourcesOfType(s.json, 'AWS::KMS::Key');
    // The lake key, the credentials key, the alarm topic key and the findings topic key.
    expect(keys).toHaveLength(4);
    for (const [, key] of keys) {
      const p = key.Properties as { EnableKeyRotation: boolean; KeyPolicy: { Statement: { Sid: string; Action: string[]; Principal: unknown; Condition?: Record<string, Record<string, unknown>> }[] } };
      expect(p.EnableKeyRotation).toBe(true);
      expect(key.DeletionPolicy).toBe('Retain');
      const admin = p.KeyPolicy.Statement.find((st) => st.Sid === 'KeyAdministrationByAccount')!;
      for (const action of ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo']) expect(admin.Action).not.toContain(action);
      const use = p.KeyPolicy.Statement.filter((st) => ['UseThroughServicesOfThisAccount', 'EncryptThroughServicesOfThisAccount', 'DecryptOnlyByItsReader'].includes(st.Sid));
      expect(use.length).toBeGreaterThan(0);
      for (const st of use) expect(st.Condition?.StringEquals).toEqual({ 'kms:CallerAccount': { Ref: 'AWS::AccountId' }, 'kms:ViaService': expect.any(Array) });
      for (const st of p.KeyPolicy.Statement) {
        expect(['KeyAdministrationByAccount', 'UseThroughServicesOfThisAccount', 'EncryptThroughServicesOfThisAccount', 'DecryptOnlyByItsReader', 'GrantsForServiceResources', 'DirectUseByServicePrincipal0', 'DirectUseByServicePrincipal1']).toContain(st.Sid);
      }
    }
    const lakeKey = props(s.json, logicalIdOf(s, s.stack.storage.key)) as { KeyPolicy: { Statement: { Sid: string; Condition?: Record<string, Record<string, unknown>> }[] } };
    const via = lakeKey.KeyPolicy.Statement.find((st) => st.Sid === 'UseThroughServicesOfThisAccount')!.Condition!.StringEquals['kms:ViaService'] as unknown[];
    // Not Secrets Manager: the Okta credentials have their own key.
    expect(via.map((v) => flatten(v))).toEqual(['s3.<AWS::Region>.amazonaws.com', 'dynamodb.<AWS::Region>.amazonaws.com']);
    const grants = lakeKey.KeyPolicy.Statement.find((st) => st.Sid === 'GrantsForServiceResources')!;
    expect(grants.Condition?.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
  });
});

/** The Glue table of that name, as synthesized. */
function glueTable(s: Synthesized, name: string): { TableInput: { Name: string; PartitionKeys: { Name: string; Type: string }[]; Parameters: Record<string, unknown>; StorageDescriptor: { Location: unknown; Columns: { Name: string; Type: string }[] } } } {
  const found = resourcesOfType(s.json, 'AWS::Glue::Table').filter(([, r]) => (r.Properties as { TableInput: { Name: string } }).TableInput.Name === name);
  expect(found, `Glue table ${name}`).toHaveLength(1);
  return found[0][1].Properties as ReturnType<typeof glueTable>;
}

describe('catalog', () => {
  it('defines three tables over events/, late/ and compacted/, and no view: the compaction function makes it with Athena DDL', () => {
    // Prepare
    const s = full;
    const bucketId = logicalIdOf(s, s.stack.storage.bucket);
    const tables = resourcesOfType(s.json, 'AWS::Glue::Table').map(([, r]) => (r.Properties as { TableInput: { Name: string; TableType?: string } }).TableInput);
    // Assess: exactly the three tables, all external; nothing of the view's name or type in the template.
    expect(tables.map((t) => t.Name).sort()).toEqual([LAKE_TABLES.events, LAKE_TABLES.late, LAKE_TABLES.compacted].sort());
    expect(tables.map((t) => t.TableType)).toEqual(['EXTERNAL_TABLE', 'EXTERNAL_TABLE', 'EXTERNAL_TABLE']);
    expect(JSON.stringify(s.json)).not.toContain('VIRTUAL_VIEW');
    expect(tables.map((t) => t.Name)).not.toContain(LAKE_TABLES.view);
    const expected = [
      { name: LAKE_TABLES.events, prefix: EVENTS_PREFIX, keys: ['org', 'dt', 'hour'] },
      { name: LAKE_TABLES.late, prefix: LATE_PREFIX, keys: ['org', 'dt', 'hour'] },
      { name: LAKE_TABLES.compacted, prefix: COMPACTED_PREFIX, keys: ['org', 'dt'] },
    ];
    const columns = [...EVENT_COLUMNS, ...META_COLUMNS].map((f) => ({ Name: f.name, Type: glueType(f.type) }));
    for (const e of expected) {
      const t = glueTable(s, e.name).TableInput;
      const params = t.Parameters;
      expect(t.PartitionKeys, e.name).toEqual(e.keys.map((k) => ({ Name: k, Type: 'string' })));
      expect(flatten(t.StorageDescriptor.Location, { [bucketId]: 'lake-bucket' }), e.name).toBe(`s3://lake-bucket/${e.prefix}/`);
      expect(flatten(params['storage.location.template'], { [bucketId]: 'lake-bucket' }), e.name).toBe(`s3://lake-bucket/${e.prefix}/${e.keys.map((k) => `${k}=\${${k}}`).join('/')}/`);
      expect(t.StorageDescriptor.Columns.map(({ Name, Type }) => ({ Name, Type })), e.name).toEqual(columns);
      expect(params, e.name).toMatchObject({
        'projection.enabled': 'true',
        'projection.org.type': 'enum',
        'projection.org.values': 'acme.okta.com,beta.okta.com,gamma.oktapreview.com',
        'projection.dt.type': 'date',
        'projection.dt.format': DT_FORMAT,
        'projection.dt.range': '2020-01-01,NOW',
        classification: 'parquet',
      });
      if (e.keys.includes('hour')) expect(params, e.name).toMatchObject({ 'projection.hour.type': 'integer', 'projection.hour.range': '0,23', 'projection.hour.digits': String(HOUR_DIGITS) });
      else expect(Object.keys(params).filter((k) => k.includes('hour')), e.name).toEqual([]);
    }
    // A compacted part lands in its day's projected folder.
    const compactedTemplate = flatten(glueTable(s, LAKE_TABLES.compacted).TableInput.Parameters['storage.location.template'], { [bucketId]: 'lake-bucket' });
    expect(compactedTemplate.replace('${org}', 'acme.okta.com').replace('${dt}', '2024-03-11')).toBe('s3://lake-bucket/compacted/org=acme.okta.com/dt=2024-03-11/');
    expect(s.stack.catalog.tableName).toBe(LAKE_TABLES.view);
  });

  it('generates the Glue columns from the schema definition, in order', () => {
    const table = { Properties: glueTable(minimal, LAKE_TABLES.events) };
    const sd = (table.Properties as { TableInput: { StorageDescriptor: { Columns: { Name: string; Type: string }[] } } }).TableInput.StorageDescriptor;
    const expected = [...EVENT_COLUMNS, ...META_COLUMNS].map((f) => ({ Name: f.name, Type: glueType(f.type) }));
    expect(sd.Columns.map(({ Name, Type }) => ({ Name, Type }))).toEqual(expected);
    expect(sd.Columns.map((c) => c.Name)).toContain('raw');
  });

  it('reads Parquet with the Hive Parquet SerDe and formats', () => {
    minimal.template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: PARTITION_KEYS.map((k) => ({ Name: k, Type: 'string' })),
        StorageDescriptor: {
          InputFormat: PARQUET_INPUT_FORMAT,
          OutputFormat: PARQUET_OUTPUT_FORMAT,
          SerdeInfo: { SerializationLibrary: PARQUET_SERDE },
          Location: { 'Fn::Join': ['', ['s3://', { Ref: logicalIdOf(minimal, minimal.stack.storage.bucket) }, `/${EVENTS_PREFIX}/`]] },
        },
      },
    });
    expect(PARQUET_SERDE).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
  });

  it('projects partitions exactly as the writer lays them out', () => {
    // Prepare
    const s = full;
    const bucketId = logicalIdOf(s, s.stack.storage.bucket);
    const params = glueTable(s, LAKE_TABLES.events).TableInput.Parameters;
    // Act: place an event the way the writer does, and the way the projection template does.
    const template = flatten(params['storage.location.template'], { [bucketId]: 'lake-bucket' });
    const projected = template.replace('${org}', 'beta.okta.com').replace('${dt}', '2024-03-11').replace('${hour}', '07');
    const written = eventObjectKey('beta.okta.com', { dt: '2024-03-11', hour: '07' }, 'w1-p00000');
    // Assess: the template ends with `/`, as Athena's partition projection docs write it
    // (`s3://amzn-s3-demo-bucket/prefix/${day}/${hour}/`), so the projected location is exactly the
    // writer's partition folder.
    expect(template, 'the template').toMatch(/\/hour=\$\{hour\}\/$/);
    expect(projected).toBe(`s3://lake-bucket/${partitionPrefix('beta.okta.com', { dt: '2024-03-11', hour: '07' })}`);
    expect(`s3://lake-bucket/${written}`.startsWith(projected)).toBe(true);
    expect(params).toMatchObject({
      'projection.enabled': 'true',
      'projection.org.type': 'enum',
      'projection.org.values': 'acme.okta.com,beta.okta.com,gamma.oktapreview.com',
      'projection.dt.type': 'date',
      'projection.dt.format': DT_FORMAT,
      'projection.dt.range': '2020-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': String(HOUR_DIGITS),
      classification: 'parquet',
    });
    // The projection's date format and digits produce exactly what partitionOf produces.
    expect(DT_FORMAT).toBe('yyyy-MM-dd');
    expect('2024-03-11').toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('sets up the Athena workgroup: engine 3, enforced, encrypted results, the bytes-scanned cutoff', () => {
    const s = full;
    const [, wg] = onlyResourceOfType(s.json, 'AWS::Athena::WorkGroup');
    const c = (wg.Properties as { WorkGroupConfiguration: Record<string, unknown> }).WorkGroupConfiguration as {
      ResultConfiguration: { OutputLocation: unknown; EncryptionConfiguration: Record<string, unknown> };
    } & Record<string, unknown>;
    expect(c.EnforceWorkGroupConfiguration).toBe(true);
    expect(c.EngineVersion).toEqual({ SelectedEngineVersion: ATHENA_ENGINE_V3 });
    expect(c.BytesScannedCutoffPerQuery).toBe(1_000_000_000);
    expect(c.ResultConfiguration.EncryptionConfiguration).toEqual({
      EncryptionOption: 'SSE_KMS',
      KmsKey: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.storage.key), 'Arn'] },
    });
    expect(flatten(c.ResultConfiguration.OutputLocation)).toBe(`s3://<${logicalIdOf(s, s.stack.storage.athenaResultsBucket)}>/results/`);
    const [, minimalWg] = onlyResourceOfType(minimal.json, 'AWS::Athena::WorkGroup');
    expect((minimalWg.Properties as { WorkGroupConfiguration: { BytesScannedCutoffPerQuery: number } }).WorkGroupConfiguration.BytesScannedCutoffPerQuery).toBe(10 * 1024 ** 3);
  });
});

describe('ingestion', () => {
  it.each(both)('keeps watermarks in an on-demand, recoverable, deletion-protected, KMS-encrypted table (%s)', (name) => {
    const s = get(name);
    const id = logicalIdOf(s, s.stack.ingestion.table);
    const table = s.json.Resources[id];
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: WATERMARK_TABLE_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: WATERMARK_TABLE_KEY, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.storage.key), 'Arn'] } },
    });
    expect(s.json.Resources[id].DeletionPolicy).toBe('Retain');
  });

  it('runs the function on Node.js 22 with the configured CPU, memory, timeout and one run per org at most', () => {
    full.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Architectures: ['x86_64'],
      MemorySize: 1024,
      // Never longer than the schedule (1 minute here): runs of an org do not overlap.
      Timeout: 60,
      ReservedConcurrentExecutions: 3,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
    minimal.template.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['arm64'], ReservedConcurrentExecutions: 1, Timeout: 300 });
    full.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
    minimal.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 });
  });

  it('hands the function its orgs, lake, table, key and timing through its environment', () => {
    const s = full;
    const fn = s.json.Resources[logicalIdOf(s, s.stack.ingestion.function)];
    const env = (fn.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    const created = logicalIdOf(s, s.stack.ingestion.createdSecrets.get('acme.okta.com')!);
    expect(JSON.parse(flatten(env[INGEST_ENV.orgs], { [created]: 'CREATED-SECRET-ARN' }))).toEqual([
      { org: 'acme.okta.com', auth: 'ssws', secretId: 'CREATED-SECRET-ARN' },
      { org: 'beta.okta.com', auth: 'oauth', secretId: 'okta/beta' },
      { org: 'gamma.oktapreview.com', auth: 'ssws', secretId: GAMMA_SECRET },
    ]);
    expect(env[INGEST_ENV.bucket]).toEqual({ Ref: logicalIdOf(s, s.stack.storage.bucket) });
    expect(env[INGEST_ENV.prefix]).toBe('');
    expect(env[INGEST_ENV.table]).toEqual({ Ref: logicalIdOf(s, s.stack.ingestion.table) });
    expect(env[INGEST_ENV.kmsKeyArn]).toEqual({ 'Fn::GetAtt': [logicalIdOf(s, s.stack.storage.key), 'Arn'] });
    expect(env[INGEST_ENV.settleLagMs]).toBe(String(3 * 60_000));
    expect(env[INGEST_ENV.initialLookbackMs]).toBe(String(30 * 86_400_000));
    expect(env[INGEST_ENV.reconcileOffsetsMs]).toBe([30, 720, 4320].map((m) => m * 60_000).join(','));
    expect(env.POWERTOOLS_SERVICE_NAME).toBe(INGEST_METRICS.service);
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(INGEST_METRICS.namespace);
  });

  it('sets the sweep offsets to 1 h and 24 h by default, in a form the function reads back', () => {
    // Prepare
    const fn = minimal.json.Resources[logicalIdOf(minimal, minimal.stack.ingestion.function)];
    const env = (fn.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    // Act
    const settings = readIngestSettings({
      [INGEST_ENV.orgs]: JSON.stringify([{ org: 'acme.okta.com', auth: 'oauth', secretId: 'okta-lake/acme.okta.com' }]),
      [INGEST_ENV.bucket]: 'lake',
      [INGEST_ENV.table]: 'watermarks',
      [INGEST_ENV.reconcileOffsetsMs]: String(env[INGEST_ENV.reconcileOffsetsMs]),
    });
    // Assess
    expect(env[INGEST_ENV.reconcileOffsetsMs]).toBe('3600000,86400000');
    expect(settings.reconcileOffsetsMs).toEqual(DEFAULT_SWEEP_OFFSETS_MS);
  });

  it('creates an empty, KMS-encrypted, retained secret only for orgs that name none', () => {
    const secrets = resourcesOfType(full.json, 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const [, secret] = secrets[0];
    expect(secret.Properties).toMatchObject({
      Name: createdSecretName('acme.okta.com'),
      Description: expect.stringContaining('acme.okta.com'),
      KmsKeyId: { 'Fn::GetAtt': [logicalIdOf(full, full.stack.ingestion.credentialsKey!), 'Arn'] },
    });
    // No value at all: the operator puts the credential in (docs/deploy.md).
    expect(secret.Properties).not.toHaveProperty('SecretString');
    expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(createdSecretName('acme.okta.com')).toBe('okta-lake/acme.okta.com');
  });

  it.each(both)('encrypts the created secrets with their own key, which only the ingestion role can decrypt (%s)', (name) => {
    // Prepare
    const s = get(name);
    const key = s.stack.ingestion.credentialsKey!;
    const keyId = logicalIdOf(s, key);
    const roleId = logicalIdOf(s, s.stack.ingestion.role);
    const statements = (props(s.json, keyId).KeyPolicy as { Statement: PolicyStatementJson[] }).Statement;
    const decrypting = (st: PolicyStatementJson) => asList(st.Action).some((a) => ['kms:Decrypt', 'kms:ReEncryptFrom'].some((d) => iamActionMatches(a, d)));
    // Act
    const readers = statements.filter((st) => st.Effect === 'Allow' && decrypting(st));
    // Assess: one statement, naming the ingestion role itself, through Secrets Manager only.
    expect(readers).toHaveLength(1);
    expect(readers[0].Principal).toEqual({ AWS: { 'Fn::GetAtt': [roleId, 'Arn'] } });
    expect(asList(readers[0].Action)).toEqual(['kms:Decrypt']);
    expect((readers[0].Condition!.StringEquals['kms:ViaService'] as unknown[]).map((v) => flatten(v))).toEqual(['secretsmanager.<AWS::Region>.amazonaws.com']);
    // The account may administer the key and encrypt with it through Secrets Manager (an operator
    // storing the credential), not decrypt.
    const account = statements.filter((st) => JSON.stringify(st.Principal).includes(':root'));
    expect(account.map((st) => st.Sid).sort()).toEqual(['EncryptThroughServicesOfThisAccount', 'KeyAdministrationByAccount']);
    expect(asList(account.find((st) => st.Sid === 'EncryptThroughServicesOfThisAccount')!.Action)).toEqual([...KEY_ENCRYPT_ONLY_ACTIONS]);
    for (const secret of s.stack.ingestion.createdSecrets.values()) expect(props(s.json, logicalIdOf(s, secret)).KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it.each(both)('gives whoever can decrypt the lake no way to decrypt the Okta credential (%s)', (name) => {
    // Prepare
    const s = get(name);
    const credentialsKey = `<${logicalIdOf(s, s.stack.ingestion.credentialsKey!)}.Arn>`;
    const ingestionRole = logicalIdOf(s, s.stack.ingestion.role);
    // Act: every identity policy in the template that names the credentials key.
    const naming = allPolicyStatements(s.json).filter(
      ({ where, statement }) => s.json.Resources[where.split('.')[0]].Type === 'AWS::IAM::Role' && statement.Resource !== undefined && JSON.stringify(statement.Resource).includes(logicalIdOf(s, s.stack.ingestion.credentialsKey!)),
    );
    // Assess: no role needs one (the key policy grants the ingestion role), so the detection runner,
    // which reads the lake, has none; and the lake key cannot be used through Secrets Manager.
    expect(naming.map(({ where }) => where)).toEqual([]);
    expect(credentialsKey).not.toBe(`<${logicalIdOf(s, s.stack.storage.key)}.Arn>`);
    const runnerKms = allPolicyStatements(s.json).filter(({ where }) => where.startsWith(logicalIdOf(s, s.stack.detections.runner!.role)));
    expect(JSON.stringify(runnerKms)).not.toContain(logicalIdOf(s, s.stack.ingestion.credentialsKey!));
    const lakeKeyPolicy = JSON.stringify(props(s.json, logicalIdOf(s, s.stack.storage.key)).KeyPolicy);
    expect(lakeKeyPolicy).not.toContain('secretsmanager');
    expect(lakeKeyPolicy).not.toContain(ingestionRole);
  });

  it.each(both)('has no dependency cycle, which CloudFormation would refuse (the credentials key names the role) (%s)', (name) => {
    expect(dependencyCycles(get(name).json)).toEqual([]);
    // The check sees a cycle when there is one.
    const looped: CfnTemplate = { Resources: { A: { Type: 'X', Properties: { B: { Ref: 'B' } } }, B: { Type: 'X', Properties: { A: { 'Fn::GetAtt': ['A', 'Arn'] } } } } };
    expect(dependencyCycles(looped)).toEqual(['A -> B -> A']);
  });

  it('creates no credentials key when every org names its own secret', () => {
    const s = synth({ orgs: [{ host: 'beta.okta.com', auth: 'oauth', secret: { name: 'okta/beta' } }] });
    expect(s.stack.ingestion.credentialsKey).toBeUndefined();
    expect(resourcesOfType(s.json, 'AWS::KMS::Key')).toHaveLength(3);
    expect(resourcesOfType(s.json, 'AWS::SecretsManager::Secret')).toHaveLength(0);
  });

  it('keeps the function logs for the configured time', () => {
    full.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    minimal.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    const fn = full.json.Resources[logicalIdOf(full, full.stack.ingestion.function)];
    const logGroupId = logicalIdOf(full, full.stack.ingestion.logGroup);
    expect((fn.Properties as { LoggingConfig: { LogGroup: unknown } }).LoggingConfig.LogGroup).toEqual({ Ref: logGroupId });
  });

  it.each(both)('schedules each org once, at the configured rate, with retries and a dead-letter queue (%s)', (name) => {
    const s = get(name);
    const fnId = logicalIdOf(s, s.stack.ingestion.function);
    const schedules = resourcesOfType(s.json, 'AWS::Scheduler::Schedule').filter(
      ([, sch]) => JSON.stringify((sch.Properties as { Target: { Arn: unknown } }).Target.Arn) === JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
    );
    expect(schedules).toHaveLength(s.config.orgs.length);
    const dlqId = logicalIdOf(s, s.stack.ingestion.deadLetterQueue);
    const roleId = logicalIdOf(s, s.stack.ingestion.schedulerRole);
    const inputs = schedules.map(([, sch]) => {
      const p = sch.Properties as {
        ScheduleExpression: string;
        FlexibleTimeWindow: unknown;
        State: string;
        Target: { Arn: unknown; RoleArn: unknown; Input: string; RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number }; DeadLetterConfig: { Arn: unknown } };
      };
      expect(p.ScheduleExpression).toBe(s.config.scheduleMinutes === 1 ? 'rate(1 minute)' : `rate(${s.config.scheduleMinutes} minutes)`);
      expect(p.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      expect(p.State).toBe('ENABLED');
      expect(p.Target.Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
      expect(p.Target.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
      expect(p.Target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } });
      expect(p.Target.RetryPolicy.MaximumRetryAttempts).toBe(3);
      expect(p.Target.RetryPolicy.MaximumEventAgeInSeconds).toBe(Math.max(60, s.config.scheduleMinutes * 60));
      return JSON.parse(p.Target.Input) as unknown;
    });
    expect(inputs).toEqual(s.config.orgs.map((o) => ({ org: o.host })));
  });

  it('encrypts the dead-letter queue and refuses plain HTTP on it', () => {
    const s = minimal;
    const dlqId = logicalIdOf(s, s.stack.ingestion.deadLetterQueue);
    expect(props(s.json, dlqId)).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });
});

describe('least privilege', () => {
  type Stmt = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
  function roleStatements(s: Synthesized, roleId: string): Stmt[] {
    const p = props(s.json, roleId) as { Policies?: { PolicyDocument: { Statement: Stmt[] } }[]; ManagedPolicyArns?: unknown };
    expect(p.ManagedPolicyArns).toBeUndefined();
    // No separate AWS::IAM::Policy may add to the role behind our back.
    for (const [, pol] of resourcesOfType(s.json, 'AWS::IAM::Policy')) expect((pol.Properties as { Roles: unknown[] }).Roles).not.toContainEqual({ Ref: roleId });
    return (p.Policies ?? []).flatMap((d) => d.PolicyDocument.Statement);
  }
  const byAction = (stmts: Stmt[]): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    for (const st of stmts) {
      expect(st.Effect).toBe('Allow');
      for (const a of asList(st.Action)) m.set(a, [...(m.get(a) ?? []), ...(Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map((r) => flatten(r))]);
    }
    return m;
  };

  /** AWS SDK commands the function's adapters send, as the IAM actions they need. */
  function actionsTheCodeNeeds(): Set<string> {
    const files = ['lib/adapters/s3-sink.ts', 'lib/adapters/dynamodb-watermark-store.ts', 'lib/adapters/dynamodb-evaluation-store.ts', 'lib/adapters/secrets-manager-credentials.ts', 'lambdas/ingest/handler.ts'];
    const needed = new Set<string>();
    const services: Record<string, string> = { 'client-s3': 's3', 'client-dynamodb': 'dynamodb', 'client-secrets-manager': 'secretsmanager' };
    const s3Special: Record<string, string> = { ListObjectsV2: 'ListBucket' };
    for (const file of files) {
      const text = readFileSync(join(PROJECT_ROOT, file), 'utf8');
      for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/(client-[a-z0-9-]+)'/g)) {
        const service = services[m[2]];
        if (!service) throw new Error(`${file} uses @aws-sdk/${m[2]}, which this test does not map to IAM`);
        for (const name of m[1].matchAll(/\b([A-Z]\w*)Command\b/g)) {
          const op = name[1];
          needed.add(`${service}:${service === 's3' ? (s3Special[op] ?? op) : op}`);
        }
      }
    }
    return needed;
  }

  it('lets the ingestion role do exactly what its code does, on its own resources only', () => {
    const s = full;
    const roleId = logicalIdOf(s, s.stack.ingestion.role);
    const bucket = `<${logicalIdOf(s, s.stack.storage.bucket)}.Arn>`;
    const stmts = roleStatements(s, roleId);
    const actions = byAction(stmts);
    const needed = actionsTheCodeNeeds();
    expect(needed).toEqual(new Set(['s3:PutObject', 's3:ListBucket', 's3:GetObject', 'dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'secretsmanager:GetSecretValue']));
    const granted = new Set([...actions.keys()].filter((a) => !a.startsWith('logs:') && !a.startsWith('kms:')));
    expect(granted).toEqual(needed);

    // Writes under events/, late/ (days compaction froze) and quarantine/; reads compacted/ only.
    const written = [EVENTS_PREFIX, LATE_PREFIX, QUARANTINE_PREFIX];
    expect(actions.get('s3:PutObject')).toEqual(written.map((p) => `${bucket}/${p}/*`));
    expect(actions.get('s3:GetObject')).toEqual([...written, COMPACTED_PREFIX].map((p) => `${bucket}/${p}/*`));
    expect(actions.get('s3:ListBucket')).toEqual([bucket]);
    const list = stmts.find((st) => asList(st.Action).includes('s3:ListBucket'))!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': [...written, COMPACTED_PREFIX].map((p) => `${p}/*`) } });
    expect(actions.get('dynamodb:UpdateItem')).toEqual([`<${logicalIdOf(s, s.stack.ingestion.table)}.Arn>`]);
    // The late-evidence log (the sweep records what it added for the detections): read and put only.
    for (const a of ['dynamodb:GetItem', 'dynamodb:PutItem']) expect(actions.get(a)).toEqual([`<${logicalIdOf(s, s.stack.ingestion.evaluationTable)}.Arn>`]);
    expect(actions.get('secretsmanager:GetSecretValue')?.sort()).toEqual(
      [
        // The created secret by its name: the role must not depend on it (see the credentials key).
        `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${createdSecretName('acme.okta.com')}-??????`,
        'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:okta/beta-??????',
        GAMMA_SECRET,
      ].sort(),
    );
    const lakeKey = `<${logicalIdOf(s, s.stack.storage.key)}.Arn>`;
    expect(actions.get('kms:GenerateDataKey')).toEqual([lakeKey]);
    expect(actions.get('kms:Decrypt')?.sort()).toEqual([lakeKey, BETA_KEY].sort());
    const secretKey = stmts.find((st) => JSON.stringify(st.Resource).includes(BETA_KEY))!;
    expect(asList(secretKey.Action)).toEqual(['kms:Decrypt']);
    expect(flatten(secretKey.Condition!.StringEquals['kms:ViaService'])).toBe('secretsmanager.<AWS::Region>.amazonaws.com');
    const logGroupId = logicalIdOf(s, s.stack.ingestion.logGroup);
    expect(actions.get('logs:CreateLogStream')).toEqual([`<${logGroupId}.Arn>`]);
    expect(actions.get('logs:PutLogEvents')).toEqual([`<${logGroupId}.Arn>`]);
    expect([...actions.keys()].filter((a) => a.startsWith('logs:'))).toHaveLength(2);
  });

  it('lets the schedules invoke only the function and dead-letter only to their queue', () => {
    const s = minimal;
    const roleId = logicalIdOf(s, s.stack.ingestion.schedulerRole);
    const actions = byAction(roleStatements(s, roleId));
    expect([...actions.keys()].sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    expect(actions.get('lambda:InvokeFunction')).toEqual([`<${logicalIdOf(s, s.stack.ingestion.function)}.Arn>`]);
    expect(actions.get('sqs:SendMessage')).toEqual([`<${logicalIdOf(s, s.stack.ingestion.deadLetterQueue)}.Arn>`]);
    // EventBridge Scheduler's confused-deputy prevention: this account, and the schedule group the
    // ingestion schedules are in (they name none: `default`).
    const trust = (props(s.json, roleId).AssumeRolePolicyDocument as { Statement: PolicyStatementJson[] }).Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'scheduler.amazonaws.com' } });
    expect(Object.keys(trust[0].Condition!).sort()).toEqual(['ArnEquals', 'StringEquals']);
    expect(trust[0].Condition!.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect(flatten(trust[0].Condition!.ArnEquals['aws:SourceArn'])).toBe(`arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule-group/${INGEST_SCHEDULE_GROUP}`);
    for (const [, sch] of resourcesOfType(s.json, 'AWS::Scheduler::Schedule')) {
      const p = sch.Properties as { GroupName?: unknown; Target: { RoleArn: unknown } };
      if (JSON.stringify(p.Target.RoleArn).includes(roleId)) expect(p.GroupName).toBeUndefined();
    }
  });

  /** What would let a principal delete, overwrite or shorten the retention of the evidence. */
  const DESTRUCTIVE = [
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:DeleteObjectTagging',
    's3:DeleteObjectVersionTagging',
    's3:PutObjectRetention',
    's3:BypassGovernanceRetention',
    's3:PutBucketObjectLockConfiguration',
    's3:PutLifecycleConfiguration',
    's3:PutBucketPolicy',
    's3:DeleteBucketPolicy',
    's3:PutBucketVersioning',
    's3:DeleteBucket',
  ];

  it.each(both)('grants no principal a way to delete, overwrite or shorten the retention of the lake, not even through a wildcard (%s)', (name) => {
    // Prepare
    const s = get(name);
    const bucketId = logicalIdOf(s, s.stack.storage.bucket);
    // Act
    const offenders = grantsOnBucket(s.json, bucketId, DESTRUCTIVE);
    // Assess
    expect(offenders).toEqual([]);
  });

  it('recognises a destructive grant, including one made through a wildcard, so the test above can fail', () => {
    // Prepare: a template that grants what the stack must never grant, in the forms it could take.
    const bucketId = 'LakeBucket';
    const role = (Action: unknown, Resource: unknown) => ({
      Type: 'AWS::IAM::Role',
      Properties: { Policies: [{ PolicyDocument: { Statement: [{ Effect: 'Allow', Action, Resource }] } }] },
    });
    const t: CfnTemplate = {
      Resources: {
        Direct: role('s3:DeleteObjectVersion', { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/events/*']] }),
        Prefix: role(['s3:GetObject', 's3:Delete*'], { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] }),
        Everything: role('*', '*'),
        Service: role('s3:*', 'arn:aws:s3:::*'),
        Retention: role('s3:putobjectretention', { 'Fn::GetAtt': [bucketId, 'Arn'] }),
        Elsewhere: role('s3:DeleteObject', 'arn:aws:s3:::another-bucket/*'),
        Denied: { Type: 'AWS::S3::BucketPolicy', Properties: { PolicyDocument: { Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: '*' }] } } },
      },
    };
    // Act
    const offenders = grantsOnBucket(t, bucketId, DESTRUCTIVE);
    const holders = new Set(offenders.map((o) => o.split('.')[0]));
    // Assess
    expect([...holders].sort()).toEqual(['Direct', 'Everything', 'Prefix', 'Retention', 'Service']);
    expect(offenders.filter((o) => o.startsWith('Everything'))).toHaveLength(DESTRUCTIVE.length);
    expect(iamActionMatches('s3:Put*Retention', 's3:PutObjectRetention')).toBe(true);
    expect(iamActionMatches('s3:PutObject', 's3:PutObjectRetention')).toBe(false);
  });

  it.each(both)('has no wildcard action in any policy: roles, bucket, queue, topic and key policies (%s)', (name) => {
    const s = get(name);
    const statements = allPolicyStatements(s.json);
    // The walker must see every kind of policy, or this test would pass on nothing.
    const holders = new Set(statements.map((f) => s.json.Resources[f.where.split('.')[0]].Type));
    expect(holders).toEqual(new Set(['AWS::IAM::Role', 'AWS::S3::BucketPolicy', 'AWS::KMS::Key', 'AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy']));
    const offenders = statements
      .filter(({ statement }) => statement.Effect === 'Allow')
      .flatMap(({ where, statement }) => [...asList(statement.Action), ...asList(statement.NotAction)].filter((a) => a.includes('*')).map((a) => `${where}: ${a}`));
    expect(offenders).toEqual([]);
    for (const { statement } of statements) expect(statement.NotAction).toBeUndefined();
    for (const [, p] of resourcesOfType(s.json, 'AWS::Lambda::Permission')) expect(String((p.Properties as { Action: string }).Action)).not.toContain('*');
  });

  it.each(both)('contains no helper functions or custom resources beyond the functions of the pipeline and the view trigger (%s)', (name) => {
    const s = get(name);
    const functions = resourcesOfType(s.json, 'AWS::Lambda::Function').map(([id]) => id);
    const c = s.stack.compaction;
    const ours = [s.stack.ingestion.function, s.stack.detections.runner!.function, c.runner!.function, c.viewFunction].map((f) => logicalIdOf(s, f));
    // Beyond ours, only the provider of CDK's trigger (the one custom resource: it invokes the view function at deployment).
    const others = functions.filter((id) => !ours.includes(id));
    expect(others).toHaveLength(1);
    expect(others[0]).toMatch(/^AWSCDKTriggerCustomResourceProvider/);
    const custom = Object.entries(s.json.Resources).filter(([, r]) => r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource');
    expect(custom.map(([, r]) => r.Type)).toEqual(['Custom::Trigger']);
    // Ingestion function and schedules, detection runner and schedules, compaction and view functions and schedule, trigger provider.
    expect(resourcesOfType(s.json, 'AWS::IAM::Role')).toHaveLength(8);
  });
});

describe('operations', () => {
  it('encrypts the alarm topic with its own key, refuses plain HTTP and lets only this account’s alarms publish', () => {
    const s = full;
    const topicId = logicalIdOf(s, s.stack.operations.topic);
    expect(props(s.json, topicId).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [logicalIdOf(s, s.stack.operations.key), 'Arn'] });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
    const keyPolicy = props(s.json, logicalIdOf(s, s.stack.operations.key)).KeyPolicy as { Statement: PolicyStatementJson[] };
    const cloudwatch = keyPolicy.Statement.filter((st) => JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com'));
    expect(cloudwatch).toHaveLength(1);
    expect(cloudwatch[0]).toMatchObject({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'] });
    // Confused-deputy prevention on the key as on the topic: only this account's alarms.
    expect(cloudwatch[0].Condition!.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect(flatten(cloudwatch[0].Condition!.ArnLike['aws:SourceArn'])).toBe('arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*');
  });

  it.each(both)('e-mails the alarm topic when CloudTrail records a change that could destroy evidence in the lake bucket or a key (%s)', (name) => {
    // Prepare
    const s = get(name);
    const ruleId = logicalIdOf(s, s.stack.operations.tamperRule!);
    const topicId = logicalIdOf(s, s.stack.operations.topic);
    const rule = props(s.json, ruleId) as { EventPattern: { source: string[]; 'detail-type': string[]; detail: { eventName: string[]; resources: { ARN: unknown[] } } }; Targets: { Arn: unknown }[]; State?: string };
    // Assess: the calls named in docs/deploy.md, on our bucket and keys only.
    expect(rule.EventPattern.source.sort()).toEqual(['aws.kms', 'aws.s3']);
    expect(rule.EventPattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
    for (const call of ['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy', 'PutBucketLifecycle', 'PutBucketPolicy', 'DeleteBucketPolicy', 'PutObjectLockConfiguration', 'PutBucketVersioning']) {
      expect(rule.EventPattern.detail.eventName).toContain(call);
    }
    expect(rule.EventPattern.detail.resources.ARN.map((a) => flatten(a)).sort()).toEqual(
      [s.stack.storage.bucket, s.stack.storage.key, s.stack.ingestion.credentialsKey!, s.stack.operations.key].map((c) => `<${logicalIdOf(s, c)}.Arn>`).sort(),
    );
    expect(rule.Targets.map((t) => t.Arn)).toEqual([{ Ref: topicId }]);
    // The topic admits EventBridge for this rule only; the topic key lets EventBridge encrypt for it.
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Sid: 'EvidenceTamperingRuleOfThisStack', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish', Resource: { Ref: topicId }, Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } } },
        ]),
      },
    });
    const keyPolicy = props(s.json, logicalIdOf(s, s.stack.operations.key)).KeyPolicy as { Statement: PolicyStatementJson[] };
    expect(keyPolicy.Statement.filter((st) => JSON.stringify(st.Principal).includes('events.amazonaws.com')).map((st) => st.Action)).toEqual([['kms:Decrypt', 'kms:GenerateDataKey']]);
  });

  it('subscribes every alert address by e-mail', () => {
    const topic = { Ref: logicalIdOf(full, full.stack.operations.topic) };
    const subs = resourcesOfType(full.json, 'AWS::SNS::Subscription')
      .map(([, r]) => r.Properties as { Protocol: string; Endpoint: string; TopicArn: unknown })
      .filter((x) => JSON.stringify(x.TopicArn) === JSON.stringify(topic));
    expect(subs.map((x) => [x.Protocol, x.Endpoint])).toEqual([
      ['email', 'secops@example.com'],
      ['email', 'oncall@example.org'],
    ]);
    expect(resourcesOfType(minimal.json, 'AWS::SNS::Subscription')).toHaveLength(0);
  });

  it('alarms on function errors, throttles and dead letters, notifying the topic on alarm and recovery', () => {
    const s = minimal;
    const topic = { Ref: logicalIdOf(s, s.stack.operations.topic) };
    const fnRef = { Ref: logicalIdOf(s, s.stack.ingestion.function) };
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: fnRef }], Statistic: 'Sum',
      Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching', AlarmActions: [topic], OKActions: [topic],
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Lambda', MetricName: 'Throttles', Dimensions: [{ Name: 'FunctionName', Value: fnRef }], Threshold: 1, AlarmActions: [topic] });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.ingestion.deadLetterQueue), 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, AlarmActions: [topic],
    });
  });

  it('alarms per org on watermark lag and on hours without events, treating silence as breaching', () => {
    const s = full;
    const topic = { Ref: logicalIdOf(s, s.stack.operations.topic) };
    for (const org of s.config.orgs.map((o) => o.host)) {
      const dims = [{ Name: 'org', Value: org }, { Name: 'service', Value: INGEST_METRICS.service }];
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: INGEST_METRICS.namespace, MetricName: INGEST_METRICS.names.watermarkLagSeconds, Dimensions: dims, Statistic: 'Maximum',
        Threshold: 45 * 60, ComparisonOperator: 'GreaterThanThreshold', Period: 900, TreatMissingData: 'breaching', AlarmActions: [topic],
      });
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: INGEST_METRICS.namespace, MetricName: INGEST_METRICS.names.eventsWritten, Dimensions: dims, Statistic: 'Sum',
        Threshold: 1, ComparisonOperator: 'LessThanThreshold', Period: 3 * 3600, EvaluationPeriods: 1, TreatMissingData: 'breaching', AlarmActions: [topic],
      });
    }
    const operationsAlarms = resourcesOfType(s.json, 'AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('Operations'));
    expect(operationsAlarms).toHaveLength(3 + 3 * s.config.orgs.length);
  });

  it('alarms per org on the first retried page that differed or page object found taken', () => {
    const s = full;
    const topic = { Ref: logicalIdOf(s, s.stack.operations.topic) };
    for (const org of s.config.orgs.map((o) => o.host)) {
      const dims = [{ Name: 'org', Value: org }, { Name: 'service', Value: INGEST_METRICS.service }];
      const metric = (name: string) => Match.objectLike({ MetricStat: Match.objectLike({ Metric: { Namespace: INGEST_METRICS.namespace, MetricName: name, Dimensions: dims }, Stat: 'Sum' }) });
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'differing + unexpected', ReturnData: true }),
          metric(INGEST_METRICS.names.retriedPagesDiffering),
          metric(INGEST_METRICS.names.unexpectedObjects),
        ]),
      });
    }
  });

  it('draws a dashboard of the ingestion', () => {
    const [, dashboard] = onlyResourceOfType(minimal.json, 'AWS::CloudWatch::Dashboard');
    const body = flatten((dashboard.Properties as { DashboardBody: unknown }).DashboardBody);
    for (const name of Object.values(INGEST_METRICS.names).filter((n) => !['ObjectsWritten', 'BytesWritten'].includes(n))) expect(body).toContain(`"${name}"`);
    expect(body).toContain('"Errors"');
  });
});

describe('cdk-nag', () => {
  it.each(both)('finds nothing unacknowledged in the AwsSolutions pack, errors or warnings (%s)', (name) => {
    const s = get(name);
    const report = new AwsSolutionsChecks().validateScope(s.app);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges each finding on the one construct it concerns, with a written reason', () => {
    const acks: { path: string; id: string; reason: string }[] = [];
    const visit = (c: IConstruct): void => {
      for (const entry of c.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) acks.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason });
        }
      }
      c.node.children.forEach(visit);
    };
    visit(full.app);
    expect(acks.map((a) => `${a.path} ${a.id}`).sort()).toEqual(
      [
        'OktaLake/Ingestion/Function AwsSolutions-L1',
        'OktaLake/Ingestion/OktaCredential0 AwsSolutions-SMG4',
        `OktaLake/Ingestion/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/events/*]`,
        `OktaLake/Ingestion/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/quarantine/*]`,
        `OktaLake/Ingestion/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/late/*]`,
        `OktaLake/Ingestion/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/compacted/*]`,
        'OktaLake/Ingestion/ScheduleDeadLetters AwsSolutions-SQS3',
        'OktaLake/Detections/Runner/Function AwsSolutions-L1',
        `OktaLake/Detections/Runner/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/events/*]`,
        `OktaLake/Detections/Runner/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/late/*]`,
        `OktaLake/Detections/Runner/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/compacted/*]`,
        `OktaLake/Detections/Runner/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.athenaResultsBucket)}.Arn>/results/*]`,
        'OktaLake/Detections/Runner/ScheduleDeadLetters AwsSolutions-SQS3',
        'OktaLake/Compaction/Function AwsSolutions-L1',
        'OktaLake/Compaction/ViewFunction AwsSolutions-L1',
        'OktaLake/Compaction/ScheduleDeadLetters AwsSolutions-SQS3',
        ...['events', 'late', 'compacted'].map((p) => `OktaLake/Compaction/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/${p}/*]`),
        `OktaLake/Compaction/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.athenaResultsBucket)}.Arn>/results/*]`,
        `OktaLake/Compaction/ViewRole AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/compacted/*]`,
        `OktaLake/Compaction/ViewRole AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.athenaResultsBucket)}.Arn>/results/*]`,
      ].sort(),
    );
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(60);
  });
});

describe('outputs', () => {
  it('tells the operator where the lake, the workgroup and each org’s secret are', () => {
    const outputs = full.json.Outputs ?? {};
    expect(Object.keys(outputs).sort()).toEqual(
      ['AlarmTopic', 'AthenaWorkGroup', 'CompactFunction', 'CompactViewFunction', 'CredentialSecret0', 'CredentialSecret1', 'CredentialSecret2', 'FindingsTopic', 'GlueDatabase', 'IngestFunction', 'LakeBucket'].sort(),
    );
    expect(outputs.CredentialSecret1.Value).toBe('okta/beta');
  });
});
