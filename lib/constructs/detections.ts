/**
 * Detections: every `athena-queries/*.sql` file as an Athena named query in the workgroup (the
 * console's saved queries, and what the runner fetches and runs), and for the scheduled detections
 * the runner that e-mails their new findings:
 *
 * - one EventBridge Scheduler schedule per scheduled detection, invoking the runner function with the
 *   detection's payload (`detectionPayload()`: its named query id, title, severity, finding key,
 *   description, runbook, lookback), with retries and a dead-letter queue;
 * - the runner function (lambdas/detect/handler.ts) and its least-privilege role;
 * - the suppression table (fingerprints of findings already e-mailed, expiring through TTL);
 * - the findings topic, encrypted with its own key, subscribed by e-mail (optionally filtered on the
 *   `severity` message attribute); separate from the operational alarms topic, so analysts and
 *   on-call can subscribe to one or the other;
 * - alarms (failed runs, function errors, no runs at all, dead-lettered deliveries) on the
 *   operational alarms topic: a detection that cannot run is never silence.
 *
 * The SQL is the files' text, loaded at synth time (`loadQueries()`): one source of truth for the
 * console, the runner, `okta-lake hunt` and the tests. IAM is written statement by statement, as in
 * the ingestion construct: CDK's grant helpers emit wildcard actions.
 */
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { basename, join } from 'node:path';
import type { LambdaArchitectureName } from '../config/config';
import { DETECT_ENV, DETECT_METRICS, FINDING_ATTRIBUTES } from '../config/detect-contract';
import { SUPPRESSION_TABLE_KEY, SUPPRESSION_TTL_ATTRIBUTE } from '../config/table-contract';
import { detectionPayload } from '../core/detect/input';
import { ConfigError } from '../core/errors';
import { COMPACTED_PREFIX, EVENTS_PREFIX, LATE_PREFIX } from '../core/layout';
import { SEVERITIES, loadQueries, type QueryDefinition, type Severity } from '../core/queries';
import type { Catalog } from './catalog';
import { PROJECT_ROOT, createFunction, functionLogGroup, powertoolsEnvironment, writeOwnLogsStatement } from './lambda-defaults';
import { createScopedKey } from './scoped-key';
import { createScheduleDelivery } from './schedule-delivery';

export const DETECT_HANDLER_ENTRY = join(PROJECT_ROOT, 'lambdas', 'detect', 'handler.ts');

/** Key prefix of the Athena query results in the results bucket (the workgroup's output location). */
export const ATHENA_RESULTS_PREFIX = 'results';

/**
 * The lake prefixes a query through the `okta_system_log` view reads: the three tables under it
 * (originals, late originals, compacted days). Not `quarantine/`, not `compacted/_state/` beyond
 * what the prefix grant covers (the JSON records hold no event).
 */
export const LAKE_READ_PREFIXES = [EVENTS_PREFIX, LATE_PREFIX, COMPACTED_PREFIX] as const;

