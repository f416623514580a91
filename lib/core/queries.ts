/**
 * The query catalog: every `athena-queries/*.sql` file, with the header block the tooling reads.
 * The same files are deployed as Athena named queries, run on a schedule by the detection runner,
 * run locally through DuckDB by `okta-lake hunt`, and executed on real Parquet by the tests.
 *
 * A file starts with a header of `-- key: value` lines (a value may continue on following lines
 * that start with `--` and two or more spaces), then the SQL:
 *
 *   -- id: mfa-push-bombing                 (must equal the file name without .sql)
 *   -- title: MFA push bombing
 *   -- kind: detection                      (detection | hunt)
 *   -- severity: high                       (info | low | medium | high | critical)
 *   -- schedule: rate(15 minutes)           (an EventBridge Scheduler rate, or none)
 *   -- lookback: 1h                         (how far back the query reads; its dt/hour filter must match)
 *   -- mitre: T1621, T1110
 *   -- finding_key: actor_id, session_id    (result columns that identify one finding, for dedupe)
 *   -- description: what it finds and why it matters
 *   -- runbook: what to check, what to do
 *   -- sources: the public rules and documents it follows (optional; not read by the tooling)
 *   -- parameters: user                     (hunts only: names of the `?` placeholders, in order;
 *                                            a name repeats where the value is needed twice, since
 *                                            Athena takes `?` only in a WHERE clause)
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface QueryDefinition {
  readonly id: string;
  readonly title: string;
  readonly kind: 'detection' | 'hunt';
  readonly severity: Severity;
  /** EventBridge Scheduler expression, e.g. `rate(15 minutes)`; undefined when not scheduled. */
  readonly schedule?: string;
  /** Schedule period in minutes, when scheduled. */
  readonly scheduleMinutes?: number;
  /** How far back the query reads, in milliseconds. */
  readonly lookbackMs: number;
  readonly lookback: string;
  readonly mitre: readonly string[];
  readonly findingKey: readonly string[];
  readonly parameters: readonly string[];
  readonly description: string;
  readonly runbook: string;
  /** The whole file text, header included (what the Athena console shows and runs). */
  readonly sql: string;
  readonly file: string;
}

/** A query file's header is missing a field or has a value that is not allowed. */
export class QueryDefinitionError extends ConfigError {}

const DURATION = /^(\d+)(m|h|d)$/;
const DURATION_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const RATE = /^rate\((\d+) (minute|minutes|hour|hours)\)$/;
const MITRE = /^T\d{4}(\.\d{3})?$/;
const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const COLUMN = /^[a-z_][a-z0-9_]*$/;

function parseHeader(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  let current: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('--')) break;
    const field = /^--\s?([a-z_]+):\s*(.*)$/.exec(line);
    const continuation = /^--\s{2,}(\S.*)$/.exec(line);
    if (field && !continuation) {
      current = field[1];
      fields.set(current, field[2].trim());
    } else if (continuation && current) {
      fields.set(current, `${fields.get(current)} ${continuation[1].trim()}`.trim());
    } else {
      current = undefined;
    }
  }
  return fields;
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && s !== 'none');

/** Parses one query file's text; `file` is used in error messages and to check the id. */
export function parseQuery(file: string, sql: string): QueryDefinition {
  const h = parseHeader(sql);
  const fail = (field: string, why: string): never => {
    throw new QueryDefinitionError(`${basename(file)}: header field "${field}" ${why}`);
  };
  const need = (field: string): string => h.get(field) || fail(field, 'is missing');

  const id = need('id');
  if (!ID.test(id)) fail('id', `must be lower-case words joined by dashes, got "${id}"`);
  if (id !== basename(file, '.sql')) fail('id', `must equal the file name without .sql ("${basename(file, '.sql')}"), got "${id}"`);
  const kindText = need('kind');
  if (kindText !== 'detection' && kindText !== 'hunt') fail('kind', `must be detection or hunt, got "${kindText}"`);
  const kind = kindText as QueryDefinition['kind'];
  const severity = need('severity');
  if (!(SEVERITIES as readonly string[]).includes(severity)) fail('severity', `must be one of ${SEVERITIES.join(', ')}, got "${severity}"`);
  const lookback = need('lookback');
  const lm = DURATION.exec(lookback) ?? fail('lookback', `must be a duration such as 30m, 1h or 7d, got "${lookback}"`);
  const lookbackMs = Number(lm[1]) * DURATION_MS[lm[2]];
  if (!(lookbackMs > 0 && lookbackMs <= 90 * DURATION_MS.d)) fail('lookback', 'must be more than 0 and at most 90d');

  const scheduleText = need('schedule');
  let schedule: string | undefined;
  let scheduleMinutes: number | undefined;
  if (scheduleText !== 'none') {
    const rm = RATE.exec(scheduleText) ?? fail('schedule', `must be none or rate(N minutes|hours), got "${scheduleText}"`);
    const n = Number(rm[1]);
    if (!(n >= 1)) fail('schedule', 'rate must be at least 1');
    if ((n === 1) !== /^(minute|hour)$/.test(rm[2])) fail('schedule', 'use "1 minute"/"1 hour" for one, plural otherwise');
    schedule = scheduleText;
    scheduleMinutes = rm[2].startsWith('hour') ? n * 60 : n;
    if (kind === 'hunt') fail('schedule', 'must be none for a hunt');
    if (scheduleMinutes * 60_000 > lookbackMs) fail('lookback', `must cover at least one schedule period (${scheduleText}), or findings are missed between runs`);
  }

  const mitre = list(h.get('mitre'));
  for (const t of mitre) if (!MITRE.test(t)) fail('mitre', `has "${t}", not a MITRE ATT&CK technique id such as T1621 or T1110.003`);
  const findingKey = list(h.get('finding_key'));
  for (const c of findingKey) if (!COLUMN.test(c)) fail('finding_key', `has "${c}", not a lower-case column name`);
  if (kind === 'detection' && findingKey.length === 0) fail('finding_key', 'is missing: a detection must name the columns that identify one finding');
  const parameters = list(h.get('parameters'));
  if (kind === 'detection' && parameters.length > 0) fail('parameters', 'are for hunts only: a scheduled query runs unattended');
  const placeholders = (sql.replace(/--.*$/gm, '').replace(/'(?:[^']|'')*'/g, "''").match(/\?/g) ?? []).length;
  if (placeholders !== parameters.length) fail('parameters', `names ${parameters.length} parameter(s) but the SQL has ${placeholders} "?" placeholder(s)`);

  return {
    id,
    title: need('title'),
    kind: kind as QueryDefinition['kind'],
    severity: severity as Severity,
    schedule,
    scheduleMinutes,
    lookback,
    lookbackMs,
    mitre,
    findingKey,
    parameters,
    description: need('description'),
    runbook: kind === 'detection' ? need('runbook') : (h.get('runbook') ?? ''),
    sql,
    file,
  };
}

/** Finds the project's `athena-queries/` folder from this module's location (source or bundle). */
export function defaultQueriesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'athena-queries');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new ConfigError('cannot find the athena-queries folder next to the okta-lake installation');
}

/** Loads and validates every `.sql` file of the folder, sorted by id; ids are unique. */
export function loadQueries(dir: string = defaultQueriesDir()): QueryDefinition[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  return files.map((f) => parseQuery(join(dir, f), readFileSync(join(dir, f), 'utf8')));
}
