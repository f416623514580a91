/**
 * Operations: who hears about it when ingestion breaks, or when someone tampers with the evidence.
 * An SNS topic (encrypted with its own key, TLS only) with the configured e-mail subscriptions;
 * alarms on function errors and throttles, dead-lettered schedule deliveries, and per org on
 * watermark lag and on hours without events; an EventBridge rule on CloudTrail management events
 * that could destroy evidence; and a CloudWatch dashboard.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INGEST_METRICS } from '../config/ingest-contract';
import { createScopedKey } from './scoped-key';

export interface OperationsProps {
  readonly function: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** Org hosts: one lag alarm and one no-events alarm each. */
  readonly orgs: readonly string[];
  readonly alertEmails: readonly string[];
  readonly scheduleMinutes: number;
  readonly noEventsAlarmHours: number;
  readonly watermarkLagAlarmMinutes: number;
  /** @default 'okta-lake' */
  readonly dashboardName?: string;
  /**
   * What holds the evidence: changes that could destroy it (see TAMPER_EVENT_NAMES) made to these
   * buckets and keys are e-mailed to the alarms topic, from CloudTrail's management events.
   * @default - no such notification
   */
  readonly evidence?: { readonly buckets: readonly s3.IBucket[]; readonly keys: readonly kms.IKey[] };
}

/**
 * CloudTrail management events (event names as CloudTrail records them) that can destroy or unlock
 * evidence: deleting or disabling a key (nothing it encrypted can be read again), rewriting a key
 * policy, and changing a bucket's lifecycle, policy, Object Lock or versioning.
 */
export const TAMPER_EVENT_NAMES = {
  kms: ['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy'],
  s3: [
    'PutBucketLifecycle',
    'PutBucketLifecycleConfiguration',
    'DeleteBucketLifecycle',
    'PutBucketPolicy',
    'DeleteBucketPolicy',
    'PutObjectLockConfiguration',
    'PutBucketVersioning',
  ],
} as const;

export interface OrgAlarms {
  readonly watermarkLag: cloudwatch.Alarm;
  readonly noEvents: cloudwatch.Alarm;
  /** A retried page differed from what its earlier attempt stored, or a page's key was taken unexpectedly. */
  readonly unusualWrites: cloudwatch.Alarm;
}

/** A metric the ingestion handler emits for one org. */
export function orgMetric(
  name: (typeof INGEST_METRICS.names)[keyof typeof INGEST_METRICS.names],
  org: string,
  statistic: string,
  period: Duration,
  label?: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: INGEST_METRICS.namespace,
    metricName: name,
    dimensionsMap: { service: INGEST_METRICS.service, [INGEST_METRICS.orgDimension]: org },
    statistic,
    period,
    ...(label ? { label } : {}),
  });
}

