/**
 * The input of one detection run, and the schedule payload it is read from.
 *
 * The CDK stack builds the payload of each detection's schedule with `detectionPayload()` from the
 * query's header (`QueryDefinition`) and its named query id; the handler reads it back with
 * `parseDetectionInput()`, filling what the payload leaves out from the function's configuration.
 */
import { createHash } from 'node:crypto';
import type { QueryDefinition, Severity } from '../queries';
import { SEVERITIES } from '../queries';
import { DetectionInputError } from './errors';
import { DAY, MINUTE } from '../time';

/** @default for `maxFindingsInMessage` */
export const DEFAULT_MAX_FINDINGS_IN_MESSAGE = 20;
/** Largest `maxFindingsInMessage` allowed (an e-mail, not a report). */
export const MAX_FINDINGS_IN_MESSAGE_LIMIT = 200;
export const MIN_SUPPRESSION_WINDOW_MS = MINUTE;
export const MAX_SUPPRESSION_WINDOW_MS = 365 * DAY;

export interface DetectionInput {
  /** The query's id (file name without `.sql`). */
  readonly detectionId: string;
  /** The Athena named query to fetch and run (its console text is what runs). */
  readonly namedQueryId: string;
  readonly title: string;
  readonly severity: Severity;
  /** Result columns that identify one finding (for dedupe). */
  readonly findingKey: readonly string[];
  readonly runbook: string;
  readonly description: string;
  /**
   * A finding alerted on is not alerted on again within this window. Never less than the query's
   * lookback (when the payload names it), so a finding still inside the lookback is not repeated.
   */
  readonly suppressionWindowMs: number;
  /** Findings listed in the message; the rest are counted ("and K more"). @default 20 */
  readonly maxFindingsInMessage: number;
  /** Region of the Athena console link. */
  readonly consoleRegion: string;
  /** SHA-256 (hex) of the query text as deployed: the named query must still hold exactly this text. */
  readonly sqlSha256: string;
  /** The schedule period: the longest step between two evaluated instants. */
  readonly scheduleMs: number;
  /** How far back the query reads from its instant. */
  readonly lookbackMs: number;
}

/**
 * The payload of a detection's schedule (EventBridge Scheduler target input). Optional fields fall
 * back to the function's configuration (`SUPPRESSION_WINDOW_MINUTES`, `AWS_REGION`).
 */
export interface DetectionPayload {
  readonly detectionId: string;
  readonly namedQueryId: string;
  readonly title: string;
  readonly severity: Severity;
  readonly findingKey: readonly string[];
  readonly runbook: string;
  readonly description: string;
  /** @default the function's `SUPPRESSION_WINDOW_MINUTES` */
  readonly suppressionWindowMs?: number;
  /** @default 20 */
  readonly maxFindingsInMessage?: number;
  /** @default the function's region */
  readonly consoleRegion?: string;
  /** The query's lookback; the suppression window is raised to it when shorter. */
  readonly lookbackMs: number;
  /** The query's schedule period, in ms. */
  readonly scheduleMs: number;
  /** SHA-256 (hex) of the deployed query text (`querySha256`). */
  readonly sqlSha256: string;
}

