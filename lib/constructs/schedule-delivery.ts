/**
 * What an EventBridge Scheduler schedule needs to deliver to a Lambda function: a dead-letter queue
 * for deliveries that fail after their retries, and a role the scheduler assumes (from this account
 * only) that may invoke that one function and send to that one queue. Shared by the ingestion and
 * the detection schedules; created in the caller's scope, so construct ids stay `ScheduleDeadLetters`
 * and `SchedulerRole` there.
 */
import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface ScheduleDelivery {
  readonly deadLetterQueue: sqs.Queue;
  readonly schedulerRole: iam.Role;
}

/**
 * @param what the schedules and their target in words, e.g. `ingestion schedules` / `function`
 * @param scheduleGroup the name of the schedule group the schedules are in (`default` when they name none)
 */
export function createScheduleDelivery(
  scope: Construct,
  target: lambda.IFunction,
  what: { readonly schedules: string; readonly target: string },
  scheduleGroup: string,
): ScheduleDelivery {
  const deadLetterQueue = new sqs.Queue(scope, 'ScheduleDeadLetters', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of the ${what.schedules}; a dead-letter queue of a dead-letter queue would only move the messages the DLQ alarm already reports.`,
  });
  // Confused-deputy prevention as EventBridge Scheduler documents it ("Confused deputy prevention in
  // EventBridge Scheduler", https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html):
  // aws:SourceAccount, and aws:SourceArn as the ARN of the schedule group (the page says not to use a
  // schedule's ARN or a name prefix), so only schedules of that group in this account assume the role.
  const groupArn = Stack.of(scope).formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: scheduleGroup });
  const schedulerRole = new iam.Role(scope, 'SchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnEquals: { 'aws:SourceArn': groupArn } },
    }),
    description: `okta-lake: lets the ${what.schedules} invoke the ${what.target} and dead-letter failed deliveries`,
    inlinePolicies: {
      invoke: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [target.functionArn] }),
          new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [deadLetterQueue.queueArn] }),
        ],
      }),
    },
  });
  return { deadLetterQueue, schedulerRole };
}
