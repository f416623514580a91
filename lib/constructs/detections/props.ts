/** What the Detections construct (and its runner) is given by the stack. */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { LambdaArchitectureName } from '../../config/config';
import type { QueryDefinition, Severity } from '../../core/queries';
import type { Catalog } from '../catalog';

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
