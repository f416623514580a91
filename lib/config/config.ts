/**
 * The deployment configuration of the okta-lake stack: what the user writes (in `cdk.json` context
 * `oktaLake`, or in a JSON file named by context `oktaLakeConfig`), validated once by `parseConfig`
 * into a fully-defaulted, typed `OktaLakeConfig` that `bin/app.ts` hands down as props.
 *
 * Every rule fails with a `ConfigError` whose message names the field (e.g. `orgs[1].host`) and what
 * is allowed, so a bad configuration stops `cdk synth` with a message the user can act on.
 */
import { ConfigError } from '../core/errors';
import { MAX_FINDINGS_IN_MESSAGE_LIMIT, MAX_SUPPRESSION_WINDOW_MS } from '../core/detect/input';
import { DEFAULT_SWEEP_OFFSETS_MS } from '../core/sweep-lines';
import { assertOrgLabel } from '../core/layout';
import { CREDENTIAL_KIND_NAMES, type CredentialKindName } from '../core/okta/credentials';
import { parseOrg } from '../core/okta/org';
import { SEVERITIES, type Severity } from '../core/queries';
import { RECONCILE_OFFSET_LIMITS } from './ingest-contract';

export type LambdaArchitectureName = 'arm64' | 'x86_64';
export type ObjectLockMode = 'GOVERNANCE' | 'COMPLIANCE';
/**
 * Where old lake objects go. `GLACIER_IR` (Glacier Instant Retrieval) stays directly queryable by
 * Athena; `GLACIER` and `DEEP_ARCHIVE` objects must be restored before Athena can read them.
 */
export type ArchiveStorageClass = 'GLACIER_IR' | 'GLACIER' | 'DEEP_ARCHIVE';

/** An existing Secrets Manager secret holding the org's Okta credential: give `name` or `arn`. */
export interface SecretReference {
  /** Secret name, e.g. `okta/acme`. */
  readonly name?: string;
  /** Full secret ARN (including the 6-character suffix Secrets Manager adds). */
  readonly arn?: string;
  /**
   * ARN of the customer-managed KMS key that encrypts this secret, when it is not the account's
   * `aws/secretsmanager` key: the ingestion function is then allowed to decrypt with it (through
   * Secrets Manager only).
   * @default - the secret uses the AWS managed key `aws/secretsmanager`
   */
  readonly kmsKeyArn?: string;
}

export interface OrgConfig {
  /** The org's host name, e.g. `acme.okta.com`: no scheme, no path, lower case. Also its label in the lake. */
  readonly host: string;
  /**
   * The org's credential kind, a name of the registry `CREDENTIAL_KINDS`: `ssws` (API token) or
   * `oauth` (service app, private_key_jwt, scope `okta.logs.read`).
   */
  readonly auth: CredentialKindName;
  /**
   * The secret holding the credential.
   * @default - the stack creates an empty secret named `okta-lake/<host>` for the user to fill in
   */
  readonly secret?: SecretReference;
}

export interface RetentionConfig {
  /**
   * Days after which lake objects move to S3 Standard-IA (at least 30), or `never`.
   * @default 30
   */
  readonly infrequentAccessAfterDays: number | 'never';
  /**
   * Days after which lake objects move to `archiveStorageClass`, or `never`. At least 30 days after
   * the Standard-IA transition when both are set.
   * @default 90
   */
  readonly archiveAfterDays: number | 'never';
  /** @default 'GLACIER_IR' */
  readonly archiveStorageClass: ArchiveStorageClass;
  /**
   * Days after which lake objects expire (become non-current), or `never`.
   * @default 'never'
   */
  readonly expireAfterDays: number | 'never';
  /**
   * Days after which non-current object versions (overwritten or expired) are deleted for good.
   * @default 30
   */
  readonly noncurrentVersionExpireAfterDays: number;
}

