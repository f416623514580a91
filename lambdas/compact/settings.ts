/**
 * The compaction function's settings, read once per container from the environment the stack sets
 * (`COMPACT_ENV`). Throws `ConfigError` naming the variable and what is allowed.
 */
import { COMPACT_ENV } from '../../lib/config/compact-contract';
import { ConfigError } from '../../lib/core/errors';
import { assertOrgLabel } from '../../lib/core/layout';

/** Set by tests to an emulator; unset in AWS (the SDK reads the same variable natively). */
export const S3_ENDPOINT_ENV = 'AWS_ENDPOINT_URL_S3';

export interface CompactSettings {
  readonly bucket: string;
  readonly watermarkTable: string;
  readonly orgs: readonly string[];
  readonly database: string;
  readonly workGroup: string;
  readonly kmsKeyArn?: string;
  readonly viewOnly: boolean;
  readonly s3Endpoint?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function need(env: Env, name: string, pattern: RegExp, what: string): string {
  const v = env[name];
  if (v === undefined || v.length === 0) throw new ConfigError(`environment variable ${name} is missing (${what})`);
  if (!pattern.test(v)) throw new ConfigError(`environment variable ${name} is "${v.slice(0, 80)}", which is not ${what}`);
  return v;
}

export function readCompactSettings(env: Env): CompactSettings {
  const orgsText = need(env, COMPACT_ENV.orgs, /^\[.*\]$/s, 'a JSON array of org labels');
  let orgs: unknown;
  try {
    orgs = JSON.parse(orgsText);
  } catch (cause) {
    throw new ConfigError(`environment variable ${COMPACT_ENV.orgs} is not JSON`, { cause });
  }
  if (!Array.isArray(orgs) || orgs.length === 0 || !orgs.every((o) => typeof o === 'string') || new Set(orgs).size !== orgs.length) {
    throw new ConfigError(`environment variable ${COMPACT_ENV.orgs} must be a JSON array of distinct org labels`);
  }
  for (const org of orgs as string[]) {
    try {
      assertOrgLabel(org);
    } catch (cause) {
      throw new ConfigError(`environment variable ${COMPACT_ENV.orgs} holds ${JSON.stringify(org)}, which is not an org label`, { cause });
    }
  }
  const viewOnlyText = env[COMPACT_ENV.viewOnly] ?? 'false';
  if (viewOnlyText !== 'true' && viewOnlyText !== 'false') throw new ConfigError(`environment variable ${COMPACT_ENV.viewOnly} must be "true" or "false", got "${viewOnlyText}"`);
  const kmsKeyArn = env[COMPACT_ENV.kmsKeyArn] || undefined;
  const s3Endpoint = env[S3_ENDPOINT_ENV] || undefined;
  return {
    bucket: need(env, COMPACT_ENV.bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
    watermarkTable: need(env, COMPACT_ENV.watermarkTable, /^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name'),
    orgs: orgs as string[],
    database: need(env, COMPACT_ENV.database, /^[A-Za-z0-9_-]{1,255}$/, 'a Glue database name'),
    workGroup: need(env, COMPACT_ENV.workGroup, /^[A-Za-z0-9._-]{1,128}$/, 'an Athena workgroup name'),
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    viewOnly: viewOnlyText === 'true',
    ...(s3Endpoint ? { s3Endpoint } : {}),
  };
}
