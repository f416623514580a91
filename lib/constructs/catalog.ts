/**
 * The lake as Athena sees it: a Glue database, three tables and an Athena workgroup with enforced,
 * encrypted settings and a bytes-scanned cutoff. The tables (names from `LAKE_TABLES`) have the
 * columns generated from the one schema definition and partition projection that mirrors the
 * writer's layout (no crawler, no `MSCK REPAIR`: a file is queryable the moment it lands):
 *
 * - `okta_system_log_events` over `events/` (partitions org, dt, hour), what ingestion writes;
 * - `okta_system_log_late` over `late/` (the same partitions), what is written for a frozen day;
 * - `okta_system_log_compacted` over `compacted/` (partitions org and dt: a compacted day has no
 *   `hour=` folders; the view derives `hour` from `published`).
 *
 * The view `okta_system_log` (`LAKE_TABLES.view`, the name every query in athena-queries/ reads)
 * reads each org-day once through the three tables (docs/compaction.md, "Athena"). It is NOT a
 * resource of this construct: the compaction function creates it with Athena DDL (`CREATE OR
 * REPLACE VIEW`, the text `lakeViewSql` makes), once at deployment (a trigger, after these tables
 * and the workgroup exist) and after every scheduled run. Athena must encode the view itself: a view
 * hand-encoded into a Glue table (a `VIRTUAL_VIEW` whose `ViewOriginalText` is Athena's private,
 * base64-encoded Presto view format) is fragile, undocumented as an interface, and would have to
 * change with every compaction anyway.
 */
import { Aws } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ConfigError } from '../core/errors';
import { COMPACTED_PREFIX, DT_FORMAT, EVENTS_PREFIX, HOUR_DIGITS, LATE_PREFIX, assertOrgLabel } from '../core/layout';
import { LAKE_TABLES, type LakeTableNames } from '../core/compact/athena-view';
import { EVENT_COLUMNS, META_COLUMNS, PARTITION_KEYS, glueType, type PartitionKey } from '../core/schema';

export const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
export const PARQUET_INPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
export const PARQUET_OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';
/** Key prefix of the Athena query results in the results bucket (the workgroup's output location). */
export const ATHENA_RESULTS_PREFIX = 'results';

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

/** The partition keys of the compacted table: a compacted day is one folder, `compacted/org=O/dt=D/`. */
export const COMPACTED_PARTITION_KEYS = ['org', 'dt'] as const satisfies readonly PartitionKey[];

/**
 * `events/org=${org}/dt=${dt}/hour=${hour}`: the writer's partition path with projection
 * placeholders, under `prefix` and with `keys` (the compacted table has no `hour`).
 */