export interface ObjectLockConfig {
  /**
   * `GOVERNANCE`: a principal with `s3:BypassGovernanceRetention` (which okta-lake grants nobody) can
   * still shorten or lift a version's retention. `COMPLIANCE`: nobody can, not even the account's root
   * user, until the retention ends; the stronger choice for evidence, and irreversible for each
   * version written while it is set.
   * @default 'GOVERNANCE'
   */
  readonly mode: ObjectLockMode;
  /**
   * Default retention of every new object version, in days (1..36500).
   * @default retention.expireAfterDays, or 36500 (the longest S3 allows) when that is `never`
   */
  readonly days: number;
  /**
   * The lake bucket already exists without Object Lock (it was deployed by a version of okta-lake
   * whose default was no Object Lock): Object Lock is then turned on in place, through the bucket's
   * `ObjectLockConfiguration` only, because CloudFormation replaces a bucket whose top-level
   * `ObjectLockEnabled` changes. Once set, keep it set.
   * @default false
   */
  readonly existingBucket: boolean;
}

/**
 * The scheduled detections (`athena-queries/*.sql` with a schedule): the runner function, its
 * schedules, the findings topic and the suppression table. Every query file becomes an Athena named
 * query whatever this says.
 */
export interface DetectionsConfig {
  /**
   * Deploy the detection runner. `false` keeps only the named queries (the console's saved queries):
   * no function, schedules, findings topic or suppression table.
   * @default true
   */
  readonly enabled: boolean;
  /**
   * A finding that was e-mailed is not e-mailed again for this many hours (1..8760). The runner
   * raises it to a detection's lookback when that is longer, so a finding still inside the lookback
   * is never repeated.
   * @default 24
   */
  readonly suppressionWindowHours: number;
  /**
   * Findings listed in one e-mail (1..200); the rest are counted.
   * @default 20
   */
  readonly maxFindingsInMessage: number;
  /**
   * Evaluations one run of a detection may make over all orgs (1..1000). A run after an outage
   * evaluates every step the outage held, oldest first; what does not fit resumes on the next run.
   * @default 48
   */
  readonly maxEvaluationsPerRun: number;
  /**
   * Where a detection's evaluation starts the first time it sees an org (first deployment, a new
   * detection or org): this many hours before the org's watermark (0..2160). Events older than that
   * (the rest of a longer ingestion backfill) are not evaluated by the schedule; each 24 hours costs
   * 96 queries per 15-minute detection. Raise it to evaluate a whole backfill.
   * @default 24
   */
  readonly initialBackfillHours: number;
  /** Alarm when a detection's evaluation is more than this many minutes behind an org's watermark (15..10080). @default 180 */
  readonly lagAlarmMinutes: number;
  /**
   * E-mail addresses subscribed to the findings topic.
   * @default - the top-level `alertEmails`
   */
  readonly emails: readonly string[];
  /**
   * Lowest severity e-mailed (`info`, `low`, `medium`, `high`, `critical`): a subscription filter
   * policy on the `severity` message attribute. Every finding is still published to the topic.
   * @default 'info' (everything)
   */
  readonly minimumSeverity: Severity;
}

/**
 * Compaction of closed org-days (docs/compaction.md): the hourly compaction function. The Athena
 * view `okta_system_log` that every query reads is created either way (at deployment, by the view
 * function), over the originals alone when compaction is off.
 */
export interface CompactionConfig {
  /** Deploy the compaction function and its schedule. @default true */
  readonly enabled: boolean;
  /**
   * When it runs: an EventBridge Scheduler `rate(...)` or `cron(...)` expression. One run at a time
   * (a run still going when the next is due makes that delivery wait and retry).
   * @default 'rate(1 hour)'
   */
  readonly scheduleExpression: string;
}