export class Operations extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  readonly errorsAlarm: cloudwatch.Alarm;
  readonly throttlesAlarm: cloudwatch.Alarm;
  readonly deadLettersAlarm: cloudwatch.Alarm;
  readonly orgAlarms: ReadonlyMap<string, OrgAlarms>;
  readonly dashboard: cloudwatch.Dashboard;
  /** Notifies the alarms topic of a change that could destroy evidence (when `evidence` is given). */
  readonly tamperRule?: events.Rule;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);

    // CloudWatch alarms cannot publish to a topic under the AWS managed aws/sns key: the topic gets
    // its own key, which only SNS (for this account) and CloudWatch may use, CloudWatch only for the
    // alarms of this account (confused-deputy prevention, as on the topic policy below).
    const alarmsOfThisAccount = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
    };
    this.key = createScopedKey(this, 'TopicKey', {
      description: 'okta-lake: encrypts the operational alarms topic',
      viaServices: ['sns'],
      servicePrincipals: [
        { service: 'cloudwatch.amazonaws.com', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], conditions: alarmsOfThisAccount },
        // EventBridge delivering the tamper notifications. No aws:SourceAccount/SourceArn here: EventBridge
        // does not send them with the KMS request of a delivery to an encrypted topic (Amazon SNS
        // Developer Guide, "Enable compatibility between event sources from AWS services and encrypted
        // topics"), so such a condition would drop every notification. The topic policy below admits
        // only this stack's rule.
        ...(props.evidence ? [{ service: 'events.amazonaws.com', actions: ['kms:Decrypt', 'kms:GenerateDataKey'] }] : []),
      ],
    });
    this.topic = new sns.Topic(this, 'Alarms', {
      displayName: 'okta-lake alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: alarmsOfThisAccount,
      }),
    );
    for (const email of props.alertEmails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    if (props.evidence) this.tamperRule = this.notifyTampering(props.evidence);

    const schedule = Duration.minutes(props.scheduleMinutes);
    const period = Duration.minutes(Math.max(5, props.scheduleMinutes));

    this.errorsAlarm = this.alarm('IngestErrors', {
      alarmDescription: 'okta-lake: the ingestion function failed in 2 of the last 3 periods (see its logs).',
      metric: props.function.metricErrors({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.throttlesAlarm = this.alarm('IngestThrottles', {
      alarmDescription: 'okta-lake: ingestion runs were throttled (reserved concurrency reached: runs are slower than the schedule).',
      metric: props.function.metricThrottles({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLettersAlarm = this.alarm('ScheduleDeadLetters', {
      alarmDescription: 'okta-lake: the scheduler could not deliver ingestion runs to the function; they are in the dead-letter queue.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // A healthy org reports its lag every run; three schedule periods without a report also alarm.
    const lagPeriod = Duration.minutes(Math.max(15, props.scheduleMinutes * 3));
    const noEventsPeriod = Duration.hours(props.noEventsAlarmHours);
    const orgAlarms = new Map<string, OrgAlarms>();
    props.orgs.forEach((org, i) => {
      orgAlarms.set(org, {
        watermarkLag: this.alarm(`WatermarkLag${i}`, {
          alarmDescription: `okta-lake: ${org} is more than ${props.watermarkLagAlarmMinutes} minutes behind, or reported no lag for ${lagPeriod.toMinutes()} minutes.`,
          metric: orgMetric(INGEST_METRICS.names.watermarkLagSeconds, org, 'Maximum', lagPeriod),
          threshold: props.watermarkLagAlarmMinutes * 60,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
        noEvents: this.alarm(`NoEvents${i}`, {
          alarmDescription: `okta-lake: no event of ${org} was written in the last ${props.noEventsAlarmHours} hours.`,
          metric: orgMetric(INGEST_METRICS.names.eventsWritten, org, 'Sum', noEventsPeriod),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
        unusualWrites: this.alarm(`UnusualWrites${i}`, {
          alarmDescription: `okta-lake: ${org}: a page fetched again differed from what an earlier attempt stored, or a page's object existed where none was expected. Nothing was overwritten; see the ingestion logs (warnings with the page) and compare with Okta.`,
          metric: new cloudwatch.MathExpression({
            expression: 'differing + unexpected',
            usingMetrics: {
              differing: orgMetric(INGEST_METRICS.names.retriedPagesDiffering, org, 'Sum', period),
              unexpected: orgMetric(INGEST_METRICS.names.unexpectedObjects, org, 'Sum', period),
            },
            period,
            label: 'unusual writes',
          }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      });
    });
    this.orgAlarms = orgAlarms;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'okta-lake',
      defaultInterval: Duration.days(1),
    });
    const perOrg = (name: (typeof INGEST_METRICS.names)[keyof typeof INGEST_METRICS.names], statistic: string) =>
      props.orgs.map((org) => orgMetric(name, org, statistic, schedule, org));
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        width: 24,
        alarms: [this.errorsAlarm, this.throttlesAlarm, this.deadLettersAlarm, ...[...orgAlarms.values()].flatMap((a) => [a.watermarkLag, a.noEvents, a.unusualWrites])],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Events written', left: perOrg(INGEST_METRICS.names.eventsWritten, 'Sum'), width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Watermark lag (s)', left: perOrg(INGEST_METRICS.names.watermarkLagSeconds, 'Maximum'), width: 12 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Pages', left: perOrg(INGEST_METRICS.names.pages, 'Sum'), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Rate-limit waits (ms)', left: perOrg(INGEST_METRICS.names.rateLimitWaitMs, 'Sum'), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Events quarantined', left: perOrg(INGEST_METRICS.names.eventsQuarantined, 'Sum'), width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Late events recovered by the sweep', left: perOrg(INGEST_METRICS.names.lateEventsRecovered, 'Sum'), width: 24 }),
    );
    // Okta's edges the ingestion works around (lib/core/ingest/ingest.ts); each is rare, and a rising
    // line says where to look: query timeouts, stale cursors, empty pages with a next link.
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Windows split (Okta query timeouts, E0000009)', left: perOrg(INGEST_METRICS.names.windowSplits, 'Sum'), width: 6 }),
      new cloudwatch.GraphWidget({ title: 'Windows restarted (stale next links)', left: perOrg(INGEST_METRICS.names.cursorRestarts, 'Sum'), width: 6 }),
      new cloudwatch.GraphWidget({ title: 'Events already in the lake (restarted or split windows)', left: perOrg(INGEST_METRICS.names.eventsAlreadyInLake, 'Sum'), width: 6 }),
      new cloudwatch.GraphWidget({ title: 'Empty pages with a next link, followed', left: perOrg(INGEST_METRICS.names.emptyPagesFollowed, 'Sum'), width: 6 }),
    );
    // The write-once lake: pages stored by an attempt that died before its checkpoint, read again
    // against the lake (lib/core/ingest/ingest.ts, "Retried pages").
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Pages retried after a crash', left: perOrg(INGEST_METRICS.names.retriedPages, 'Sum'), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Retried pages that differed (alarmed)', left: perOrg(INGEST_METRICS.names.retriedPagesDiffering, 'Sum'), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Page objects found taken unexpectedly (alarmed)', left: perOrg(INGEST_METRICS.names.unexpectedObjects, 'Sum'), width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Ingestion function',
        left: [props.function.metricInvocations({ period }), props.function.metricErrors({ period }), props.function.metricThrottles({ period })],
        right: [props.function.metricDuration({ period, statistic: 'Maximum' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-lettered schedule deliveries',
        left: [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })],
        width: 12,
      }),
    );
  }

  /**
   * An EventBridge rule on CloudTrail's management events (which reach EventBridge only where a trail
   * records management events) for the evidence's buckets and keys. CloudTrail lists the bucket or
   * key a call concerns in the event's `resources`. The target is wired by hand: CDK's SnsTopic
   * target would grant `kms:GenerateDataKey*` on the topic key.
   */
  private notifyTampering(evidence: NonNullable<OperationsProps['evidence']>): events.Rule {
    const topic = this.topic;
    const rule = new events.Rule(this, 'EvidenceTampering', {
      description: 'okta-lake: a change that could destroy evidence (key deletion or disabling, key policy, bucket lifecycle, policy, Object Lock or versioning)',
      eventPattern: {
        source: ['aws.kms', 'aws.s3'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventName: [...TAMPER_EVENT_NAMES.kms, ...TAMPER_EVENT_NAMES.s3],
          // The alarm topic's own key too: disabling it silences every alarm.
          resources: { ARN: [...evidence.buckets.map((b) => b.bucketArn), ...evidence.keys.map((k) => k.keyArn), this.key.keyArn] },
        },
      },
      targets: [{ bind: () => ({ arn: topic.topicArn }) }],
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EvidenceTamperingRuleOfThisStack',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }),
    );
    return rule;
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, props);
    const action = new actions.SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}
