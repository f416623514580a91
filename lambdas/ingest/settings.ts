/**
 * The ingestion function's settings, read once from its environment (set by the stack, see
 * lib/config/ingest-contract.ts) and validated, so a broken deployment fails with a message that
 * names the variable instead of somewhere inside a run.
 */
import { INGEST_ENV, RECONCILE_OFFSET_LIMITS, type IngestOrgSetting } from '../../lib/config/ingest-contract';
import { ConfigError } from '../../lib/core/errors';
import { parseOrg, type OktaOrg } from '../../lib/core/okta/org';

/**
 * Allows plain `http://` Okta origins on loopback hosts only (the mock Okta in tests). `parseOrg`
 * refuses http for any other host whatever this says.
 */
export const ALLOW_INSECURE_LOOPBACK_ENV = 'OKTA_LAKE_ALLOW_INSECURE_LOOPBACK';
/** The SDK's own variable for an S3-compatible endpoint; when set, the lake client uses path-style addressing. */
export const S3_ENDPOINT_ENV = 'AWS_ENDPOINT_URL_S3';

export interface IngestOrg {
  readonly org: OktaOrg;
  readonly auth: IngestOrgSetting['auth'];
  readonly secretId: string;
}

export interface IngestSettings {
  /** By org label (`OktaOrg.host`), the value schedules send as `{"org": ...}`. */
  readonly orgs: ReadonlyMap<string, IngestOrg>;
  readonly bucket: string;
  readonly prefix: string;
  readonly table: string;
  /** The detection state table, where the sweep records late evidence. @default not recorded */
  readonly evaluationTable?: string;
  readonly kmsKeyArn?: string;
  readonly settleLagMs?: number;
  readonly initialLookbackMs?: number;
  /**
   * How far behind the watermark the reconciliation sweep re-reads, in milliseconds.
   * @default the sweep's own (1 hour and 24 hours, `DEFAULT_SWEEP_OFFSETS_MS`)
   */
  readonly reconcileOffsetsMs?: readonly number[];
  readonly s3Endpoint?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`environment variable ${name} is missing`);
  return value;
}

function optionalMs(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new ConfigError(`environment variable ${name} must be a whole number of milliseconds (got "${value}")`);
  return Number(value);
}

function optionalOffsets(env: Env, name: string): number[] | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const { minMinutes, maxMinutes, maxCount } = RECONCILE_OFFSET_LIMITS;
  const parts = value.split(',');
  if (parts.length > maxCount || !parts.every((p) => /^\d+$/.test(p))) {
    throw new ConfigError(`environment variable ${name} must be 1 to ${maxCount} whole numbers of milliseconds, comma-separated (got "${value}")`);
  }
  const offsets = parts.map(Number);
  for (const ms of offsets) {
    if (ms % 60_000 !== 0 || ms < minMinutes * 60_000 || ms > maxMinutes * 60_000) {
      throw new ConfigError(`environment variable ${name} must list whole minutes from ${minMinutes} to ${maxMinutes} minutes, in milliseconds (got ${ms})`);
    }
  }
  if (new Set(offsets).size !== offsets.length) throw new ConfigError(`environment variable ${name} lists an offset twice (got "${value}")`);
  return offsets;
}

function parseOrgs(text: string, allowInsecureLoopback: boolean): Map<string, IngestOrg> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`environment variable ${INGEST_ENV.orgs} is not valid JSON`, { cause });
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ConfigError(`environment variable ${INGEST_ENV.orgs} must be a non-empty JSON array of {org, auth, secretId}`);
  }
  const orgs = new Map<string, IngestOrg>();
  parsed.forEach((item: unknown, i) => {
    const where = `${INGEST_ENV.orgs}[${i}]`;
    if (typeof item !== 'object' || item === null) throw new ConfigError(`${where} must be an object {org, auth, secretId}`);
    const { org, auth, secretId } = item as Record<string, unknown>;
    if (typeof org !== 'string') throw new ConfigError(`${where}.org must be the org host name`);
    if (auth !== 'ssws' && auth !== 'oauth') throw new ConfigError(`${where}.auth must be "ssws" or "oauth"`);
    if (typeof secretId !== 'string' || secretId === '') throw new ConfigError(`${where}.secretId must be a secret name or ARN`);
    const parsedOrg = parseOrg(org, { allowInsecureLoopback });
    if (orgs.has(parsedOrg.host)) throw new ConfigError(`${where}.org ${parsedOrg.host} is configured twice`);
    orgs.set(parsedOrg.host, { org: parsedOrg, auth, secretId });
  });
  return orgs;
}

/** Reads and validates the function's environment. Throws `ConfigError` naming the variable. */
export function readIngestSettings(env: Env): IngestSettings {
  const allowInsecureLoopback = env[ALLOW_INSECURE_LOOPBACK_ENV] === 'true';
  const kmsKeyArn = env[INGEST_ENV.kmsKeyArn] || undefined;
  const s3Endpoint = env[S3_ENDPOINT_ENV] || undefined;
  return {
    orgs: parseOrgs(required(env, INGEST_ENV.orgs), allowInsecureLoopback),
    bucket: required(env, INGEST_ENV.bucket),
    prefix: env[INGEST_ENV.prefix] ?? '',
    table: required(env, INGEST_ENV.table),
    ...(env[INGEST_ENV.evaluationTable] ? { evaluationTable: env[INGEST_ENV.evaluationTable] } : {}),
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    settleLagMs: optionalMs(env, INGEST_ENV.settleLagMs),
    initialLookbackMs: optionalMs(env, INGEST_ENV.initialLookbackMs),
    reconcileOffsetsMs: optionalOffsets(env, INGEST_ENV.reconcileOffsetsMs),
    ...(s3Endpoint ? { s3Endpoint } : {}),
  };
}
