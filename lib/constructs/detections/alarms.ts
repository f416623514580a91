/**
 * The detection runner's alarms, on the operational alarms topic (alarm and OK): failed runs,
 * function errors, dead-lettered deliveries, no runs at all, and per org an evaluation lag. A
 * detection that cannot run is never silence.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DETECT_METRICS } from '../../config/detect-contract';
import type { QueryDefinition } from '../../core/queries';

/** Alarm on a single occurrence in one period; a period with no data had none. */
const ON_ANY_OCCURRENCE = {
  threshold: 1,
  evaluationPeriods: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
} as const satisfies Partial<cloudwatch.AlarmProps>;

/** The detection lag of an org: the largest watermark-minus-cursor any detection reported (seconds). */
export function detectionLagMetric(org: string, period: Duration, metricName: string = DETECT_METRICS.names.lagSeconds, label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: DETECT_METRICS.namespace,
    metricName,
    dimensionsMap: { service: DETECT_METRICS.service, [DETECT_METRICS.orgDimension]: org },
    statistic: 'Maximum',
    period,
    ...(label !== undefined ? { label } : {}),
  });
}

export interface RunnerAlarmsProps {
  readonly alarmTopic: sns.ITopic;
  readonly function: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  readonly scheduled: readonly QueryDefinition[];
  readonly orgs: readonly string[];
  /** @default 180 */
  readonly lagAlarmMinutes?: number;
}

export interface RunnerAlarms {
  readonly failedRunsAlarm: cloudwatch.Alarm;
  readonly errorsAlarm: cloudwatch.Alarm;
  readonly deadLettersAlarm: cloudwatch.Alarm;
  /** Fires when the function ran not once in twice the longest schedule period (schedules off or undeliverable). */
  readonly notRunningAlarm?: cloudwatch.Alarm;
  /** One per org: the detections' evaluation is behind what the lake holds. */
  readonly lagAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
}

/** The alarms, created in `scope` (the runner) with the ids `FailedRunsAlarm`, `ErrorsAlarm`, ... */
export function createRunnerAlarms(scope: Construct, props: RunnerAlarmsProps): RunnerAlarms {
  const alarm = (id: string, alarmProps: cloudwatch.AlarmProps): cloudwatch.Alarm => {
    const created = new cloudwatch.Alarm(scope, id, alarmProps);
    const action = new actions.SnsAction(props.alarmTopic);
    created.addAlarmAction(action);
    created.addOkAction(action);
    return created;
  };
  const fiveMinutes = Duration.minutes(5);
  const failedRunsAlarm = alarm('FailedRunsAlarm', {
    alarmDescription: 'okta-lake: a detection run failed (query failed or timed out, results unreadable, or findings not published). The DetectionFailed metric per DetectionId and the runner logs say which.',
    metric: new cloudwatch.Metric({
      namespace: DETECT_METRICS.namespace,
      metricName: DETECT_METRICS.names.failed,
      dimensionsMap: { service: DETECT_METRICS.service },
      statistic: 'Sum',
      period: fiveMinutes,
    }),
    ...ON_ANY_OCCURRENCE,
  });
  const errorsAlarm = alarm('ErrorsAlarm', {
    alarmDescription: 'okta-lake: the detection runner function failed (including timeouts and crashes that report no metric); see its logs.',
    metric: props.function.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
    ...ON_ANY_OCCURRENCE,
  });
  const deadLettersAlarm = alarm('DeadLettersAlarm', {
    alarmDescription: 'okta-lake: the scheduler could not deliver detection runs to the function; they are in the dead-letter queue.',
    metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }),
    ...ON_ANY_OCCURRENCE,
  });
  let notRunningAlarm: cloudwatch.Alarm | undefined;
  if (props.scheduled.length > 0) {
    const longest = Math.max(...props.scheduled.map((q) => q.scheduleMinutes ?? 1));
    const period = Duration.minutes(Math.min(24 * 60, Math.max(60, 2 * longest)));
    notRunningAlarm = alarm('NotRunningAlarm', {
      alarmDescription: `okta-lake: no detection ran in the last ${period.toMinutes()} minutes: the schedules are disabled or cannot invoke the function.`,
      metric: props.function.metricInvocations({ period, statistic: 'Sum' }),
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
      alarm(`LagAlarm${i}`, {
        alarmDescription:
          `okta-lake: the detections of ${org} are more than ${lagMinutes} minutes behind what the lake holds (an evaluation backlog: ` +
          'the runner failing, throttled or out of time, or a large backfill). The runner logs say which detection; late evidence waits too (DetectionLateRangesPending).',
        metric: detectionLagMetric(org, Duration.minutes(15)),
        threshold: lagMinutes * 60,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  });
  return { failedRunsAlarm, errorsAlarm, deadLettersAlarm, ...(notRunningAlarm ? { notRunningAlarm } : {}), lagAlarms };
}

/** Every alarm of the runner, in the order the dashboard shows them. */
export function allRunnerAlarms(a: RunnerAlarms): cloudwatch.Alarm[] {
  return [a.failedRunsAlarm, a.errorsAlarm, a.deadLettersAlarm, ...(a.notRunningAlarm ? [a.notRunningAlarm] : []), ...a.lagAlarms.values()];
}
