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
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LambdaArchitectureName, OrgConfig } from '../config/config';
import { INGEST_ENV, INGEST_METRICS, type IngestEvent, type IngestOrgSetting } from '../config/ingest-contract';
import { EVALUATION_TABLE_KEY, WATERMARK_TABLE_KEY } from '../config/table-contract';
import { COMPACTED_PREFIX, EVENTS_PREFIX, LATE_PREFIX, QUARANTINE_PREFIX } from '../core/layout';
import { credentialKind } from '../core/okta/credentials';
import { createScheduleDelivery } from './schedule-delivery';
import { createScopedKey } from './scoped-key';

/** The repository root (where package-lock.json is), found from this file. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const INGEST_HANDLER_ENTRY = join(PROJECT_ROOT, 'lambdas', 'ingest', 'handler.ts');
export const DUCKDB_BUNDLER_SCRIPT = join(PROJECT_ROOT, 'lib', 'constructs', 'bundle-duckdb.mjs');

/**
 * What the ingestion bundle (and every bundle with DuckDB in it: `duckDbFunctionBundling`) does not
 * contain. Everything else, the AWS SDK included, is bundled at the versions the tests ran: loading
 * the three SDK clients as packages of CommonJS files, the way the runtime's own copy would be
 * loaded, measured more than twice the CPU time of the bundled ES modules (bench/cold-start.ts).
 */
export const INGEST_BUNDLE_EXTERNALS = [
  // DuckDB: its JavaScript API is bundled into one ES module and its native library for the
  // Lambda's CPU copied next to the bundle, by bundle-duckdb.mjs.
  '@duckdb/*',
  // The default credential chain's providers after the environment one. A Lambda function always has
  // its role's credentials in its environment, so the chain never gets to these (SSO, config files,
  // credential_process, web identity, container and instance metadata, and the STS/SSO clients they
  // use); they are only imported dynamically, when reached. Leaving them out of the bundle spares the
  // cold start compiling ~115 KB of the ~620 KB bundle (25-35 ms of CPU on the bench machine).
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-login',
  '@smithy/credential-provider-imds',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
] as const;

/**
 * The bundling of a function with DuckDB in it (the ingestion and the compaction functions): an ES
 * module bundle of the handler and the AWS SDK, minified, without source map, with DuckDB's
 * JavaScript API bundled and its native library for `cpu` copied next to it by bundle-duckdb.mjs.
 */
export function duckDbFunctionBundling(cpu: 'arm64' | 'x64'): nodejs.BundlingOptions {
  return {
    format: nodejs.OutputFormat.ESM,
    target: 'node22',
    // The SDK's ES modules, so that esbuild leaves out what the handler does not use (the CommonJS
    // builds first: ~35 % more CPU at cold start).
    mainFields: ['module', 'main'],
    minify: true,
    // Error classes take their `name` from the class (lib/core/errors.ts).
    keepNames: true,
    // No source map and no NODE_OPTIONS=--enable-source-maps: measured, an inline map adds ~25 %
    // to the cold start's CPU time, and Node reading it at load (the option) ~55 %.
    sourceMap: false,
    externalModules: [...INGEST_BUNDLE_EXTERNALS],
    banner: "import{createRequire as __oktaLakeRequire}from'node:module';const require=__oktaLakeRequire(import.meta.url);",
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir: string, outputDir: string) => [`node "${DUCKDB_BUNDLER_SCRIPT}" --project "${inputDir}" --out "${outputDir}" --cpu ${cpu}`],
    },
  };
}

/** The Lambda CPU name of a configured architecture, as bundle-duckdb.mjs takes it. */
export const CPU_OF: Record<LambdaArchitectureName, 'arm64' | 'x64'> = { arm64: 'arm64', x86_64: 'x64' };

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
   * Memory of the function, in MB. A 1,000-event page is about 2.4 MB of JSON; DuckDB turns it into
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

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

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
    const cpu = CPU_OF[props.architecture];
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      description: 'okta-lake: copies the Okta System Log of one org into the lake',
      entry: INGEST_HANDLER_ENTRY,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(Math.min(5, props.scheduleMinutes)),
      // One run per org at a time at most: a slow run cannot pile up behind itself (the lease would
      // refuse the extra runs anyway; this keeps them from starting).
      reservedConcurrentExecutions: props.orgs.length,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
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
        POWERTOOLS_SERVICE_NAME: INGEST_METRICS.service,
        POWERTOOLS_METRICS_NAMESPACE: INGEST_METRICS.namespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      // Cold start (bench/cold-start.ts): what costs is compiling and running the JavaScript, and
      // loading DuckDB's native library; see INGEST_BUNDLE_EXTERNALS and bundle-duckdb.mjs.
      bundling: duckDbFunctionBundling(cpu),
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime the ingestion bundle and its DuckDB native binding are built and tested for; moving to a newer runtime is a tested change, not an automatic one.',
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
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
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