/** The validated configuration, every default applied. */
export interface OktaLakeConfig {
  /** One or more Okta orgs, hosts unique. */
  readonly orgs: readonly OrgConfig[];
  /**
   * Org labels (the `org=<label>` folders of the lake) that Athena must see although nothing ingests
   * them: the history of an org removed from `orgs`, and what `okta-lake import --org <label>` wrote.
   * The Glue table's `org` projection is `orgs` followed by these (`projectedOrgs`); a folder outside
   * it returns no rows, silently. Each is an org label (lower-case letters, digits, dots and dashes),
   * unique, and not one of `orgs` (those are queryable anyway). They get no schedule, secret, alarm
   * or scheduled detection.
   * @default []
   */
  readonly queryOnlyOrgs: readonly string[];
  /**
   * Minutes between two ingestion runs of an org (1..60).
   * @default 5
   */
  readonly scheduleMinutes: number;
  /**
   * How long after `published` a window is considered closed, in minutes (1..60). Okta warns that
   * some events are delayed; a window is read only once it is this old.
   * @default 5
   */
  readonly settleLagMinutes: number;
  /**
   * How far back the very first run of an org starts, in days (1..90; Okta keeps 90 days).
   * @default 7
   */
  readonly initialLookbackDays: number;
  /**
   * How far behind an org's watermark the reconciliation sweep re-reads closed windows, in minutes:
   * 1 to 4 distinct offsets, each from 1 to 129600 (90 days). After every ingestion run that caught
   * up, the function re-reads the windows that closed this long ago and adds the events Okta recorded
   * late. Each offset is a sweep line with its own progress in the watermark table (a new offset
   * starts with the last window due) and re-reads the whole log once more from Okta.
   * @default [60, 1440] (1 hour and 24 hours)
   */
  readonly reconcileOffsetsMinutes: readonly number[];
  /**
   * E-mail addresses subscribed to the operational alarms topic.
   * @default []
   */
  readonly alertEmails: readonly string[];
  readonly retention: RetentionConfig;
  /**
   * S3 Object Lock default retention of the lake bucket: every object version is locked against
   * deletion and overwrite for `days`. Absent only when the configuration opts out with
   * `"objectLock": { "enabled": false }`.
   * @default { mode: 'GOVERNANCE', days: the retention (see ObjectLockConfig.days), existingBucket: false }
   */
  readonly objectLock?: ObjectLockConfig;
  /**
   * Bytes a single Athena query of the okta-lake workgroup may scan before it is cancelled (at least
   * 10,000,000, Athena's minimum).
   * @default 10737418240 (10 GiB)
   */
  readonly athenaBytesScannedCutoffPerQuery: number;
  /**
   * Alarm when an org has written no event for this many hours (1..24).
   * @default 6
   */
  readonly noEventsAlarmHours: number;
  /**
   * Alarm when an org's watermark lags the clock by more than this many minutes. Must exceed
   * `settleLagMinutes + scheduleMinutes`, the normal lag.
   * @default 60
   */
  readonly watermarkLagAlarmMinutes: number;
  /** @default 'arm64' */
  readonly lambdaArchitecture: LambdaArchitectureName;
  /**
   * Retention of the function's CloudWatch log group, in days (a value CloudWatch Logs accepts).
   * @default 365
   */
  readonly logRetentionDays: number;
  readonly detections: DetectionsConfig;
  readonly compaction: CompactionConfig;
}

/** The longest Object Lock retention S3 accepts, in days; the default lock when objects never expire. */
export const MAX_OBJECT_LOCK_DAYS = 36_500;

export const DEFAULT_RETENTION: RetentionConfig = {
  infrequentAccessAfterDays: 30,
  archiveAfterDays: 90,
  archiveStorageClass: 'GLACIER_IR',
  expireAfterDays: 'never',
  noncurrentVersionExpireAfterDays: 30,
};

export const CONFIG_DEFAULTS = {
  scheduleMinutes: 5,
  settleLagMinutes: 5,
  initialLookbackDays: 7,
  reconcileOffsetsMinutes: DEFAULT_SWEEP_OFFSETS_MS.map((ms) => ms / 60_000) as readonly number[],
  alertEmails: [] as readonly string[],
  retention: DEFAULT_RETENTION,
  athenaBytesScannedCutoffPerQuery: 10 * 1024 ** 3,
  noEventsAlarmHours: 6,
  watermarkLagAlarmMinutes: 60,
  lambdaArchitecture: 'arm64' as LambdaArchitectureName,
  logRetentionDays: 365,
} as const;

/** Defaults of `detections` (its `emails` default to the top-level `alertEmails`). */
export const DETECTIONS_DEFAULTS = {
  enabled: true,
  suppressionWindowHours: 24,
  maxFindingsInMessage: 20,
  maxEvaluationsPerRun: 48,
  initialBackfillHours: 24,
  lagAlarmMinutes: 180,
  minimumSeverity: 'info' as Severity,
} as const;

