/**
 * The one definition of the Okta System Log event (LogEvent) as this project stores it.
 *
 * The Parquet writer (DuckDB column types), the Glue table columns and the test fixtures are all
 * generated from `LOG_EVENT_COLUMNS`; nothing else may spell the schema out again.
 *
 * Column and field names are Okta's own (https://developer.okta.com/docs/reference/api/system-log/).
 * Fields that Okta adds later are not lost: every row also keeps the event's JSON verbatim in `raw`.
 *
 * Types follow Okta's OpenAPI spec of the Management API (okta/okta-sdk-nodejs, `oas-spec/management.yaml`,
 * commit 05bd80818552859692a1fe80d66a728735049a56, the `Log*` schemas): `integer` is a number
 * column, `boolean` a boolean, an `array` a list, an object with `properties` a struct, and an object
 * with only `additionalProperties` either a string map (`debugData`, `detailEntry`, `detail`, whose
 * values are nearly always strings in real events) or `json` text (`changeDetails.from/to`, whose
 * values are nested objects). Fields are added at the end of their struct: Parquet readers resolve
 * them by name, so files written before a field existed read it as NULL (see lib/core/hunt/lake.ts).
 */

/**
 * `json`: a value Okta types as a free-form object (`additionalProperties` in its OpenAPI spec),
 * stored as its JSON text in a VARCHAR (Glue `string`), so Athena reads it with
 * `json_extract_scalar` and DuckDB through the compatibility layer. The writer stores the JSON text
 * of whatever value is there (an object, but also a string, as `"text"`), so the column always holds
 * valid JSON, or NULL when the field is missing or `null`.
 */
export type ScalarType = 'string' | 'timestamp' | 'bigint' | 'int' | 'double' | 'boolean' | 'json';

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

/**
 * `LogIpDetails` (management.yaml): `asNumber` integer, `asOrg`, `domain`, `isp` strings, and
 * `ipServiceCategories`, an array of `LogIpServiceCategory` {`isAnonymous` boolean, `operator` string,
 * `type` string, one of VPN, Proxy, Tor, Residential Proxy, Blockchain VPN}. In
 * `securityContext.ipDetails` and in every `request.ipChain[]` element (`LogIpAddress.ipDetails`).
 */
const ipDetails = struct([
  f('asNumber', 'bigint'),
  ...strings('asOrg', 'domain', 'isp'),
  f('ipServiceCategories', list(struct([f('isAnonymous', 'boolean'), ...strings('operator', 'type')]))),
]);

/**
 * `LogRisk` (management.yaml): `level` and `previousLevel` (LOW, MEDIUM, HIGH), `detectionName`
 * (e.g. `Session Influenced User Risk`, https://developer.okta.com/docs/reference/api/itp-et/),
 * `issuer` (e.g. `OKTA`) strings, `reasons` an array of strings.
 */
const risk = struct([...strings('level', 'previousLevel', 'detectionName', 'issuer'), f('reasons', list('string'))]);

/** `LogUserBehavior` (management.yaml): `id`, `name`, `result` (UNKNOWN, POSITIVE, NEGATIVE, BAD_REQUEST). */
const userBehavior = struct(strings('id', 'name', 'result'));

/**
 * `LogTarget` (management.yaml): the actor's fields and `changeDetails` {`from`, `to`}, objects with
 * `additionalProperties: true` ("not all event types support the changeDetails property"), stored as
 * JSON text: `json_extract_scalar(t.changeDetails."from", '$.name')`.
 */
const targetLike = struct([...actorLike.fields, f('changeDetails', struct([f('from', 'json'), f('to', 'json')]))]);

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
    struct([
      f('asNumber', 'bigint'),
      ...strings('asOrg', 'isp', 'domain'),
      f('isProxy', 'boolean'),
      // `LogSecurityContext` (management.yaml) also has these three.
      f('ipDetails', ipDetails),
      f('risk', risk),
      f('userBehaviors', list(userBehavior)),
    ]),
  ),
  f('debugContext', struct([f('debugData', map)])),
  f('outcome', struct(strings('result', 'reason'))),
  f('transaction', struct([...strings('type', 'id'), f('detail', map)])),
  f(
    'request',
    struct([
      f(
        'ipChain',
        list(struct([...strings('ip'), f('geographicalContext', geographicalContext), ...strings('version', 'source'), f('ipDetails', ipDetails)])),
      ),
    ]),
  ),
  f('target', list(targetLike)),
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
  json: 'VARCHAR',
};

const GLUE_SCALARS: Record<ScalarType, string> = {
  string: 'string',
  timestamp: 'timestamp',
  bigint: 'bigint',
  int: 'int',
  double: 'double',
  boolean: 'boolean',
  json: 'string',
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
