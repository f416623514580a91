/**
 * The detection runner: the function (lambdas/detect/handler.ts) and its least-privilege role
 * (runner-policy.ts), the suppression table (fingerprints of findings already e-mailed, expiring
 * through TTL), the findings topic (its own key, subscribed by e-mail, optionally filtered on the
 * `severity` message attribute; separate from the operational alarms topic, so analysts and
 * on-call can subscribe to one or the other), the schedules (schedules.ts), the alarms (alarms.ts)
 * and the dashboard rows (widgets.ts).
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as athena from 'aws-cdk-lib/aws-athena';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { DETECT_ENV, DETECT_METRICS, FINDING_ATTRIBUTES } from '../../config/detect-contract';
import { SUPPRESSION_TABLE_KEY, SUPPRESSION_TTL_ATTRIBUTE } from '../../config/table-contract';
import { SEVERITIES, type QueryDefinition } from '../../core/queries';
import { PROJECT_ROOT, createFunction, functionLogGroup, powertoolsEnvironment } from '../lambda-defaults';
import { createScheduleDelivery } from '../schedule-delivery';
import { createScopedKey } from '../scoped-key';
import { allRunnerAlarms, createRunnerAlarms, detectionLagMetric } from './alarms';
import type { DetectionsProps } from './props';
import { acknowledgeRunnerWildcards, runnerStatements } from './runner-policy';
import { assertSchedulable, createDetectionSchedules, detectionScheduleGroupName, scheduledDetections } from './schedules';
import { addDetectionWidgets } from './widgets';

export const DETECT_HANDLER_ENTRY = join(PROJECT_ROOT, 'lambdas', 'detect', 'handler.ts');

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

    const groupName = detectionScheduleGroupName(stack);
    // Payloads and names are checked before anything else is built: a bad file fails synth by name.
    assertSchedulable(scheduled, maxFindingsInMessage);

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
      inlinePolicies: { detections: new iam.PolicyDocument({ statements: runnerStatements(stack, { ...props, logGroup: this.logGroup, suppressionTable: this.table, topic: this.topic, topicKey: this.topicKey }) }) },
    });
    acknowledgeRunnerWildcards(stack, this.role, props);

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

    ({ scheduleGroup: this.scheduleGroup, schedules: this.schedules } = createDetectionSchedules(this, stack, {
      groupName,
      scheduled,
      namedQueries: props.namedQueries,
      function: this.function,
      schedulerRole: this.schedulerRole,
      deadLetterQueue: this.deadLetterQueue,
      maxFindingsInMessage,
    }));

    const alarms = createRunnerAlarms(this, {
      alarmTopic: props.alarmTopic,
      function: this.function,
      deadLetterQueue: this.deadLetterQueue,
      scheduled,
      orgs: props.orgs,
      ...(props.lagAlarmMinutes !== undefined ? { lagAlarmMinutes: props.lagAlarmMinutes } : {}),
    });
    ({ failedRunsAlarm: this.failedRunsAlarm, errorsAlarm: this.errorsAlarm, deadLettersAlarm: this.deadLettersAlarm, notRunningAlarm: this.notRunningAlarm, lagAlarms: this.lagAlarms } = alarms);

    if (props.dashboard) addDetectionWidgets(props.dashboard, { alarms: allRunnerAlarms(alarms), scheduled, orgs: props.orgs, logGroup: this.logGroup });
  }

  /** The detection lag of an org: the largest watermark-minus-cursor any detection reported (seconds). */
  lagMetric(org: string, period: Duration, metricName: string = DETECT_METRICS.names.lagSeconds, label?: string): cloudwatch.Metric {
    return detectionLagMetric(org, period, metricName, label);
  }
}