/** Defaults of `compaction`. */
export const COMPACTION_DEFAULTS: CompactionConfig = {
  enabled: true,
  scheduleExpression: 'rate(1 hour)',
};

/** What EventBridge Scheduler accepts as a recurring schedule (its `at(...)` one-off form is not one). */
const SCHEDULE_EXPRESSION = /^(rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|cron\([^()]+\))$/;

/** Longest suppression window the runner accepts, in hours (365 days). */
export const MAX_SUPPRESSION_WINDOW_HOURS = MAX_SUPPRESSION_WINDOW_MS / 3_600_000;

/** Athena refuses a smaller per-query cutoff. */
export const ATHENA_MIN_BYTES_SCANNED_CUTOFF = 10_000_000;

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const TOP_LEVEL_FIELDS = [
  'orgs',
  'queryOnlyOrgs',
  'scheduleMinutes',
  'settleLagMinutes',
  'initialLookbackDays',
  'reconcileOffsetsMinutes',
  'alertEmails',
  'retention',
  'objectLock',
  'athenaBytesScannedCutoffPerQuery',
  'noEventsAlarmHours',
  'watermarkLagAlarmMinutes',
  'lambdaArchitecture',
  'logRetentionDays',
  'detections',
  'compaction',
] as const;

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
// Deliberately simple: one @, no spaces, a dot in the domain. SNS confirms the address anyway.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function fail(field: string, allowed: string, value?: unknown, source?: string, cause?: unknown): never {
  const got = value === undefined ? '' : ` (got ${describe(value)})`;
  const where = source ? ` in ${source}` : '';
  throw new ConfigError(`okta-lake config${where}: "${field}" ${allowed}${got}`, cause === undefined ? undefined : { cause });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Reader {
  constructor(private readonly source?: string) {}

  fail(field: string, allowed: string, value?: unknown, cause?: unknown): never {
    return fail(field, allowed, value, this.source, cause);
  }

  object(field: string, value: unknown, allowedKeys: readonly string[]): Json {
    if (!isObject(value)) this.fail(field, 'must be an object', value);
    for (const key of Object.keys(value)) {
      if (!allowedKeys.includes(key)) {
        const path = field ? `${field}.${key}` : key;
        this.fail(path, `is not a known field; allowed: ${allowedKeys.join(', ')}`);
      }
    }
    return value;
  }

  integer(field: string, value: unknown, min: number, max: number, fallback?: number): number {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(field, `must be a whole number from ${min} to ${max}`, value);
    }
    return value;
  }

  daysOrNever(field: string, value: unknown, min: number, fallback: number | 'never'): number | 'never' {
    if (value === undefined) return fallback;
    if (value === 'never') return 'never';
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 36_500) {
      this.fail(field, `must be a whole number of days from ${min} to 36500, or "never"`, value);
    }
    return value;
  }

  oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback?: T): T {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
    }
    return value as T;
  }
}

function parseHost(r: Reader, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) r.fail(field, 'must be the org host name, e.g. "acme.okta.com"', value);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || value.includes('/')) {
    r.fail(field, 'must be a host name only, without "https://" or a path (e.g. "acme.okta.com")', value);
  }
  if (value !== value.toLowerCase()) r.fail(field, 'must be lower case (it is also the org label in the lake paths)', value);
  if (value.includes(':')) r.fail(field, 'must not carry a port: Okta is always reached over HTTPS on 443', value);
  const labels = value.split('.');
  if (value.length > 253 || labels.length < 2 || !labels.every((l) => HOST_LABEL.test(l))) {
    r.fail(field, 'must be a valid DNS host name: dot-separated labels of letters, digits and dashes', value);
  }
  // The function parses the org with the same rules: what passes here, it accepts.
  let label: string;
  try {
    label = parseOrg(value).host;
  } catch (cause) {
    throw new ConfigError(`okta-lake config: "${field}" is not an Okta org host name the ingestion accepts (got "${value}")`, { cause });
  }
  if (label !== value) r.fail(field, `must be given as its lake label "${label}"`, value);
  return value;
}