export function partitionPathTemplate(prefix: string = EVENTS_PREFIX, keys: readonly PartitionKey[] = PARTITION_KEYS): string {
  return [prefix, ...keys.map((k) => `${k}=\${${k}}`)].join('/');
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
  /** The prefix the table reads. @default EVENTS_PREFIX */
  readonly prefix?: string;
  /** Its partition keys, in path order. @default PARTITION_KEYS (org, dt, hour) */
  readonly keys?: readonly PartitionKey[];
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

/** The Glue table parameters that turn on partition projection for `org`, `dt` and `hour` (or the keys given). */
export function partitionProjectionParameters(options: ProjectionOptions): Record<string, string> {
  const keys = options.keys ?? PARTITION_KEYS;
  const perKey: Record<PartitionKey, Record<string, string>> = {
    org: { type: 'enum', values: orgEnum(options.orgs) },
    dt: { type: 'date', format: DT_FORMAT, range: `${options.startDate},NOW`, interval: '1', 'interval.unit': 'DAYS' },
    hour: { type: 'integer', range: '0,23', digits: String(HOUR_DIGITS) },
  };
  const params: Record<string, string> = { 'projection.enabled': 'true' };
  for (const key of keys) {
    for (const [name, value] of Object.entries(perKey[key])) params[`projection.${key}.${name}`] = value;
  }
  // Ends with `/`, as every template in Athena's partition projection docs does (for example
  // `s3://amzn-s3-demo-bucket/prefix/${day}/${hour}/`): a projected partition location is a folder,
  // the writer's partitionPrefix exactly.
  params['storage.location.template'] = `${options.location}/${partitionPathTemplate(options.prefix ?? EVENTS_PREFIX, keys)}/`;
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
  /**
   * The names of the three tables and of the view the athena-queries read.
   * @default LAKE_TABLES (`okta_system_log` and `okta_system_log_{events,late,compacted}`)
   */
  readonly tables?: LakeTableNames;
  /** @default 'okta-lake' */
  readonly workGroupName?: string;
  /**
   * First day the `dt` projection covers. Okta keeps 90 days, but `okta-lake import` can load older exports.
   * @default '2020-01-01'
   */
  readonly projectionStartDate?: string;
}

/** One of the three tables over the lake. */
interface LakeTableSpec {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly keys: readonly PartitionKey[];
  readonly description: string;
}

export class Catalog extends Construct {
  readonly databaseName: string;
  /** The view every query reads (`LAKE_TABLES.view`); created by the compaction function, not here. */
  readonly tableName: string;
  /** The names of the view and of the three tables. */
  readonly tables: LakeTableNames;
  readonly workGroupName: string;
  readonly database: glue.CfnDatabase;
  /** The table over `events/`. */
  readonly eventsTable: glue.CfnTable;
  /** The table over `late/`. */
  readonly lateTable: glue.CfnTable;
  /** The table over `compacted/`. */
  readonly compactedTable: glue.CfnTable;
  readonly workGroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    this.databaseName = props.databaseName ?? 'okta_lake';
    this.tables = props.tables ?? LAKE_TABLES;
    this.tableName = this.tables.view;
    this.workGroupName = props.workGroupName ?? 'okta-lake';
    const location = `s3://${props.bucket.bucketName}`;

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'okta-lake: the Okta System Log as Parquet' },
    });

    const table = (spec: LakeTableSpec): glue.CfnTable => {
      const t = new glue.CfnTable(this, spec.id, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: this.databaseName,
        tableInput: {
          name: spec.name,
          description: spec.description,
          tableType: 'EXTERNAL_TABLE',
          parameters: {
            EXTERNAL: 'TRUE',
            classification: 'parquet',
            ...partitionProjectionParameters({
              orgs: props.orgs,
              startDate: props.projectionStartDate ?? '2020-01-01',
              location,
              prefix: spec.prefix,
              keys: spec.keys,
            }),
          },
          partitionKeys: spec.keys.map((name) => ({ name, type: 'string' })),
          storageDescriptor: {
            location: `${location}/${spec.prefix}/`,
            inputFormat: PARQUET_INPUT_FORMAT,
            outputFormat: PARQUET_OUTPUT_FORMAT,
            serdeInfo: { serializationLibrary: PARQUET_SERDE, parameters: { 'serialization.format': '1' } },
            columns: glueColumns(),
          },
        },
      });
      t.node.addDependency(this.database);
      return t;
    };
    this.eventsTable = table({
      id: 'EventsTable',
      name: this.tables.events,
      prefix: EVENTS_PREFIX,
      keys: PARTITION_KEYS,
      description: `Okta System Log events as ingested (events/), partitioned by org and UTC publish hour; query the view ${this.tables.view}`,
    });
    this.lateTable = table({
      id: 'LateTable',
      name: this.tables.late,
      prefix: LATE_PREFIX,
      keys: PARTITION_KEYS,
      description: `Okta System Log events written for a day after it was frozen for compaction (late/); query the view ${this.tables.view}`,
    });
    this.compactedTable = table({
      id: 'CompactedTable',
      name: this.tables.compacted,
      prefix: COMPACTED_PREFIX,
      keys: COMPACTED_PARTITION_KEYS,
      description: `Compacted org-days (compacted/), every generation; only the view ${this.tables.view} knows which parts are current`,
    });

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
          outputLocation: `s3://${props.athenaResultsBucket.bucketName}/${ATHENA_RESULTS_PREFIX}/`,
          expectedBucketOwner: Aws.ACCOUNT_ID,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
  }
}
