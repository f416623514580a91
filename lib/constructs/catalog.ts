/**
 * The lake as Athena sees it: a Glue database and table over `s3://<bucket>/events/`, with the
 * columns generated from the one schema definition and partition projection that mirrors the writer's
 * layout (no crawler, no `MSCK REPAIR`: a file is queryable the moment it lands), and an Athena
 * workgroup with enforced, encrypted settings and a bytes-scanned cutoff.
 */
import { Aws } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ConfigError } from '../core/errors';
import { DT_FORMAT, EVENTS_PREFIX, HOUR_DIGITS, TABLE_NAME, assertOrgLabel } from '../core/layout';
import { EVENT_COLUMNS, META_COLUMNS, PARTITION_KEYS, glueType, type PartitionKey } from '../core/schema';

export const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
export const PARQUET_INPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
export const PARQUET_OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';
export const ATHENA_ENGINE_V3 = 'Athena engine version 3';

/** Glue comments are limited to 255 characters. */
const GLUE_COMMENT_MAX = 255;

export interface GlueColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

/** The table's columns, in file order, generated from the schema definition. */
export function glueColumns(): GlueColumn[] {
  return [...EVENT_COLUMNS, ...META_COLUMNS].map((field) => ({
    name: field.name,
    type: glueType(field.type),
    ...(field.doc ? { comment: field.doc.slice(0, GLUE_COMMENT_MAX) } : {}),
  }));
}

/** `events/org=${org}/dt=${dt}/hour=${hour}`: the writer's partition path with projection placeholders. */
export function partitionPathTemplate(): string {
  return [EVENTS_PREFIX, ...PARTITION_KEYS.map((k) => `${k}=\${${k}}`)].join('/');
}

export interface ProjectionOptions {
  /**
   * Org labels the `org` partition may take (an `enum` projection): Athena reads no `org=` folder
   * outside them. Valid org labels (`assertOrgLabel`, so none holds the `,` separator), unique, at
   * least one.
   */
  readonly orgs: readonly string[];
  /** First day of the `dt` projection range, `yyyy-MM-dd`. */
  readonly startDate: string;
  /** Lake location, `s3://bucket` (no trailing slash). */
  readonly location: string;
}

/** The `org` enum, checked: a label that is not an org label, or twice, would project wrong folders silently. */
function orgEnum(orgs: readonly string[]): string {
  if (orgs.length === 0) throw new ConfigError('Catalog: orgs must name at least one org label (the org partition is an enum)');
  const seen = new Set<string>();
  for (const org of orgs) {
    try {
      assertOrgLabel(org);
    } catch (cause) {
      throw new ConfigError(`Catalog: orgs holds ${JSON.stringify(org)}, which is not an org label of the lake`, { cause });
    }
    if (seen.has(org)) throw new ConfigError(`Catalog: orgs holds "${org}" twice`);
    seen.add(org);
  }
  return orgs.join(',');
}

/** The Glue table parameters that turn on partition projection for `org`, `dt` and `hour`. */
export function partitionProjectionParameters(options: ProjectionOptions): Record<string, string> {
  const perKey: Record<PartitionKey, Record<string, string>> = {
    org: { type: 'enum', values: orgEnum(options.orgs) },
    dt: { type: 'date', format: DT_FORMAT, range: `${options.startDate},NOW`, interval: '1', 'interval.unit': 'DAYS' },
    hour: { type: 'integer', range: '0,23', digits: String(HOUR_DIGITS) },
  };
  const params: Record<string, string> = { 'projection.enabled': 'true' };
  for (const key of PARTITION_KEYS) {
    for (const [name, value] of Object.entries(perKey[key])) params[`projection.${key}.${name}`] = value;
  }
  // Ends with `/`, as every template in Athena's partition projection docs does (for example
  // `s3://amzn-s3-demo-bucket/prefix/${day}/${hour}/`): a projected partition location is a folder,
  // the writer's partitionPrefix exactly.
  params['storage.location.template'] = `${options.location}/${partitionPathTemplate()}/`;
  return params;
}

export interface CatalogProps {
  readonly bucket: s3.IBucket;
  readonly athenaResultsBucket: s3.IBucket;
  readonly key: kms.IKey;
  /**
   * The values of the `org` partition: every org label whose folder Athena must read, the ingested
   * orgs and the query-only ones (`projectedOrgs` of the configuration).
   */
  readonly orgs: readonly string[];
  readonly bytesScannedCutoffPerQuery: number;
  /** @default 'okta_lake' */
  readonly databaseName?: string;
  /** @default 'okta_system_log' (TABLE_NAME: the name the athena-queries read) */
  readonly tableName?: string;
  /** @default 'okta-lake' */
  readonly workGroupName?: string;
  /**
   * First day the `dt` projection covers. Okta keeps 90 days, but `okta-lake import` can load older exports.
   * @default '2020-01-01'
   */
  readonly projectionStartDate?: string;
}

export class Catalog extends Construct {
  readonly databaseName: string;
  readonly tableName: string;
  readonly workGroupName: string;
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;
  readonly workGroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    this.databaseName = props.databaseName ?? 'okta_lake';
    this.tableName = props.tableName ?? TABLE_NAME;
    this.workGroupName = props.workGroupName ?? 'okta-lake';
    const location = `s3://${props.bucket.bucketName}`;

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'okta-lake: the Okta System Log as Parquet' },
    });

    this.table = new glue.CfnTable(this, 'EventsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: this.tableName,
        description: 'Okta System Log events, one row per event, partitioned by org and UTC publish hour',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'parquet',
          ...partitionProjectionParameters({
            orgs: props.orgs,
            startDate: props.projectionStartDate ?? '2020-01-01',
            location,
          }),
        },
        partitionKeys: PARTITION_KEYS.map((name) => ({ name, type: 'string' })),
        storageDescriptor: {
          location: `${location}/${EVENTS_PREFIX}/`,
          inputFormat: PARQUET_INPUT_FORMAT,
          outputFormat: PARQUET_OUTPUT_FORMAT,
          serdeInfo: { serializationLibrary: PARQUET_SERDE, parameters: { 'serialization.format': '1' } },
          columns: glueColumns(),
        },
      },
    });
    this.table.node.addDependency(this.database);

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'okta-lake: hunting over the Okta System Log',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: ATHENA_ENGINE_V3 },
        resultConfiguration: {
          outputLocation: `s3://${props.athenaResultsBucket.bucketName}/results/`,
          expectedBucketOwner: Aws.ACCOUNT_ID,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
  }
}
