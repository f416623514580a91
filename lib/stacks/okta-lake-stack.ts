/**
 * The okta-lake stack: wires the constructs together from the validated configuration. It holds no
 * logic of its own beyond handing each construct what the previous one made.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { projectedOrgs, type OktaLakeConfig } from '../config/config';
import { Catalog } from '../constructs/catalog';
import { Compaction } from '../constructs/compaction';
import { Detections } from '../constructs/detections';
import { Ingestion } from '../constructs/ingestion';
import { LakeStorage } from '../constructs/lake-storage';
import { Operations } from '../constructs/operations';

export interface OktaLakeStackProps extends StackProps {
  readonly config: OktaLakeConfig;
}

export class OktaLakeStack extends Stack {
  readonly storage: LakeStorage;
  readonly catalog: Catalog;
  readonly ingestion: Ingestion;
  readonly operations: Operations;
  readonly detections: Detections;
  readonly compaction: Compaction;

  constructor(scope: Construct, id: string, props: OktaLakeStackProps) {
    super(scope, id, props);
    const { config } = props;
    const hosts = config.orgs.map((o) => o.host);

    this.storage = new LakeStorage(this, 'Lake', { retention: config.retention, objectLock: config.objectLock });

    this.catalog = new Catalog(this, 'Catalog', {
      bucket: this.storage.bucket,
      athenaResultsBucket: this.storage.athenaResultsBucket,
      key: this.storage.key,
      // Ingested and query-only orgs: Athena sees every org folder the lake is meant to hold.
      orgs: projectedOrgs(config),
      bytesScannedCutoffPerQuery: config.athenaBytesScannedCutoffPerQuery,
    });

    this.ingestion = new Ingestion(this, 'Ingestion', {
      orgs: config.orgs,
      bucket: this.storage.bucket,
      key: this.storage.key,
      scheduleMinutes: config.scheduleMinutes,
      settleLagMinutes: config.settleLagMinutes,
      initialLookbackDays: config.initialLookbackDays,
      reconcileOffsetsMinutes: config.reconcileOffsetsMinutes,
      architecture: config.lambdaArchitecture,
      logRetentionDays: config.logRetentionDays,
    });

    this.operations = new Operations(this, 'Operations', {
      function: this.ingestion.function,
      deadLetterQueue: this.ingestion.deadLetterQueue,
      orgs: hosts,
      alertEmails: config.alertEmails,
      scheduleMinutes: config.scheduleMinutes,
      noEventsAlarmHours: config.noEventsAlarmHours,
      watermarkLagAlarmMinutes: config.watermarkLagAlarmMinutes,
      dashboardName: this.stackName,
      evidence: {
        buckets: [this.storage.bucket],
        keys: [this.storage.key, ...(this.ingestion.credentialsKey ? [this.ingestion.credentialsKey] : [])],
      },
    });

    this.detections = new Detections(this, 'Detections', {
      catalog: this.catalog,
      bucket: this.storage.bucket,
      athenaResultsBucket: this.storage.athenaResultsBucket,
      key: this.storage.key,
      alarmTopic: this.operations.topic,
      dashboard: this.operations.dashboard,
      architecture: config.lambdaArchitecture,
      logRetentionDays: config.logRetentionDays,
      orgs: hosts,
      watermarkTable: this.ingestion.table,
      evaluationTable: this.ingestion.evaluationTable,
      ...config.detections,
    });

    this.compaction = new Compaction(this, 'Compaction', {
      bucket: this.storage.bucket,
      key: this.storage.key,
      athenaResultsBucket: this.storage.athenaResultsBucket,
      catalog: this.catalog,
      watermarkTable: this.ingestion.table,
      // Every org the tables project: the view shows the compacted days of each.
      orgs: projectedOrgs(config),
      architecture: config.lambdaArchitecture,
      logRetentionDays: config.logRetentionDays,
      alarmTopic: this.operations.topic,
      enabled: config.compaction.enabled,
      scheduleExpression: config.compaction.scheduleExpression,
    });

    new CfnOutput(this, 'LakeBucket', { value: this.storage.bucket.bucketName, description: 'Bucket holding events/ (Parquet) and quarantine/' });
    new CfnOutput(this, 'AthenaWorkGroup', { value: this.catalog.workGroupName, description: 'Athena workgroup to query the lake with' });
    new CfnOutput(this, 'GlueDatabase', { value: this.catalog.databaseName });
    new CfnOutput(this, 'IngestFunction', { value: this.ingestion.function.functionName });
    const compactor = this.compaction.runner?.function;
    if (compactor) new CfnOutput(this, 'CompactFunction', { value: compactor.functionName, description: 'Compaction function (hourly)' });
    new CfnOutput(this, 'CompactViewFunction', { value: this.compaction.viewFunction.functionName, description: 'Invoke to create the Athena view okta_system_log now' });
    new CfnOutput(this, 'AlarmTopic', { value: this.operations.topic.topicArn });
    const findings = this.detections.runner?.topic;
    if (findings) new CfnOutput(this, 'FindingsTopic', { value: findings.topicArn, description: 'Topic of the detection findings e-mails' });
    config.orgs.forEach((org, i) => {
      new CfnOutput(this, `CredentialSecret${i}`, {
        value: this.ingestion.secretIds.get(org.host)!,
        description: `Secret holding the Okta credential of ${org.host} (${org.auth})`,
      });
    });
  }
}
