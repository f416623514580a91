/**
 * What an EventBridge Scheduler schedule needs to deliver to a Lambda function: a dead-letter queue
 * for deliveries that fail after their retries, and a role the scheduler assumes (from this account
 * only) that may invoke that one function and send to that one queue. Shared by the ingestion and
 * the detection schedules; created in the caller's scope, so construct ids stay `ScheduleDeadLetters`
 * and `SchedulerRole` there.
 */
import { Aws, Duration, Validations } from 'aws-cdk-lib';
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
 */
export function createScheduleDelivery(scope: Construct, target: lambda.IFunction, what: { readonly schedules: string; readonly target: string }): ScheduleDelivery {
  const deadLetterQueue = new sqs.Queue(scope, 'ScheduleDeadLetters', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of the ${what.schedules}; a dead-letter queue of a dead-letter queue would only move the messages the DLQ alarm already reports.`,
  });
  const schedulerRole = new iam.Role(scope, 'SchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
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
