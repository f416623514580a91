/**
 * Compaction in AWS: the compaction function (lambdas/compact/handler.ts, DuckDB inside, bundled
 * like the ingestion function), run every hour by an EventBridge Scheduler schedule, and the view
 * function, run once at every deployment by a CDK trigger, each with its own least-privilege role.
 *
 * - The compaction function rewrites the closed org-days as at most two Parquet files under
 *   `compacted/`, verifies them and switches readers to them (docs/compaction.md), then creates the
 *   Athena view `okta_system_log` again with Athena DDL. Reserved concurrency 1: two compactions of
 *   one day at once are not designed for (each would write its own generation and switch record),
 *   so one run at a time is the compaction lease. A run that is still going when the next schedule
 *   fires makes that delivery throttled and retried, never concurrent.
 * - The view function is the same code with `OKTA_LAKE_COMPACT_VIEW_ONLY=true`: it only creates the
 *   view (from the compaction state in the lake) and its role cannot write the lake. A separate
 *   function because a trigger invokes its function with no payload (so it cannot ask for
 *   `{"viewOnly": true}`), and because a synchronous invocation of the compaction function while an
 *   hourly run holds its one reserved execution would be throttled and fail the deployment.
 *   The trigger runs after the catalog's tables and workgroup exist.
 *
 * IAM is written statement by statement, as in the other constructs: no wildcard actions, no
 * `s3:DeleteObject`, `s3:PutObject` only under `compacted/` (and the bucket policy denies a
 * PutObject without `If-None-Match`, which the S3 sink sends).
 */
