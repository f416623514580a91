/**
 * The detection schedules: one EventBridge Scheduler schedule per scheduled detection, in one
 * schedule group per stack, invoking the runner with the detection's payload (`detectionPayload()`:
 * its named query id, title, severity, finding key, description, runbook, lookback), with retries
 * and a dead-letter queue. Names and payloads are checked before anything is built, so that a bad
 * query file fails synth by name.
 */
import { type Stack } from 'aws-cdk-lib';
import type * as athena from 'aws-cdk-lib/aws-athena';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { basename } from 'node:path';
import { detectionPayload } from '../../core/detect/input';
import type { QueryDefinition } from '../../core/queries';
import { DetectionDeploymentError } from './errors';

/**
 * Largest schedule payload, in UTF-8 bytes. The Scheduler API sets no maximum on `Target.Input`, but
 * its Lambda target invokes the function asynchronously, and Lambda refuses an asynchronous
 * invocation payload over 256 KB.
 */
export const SCHEDULE_INPUT_MAX_BYTES = 256 * 1024;
/** EventBridge Scheduler limits of schedule and group names. */
export const SCHEDULE_NAME_MAX = 64;
const SCHEDULE_NAME = /^[0-9a-zA-Z-_.]+$/;

/** Stands in for the named query id (a token until deployment; a UUID in practice) when measuring a payload. */
const NAMED_QUERY_ID_ALLOWANCE = 'x'.repeat(128);

/** The queries that get a schedule: detections with a `schedule`. */
export function scheduledDetections(queries: readonly QueryDefinition[]): QueryDefinition[] {
  return queries.filter((q) => q.kind === 'detection' && q.schedule !== undefined);
}

/** The stack's detection schedule group, `<stack name>-detections`, checked against the Scheduler's name rules. */
export function detectionScheduleGroupName(stack: Stack): string {
  const groupName = `${stack.stackName}-detections`;
  if (groupName.length > SCHEDULE_NAME_MAX || !SCHEDULE_NAME.test(groupName)) {
    throw new DetectionDeploymentError(`the schedule group name "${groupName}" (stack name + "-detections") must be at most ${SCHEDULE_NAME_MAX} letters, digits, "-", "_" or "."`);
  }
  return groupName;
}

/** Fails by file name when a detection's id cannot name its schedule or its payload is too large. */
export function assertSchedulable(scheduled: readonly QueryDefinition[], maxFindingsInMessage: number): void {
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
}

export interface DetectionSchedulesProps {
  readonly groupName: string;
  readonly scheduled: readonly QueryDefinition[];
  readonly namedQueries: ReadonlyMap<string, athena.CfnNamedQuery>;
  readonly function: lambda.IFunction;
  readonly schedulerRole: iam.IRole;
  readonly deadLetterQueue: sqs.IQueue;
  readonly maxFindingsInMessage: number;
}

export interface DetectionSchedules {
  readonly scheduleGroup: scheduler.CfnScheduleGroup;
  /** By detection id. */
  readonly schedules: ReadonlyMap<string, scheduler.CfnSchedule>;
}

/** The schedule group (`ScheduleGroup`) and one `Schedule-<id>` per scheduled detection, in `scope`. */
export function createDetectionSchedules(scope: Construct, stack: Stack, props: DetectionSchedulesProps): DetectionSchedules {
  // One group per stack: schedules are named after their detection, and deleting the group deletes them.
  const scheduleGroup = new scheduler.CfnScheduleGroup(scope, 'ScheduleGroup', { name: props.groupName });
  const schedules = new Map<string, scheduler.CfnSchedule>();
  for (const q of props.scheduled) {
    const named = props.namedQueries.get(q.id);
    if (!named) throw new DetectionDeploymentError(`${basename(q.file)}: detection "${q.id}" has no named query`);
    const periodSeconds = (q.scheduleMinutes ?? 1) * 60;
    schedules.set(
      q.id,
      new scheduler.CfnSchedule(scope, `Schedule-${q.id}`, {
        name: q.id,
        groupName: scheduleGroup.ref,
        description: `okta-lake: run detection ${q.id}`.slice(0, 512),
        scheduleExpression: q.schedule!,
        flexibleTimeWindow: { mode: 'OFF' },
        state: 'ENABLED',
        target: {
          arn: props.function.functionArn,
          roleArn: props.schedulerRole.roleArn,
          input: stack.toJsonString(detectionPayload(q, named.attrNamedQueryId, { maxFindingsInMessage: props.maxFindingsInMessage })),
          retryPolicy: {
            maximumRetryAttempts: 3,
            // A delivery older than one period is replaced by the next run.
            maximumEventAgeInSeconds: Math.min(86_400, Math.max(60, periodSeconds)),
          },
          deadLetterConfig: { arn: props.deadLetterQueue.queueArn },
        },
      }),
    );
  }
  return { scheduleGroup, schedules };
}