export interface DetectionInputDefaults {
  readonly suppressionWindowMs?: number;
  readonly consoleRegion?: string;
  readonly maxFindingsInMessage?: number;
}

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const NAMED_QUERY_ID = /^[A-Za-z0-9_-]{1,128}$/;
const COLUMN = /^[a-z_][a-z0-9_]*$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'detectionId',
  'namedQueryId',
  'title',
  'severity',
  'findingKey',
  'runbook',
  'description',
  'suppressionWindowMs',
  'maxFindingsInMessage',
  'consoleRegion',
  'lookbackMs',
  'scheduleMs',
  'sqlSha256',
]);

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 60)}...` : value}"`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** Reads and validates a detection payload; throws `DetectionInputError` naming the field and what is allowed. */
export function parseDetectionInput(value: unknown, defaults: DetectionInputDefaults = {}): DetectionInput {
  const fail = (field: string, why: string): never => {
    throw new DetectionInputError(`detection payload: "${field}" ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DetectionInputError(`detection payload must be a JSON object, got ${describe(value)}`);
  }
  const p = value as Record<string, unknown>;
  const unknown = Object.keys(p).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) fail(unknown[0], `is not a known field (known: ${[...KNOWN_FIELDS].join(', ')})`);

  const text = (field: string, maxLength: number): string => {
    const v = p[field];
    if (typeof v !== 'string' || v.trim().length === 0) return fail(field, `must be a non-empty string, got ${describe(v)}`);
    if (v.length > maxLength) fail(field, `must be at most ${maxLength} characters, got ${v.length}`);
    return v;
  };
  const integer = (field: string, fallback: number | undefined, min: number, max: number): number => {
    const v = p[field] ?? fallback;
    if (v === undefined) return fail(field, 'is missing and has no default');
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      return fail(field, `must be a whole number from ${min} to ${max}, got ${describe(v)}`);
    }
    return v;
  };

  const detectionId = text('detectionId', 128);
  if (!ID.test(detectionId)) fail('detectionId', `must be lower-case words joined by dashes, got ${describe(detectionId)}`);
  const namedQueryId = text('namedQueryId', 128);
  if (!NAMED_QUERY_ID.test(namedQueryId)) fail('namedQueryId', `must be an Athena named query id (letters, digits, "-", "_"), got ${describe(namedQueryId)}`);
  const title = text('title', 256);
  const severity = p.severity;
  if (typeof severity !== 'string' || !(SEVERITIES as readonly string[]).includes(severity)) {
    fail('severity', `must be one of ${SEVERITIES.join(', ')}, got ${describe(severity)}`);
  }
  const findingKey = p.findingKey;
  if (!Array.isArray(findingKey) || findingKey.length === 0) fail('findingKey', `must be a non-empty array of column names, got ${describe(findingKey)}`);
  const key = findingKey as unknown[];
  for (const c of key) if (typeof c !== 'string' || !COLUMN.test(c)) fail('findingKey', `has ${describe(c)}, not a lower-case column name`);
  if (new Set(key).size !== key.length) fail('findingKey', 'names a column twice');
  const runbook = text('runbook', 20_000);
  const description = text('description', 20_000);

  const lookbackMs = integer('lookbackMs', undefined, MINUTE, 90 * DAY);
  const scheduleMs = integer('scheduleMs', undefined, MINUTE, DAY);
  if (scheduleMs > lookbackMs) fail('scheduleMs', `must not be longer than lookbackMs (${lookbackMs}), or events are missed between evaluations`);
  const sqlSha256 = p.sqlSha256;
  if (typeof sqlSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sqlSha256)) fail('sqlSha256', `must be the SHA-256 of the deployed query text as 64 hex digits, got ${describe(sqlSha256)}`);
  const suppressionWindowMs = Math.max(
    integer('suppressionWindowMs', defaults.suppressionWindowMs, MIN_SUPPRESSION_WINDOW_MS, MAX_SUPPRESSION_WINDOW_MS),
    lookbackMs,
  );
  const maxFindingsInMessage = integer(
    'maxFindingsInMessage',
    defaults.maxFindingsInMessage ?? DEFAULT_MAX_FINDINGS_IN_MESSAGE,
    1,
    MAX_FINDINGS_IN_MESSAGE_LIMIT,
  );
  const region = p.consoleRegion ?? defaults.consoleRegion;
  if (typeof region !== 'string' || !REGION.test(region)) fail('consoleRegion', `must be an AWS region such as eu-west-1, got ${describe(region)}`);

  return {
    detectionId,
    namedQueryId,
    title,
    severity: severity as Severity,
    findingKey: key as string[],
    runbook,
    description,
    suppressionWindowMs,
    maxFindingsInMessage,
    consoleRegion: region as string,
    sqlSha256: sqlSha256 as string,
    scheduleMs,
    lookbackMs,
  };
}

/** SHA-256 (hex) of a query text as UTF-8: what the schedule payload carries and the runner checks. */
export function querySha256(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

export interface DetectionPayloadOptions {
  /** @default the function's `SUPPRESSION_WINDOW_MINUTES` (raised to the query's lookback at run time) */
  readonly suppressionWindowMs?: number;
  /** @default 20 */
  readonly maxFindingsInMessage?: number;
  /** @default the function's region */
  readonly consoleRegion?: string;
}

/**
 * The schedule payload of a scheduled detection, for the CDK stack. `namedQueryId` may be a CDK token
 * (the named query's `attrNamedQueryId`); it is checked when the runner reads the payload.
 */
export function detectionPayload(query: QueryDefinition, namedQueryId: string, options: DetectionPayloadOptions = {}): DetectionPayload {
  if (query.kind !== 'detection' || query.scheduleMinutes === undefined) {
    throw new DetectionInputError(`query "${query.id}" is ${query.kind === 'detection' ? 'not scheduled' : `a ${query.kind}, not a detection`}: it has no schedule payload`);
  }
  return {
    detectionId: query.id,
    namedQueryId,
    title: query.title,
    severity: query.severity,
    findingKey: [...query.findingKey],
    runbook: query.runbook,
    description: query.description,
    lookbackMs: query.lookbackMs,
    scheduleMs: (query.scheduleMinutes ?? 0) * MINUTE,
    sqlSha256: querySha256(query.sql),
    ...(options.suppressionWindowMs !== undefined ? { suppressionWindowMs: options.suppressionWindowMs } : {}),
    ...(options.maxFindingsInMessage !== undefined ? { maxFindingsInMessage: options.maxFindingsInMessage } : {}),
    ...(options.consoleRegion !== undefined ? { consoleRegion: options.consoleRegion } : {}),
  };
}