import { type CfnElement, Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { join } from 'node:path';
import type { LambdaArchitectureName } from '../config/config';
import { COMPACT_ENV, COMPACT_METRICS, type CompactEvent } from '../config/compact-contract';
import { COMPACTED_PREFIX, EVENTS_PREFIX, LATE_PREFIX } from '../core/layout';
import { ATHENA_RESULTS_PREFIX, type Catalog } from './catalog';
import { PROJECT_ROOT, createFunction, functionLogGroup, powertoolsEnvironment, writeOwnLogsStatement, type OktaLakeFunctionProps } from './lambda-defaults';
import { createScheduleDelivery } from './schedule-delivery';

export const COMPACT_HANDLER_ENTRY = join(PROJECT_ROOT, 'lambdas', 'compact', 'handler.ts');
/** The compaction schedule names no group: it is in the account's `default` schedule group. */
export const COMPACTION_SCHEDULE_GROUP = 'default';
export const DEFAULT_COMPACTION_SCHEDULE = 'rate(1 hour)';
/** The lake prefixes compaction reads: the originals and its own records and parts. */
export const COMPACTION_READ_PREFIXES = [EVENTS_PREFIX, LATE_PREFIX, COMPACTED_PREFIX] as const;
/** The only lake prefix compaction writes under. */
export const COMPACTION_WRITE_PREFIX = COMPACTED_PREFIX;
/** Athena's name of the account's Glue Data Catalog. */
export const ATHENA_DATA_CATALOG = 'AwsDataCatalog';

export interface CompactionProps {
  readonly bucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly athenaResultsBucket: s3.IBucket;
  /** The database, the three tables and the workgroup the view is created in. */
  readonly catalog: Catalog;
  /** The ingestion watermarks: a day is compacted once its org's watermark is far enough past it. */
  readonly watermarkTable: dynamodb.ITable;
  /** The orgs compacted and shown by the view (the tables' org projection). */
  readonly orgs: readonly string[];
  readonly architecture: LambdaArchitectureName;
  readonly logRetentionDays: number;
  /** Failed days and failed runs alarm here. */
  readonly alarmTopic: sns.ITopic;
  /** @default DEFAULT_COMPACTION_SCHEDULE (hourly) */
  readonly scheduleExpression?: string;
  /**
   * Deploy the compaction function, its schedule and alarms. The view function and its trigger are
   * deployed either way: every query reads the view (over the originals alone without compaction).
   * @default true
   */
  readonly enabled?: boolean;
}

/** The hourly compaction function and what goes with it (absent when compaction is disabled). */
export interface CompactionRunner {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly schedule: scheduler.CfnSchedule;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedulerRole: iam.Role;
  readonly failuresAlarm: cloudwatch.Alarm;
  readonly errorsAlarm: cloudwatch.Alarm;
}

export class Compaction extends Construct {
  /** The compaction function, its schedule and alarms, unless `enabled` is false. */
  readonly runner?: CompactionRunner;
  readonly viewFunction: nodejs.NodejsFunction;
  readonly viewRole: iam.Role;
  readonly viewLogGroup: logs.LogGroup;
  readonly trigger: triggers.Trigger;

  constructor(scope: Construct, id: string, props: CompactionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const enabled = props.enabled ?? true;
    const logGroup = (lid: string) => functionLogGroup(this, lid, props.logRetentionDays);
    // cdk-nag names a finding after the resource as written, e.g. `<LakeDataABC123.Arn>/events/*`.
    const logicalIdOf = (bucket: s3.IBucket): string => stack.getLogicalId(bucket.node.defaultChild as CfnElement);
    const acknowledge = (role: iam.Role, prefixes: readonly string[], what: string, writes: boolean) => {
      for (const prefix of prefixes) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.bucket)}.Arn>/${prefix}/*]`,
          reason: `${what} objects named by org, day, hour and generation at run time; the wildcard is confined to the ${prefix}/ prefix of the lake bucket, with s3:GetObject${writes && prefix === COMPACTION_WRITE_PREFIX ? ' and write-once s3:PutObject' : ' only'}.`,
        });
      }
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.athenaResultsBucket)}.Arn>/${ATHENA_RESULTS_PREFIX}/*]`,
        reason: `Athena writes the result file of the view's DDL, named by query execution id, on the function's behalf; the wildcard is confined to the ${ATHENA_RESULTS_PREFIX}/ prefix of the Athena results bucket.`,
      });
    };
    const environment = (viewOnly: boolean): Record<string, string> => ({
      [COMPACT_ENV.bucket]: props.bucket.bucketName,
      [COMPACT_ENV.watermarkTable]: props.watermarkTable.tableName,
      [COMPACT_ENV.orgs]: JSON.stringify(props.orgs),
      [COMPACT_ENV.database]: props.catalog.databaseName,
      [COMPACT_ENV.workGroup]: props.catalog.workGroupName,
      [COMPACT_ENV.kmsKeyArn]: props.key.keyArn,
      [COMPACT_ENV.viewOnly]: String(viewOnly),
      ...powertoolsEnvironment(COMPACT_METRICS),
    });
    // The same bundle as the ingestion function's: the handler and the SDK, DuckDB's native library copied.
    const common = { entry: COMPACT_HANDLER_ENTRY, architecture: props.architecture, duckDb: true, bundleName: 'the compaction bundle' } as const;

    if (enabled) this.runner = this.createRunner(props, { logGroup, acknowledge, environment, common });

    this.viewLogGroup = logGroup('ViewLogs');
    this.viewRole = new iam.Role(this, 'ViewRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'okta-lake compaction view: reads the compaction state, creates the Athena view; writes nothing to the lake',
      inlinePolicies: { view: new iam.PolicyDocument({ statements: this.statements(props, this.viewLogGroup, false) }) },
    });
    acknowledge(this.viewRole, [COMPACTED_PREFIX], 'The view function reads the switch records of compacted days:', false);
    this.viewFunction = createFunction(this, 'ViewFunction', {
      ...common,
      description: 'okta-lake: creates the Athena view over the lake (at deployment); compacts nothing',
      // Loads DuckDB's library with the handler, opens none: it lists and reads small JSON records.
      memorySize: 512,
      timeout: Duration.minutes(2),
      role: this.viewRole,
      logGroup: this.viewLogGroup,
      retryAttempts: 0,
      environment: environment(true),
    });

    // At every deployment that changes the view function, once the tables and the workgroup exist.
    this.trigger = new triggers.Trigger(this, 'CreateViewOnDeploy', {
      handler: this.viewFunction,
      timeout: Duration.minutes(3),
      executeAfter: [props.catalog],
    });
    // The trigger's provider (CDK's own custom resource function and role, in the stack's scope,
    // allowed to invoke only the view function's versions) is made of plain CfnResources, which the
    // AwsSolutions pack does not inspect: nothing to acknowledge there (the cdk-nag test checks).
  }

  private createRunner(
    props: CompactionProps,
    h: {
      readonly logGroup: (id: string) => logs.LogGroup;
      readonly acknowledge: (role: iam.Role, prefixes: readonly string[], what: string, writes: boolean) => void;
      readonly environment: (viewOnly: boolean) => Record<string, string>;
      readonly common: Pick<OktaLakeFunctionProps, 'entry' | 'architecture' | 'duckDb' | 'bundleName'>;
    },
  ): CompactionRunner {
    const logGroup = h.logGroup('Logs');
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'okta-lake compaction: reads the lake, writes compacted/ only (write-once), creates the Athena view',
      inlinePolicies: { compaction: new iam.PolicyDocument({ statements: this.statements(props, logGroup, true) }) },
    });
    h.acknowledge(role, COMPACTION_READ_PREFIXES, 'Compaction reads the originals and writes its parts and records:', true);
    const fn = createFunction(this, 'Function', {
      ...h.common,
      description: 'okta-lake: compacts the closed org-days of the lake and creates the Athena view',
      // DuckDB holds a day's rows in memory (the size of a 100,000-event day's originals and raw
      // text: bench/compaction.md); 3008 MB also buys two vCPUs.
      memorySize: 3008,
      // The originals are copied to /tmp, and DuckDB spills there: room for a 1,000,000-event day (bench/compaction.md).
      ephemeralStorageSize: Size.gibibytes(4),
      timeout: Duration.minutes(15),
      // The compaction lease: one run at a time (see the module comment).
      reservedConcurrentExecutions: 1,
      role,
      logGroup,
      // A run that did not happen is made up by the next hourly one: no async retries, no backlog.
      retryAttempts: 0,
      maxEventAge: Duration.hours(1),
      environment: h.environment(false),
    });

    const { deadLetterQueue, schedulerRole } = createScheduleDelivery(this, fn, { schedules: 'compaction schedule', target: 'compaction function' }, COMPACTION_SCHEDULE_GROUP);
    const schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: 'okta-lake: compact the closed org-days and create the Athena view',
      scheduleExpression: props.scheduleExpression ?? DEFAULT_COMPACTION_SCHEDULE,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: fn.functionArn,
        roleArn: schedulerRole.roleArn,
        input: JSON.stringify({} satisfies CompactEvent),
        // A delivery older than an hour is replaced by the next run.
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        deadLetterConfig: { arn: deadLetterQueue.queueArn },
      },
    });

    const alarm = (lid: string, p: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const a = new cloudwatch.Alarm(this, lid, p);
      a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      a.addOkAction(new actions.SnsAction(props.alarmTopic));
      return a;
    };
    const failuresAlarm = alarm('FailuresAlarm', {
      alarmDescription: 'okta-lake: an org-day could not be compacted (a uuid stored with two raw texts, failed verification, a misplaced row, or a writer that ignored the freeze). Its originals are still read; the compaction log names the day.',
      metric: new cloudwatch.Metric({ namespace: COMPACT_METRICS.namespace, metricName: COMPACT_METRICS.names.failures, dimensionsMap: { service: COMPACT_METRICS.service }, statistic: 'Sum', period: Duration.hours(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const errorsAlarm = alarm('ErrorsAlarm', {
      alarmDescription: 'okta-lake: a compaction run failed (the view could not be created, the lake or the watermarks could not be read, or a timeout); see its logs. Readers still see each day once, through the view in place.',
      metric: fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return { function: fn, role, logGroup, schedule, deadLetterQueue, schedulerRole, failuresAlarm, errorsAlarm };
  }

  /**
   * The role's statements. `compact`: the compaction function's (reads the originals, writes under
   * `compacted/`, reads the watermarks); otherwise the view function's (reads `compacted/` only).
   */
  private statements(props: CompactionProps, logGroup: logs.LogGroup, compact: boolean): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const { catalog } = props;
    const readPrefixes: readonly string[] = compact ? COMPACTION_READ_PREFIXES : [COMPACTED_PREFIX];
    const glueArn = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, ...(resourceName ? { resourceName } : {}) });
    const tableArn = (name: string) => glueArn('table', `${catalog.databaseName}/${name}`);
    const t = catalog.tables;
    const workGroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: catalog.workGroupName });
    return [
      writeOwnLogsStatement(logGroup),
      new iam.PolicyStatement({ sid: 'ReadLake', actions: ['s3:GetObject'], resources: readPrefixes.map((p) => props.bucket.arnForObjects(`${p}/*`)) }),
      ...(compact
        ? [
            // Write-once: the bucket policy denies a PutObject without If-None-Match, which the S3 sink sends.
            new iam.PolicyStatement({ sid: 'WriteCompacted', actions: ['s3:PutObject'], resources: [props.bucket.arnForObjects(`${COMPACTION_WRITE_PREFIX}/*`)] }),
          ]
        : []),
      compact
        ? // Not limited by s3:prefix, unlike every other ListBucket grant of the stack: compaction asks
          // for records that may not exist yet (a day's freeze, manifest and switch records are read
          // before they are written once), and S3 answers a GetObject of a missing key with 404 only
          // to a caller allowed s3:ListBucket on the bucket, with 403 AccessDenied otherwise (GetObject,
          // "Permissions", S3 API Reference). A GetObject request carries no s3:prefix, so a grant with
          // a prefix condition would not count. The role reads every event of the lake anyway; this adds
          // the key names of quarantine/.
          new iam.PolicyStatement({ sid: 'ListLake', actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] })
        : // The view function only lists compacted/ and reads what the listing returned.
          new iam.PolicyStatement({
            sid: 'ListLake',
            actions: ['s3:ListBucket'],
            resources: [props.bucket.bucketArn],
            conditions: { StringLike: { 's3:prefix': readPrefixes.map((p) => `${p}/*`) } },
          }),
      ...(compact ? [new iam.PolicyStatement({ sid: 'ReadWatermarks', actions: ['dynamodb:GetItem'], resources: [props.watermarkTable.tableArn] })] : []),
      // Decrypt the lake's objects and the watermark table; encrypt the parts and the DDL's result (SSE-KMS).
      new iam.PolicyStatement({ sid: 'LakeKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.key.keyArn] }),
      new iam.PolicyStatement({ sid: 'RunViewDdl', actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution'], resources: [workGroupArn] }),
      new iam.PolicyStatement({
        sid: 'ReadViewMetadata',
        // GetTableMetadata is authorized on the data catalog (and names the workgroup).
        actions: ['athena:GetTableMetadata'],
        resources: [stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: ATHENA_DATA_CATALOG }), workGroupArn],
      }),
      // What Athena does on the caller's behalf for CREATE OR REPLACE VIEW: read the database and the
      // tables the view selects from (and the view, if it exists), then create or update the view's
      // Glue table. Glue authorizes a table action on the table and on its ancestors, the catalog and
      // the database ("Configure access to databases and tables in the AWS Glue Data Catalog",
      // https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html).
      new iam.PolicyStatement({
        sid: 'ReadTableDefinitions',
        actions: ['glue:GetDatabase', 'glue:GetTable'],
        resources: [glueArn('catalog'), glueArn('database', catalog.databaseName), ...[t.view, t.events, t.late, t.compacted].map(tableArn)],
      }),
      new iam.PolicyStatement({
        sid: 'CreateOrReplaceView',
        actions: ['glue:CreateTable', 'glue:UpdateTable'],
        resources: [glueArn('catalog'), glueArn('database', catalog.databaseName), tableArn(t.view)],
      }),
      new iam.PolicyStatement({ sid: 'LocateQueryResults', actions: ['s3:GetBucketLocation'], resources: [props.athenaResultsBucket.bucketArn] }),
      new iam.PolicyStatement({
        sid: 'QueryResults',
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [props.athenaResultsBucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}/*`)],
      }),
    ];
  }
}