function parseSecret(r: Reader, field: string, value: unknown): SecretReference | undefined {
  if (value === undefined) return undefined;
  const o = r.object(field, value, ['name', 'arn', 'kmsKeyArn']);
  const hasName = o.name !== undefined;
  const hasArn = o.arn !== undefined;
  if (hasName === hasArn) {
    r.fail(field, 'must give exactly one of "name" or "arn" of an existing secret (or leave "secret" out to have the stack create one)');
  }
  const out: { name?: string; arn?: string; kmsKeyArn?: string } = {};
  if (hasName) {
    if (typeof o.name !== 'string' || !SECRET_NAME.test(o.name)) {
      r.fail(`${field}.name`, 'must be a Secrets Manager secret name (1-512 of A-Z a-z 0-9 / _ + = . @ -)', o.name);
    }
    out.name = o.name;
  } else {
    if (typeof o.arn !== 'string' || !SECRET_ARN.test(o.arn)) {
      r.fail(`${field}.arn`, 'must be a Secrets Manager secret ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>', o.arn);
    }
    out.arn = o.arn;
  }
  if (o.kmsKeyArn !== undefined) {
    if (typeof o.kmsKeyArn !== 'string' || !KMS_KEY_ARN.test(o.kmsKeyArn)) {
      r.fail(`${field}.kmsKeyArn`, 'must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key id>', o.kmsKeyArn);
    }
    out.kmsKeyArn = o.kmsKeyArn;
  }
  return out;
}

function parseOrgs(r: Reader, value: unknown): OrgConfig[] {
  if (!Array.isArray(value) || value.length === 0) {
    r.fail('orgs', `must be a non-empty array of { "host": "acme.okta.com", "auth": ${CREDENTIAL_KIND_NAMES.map((n) => `"${n}"`).join(' | ')} }`, value);
  }
  const seen = new Set<string>();
  return value.map((item, i) => {
    const field = `orgs[${i}]`;
    const o = r.object(field, item, ['host', 'auth', 'secret']);
    const host = parseHost(r, `${field}.host`, o.host);
    if (seen.has(host)) r.fail(`${field}.host`, 'must be unique: this org is configured twice', host);
    seen.add(host);
    const auth = r.oneOf(`${field}.auth`, o.auth, CREDENTIAL_KIND_NAMES);
    const secret = parseSecret(r, `${field}.secret`, o.secret);
    return secret ? { host, auth, secret } : { host, auth };
  });
}

function parseQueryOnlyOrgs(r: Reader, value: unknown, orgs: readonly OrgConfig[]): string[] {
  const field = 'queryOnlyOrgs';
  if (value === undefined) return [];
  if (!Array.isArray(value)) r.fail(field, 'must be an array of org labels as the lake names them (events/org=<label>/), e.g. ["old.okta.com"]', value);
  const seen = new Set<string>();
  return value.map((label, i) => {
    const at = `${field}[${i}]`;
    if (typeof label !== 'string') r.fail(at, 'must be an org label such as "old.okta.com"', label);
    try {
      assertOrgLabel(label);
    } catch (cause) {
      r.fail(at, 'must be an org label as the lake names it: lower-case letters, digits, dots and dashes, starting with a letter or digit', label, cause);
    }
    const ingested = orgs.findIndex((o) => o.host === label);
    if (ingested >= 0) r.fail(at, `is ingested (orgs[${ingested}].host), and so queryable already: list an org in one place`, label);
    if (seen.has(label)) r.fail(at, 'must be unique', label);
    seen.add(label);
    return label;
  });
}

/**
 * The org labels the Glue table projects (`projection.org.values`): every ingested org, then the
 * query-only ones. Athena reads no `org=` folder outside this list.
 */
export function projectedOrgs(config: Pick<OktaLakeConfig, 'orgs' | 'queryOnlyOrgs'>): string[] {
  return [...config.orgs.map((o) => o.host), ...config.queryOnlyOrgs];
}

