/**
 * The detection runner's role, statement by statement (CDK's grant helpers emit wildcard actions):
 * run the named queries in the workgroup, read the lake through its view, write and read the query
 * results, claim findings in the suppression table, read the watermarks, move the evaluation
 * cursors, publish to the findings topic.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { COMPACTED_PREFIX, EVENTS_PREFIX, LATE_PREFIX } from '../../core/layout';
import { ATHENA_RESULTS_PREFIX, type Catalog } from '../catalog';
import { writeOwnLogsStatement } from '../lambda-defaults';

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

/** What the runner's statements name. */
export interface RunnerResources {
  readonly catalog: Catalog;
  readonly bucket: s3.IBucket;
  readonly athenaResultsBucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly watermarkTable: dynamodb.ITable;
  readonly evaluationTable: dynamodb.ITable;
  readonly logGroup: logs.ILogGroup;
  readonly suppressionTable: dynamodb.ITable;
  readonly topic: sns.ITopic;
  readonly topicKey: kms.IKey;
}

export function runnerStatements(stack: Stack, r: RunnerResources): iam.PolicyStatement[] {
  const { catalog } = r;
  return [
    writeOwnLogsStatement(r.logGroup),
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
      resources: LAKE_READ_PREFIXES.map((prefix) => r.bucket.arnForObjects(`${prefix}/*`)),
    }),
    new iam.PolicyStatement({
      sid: 'ListLakeEvents',
      actions: ['s3:ListBucket'],
      resources: [r.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': LAKE_READ_PREFIXES.map((prefix) => `${prefix}/*`) } },
    }),
    new iam.PolicyStatement({
      sid: 'LocateBuckets',
      actions: ['s3:GetBucketLocation'],
      resources: [r.bucket.bucketArn, r.athenaResultsBucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'QueryResults',
      actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [r.athenaResultsBucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}/*`)],
    }),
    new iam.PolicyStatement({
      sid: 'ListQueryResults',
      actions: ['s3:ListBucket'],
      resources: [r.athenaResultsBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${ATHENA_RESULTS_PREFIX}/*`] } },
    }),
    new iam.PolicyStatement({
      sid: 'LakeKey',
      // Decrypt the lake and its results, encrypt the results (SSE-KMS), and the suppression table.
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [r.key.keyArn],
    }),
    new iam.PolicyStatement({
      sid: 'Suppression',
      // A claim is one conditional PutItem; a release one conditional DeleteItem.
      actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resources: [r.suppressionTable.tableArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadWatermarks',
      // Where each org's ingestion stands: a detection never evaluates past it.
      actions: ['dynamodb:GetItem'],
      resources: [r.watermarkTable.tableArn],
    }),
    new iam.PolicyStatement({
      sid: 'EvaluationState',
      // Cursors: a consistent read, then a conditional put; late-evidence logs: read.
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resources: [r.evaluationTable.tableArn],
    }),
    new iam.PolicyStatement({
      sid: 'PublishFindings',
      actions: ['sns:Publish'],
      resources: [r.topic.topicArn],
    }),
    new iam.PolicyStatement({
      sid: 'FindingsKey',
      // Publishing to an encrypted topic: SNS asks for a data key on the publisher's behalf.
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [r.topicKey.keyArn],
    }),
  ];
}

/** The AwsSolutions-IAM5 findings of the role's prefix wildcards, acknowledged one by one. */
export function acknowledgeRunnerWildcards(stack: Stack, role: iam.Role, r: Pick<RunnerResources, 'bucket' | 'athenaResultsBucket'>): void {
  // cdk-nag names a finding after the resource as written, e.g. `<LakeDataABC123.Arn>/events/*`.
  const logicalIdOf = (bucket: s3.IBucket): string => stack.getLogicalId(bucket.node.defaultChild as CfnElement);
  for (const prefix of LAKE_READ_PREFIXES) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(r.bucket)}.Arn>/${prefix}/*]`,
      reason: `Athena reads the Parquet files of the partitions a query selects through the lake view, named at run time; the wildcard is confined to the ${prefix}/ prefix of the lake bucket, with s3:GetObject only.`,
    });
  }
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(r.athenaResultsBucket)}.Arn>/${ATHENA_RESULTS_PREFIX}/*]`,
    reason: `Athena writes and the runner reads result files named by query execution id; the wildcard is confined to the ${ATHENA_RESULTS_PREFIX}/ prefix of the Athena results bucket.`,
  });
}