/** The Glue tables (and the view) a query of the lake needs the definition of. */
export function lakeTableArns(stack: Stack, catalog: Catalog): string[] {
  const t = catalog.tables;
  return [t.view, t.events, t.late, t.compacted].map((name) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${catalog.databaseName}/${name}` }));
}

/**
 * Largest schedule payload, in UTF-8 bytes. The Scheduler API sets no maximum on `Target.Input`, but
 * its Lambda target invokes the function asynchronously, and Lambda refuses an asynchronous
 * invocation payload over 256 KB.
 */
export const SCHEDULE_INPUT_MAX_BYTES = 256 * 1024;
/** Athena refuses a named query whose text is longer (bytes). */
export const NAMED_QUERY_MAX_BYTES = 262_144;
/** Athena limits of a named query's name and description (characters). */
export const NAMED_QUERY_NAME_MAX = 128;
export const NAMED_QUERY_DESCRIPTION_MAX = 1024;
/** EventBridge Scheduler limits of schedule and group names. */
export const SCHEDULE_NAME_MAX = 64;
const SCHEDULE_NAME = /^[0-9a-zA-Z-_.]+$/;

/** Stands in for the named query id (a token until deployment; a UUID in practice) when measuring a payload. */
const NAMED_QUERY_ID_ALLOWANCE = 'x'.repeat(128);

/** A query file cannot be deployed as it is (too large for Athena or for its schedule's payload). */
export class DetectionDeploymentError extends ConfigError {}

/** The queries that get a schedule: detections with a `schedule`. */
export function scheduledDetections(queries: readonly QueryDefinition[]): QueryDefinition[] {
  return queries.filter((q) => q.kind === 'detection' && q.schedule !== undefined);
}

/** What the console shows next to the name: title, kind, severity and schedule. */
export function namedQueryDescription(q: QueryDefinition): string {
  const when = q.schedule ? `scheduled ${q.schedule}` : 'not scheduled';
  const text = `${q.title} (${q.kind}, severity ${q.severity}, ${when}, lookback ${q.lookback})`;
  return text.length > NAMED_QUERY_DESCRIPTION_MAX ? `${text.slice(0, NAMED_QUERY_DESCRIPTION_MAX - 3)}...` : text;
}

export interface DetectionsProps {
  /** Where the queries run: the Glue database and table, and the Athena workgroup. */
  readonly catalog: Catalog;
  /** The lake bucket (Parquet under `events/`). */
  readonly bucket: s3.IBucket;
  /** The bucket of the workgroup's query results (under `results/`). */
  readonly athenaResultsBucket: s3.IBucket;
  /** The key of the lake and results buckets; it also encrypts the suppression table. */
  readonly key: kms.IKey;
  /** The operational alarms topic: the runner's alarms notify it. */
  readonly alarmTopic: sns.ITopic;
  /** @default - no dashboard widgets */
  readonly dashboard?: cloudwatch.Dashboard;
  /**
   * The query files.
   * @default loadQueries(): every `athena-queries/*.sql`
   */
  readonly queries?: readonly QueryDefinition[];
  /**
   * Deploy the runner (function, schedules, topic, table, alarms). Named queries are deployed either way.
   * @default true
   */
  readonly enabled?: boolean;
  /** E-mail addresses subscribed to the findings topic. @default [] */
  readonly emails?: readonly string[];
  /** Lowest severity e-mailed (a filter policy on the `severity` attribute). @default 'info' */
  readonly minimumSeverity?: Severity;
  /** Default suppression window of the runner, in hours. @default 24 */
  readonly suppressionWindowHours?: number;
  /** Findings listed in one e-mail. @default 20 */
  readonly maxFindingsInMessage?: number;
  /** The orgs evaluated (their host names, as in the lake's `org` partitions). */
  readonly orgs: readonly string[];
  /** The ingestion watermarks: a detection never evaluates past an org's watermark. */
  readonly watermarkTable: dynamodb.ITable;
  /** The detection state table: evaluation cursors and late-evidence logs. */
  readonly evaluationTable: dynamodb.ITable;
  /** Evaluations per run of a detection, over all orgs. @default 48 */
  readonly maxEvaluationsPerRun?: number;
  /** Where a new evaluation cursor starts, in hours before the org's watermark. @default 24 */
  readonly initialBackfillHours?: number;
  /** Alarm when a detection is this many minutes behind an org's watermark. @default 180 */
  readonly lagAlarmMinutes?: number;
  /** @default 'arm64' */
  readonly architecture?: LambdaArchitectureName;
  /** Retention of the runner's log group, in days (a value CloudWatch Logs accepts). @default 365 */
  readonly logRetentionDays?: number;
}

export class Detections extends Construct {
  /** Every query file, in id order. */
  readonly queries: readonly QueryDefinition[];
  /** One per query file, by query id. */
  readonly namedQueries: ReadonlyMap<string, athena.CfnNamedQuery>;
  /** The runner, unless `enabled` is false. */
  readonly runner?: DetectionRunner;

  constructor(scope: Construct, id: string, props: DetectionsProps) {
    super(scope, id);
    this.queries = [...(props.queries ?? loadQueries())];
    const { catalog } = props;
    const namedQueries = new Map<string, athena.CfnNamedQuery>();
    for (const q of this.queries) {
      if (q.id.length > NAMED_QUERY_NAME_MAX) {
        throw new DetectionDeploymentError(`${basename(q.file)}: the query id is ${q.id.length} characters; an Athena named query name has at most ${NAMED_QUERY_NAME_MAX}`);
      }
      const bytes = Buffer.byteLength(q.sql, 'utf8');
      if (bytes > NAMED_QUERY_MAX_BYTES) {
        throw new DetectionDeploymentError(`${basename(q.file)}: the query is ${bytes} bytes; an Athena named query holds at most ${NAMED_QUERY_MAX_BYTES}`);
      }
      if (namedQueries.has(q.id)) throw new DetectionDeploymentError(`${basename(q.file)}: query id "${q.id}" is used by two files`);
      const named = new athena.CfnNamedQuery(this, `Query-${q.id}`, {
        name: q.id,
        description: namedQueryDescription(q),
        database: catalog.databaseName,
        workGroup: catalog.workGroupName,
        queryString: q.sql,
      });
      // Database and workgroup are named, not referenced: order the creation explicitly.
      named.node.addDependency(catalog.workGroup);
      named.node.addDependency(catalog.database);
      namedQueries.set(q.id, named);
    }
    this.namedQueries = namedQueries;

    if (props.enabled ?? true) {
      this.runner = new DetectionRunner(this, 'Runner', { ...props, queries: this.queries, namedQueries });
    }
  }
}

export interface DetectionRunnerProps extends DetectionsProps {
  readonly queries: readonly QueryDefinition[];
  readonly namedQueries: ReadonlyMap<string, athena.CfnNamedQuery>;
}

/** The detection runner: function, role, schedules, findings topic, suppression table and alarms. */
export class DetectionRunner extends Construct {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly table: dynamodb.Table;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;
  readonly function: nodejs.NodejsFunction;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedulerRole: iam.Role;
  /** Holds the detection schedules, each named after its detection: `<stack name>-detections`. */
  readonly scheduleGroup: scheduler.CfnScheduleGroup;
  /** One per scheduled detection, by detection id. */
  readonly schedules: ReadonlyMap<string, scheduler.CfnSchedule>;
  readonly failedRunsAlarm: cloudwatch.Alarm;
  readonly errorsAlarm: cloudwatch.Alarm;
  readonly deadLettersAlarm: cloudwatch.Alarm;
  /** Fires when the function ran not once in twice the longest schedule period (schedules off or undeliverable). */
  readonly notRunningAlarm?: cloudwatch.Alarm;
  /** One per org: the detections' evaluation is behind what the lake holds. */
  readonly lagAlarms: ReadonlyMap<string, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: DetectionRunnerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const scheduled = scheduledDetections(props.queries);
    const maxFindingsInMessage = props.maxFindingsInMessage ?? 20;
    const suppressionWindowHours = props.suppressionWindowHours ?? 24;

    const groupName = `${stack.stackName}-detections`;
    if (groupName.length > SCHEDULE_NAME_MAX || !SCHEDULE_NAME.test(groupName)) {
      throw new DetectionDeploymentError(`the schedule group name "${groupName}" (stack name + "-detections") must be at most ${SCHEDULE_NAME_MAX} letters, digits, "-", "_" or "."`);
    }
    // Payloads and names are checked before anything else is built: a bad file fails synth by name.
    const payloadProbe = (q: QueryDefinition): number =>
      Buffer.byteLength(JSON.stringify(detectionPayload(q, NAMED_QUERY_ID_ALLOWANCE, { maxFindingsInMessage })), 'utf8');
    for (const q of scheduled) {
      if (q.id.length > SCHEDULE_NAME_MAX) {
        throw new DetectionDeploymentError(`${basename(q.file)}: the id of detection "${q.id}" names its schedule, which takes at most ${SCHEDULE_NAME_MAX} characters`);
      }
      const bytes = payloadProbe(q);
      if (bytes > SCHEDULE_INPUT_MAX_BYTES) {
        throw new DetectionDeploymentError(
          `${basename(q.file)}: the schedule payload of detection "${q.id}" would be ${bytes} bytes (its description and runbook travel in it); at most ${SCHEDULE_INPUT_MAX_BYTES} bytes are allowed. Shorten the header's description or runbook.`,
        );
      }
    }

    // Findings name users, IP addresses and devices: their own key, usable only through SNS.
    this.topicKey = createScopedKey(this, 'FindingsKey', {
      description: 'okta-lake: encrypts the detection findings topic',
      viaServices: ['sns'],
    });
    this.topic = new sns.Topic(this, 'Findings', {
      displayName: 'okta-lake findings',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    const minimum = props.minimumSeverity ?? 'info';
    const allowed = SEVERITIES.slice(SEVERITIES.indexOf(minimum));
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(
        new subscriptions.EmailSubscription(email, {
          ...(minimum === 'info'
            ? {}
            : { filterPolicy: { [FINDING_ATTRIBUTES.severity]: sns.SubscriptionFilter.stringFilter({ allowlist: [...allowed] }) } }),
        }),
      );
    }

    // What was e-mailed, by fingerprint. Losing it costs at most one repeated e-mail per open
    // finding, so the table goes with the stack (unlike the watermarks).
    this.table = new dynamodb.Table(this, 'Suppression', {
      partitionKey: { name: SUPPRESSION_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: SUPPRESSION_TTL_ATTRIBUTE,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.logGroup = functionLogGroup(this, 'Logs', props.logRetentionDays ?? 365);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'okta-lake detection runner: runs the named queries in the workgroup, records what it e-mailed, publishes findings',
      inlinePolicies: { detections: new iam.PolicyDocument({ statements: this.runnerStatements(props) }) },
    });
    // cdk-nag names a finding after the resource as written, e.g. `<LakeDataABC123.Arn>/events/*`.
    const logicalIdOf = (bucket: s3.IBucket): string => stack.getLogicalId(bucket.node.defaultChild as CfnElement);
    for (const prefix of LAKE_READ_PREFIXES) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.bucket)}.Arn>/${prefix}/*]`,
        reason: `Athena reads the Parquet files of the partitions a query selects through the lake view, named at run time; the wildcard is confined to the ${prefix}/ prefix of the lake bucket, with s3:GetObject only.`,
      });
    }
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.athenaResultsBucket)}.Arn>/${ATHENA_RESULTS_PREFIX}/*]`,
      reason: `Athena writes and the runner reads result files named by query execution id; the wildcard is confined to the ${ATHENA_RESULTS_PREFIX}/ prefix of the Athena results bucket.`,
    });

    this.function = createFunction(this, 'Function', {
      description: 'okta-lake: runs one scheduled detection in Athena and e-mails its new findings',
      entry: DETECT_HANDLER_ENTRY,
      architecture: props.architecture ?? 'arm64',
      bundleName: 'the detection runner bundle',
      // The function waits on Athena; it does no heavy work itself.
      memorySize: 256,
      // The runner stops waiting for the query 20 s before the end, to read results and publish.
      timeout: Duration.minutes(5),
      role: this.role,
      logGroup: this.logGroup,
      // A failed run is retried: a retry is what publishes findings whose publish failed (their
      // claims were released), and suppression keeps a retry from e-mailing twice.
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      environment: {
        [DETECT_ENV.workGroup]: props.catalog.workGroupName,
        [DETECT_ENV.database]: props.catalog.databaseName,
        [DETECT_ENV.suppressionTable]: this.table.tableName,
        [DETECT_ENV.topicArn]: this.topic.topicArn,
        [DETECT_ENV.suppressionWindowMinutes]: String(suppressionWindowHours * 60),
        [DETECT_ENV.orgs]: JSON.stringify(props.orgs),
        [DETECT_ENV.watermarkTable]: props.watermarkTable.tableName,
        [DETECT_ENV.evaluationTable]: props.evaluationTable.tableName,
        [DETECT_ENV.maxEvaluationsPerRun]: String(props.maxEvaluationsPerRun ?? 48),
        [DETECT_ENV.initialBackfillMinutes]: String((props.initialBackfillHours ?? 24) * 60),
        ...powertoolsEnvironment(DETECT_METRICS),
      },
    });

    ({ deadLetterQueue: this.deadLetterQueue, schedulerRole: this.schedulerRole } = createScheduleDelivery(this, this.function, { schedules: 'detection schedules', target: 'runner' }, groupName));

    // One group per stack: schedules are named after their detection, and deleting the group deletes them.
    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', { name: groupName });
    const schedules = new Map<string, scheduler.CfnSchedule>();
    for (const q of scheduled) {
      const named = props.namedQueries.get(q.id);
      if (!named) throw new DetectionDeploymentError(`${basename(q.file)}: detection "${q.id}" has no named query`);
      const periodSeconds = (q.scheduleMinutes ?? 1) * 60;
      schedules.set(
        q.id,
        new scheduler.CfnSchedule(this, `Schedule-${q.id}`, {
          name: q.id,
          groupName: this.scheduleGroup.ref,
          description: `okta-lake: run detection ${q.id}`.slice(0, 512),
          scheduleExpression: q.schedule!,
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: this.function.functionArn,
            roleArn: this.schedulerRole.roleArn,
            input: stack.toJsonString(detectionPayload(q, named.attrNamedQueryId, { maxFindingsInMessage })),
            retryPolicy: {
              maximumRetryAttempts: 3,
              // A delivery older than one period is replaced by the next run.
              maximumEventAgeInSeconds: Math.min(86_400, Math.max(60, periodSeconds)),
            },
            deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
          },
        }),
      );
    }
    this.schedules = schedules;

    const fiveMinutes = Duration.minutes(5);
    this.failedRunsAlarm = this.alarm(props.alarmTopic, 'FailedRunsAlarm', {
      alarmDescription: 'okta-lake: a detection run failed (query failed or timed out, results unreadable, or findings not published). The DetectionFailed metric per DetectionId and the runner logs say which.',
      metric: new cloudwatch.Metric({
        namespace: DETECT_METRICS.namespace,
        metricName: DETECT_METRICS.names.failed,
        dimensionsMap: { service: DETECT_METRICS.service },
        statistic: 'Sum',
        period: fiveMinutes,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorsAlarm = this.alarm(props.alarmTopic, 'ErrorsAlarm', {
      alarmDescription: 'okta-lake: the detection runner function failed (including timeouts and crashes that report no metric); see its logs.',
      metric: this.function.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLettersAlarm = this.alarm(props.alarmTopic, 'DeadLettersAlarm', {
      alarmDescription: 'okta-lake: the scheduler could not deliver detection runs to the function; they are in the dead-letter queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (scheduled.length > 0) {
      const longest = Math.max(...scheduled.map((q) => q.scheduleMinutes ?? 1));
      const period = Duration.minutes(Math.min(24 * 60, Math.max(60, 2 * longest)));
      this.notRunningAlarm = this.alarm(props.alarmTopic, 'NotRunningAlarm', {
        alarmDescription: `okta-lake: no detection ran in the last ${period.toMinutes()} minutes: the schedules are disabled or cannot invoke the function.`,
        metric: this.function.metricInvocations({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }

    const lagMinutes = props.lagAlarmMinutes ?? 180;
    const lagAlarms = new Map<string, cloudwatch.Alarm>();
    props.orgs.forEach((org, i) => {
      lagAlarms.set(
        org,
        this.alarm(props.alarmTopic, `LagAlarm${i}`, {
          alarmDescription:
            `okta-lake: the detections of ${org} are more than ${lagMinutes} minutes behind what the lake holds (an evaluation backlog: ` +
            'the runner failing, throttled or out of time, or a large backfill). The runner logs say which detection; late evidence waits too (DetectionLateRangesPending).',
          metric: this.lagMetric(org, Duration.minutes(15)),
          threshold: lagMinutes * 60,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    });
    this.lagAlarms = lagAlarms;

    if (props.dashboard) this.addWidgets(props.dashboard, scheduled, props.orgs);
  }

  /** The detection lag of an org: the largest watermark-minus-cursor any detection reported (seconds). */
  lagMetric(org: string, period: Duration, metricName: string = DETECT_METRICS.names.lagSeconds, label?: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: DETECT_METRICS.namespace,
      metricName,
      dimensionsMap: { service: DETECT_METRICS.service, [DETECT_METRICS.orgDimension]: org },
      statistic: 'Maximum',
      period,
      ...(label !== undefined ? { label } : {}),
    });
  }

  private alarm(topic: sns.ITopic, id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, props);
    const action = new actions.SnsAction(topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }

  private addWidgets(dashboard: cloudwatch.Dashboard, scheduled: readonly QueryDefinition[], orgs: readonly string[]): void {
    const { names, namespace, service, detectionDimension, detectionMetadata } = DETECT_METRICS;
    // Only the metrics in DETECT_METRICS.perDetection exist per detection (the others would cost
    // ~$0.30 a month each per detection); new findings and bytes scanned are graphed over all
    // detections, and tabulated per detection from the runner's log.
    const perDetection = (name: (typeof DETECT_METRICS.perDetection)[number], statistic: string): cloudwatch.Metric[] =>
      scheduled.map(
        (q) =>
          new cloudwatch.Metric({
            namespace,
            metricName: name,
            dimensionsMap: { service, [detectionDimension]: q.id },
            statistic,
            period: Duration.hours(1),
            label: q.id,
          }),
      );
    const allDetections = (name: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace, metricName: name, dimensionsMap: { service }, statistic: 'Sum', period: Duration.hours(1), label });
    const alarms = [this.failedRunsAlarm, this.errorsAlarm, this.deadLettersAlarm, ...(this.notRunningAlarm ? [this.notRunningAlarm] : []), ...this.lagAlarms.values()];
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Detection alarms', width: 24, alarms }));
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Detection lag (watermark minus the oldest cursor), seconds, per org', left: orgs.map((o) => this.lagMetric(o, Duration.minutes(15), DETECT_METRICS.names.lagSeconds, o)), width: 12 }),
      new cloudwatch.GraphWidget({
        title: 'Late-evidence ranges waiting for re-evaluation, per org',
        left: orgs.map((o) => this.lagMetric(o, Duration.minutes(15), DETECT_METRICS.names.lateRangesPending, o)),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Failed detection runs, per detection', left: perDetection(names.failed, 'Sum'), width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Findings (new and suppressed), per detection', left: perDetection(names.findings, 'Sum'), width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'New findings e-mailed, all detections', left: [allDetections(names.newFindings, 'new findings')], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Bytes scanned by Athena, all detections', left: [allDetections(names.dataScannedBytes, 'bytes scanned')], width: 12 }),
    );
    // The runner's record over all detections carries the detection id as a log field: a Logs
    // Insights query (billed per GB of log scanned when the dashboard loads) splits it by detection.
    dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Runs, new findings and bytes scanned, per detection (runner log)',
        logGroupNames: [this.logGroup.logGroupName],
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        queryLines: [
          `filter ispresent(${detectionMetadata}) and ispresent(${names.failed})`,
          `stats count(*) as runs, sum(${names.failed}) as failed, sum(${names.newFindings}) as newFindings, sum(${names.dataScannedBytes}) as bytesScanned by ${detectionMetadata}`,
          'sort newFindings desc',
        ],
        width: 24,
        height: 8,
      }),
    );
  }

  private runnerStatements(props: DetectionRunnerProps): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const { catalog } = props;
    return [
      writeOwnLogsStatement(this.logGroup),
      new iam.PolicyStatement({
        sid: 'RunNamedQueriesInWorkGroup',
        actions: ['athena:GetNamedQuery', 'athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
        resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: catalog.workGroupName })],
      }),
      new iam.PolicyStatement({
        sid: 'ReadLakeTableDefinition',
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: catalog.databaseName }),
          // The view the queries read and the three tables under it.
          ...lakeTableArns(stack, catalog),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'ReadLakeEvents',
        actions: ['s3:GetObject'],
        resources: LAKE_READ_PREFIXES.map((prefix) => props.bucket.arnForObjects(`${prefix}/*`)),
      }),
      new iam.PolicyStatement({
        sid: 'ListLakeEvents',
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': LAKE_READ_PREFIXES.map((prefix) => `${prefix}/*`) } },
      }),
      new iam.PolicyStatement({
        sid: 'LocateBuckets',
        actions: ['s3:GetBucketLocation'],
        resources: [props.bucket.bucketArn, props.athenaResultsBucket.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'QueryResults',
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [props.athenaResultsBucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}/*`)],
      }),
      new iam.PolicyStatement({
        sid: 'ListQueryResults',
        actions: ['s3:ListBucket'],
        resources: [props.athenaResultsBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${ATHENA_RESULTS_PREFIX}/*`] } },
      }),
      new iam.PolicyStatement({
        sid: 'LakeKey',
        // Decrypt the lake and its results, encrypt the results (SSE-KMS), and the suppression table.
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.key.keyArn],
      }),
      new iam.PolicyStatement({
        sid: 'Suppression',
        // A claim is one conditional PutItem; a release one conditional DeleteItem.
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReadWatermarks',
        // Where each org's ingestion stands: a detection never evaluates past it.
        actions: ['dynamodb:GetItem'],
        resources: [props.watermarkTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'EvaluationState',
        // Cursors: a consistent read, then a conditional put; late-evidence logs: read.
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [props.evaluationTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'PublishFindings',
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
      new iam.PolicyStatement({
        sid: 'FindingsKey',
        // Publishing to an encrypted topic: SNS asks for a data key on the publisher's behalf.
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.topicKey.keyArn],
      }),
    ];
  }
}