function parseReconcileOffsets(r: Reader, value: unknown): number[] {
  const field = 'reconcileOffsetsMinutes';
  if (value === undefined) return [...CONFIG_DEFAULTS.reconcileOffsetsMinutes];
  const { minMinutes, maxMinutes, maxCount } = RECONCILE_OFFSET_LIMITS;
  if (!Array.isArray(value) || value.length === 0 || value.length > maxCount) {
    r.fail(field, `must be an array of 1 to ${maxCount} offsets in minutes, e.g. [60, 1440]: each one re-reads the whole log once more from Okta`, value);
  }
  const seen = new Set<number>();
  return value.map((item, i) => {
    const minutes = r.integer(`${field}[${i}]`, item, minMinutes, maxMinutes);
    if (seen.has(minutes)) r.fail(`${field}[${i}]`, 'must be unique: each offset is one sweep line', minutes);
    seen.add(minutes);
    return minutes;
  });
}

function parseEmails(r: Reader, value: unknown, field = 'alertEmails'): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) r.fail(field, 'must be an array of e-mail addresses', value);
  const seen = new Set<string>();
  return value.map((email, i) => {
    if (typeof email !== 'string' || !EMAIL.test(email)) r.fail(`${field}[${i}]`, 'must be an e-mail address like "secops@example.com"', email);
    if (seen.has(email.toLowerCase())) r.fail(`${field}[${i}]`, 'must be unique', email);
    seen.add(email.toLowerCase());
    return email;
  });
}

