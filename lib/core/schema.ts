/**
 * The one definition of the Okta System Log event (LogEvent) as this project stores it.
 *
 * The Parquet writer (DuckDB column types), the Glue table columns and the test fixtures are all
 * generated from `LOG_EVENT_COLUMNS`; nothing else may spell the schema out again.
 *
 * Column and field names are Okta's own (https://developer.okta.com/docs/reference/api/system-log/).
 * Fields that Okta adds later are not lost: every row also keeps the event's JSON verbatim in `raw`.
 */

export type ScalarType = 'string' | 'timestamp' | 'bigint' | 'int' | 'double' | 'boolean';

export interface StructType {
  readonly kind: 'struct';
  readonly fields: readonly Field[];
}
export interface ListType {
  readonly kind: 'list';
  readonly element: FieldType;
}
/** A map from string to string (Okta's `debugData`, `detailEntry`, `detail`). */
export interface MapType {
  readonly kind: 'map';
}
export type FieldType = ScalarType | StructType | ListType | MapType;

export interface Field {
  readonly name: string;
  readonly type: FieldType;
  readonly doc?: string;
}

const struct = (fields: Field[]): StructType => ({ kind: 'struct', fields });
const list = (element: FieldType): ListType => ({ kind: 'list', element });
const map: MapType = { kind: 'map' };
const f = (name: string, type: FieldType, doc?: string): Field => (doc ? { name, type, doc } : { name, type });
const strings = (...names: string[]): Field[] => names.map((n) => f(n, 'string'));

const geographicalContext = struct([
  ...strings('city', 'state', 'country', 'postalCode'),
  f('geolocation', struct([f('lat', 'double'), f('lon', 'double')])),
]);

const actorLike = struct([...strings('id', 'type', 'alternateId', 'displayName'), f('detailEntry', map)]);

/** The typed columns, in order, as Okta names them. */
export const EVENT_COLUMNS: readonly Field[] = [
  f('uuid', 'string', 'Unique identifier of the event; the identity of an event everywhere in the lake.'),
  f('published', 'timestamp', 'When the event was published, UTC.'),
  ...strings('eventType', 'version', 'severity', 'legacyEventType', 'displayMessage'),
  f('actor', actorLike),
  f(
    'client',
    struct([
      f('userAgent', struct(strings('rawUserAgent', 'os', 'browser'))),
      ...strings('zone', 'device', 'id', 'ipAddress'),
      f('geographicalContext', geographicalContext),
    ]),
  ),
  f(
    'device',
    struct([
      ...strings('id', 'name', 'os_platform', 'os_version'),
      f('managed', 'boolean'),
      f('registered', 'boolean'),
      ...strings('device_integrator', 'disk_encryption_type', 'screen_lock_type'),
      f('jailbreak', 'boolean'),
      f('secure_hardware_present', 'boolean'),
    ]),
  ),
  f(
    'authenticationContext',
    struct([
      ...strings('authenticationProvider', 'credentialProvider', 'credentialType'),
      f('issuer', struct(strings('id', 'type'))),
      f('interface', 'string'),
      f('authenticationStep', 'int'),
      ...strings('rootSessionId', 'externalSessionId'),
    ]),
  ),
  f(
    'securityContext',
    struct([f('asNumber', 'bigint'), ...strings('asOrg', 'isp', 'domain'), f('isProxy', 'boolean')]),
  ),
  f('debugContext', struct([f('debugData', map)])),
  f('outcome', struct(strings('result', 'reason'))),
  f('transaction', struct([...strings('type', 'id'), f('detail', map)])),
  f(
    'request',
    struct([f('ipChain', list(struct([...strings('ip'), f('geographicalContext', geographicalContext), ...strings('version', 'source')])))]),
  ),
  f('target', list(actorLike)),
];

/** Columns the writer adds to every row. */
export const META_COLUMNS: readonly Field[] = [
  f('raw', 'string', "The event's JSON text exactly as received."),
  f('ingested_at', 'timestamp', 'When okta-lake wrote the row, UTC.'),
];

/** Every column of the Parquet files, in file order. */
export const LOG_EVENT_COLUMNS: readonly Field[] = [...EVENT_COLUMNS, ...META_COLUMNS];

/** Hive partition keys of the lake, in path order (`org=<host>/dt=YYYY-MM-DD/hour=HH`). */
export const PARTITION_KEYS = ['org', 'dt', 'hour'] as const;
export type PartitionKey = (typeof PARTITION_KEYS)[number];

const DUCKDB_SCALARS: Record<ScalarType, string> = {
  string: 'VARCHAR',
  timestamp: 'TIMESTAMP',
  bigint: 'BIGINT',
  int: 'INTEGER',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
};

const GLUE_SCALARS: Record<ScalarType, string> = {
  string: 'string',
  timestamp: 'timestamp',
  bigint: 'bigint',
  int: 'int',
  double: 'double',
  boolean: 'boolean',
};

const quoteDuck = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** DuckDB type of a field, e.g. `STRUCT("id" VARCHAR, ...)`, `MAP(VARCHAR, VARCHAR)`, `STRUCT(...)[]`. */
export function duckDbType(type: FieldType): string {
  if (typeof type === 'string') return DUCKDB_SCALARS[type];
  switch (type.kind) {
    case 'struct':
      return `STRUCT(${type.fields.map((x) => `${quoteDuck(x.name)} ${duckDbType(x.type)}`).join(', ')})`;
    case 'list':
      return `${duckDbType(type.element)}[]`;
    case 'map':
      return 'MAP(VARCHAR, VARCHAR)';
  }
}

/** Hive/Glue type string of a field, e.g. `struct<id:string,...>`, `map<string,string>`, `array<...>`. */
export function glueType(type: FieldType): string {
  if (typeof type === 'string') return GLUE_SCALARS[type];
  switch (type.kind) {
    case 'struct':
      return `struct<${type.fields.map((x) => `${x.name}:${glueType(x.type)}`).join(',')}>`;
    case 'list':
      return `array<${glueType(type.element)}>`;
    case 'map':
      return 'map<string,string>';
  }
}
