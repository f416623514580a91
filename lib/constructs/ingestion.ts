/**
 * Ingestion: the watermark table, the credential secrets and their own KMS key (decryptable by the
 * ingestion role only), the ingestion function (with DuckDB's
 * native binding for its CPU), its least-privilege role, and one EventBridge Scheduler schedule per
 * org with retries and a dead-letter queue.
 *
 * IAM here is written statement by statement: CDK's grant helpers (`grantReadWrite`, `key.grant*`)
 * emit wildcard actions (`s3:DeleteObject*`, `kms:GenerateDataKey*`) that this project does not allow.
 */
import { Arn, ArnFormat, Aws, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import type { LambdaArchitectureName, OrgConfig } from '../config/config';
import { INGEST_ENV, INGEST_METRICS, type IngestEvent, type IngestOrgSetting } from '../config/ingest-contract';
import { EVALUATION_TABLE_KEY, WATERMARK_TABLE_KEY } from '../config/table-contract';
import { COMPACTED_PREFIX, EVENTS_PREFIX, LATE_PREFIX, QUARANTINE_PREFIX } from '../core/layout';
import { credentialKind } from '../core/okta/credentials';
import { PROJECT_ROOT, createFunction, functionLogGroup, powertoolsEnvironment, writeOwnLogsStatement } from './lambda-defaults';
import { createScheduleDelivery } from './schedule-delivery';
import { createScopedKey } from './scoped-key';

export const INGEST_HANDLER_ENTRY = join(PROJECT_ROOT, 'lambdas', 'ingest', 'handler.ts');

/** The lake key prefixes the function may write under (relative to the bucket root). */
export const WRITABLE_PREFIXES = [EVENTS_PREFIX, LATE_PREFIX, QUARANTINE_PREFIX] as const;
/**
 * Lake prefixes the ingestion reads and never writes: compaction's state (which days are frozen, so
 * that their late events go under late/) and compacted days (the uuids a checked window compares).
 */
export const READ_ONLY_PREFIXES = [COMPACTED_PREFIX] as const;

/** The ingestion schedules name no group: they are in the account's `default` schedule group. */
export const INGEST_SCHEDULE_GROUP = 'default';

/** Name of the secret the stack creates for an org that names none. */
export const createdSecretName = (host: string): string => `okta-lake/${host}`;

export interface IngestionProps {
  readonly orgs: readonly OrgConfig[];
  readonly bucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly scheduleMinutes: number;
  readonly settleLagMinutes: number;
  readonly initialLookbackDays: number;
  /** Offsets of the reconciliation sweep behind the watermark, in minutes (validated by `parseConfig`). */
  readonly reconcileOffsetsMinutes: readonly number[];
  readonly architecture: LambdaArchitectureName;
  readonly logRetentionDays: number;
  /**
   * Memory of the function, in MB. A 1,000-event page is a few MB of JSON (bench/results.md); DuckDB turns it into
   * Parquet in memory, and more memory also buys CPU.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Timeout of one run. Never longer than the schedule, so that runs of an org do not overlap (an
   * overlapping run would be throttled by the reserved concurrency, or refused by the lease).
   * @default Duration.minutes(min(5, scheduleMinutes))
   */
  readonly timeout?: Duration;
  /**
   * Scheduler retries of a failed delivery to the function (0..185).
   * @default 3
   */
  readonly scheduleRetryAttempts?: number;
}

interface OrgSecret {
  readonly org: OrgConfig;
  /** The ARN (or ARN pattern) IAM allows GetSecretValue on. */
  readonly resourceArn: string;
  /** What the function passes as SecretId; undefined until the stack has created the secret. */
  readonly secretId?: string;
}

export class Ingestion extends Construct {
  readonly table: dynamodb.Table;
  /**
   * The detection state: evaluation cursors (written by the detection runner) and late-evidence
   * logs (written here, by the sweep). Losing it costs a re-evaluation of the initial backfill.
   */
  readonly evaluationTable: dynamodb.Table;
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedulerRole: iam.Role;
  /** One per org, in configuration order. */
  readonly schedules: readonly scheduler.CfnSchedule[];
  /** The secrets the stack created (for orgs that named none), by org host. */
  readonly createdSecrets: ReadonlyMap<string, secretsmanager.CfnSecret>;
  /**
   * Encrypts the secrets the stack creates; only the ingestion role may decrypt with it (through
   * Secrets Manager). Absent when every org names its own secret.
   */
  readonly credentialsKey?: kms.Key;
  /** SecretId the function uses, by org host. */
  readonly secretIds: ReadonlyMap<string, string>;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.table = new dynamodb.Table(this, 'Watermarks', {
      partitionKey: { name: WATERMARK_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The detection state belongs to the detections as much as to the ingestion (the runner moves its
    // cursors; the sweep here appends late evidence). It stays in this construct because a resource's
    // logical id is derived from its construct path (`Ingestion/DetectionState`): moving it would
    // make CloudFormation create a new, empty table and delete this one (DESTROY), i.e. every
    // detection would re-evaluate its initial backfill. Move it only together with a `cdk refactor`
    // or an explicit logical-id override, as a deliberate, tested change.
    this.evaluationTable = new dynamodb.Table(this, 'DetectionState', {
      partitionKey: { name: EVALUATION_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The role may read each org's secret; a secret the stack creates is named by its name (as for a
    // secret named in the configuration), so that the role does not depend on the secret, which
    // depends on the credentials key, whose policy names the role.
    const references = props.orgs.map((org) => this.secretReference(org));

    this.logGroup = functionLogGroup(this, 'Logs', props.logRetentionDays);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'okta-lake ingestion: reads its Okta credentials, writes the lake and its watermarks',
      inlinePolicies: { ingestion: new iam.PolicyDocument({ statements: this.ingestionStatements(props, references) }) },
    });
    // The Okta credential is worth more than the lake it fills: it gets its own key, which only this
    // role can decrypt. Whoever can decrypt the lake (analysts, Athena) cannot decrypt it.
    if (references.some((r) => r.secretId === undefined)) {
      this.credentialsKey = createScopedKey(this, 'CredentialsKey', {
        description: 'okta-lake: encrypts the Okta credentials; only the ingestion function can decrypt them',
        viaServices: ['secretsmanager'],
        decryptOnlyBy: this.role,
      });
    }
    const created = new Map<string, secretsmanager.CfnSecret>();
    const secretIds = new Map<string, string>();
    references.forEach((ref, i) => {
      if (ref.secretId !== undefined) {
        secretIds.set(ref.org.host, ref.secretId);
        return;
      }
      const secret = this.createSecret(ref.org, i, this.credentialsKey!);
      created.set(ref.org.host, secret);
      secretIds.set(ref.org.host, secret.ref);
    });
    this.createdSecrets = created;
    this.secretIds = secretIds;
    // cdk-nag names a finding after the resource as written, e.g. `<LakeDataABC123.Arn>/events/*`.
    const bucketLogicalId = stack.getLogicalId(props.bucket.node.defaultChild as CfnElement);
    for (const prefix of WRITABLE_PREFIXES) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}/*]`,
        reason: `Objects are named by partition and page at run time; the wildcard is confined to the ${prefix}/ prefix of the lake bucket, with only s3:GetObject and s3:PutObject.`,
      });
    }
    for (const prefix of READ_ONLY_PREFIXES) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}/*]`,
        reason: `Compaction names its records and parts by org, day and generation at run time; the wildcard is confined to the ${prefix}/ prefix of the lake bucket, with only s3:GetObject (the ingestion reads which days are frozen and the uuids of compacted days, and writes nothing there).`,
      });
    }
    this.function = createFunction(this, 'Function', {
      description: 'okta-lake: copies the Okta System Log of one org into the lake',
      entry: INGEST_HANDLER_ENTRY,
      architecture: props.architecture,
      // Cold start (bench/cold-start.ts): what costs is compiling and running the JavaScript, and
      // loading DuckDB's native library; see DUCKDB_BUNDLE_EXTERNALS and bundle-duckdb.mjs.
      duckDb: true,
      bundleName: 'the ingestion bundle',
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(Math.min(5, props.scheduleMinutes)),
      // One run per org at a time at most: a slow run cannot pile up behind itself (the lease would
      // refuse the extra runs anyway; this keeps them from starting).
      reservedConcurrentExecutions: props.orgs.length,
      role: this.role,
      logGroup: this.logGroup,
      // A run that did not happen is made up by the next scheduled one: no async retries, no backlog.
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.max(60, props.scheduleMinutes * 60)),
      environment: {
        [INGEST_ENV.orgs]: stack.toJsonString(
          props.orgs.map((org): IngestOrgSetting => ({ org: org.host, auth: org.auth, secretId: secretIds.get(org.host)! })),
        ),
        [INGEST_ENV.bucket]: props.bucket.bucketName,
        [INGEST_ENV.prefix]: '',
        [INGEST_ENV.table]: this.table.tableName,
        [INGEST_ENV.evaluationTable]: this.evaluationTable.tableName,
        [INGEST_ENV.kmsKeyArn]: props.key.keyArn,
        [INGEST_ENV.settleLagMs]: String(props.settleLagMinutes * 60_000),
        [INGEST_ENV.initialLookbackMs]: String(props.initialLookbackDays * 86_400_000),
        [INGEST_ENV.reconcileOffsetsMs]: props.reconcileOffsetsMinutes.map((minutes) => String(minutes * 60_000)).join(','),
        ...powertoolsEnvironment(INGEST_METRICS),
      },
    });

    ({ deadLetterQueue: this.deadLetterQueue, schedulerRole: this.schedulerRole } = createScheduleDelivery(this, this.function, { schedules: 'ingestion schedules', target: 'function' }, INGEST_SCHEDULE_GROUP));

    const rate = props.scheduleMinutes === 1 ? 'rate(1 minute)' : `rate(${props.scheduleMinutes} minutes)`;
    this.schedules = props.orgs.map(
      (org, i) =>
        new scheduler.CfnSchedule(this, `Schedule${i}`, {
          description: `okta-lake: ingest the System Log of ${org.host}`,
          scheduleExpression: rate,
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: this.function.functionArn,
            roleArn: this.schedulerRole.roleArn,
            input: JSON.stringify({ org: org.host } satisfies IngestEvent),
            retryPolicy: {
              maximumRetryAttempts: props.scheduleRetryAttempts ?? 3,
              maximumEventAgeInSeconds: Math.max(60, props.scheduleMinutes * 60),
            },
            deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
          },
        }),
    );
  }

  private secretReference(org: OrgConfig): OrgSecret {
    const ref = org.secret;
    if (ref?.arn) return { org, secretId: ref.arn, resourceArn: ref.arn };
    const name = ref?.name ?? createdSecretName(org.host);
    const arn = Arn.format(
      { service: 'secretsmanager', resource: 'secret', resourceName: `${name}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      Stack.of(this),
    );
    return ref?.name ? { org, secretId: ref.name, resourceArn: arn } : { org, resourceArn: arn };
  }

  private createSecret(org: OrgConfig, index: number, key: kms.IKey): secretsmanager.CfnSecret {
    // No value: the user puts the credential in after deploying (docs/deploy.md). An empty secret
    // has no version, so the function reports "not filled in yet" instead of using a placeholder.
    const created = new secretsmanager.CfnSecret(this, `OktaCredential${index}`, {
      name: createdSecretName(org.host),
      description: `okta-lake: Okta ${credentialKind(org.auth)?.title ?? org.auth} credential for ${org.host}`,
      kmsKeyId: key.keyArn,
    });
    created.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(created).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The secret holds an Okta credential that only Okta can issue (an API token or a service-app key); it is rotated in Okta and put here by the operator, so Secrets Manager rotation cannot apply.',
    });
    return created;
  }

  private ingestionStatements(props: IngestionProps, secrets: readonly OrgSecret[]): iam.PolicyStatement[] {
    const objectArns = WRITABLE_PREFIXES.map((prefix) => props.bucket.arnForObjects(`${prefix}/*`));
    const readOnlyArns = READ_ONLY_PREFIXES.map((prefix) => props.bucket.arnForObjects(`${prefix}/*`));
    const statements = [
      writeOwnLogsStatement(this.logGroup),
      new iam.PolicyStatement({
        sid: 'LakeObjects',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: objectArns,
      }),
      new iam.PolicyStatement({
        sid: 'CompactedObjects',
        actions: ['s3:GetObject'],
        resources: readOnlyArns,
      }),
      new iam.PolicyStatement({
        sid: 'ListLakePrefixes',
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [...WRITABLE_PREFIXES, ...READ_ONLY_PREFIXES].map((p) => `${p}/*`) } },
      }),
      new iam.PolicyStatement({
        sid: 'Watermarks',
        // The watermark store does every read and write as one conditional UpdateItem.
        actions: ['dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'LateEvidence',
        // The sweep appends to an org's late-evidence log: a consistent read, then a conditional put.
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [this.evaluationTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'OktaCredentials',
        actions: ['secretsmanager:GetSecretValue'],
        resources: secrets.map((s) => s.resourceArn),
      }),
      new iam.PolicyStatement({
        sid: 'LakeKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.key.keyArn],
      }),
    ];
    const secretKeys = [...new Set(secrets.map((s) => s.org.secret?.kmsKeyArn).filter((k): k is string => k !== undefined))];
    if (secretKeys.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'CredentialSecretKeys',
          actions: ['kms:Decrypt'],
          resources: secretKeys,
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
        }),
      );
    }
    return statements;
  }
}