function parseRetention(r: Reader, value: unknown): RetentionConfig {
  if (value === undefined) return DEFAULT_RETENTION;
  const o = r.object('retention', value, [
    'infrequentAccessAfterDays',
    'archiveAfterDays',
    'archiveStorageClass',
    'expireAfterDays',
    'noncurrentVersionExpireAfterDays',
  ]);
  const d = DEFAULT_RETENTION;
  // S3 lifecycle refuses a Standard-IA transition before 30 days.
  const ia = r.daysOrNever('retention.infrequentAccessAfterDays', o.infrequentAccessAfterDays, 30, d.infrequentAccessAfterDays);
  const archive = r.daysOrNever('retention.archiveAfterDays', o.archiveAfterDays, 1, d.archiveAfterDays);
  const archiveStorageClass = r.oneOf(
    'retention.archiveStorageClass',
    o.archiveStorageClass,
    ['GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const,
    d.archiveStorageClass,
  );
  const expire = r.daysOrNever('retention.expireAfterDays', o.expireAfterDays, 1, d.expireAfterDays);
  const noncurrent = r.integer(
    'retention.noncurrentVersionExpireAfterDays',
    o.noncurrentVersionExpireAfterDays,
    1,
    36_500,
    d.noncurrentVersionExpireAfterDays,
  );
  if (ia !== 'never' && archive !== 'never' && archive < ia + 30) {
    r.fail('retention.archiveAfterDays', `must be at least 30 days after retention.infrequentAccessAfterDays (${ia}): S3 keeps objects 30 days in Standard-IA`, archive);
  }
  const lastTransition = Math.max(ia === 'never' ? 0 : ia, archive === 'never' ? 0 : archive);
  if (expire !== 'never' && expire <= lastTransition) {
    r.fail('retention.expireAfterDays', `must be later than every storage-class transition (${lastTransition} days), or "never"`, expire);
  }
  return {
    infrequentAccessAfterDays: ia,
    archiveAfterDays: archive,
    archiveStorageClass,
    expireAfterDays: expire,
    noncurrentVersionExpireAfterDays: noncurrent,
  };
}

/** The lock a retention calls for: as long as objects are kept, or S3's longest when they are kept forever. */
export function defaultObjectLockDays(retention: RetentionConfig): number {
  return retention.expireAfterDays === 'never' ? MAX_OBJECT_LOCK_DAYS : retention.expireAfterDays;
}

function parseObjectLock(r: Reader, value: unknown, retention: RetentionConfig): ObjectLockConfig | undefined {
  const o = value === undefined ? {} : r.object('objectLock', value, ['enabled', 'mode', 'days', 'existingBucket']);
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') r.fail('objectLock.enabled', 'must be true or false', o.enabled);
  if (o.enabled === false) {
    const others = Object.keys(o).filter((k) => k !== 'enabled');
    if (others.length > 0) r.fail(`objectLock.${others[0]}`, 'has no meaning with "enabled": false (Object Lock off); remove it');
    return undefined;
  }
  if (o.existingBucket !== undefined && typeof o.existingBucket !== 'boolean') r.fail('objectLock.existingBucket', 'must be true or false', o.existingBucket);
  const mode = r.oneOf('objectLock.mode', o.mode, ['GOVERNANCE', 'COMPLIANCE'] as const, 'GOVERNANCE');
  const days = r.integer('objectLock.days', o.days, 1, MAX_OBJECT_LOCK_DAYS, defaultObjectLockDays(retention));
  return { mode, days, existingBucket: (o.existingBucket as boolean | undefined) ?? false };
}

function parseDetections(r: Reader, value: unknown, alertEmails: readonly string[]): DetectionsConfig {
  const d = DETECTIONS_DEFAULTS;
  if (value === undefined) return { ...d, emails: alertEmails };
  const o = r.object('detections', value, [
    'enabled',
    'suppressionWindowHours',
    'maxFindingsInMessage',
    'maxEvaluationsPerRun',
    'initialBackfillHours',
    'lagAlarmMinutes',
    'emails',
    'minimumSeverity',
  ]);
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') r.fail('detections.enabled', 'must be true or false', o.enabled);
  return {
    enabled: (o.enabled as boolean | undefined) ?? d.enabled,
    suppressionWindowHours: r.integer('detections.suppressionWindowHours', o.suppressionWindowHours, 1, MAX_SUPPRESSION_WINDOW_HOURS, d.suppressionWindowHours),
    maxFindingsInMessage: r.integer('detections.maxFindingsInMessage', o.maxFindingsInMessage, 1, MAX_FINDINGS_IN_MESSAGE_LIMIT, d.maxFindingsInMessage),
    maxEvaluationsPerRun: r.integer('detections.maxEvaluationsPerRun', o.maxEvaluationsPerRun, 1, 1000, d.maxEvaluationsPerRun),
    initialBackfillHours: r.integer('detections.initialBackfillHours', o.initialBackfillHours, 0, 90 * 24, d.initialBackfillHours),
    lagAlarmMinutes: r.integer('detections.lagAlarmMinutes', o.lagAlarmMinutes, 15, 7 * 24 * 60, d.lagAlarmMinutes),
    emails: o.emails === undefined ? alertEmails : parseEmails(r, o.emails, 'detections.emails'),
    minimumSeverity: r.oneOf('detections.minimumSeverity', o.minimumSeverity, SEVERITIES, d.minimumSeverity),
  };
}

function parseCompaction(r: Reader, value: unknown): CompactionConfig {
  const d = COMPACTION_DEFAULTS;
  if (value === undefined) return d;
  const o = r.object('compaction', value, ['enabled', 'scheduleExpression']);
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') r.fail('compaction.enabled', 'must be true or false', o.enabled);
  if (o.scheduleExpression !== undefined && (typeof o.scheduleExpression !== 'string' || !SCHEDULE_EXPRESSION.test(o.scheduleExpression))) {
    r.fail('compaction.scheduleExpression', 'must be an EventBridge Scheduler rate(...) or cron(...) expression, e.g. "rate(1 hour)"', o.scheduleExpression);
  }
  return {
    enabled: (o.enabled as boolean | undefined) ?? d.enabled,
    scheduleExpression: (o.scheduleExpression as string | undefined) ?? d.scheduleExpression,
  };
}

/**
 * A non-current version (one a delete marker or an expiry has hidden) is evidence too: its lifecycle
 * expiry must not come before its lock ends. The default expiry is raised to the lock; an expiry the
 * configuration names that is shorter is an error.
 */
function keepNoncurrentVersionsLocked(r: Reader, retention: RetentionConfig, lock: ObjectLockConfig | undefined, explicit: boolean): RetentionConfig {
  if (!lock || retention.noncurrentVersionExpireAfterDays >= lock.days) return retention;
  if (explicit) {
    r.fail(
      'retention.noncurrentVersionExpireAfterDays',
      `must not be shorter than objectLock.days (${lock.days}): a non-current version stays locked, and is evidence, until its retention ends (leave it out to have it follow the lock)`,
      retention.noncurrentVersionExpireAfterDays,
    );
  }
  return { ...retention, noncurrentVersionExpireAfterDays: lock.days };
}

/**
 * Validates a raw configuration (parsed JSON) and applies the defaults.
 * @param source where the configuration came from, quoted in error messages (e.g. a file name)
 * @throws ConfigError naming the first field that is not allowed
 */
export function parseConfig(input: unknown, source?: string): OktaLakeConfig {
  const r = new Reader(source);
  const o = r.object('', input, TOP_LEVEL_FIELDS);
  const d = CONFIG_DEFAULTS;
  const orgs = parseOrgs(r, o.orgs);
  const queryOnlyOrgs = parseQueryOnlyOrgs(r, o.queryOnlyOrgs, orgs);
  const scheduleMinutes = r.integer('scheduleMinutes', o.scheduleMinutes, 1, 60, d.scheduleMinutes);
  const settleLagMinutes = r.integer('settleLagMinutes', o.settleLagMinutes, 1, 60, d.settleLagMinutes);
  const initialLookbackDays = r.integer('initialLookbackDays', o.initialLookbackDays, 1, 90, d.initialLookbackDays);
  const reconcileOffsetsMinutes = parseReconcileOffsets(r, o.reconcileOffsetsMinutes);
  const alertEmails = parseEmails(r, o.alertEmails);
  const parsedRetention = parseRetention(r, o.retention);
  const objectLock = parseObjectLock(r, o.objectLock, parsedRetention);
  const retention = keepNoncurrentVersionsLocked(r, parsedRetention, objectLock, isObject(o.retention) && o.retention.noncurrentVersionExpireAfterDays !== undefined);
  const athenaBytesScannedCutoffPerQuery = r.integer(
    'athenaBytesScannedCutoffPerQuery',
    o.athenaBytesScannedCutoffPerQuery,
    ATHENA_MIN_BYTES_SCANNED_CUTOFF,
    Number.MAX_SAFE_INTEGER,
    d.athenaBytesScannedCutoffPerQuery,
  );
  const noEventsAlarmHours = r.integer('noEventsAlarmHours', o.noEventsAlarmHours, 1, 24, d.noEventsAlarmHours);
  const watermarkLagAlarmMinutes = r.integer('watermarkLagAlarmMinutes', o.watermarkLagAlarmMinutes, 2, 10_080, d.watermarkLagAlarmMinutes);
  const normalLag = settleLagMinutes + scheduleMinutes;
  if (watermarkLagAlarmMinutes <= normalLag) {
    r.fail(
      'watermarkLagAlarmMinutes',
      `must be more than settleLagMinutes + scheduleMinutes (${normalLag}), the lag of a healthy org`,
      watermarkLagAlarmMinutes,
    );
  }
  const lambdaArchitecture = r.oneOf('lambdaArchitecture', o.lambdaArchitecture, ['arm64', 'x86_64'] as const, d.lambdaArchitecture);
  const logRetentionDays =
    o.logRetentionDays === undefined
      ? d.logRetentionDays
      : (LOG_RETENTION_DAYS as readonly unknown[]).includes(o.logRetentionDays)
        ? (o.logRetentionDays as number)
        : r.fail('logRetentionDays', `must be one of ${LOG_RETENTION_DAYS.join(', ')}`, o.logRetentionDays);
  if (objectLock && retention.expireAfterDays !== 'never' && retention.expireAfterDays < objectLock.days) {
    r.fail(
      'retention.expireAfterDays',
      `must not be shorter than objectLock.days (${objectLock.days}): locked versions cannot be deleted before their retention ends`,
      retention.expireAfterDays,
    );
  }
  const detections = parseDetections(r, o.detections, alertEmails);
  const compaction = parseCompaction(r, o.compaction);
  const config: OktaLakeConfig = {
    orgs,
    queryOnlyOrgs,
    scheduleMinutes,
    settleLagMinutes,
    initialLookbackDays,
    reconcileOffsetsMinutes,
    alertEmails,
    retention,
    athenaBytesScannedCutoffPerQuery,
    noEventsAlarmHours,
    watermarkLagAlarmMinutes,
    lambdaArchitecture,
    logRetentionDays,
    detections,
    compaction,
  };
  return objectLock ? { ...config, objectLock } : config;
}
