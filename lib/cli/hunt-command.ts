/**
 * `okta-lake hunt`: runs the queries of `athena-queries/` on a local lake folder with DuckDB,
 * through the compatibility layer (docs/detections.md), and prints what they found.
 *
 * The exit code says whether the hunt ran, not whether something fired: 0 when every query ran
 * (with or without findings), 1 when a query failed, 2 on a wrong command line. Scripts that need
 * to know whether anything fired use `--format json` and count the findings.
 */
import { resolve } from 'node:path';
import {
  alertsAsHuntResult,
  effectiveSeverity,
  executeQuery,
  openLake,
  replayRuns,
  replaySchedule,
  runDetections,
  type HuntResult,
  type FindingValue,
  type Lake,
} from '../core/hunt';
import { SEVERITIES, defaultQueriesDir, loadQueries, type QueryDefinition } from '../core/queries';
import { UsageError, optionalString, parse, parseInstant, parseNumber } from './args';
import { EXIT, formatCount, table } from './output';

export const HUNT_HELP = `Usage: okta-lake hunt --lake <dir> (--all | --detection <id> | --list) [options]

Runs the Athena queries of athena-queries/ on a local lake with DuckDB (the same SQL files that are
deployed as Athena named queries) and prints their findings.

Options:
  --lake <dir>             the lake folder (the one that holds events/)
  --all                    run every scheduled detection
  --detection <id>         run one query: a detection or a hunt (see --list)
  --list                   list the queries: id, kind, severity, schedule, lookback, title
  --format <f>             table (default), json or csv
  --now <ISO|duration>     the instant the queries' lookback counts back from (default: now),
                           e.g. 2024-05-01T12:00:00Z, or 2d for two days ago
  --since <ISO|duration>   replay the deployment from --since to --now: a run every --step minutes,
                           each seeing only the rows written by then (ingested_at), evaluating each
                           scheduled detection from its cursor to the lake's watermark then, as the
                           Lambda does; each finding once, with the run that alerted it (run_at),
                           the instant evaluated and how late it came. What the deployment would
                           really have alerted, and when
  --step <minutes>         with --since: minutes between replayed runs (default: 15; with
                           --on-time, each schedule)
  --on-time                with --since: replay as if every event had arrived on time (each
                           detection at every step of its schedule over all rows, whenever written)
  --param <name=value>     a hunt's parameter, e.g. --param user=jane.doe@example.com (repeatable)
  --queries <dir>          another folder of query files (default: the installed athena-queries/)

Exit codes: 0 the queries ran (whether or not anything was found), 1 a query failed, 2 usage.
CSV cells that start with = + - or @ are prefixed with ' so spreadsheets do not run them.`;

export type HuntFormat = 'table' | 'json' | 'csv';
const FORMATS: readonly HuntFormat[] = ['table', 'json', 'csv'];

/** Longest cell printed in the table format (the summary column gets more). */
const CELL_WIDTH = 40;
const SUMMARY_WIDTH = 110;

/** A cell as text: null is empty, arrays and objects are JSON. */
export function cellText(value: FindingValue): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const truncate = (text: string, width: number): string => {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length <= width ? oneLine : `${oneLine.slice(0, width - 1)}…`;
};

/**
 * The table format: each query that found something, most severe first, with a heading (severity,
 * title, id, count) and its rows aligned, cells cut to terminal-friendly widths; then one line
 * naming the queries that found nothing, and a total.
 */
export function formatTable(results: readonly HuntResult[]): string {
  const blocks: string[] = [];
  const quiet: string[] = [];
  const rank = (r: HuntResult): number => SEVERITIES.indexOf(r.severity);
  const ordered = [...results].sort((a, b) => rank(b) - rank(a) || a.id.localeCompare(b.id));
  let findings = 0;
  for (const r of ordered) {
    const n = r.findings.length;
    findings += n;
    if (n === 0) {
      quiet.push(r.id);
      continue;
    }
    const rows = [
      [...r.columns],
      ...r.findings.map((row) =>
        r.columns.map((c) => {
          const value = row[c];
          return typeof value === 'number' ? value : truncate(cellText(value), c === 'summary' ? SUMMARY_WIDTH : CELL_WIDTH);
        }),
      ),
    ];
    blocks.push(`[${r.severity.toUpperCase()}] ${r.title} (${r.id}): ${formatCount(n)} finding${n === 1 ? '' : 's'}\n${indent(table(rows))}`);
  }
  if (quiet.length > 0) blocks.push(`No findings: ${quiet.join(', ')}`);
  const fired = results.length - quiet.length;
  const total = `${formatCount(fired)} of ${formatCount(results.length)} quer${results.length === 1 ? 'y' : 'ies'} found something, ${formatCount(findings)} finding${findings === 1 ? '' : 's'} in all`;
  return `${blocks.join('\n\n')}\n\n${total}\n`;
}

const indent = (text: string): string => text.split('\n').map((l) => `  ${l}`).join('\n');

/** The JSON format: an array of `{ id, title, severity, count, columns, findings }`. */
export function formatJson(results: readonly HuntResult[]): string {
  return `${JSON.stringify(results.map((r) => ({ id: r.id, title: r.title, severity: r.severity, count: r.findings.length, columns: r.columns, findings: r.findings })), null, 2)}\n`;
}

function csvCell(value: FindingValue): string {
  let text = cellText(value);
  // Formula injection: log fields are attacker-controlled (user agents, usernames).
  if (/^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The CSV format (RFC 4180): one header, one line per finding, `query_id` and `severity` first,
 * then every column of every query in order of appearance (empty where a query lacks it).
 */
export function formatCsv(results: readonly HuntResult[]): string {
  const columns: string[] = [];
  for (const r of results) for (const c of r.columns) if (!columns.includes(c)) columns.push(c);
  const header = ['query_id', 'severity', ...columns];
  const lines = [header.map(csvCell).join(',')];
  for (const r of results) {
    for (const row of r.findings) {
      lines.push([r.id, r.severity, ...columns.map((c) => row[c] ?? null)].map((v) => csvCell(v as FindingValue)).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function formatResults(results: readonly HuntResult[], format: HuntFormat): string {
  switch (format) {
    case 'table':
      return formatTable(results);
    case 'json':
      return formatJson(results);
    case 'csv':
      return formatCsv(results);
  }
}

function formatList(queries: readonly QueryDefinition[]): string {
  const rows = [
    ['id', 'kind', 'severity', 'schedule', 'lookback', 'parameters', 'title'],
    ...queries.map((q) => [q.id, q.kind, q.severity, q.schedule ?? 'none', q.lookback, [...new Set(q.parameters)].join(', '), q.title]),
  ];
  return `${table(rows)}\n`;
}

function parseParams(raw: unknown): Record<string, string> {
  const items = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const params: Record<string, string> = {};
  for (const item of items) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(String(item));
    if (!m) throw new UsageError(`--param must look like name=value, got "${String(item)}"`);
    if (m[1] in params) throw new UsageError(`--param ${m[1]} is given twice`);
    params[m[1]] = m[2];
  }
  return params;
}

export interface HuntAllOptions {
  /** The instant the lookbacks count back from. @default new Date() */
  readonly now?: Date;
  /** The folder of query files. @default defaultQueriesDir() */
  readonly queriesDir?: string;
  /** Where to print the findings in `format`; nothing is printed when absent. @default undefined */
  readonly print?: NodeJS.WritableStream;
  /** @default 'table' */
  readonly format?: HuntFormat;
  /**
   * Replay the schedule from this instant to `now` instead of one run at `now` (see
   * `replaySchedule`). @default undefined (one run)
   */
  readonly since?: Date;
  /** Minutes between replayed runs. @default 15 (on time: each detection's schedule) */
  readonly stepMinutes?: number;
  /** Replay as if every event had arrived on time (`replaySchedule`). @default false: as the deployment ran */
  readonly onTime?: boolean;
}

/**
 * The deployment replayed over `[since, now]` (`replayRuns`), as hunt results: each alerted finding
 * with `run_at` (the simulated run that alerted it), `evaluated_at` and `alerted` (on schedule, how
 * long after the fact, or late evidence and how late).
 */
export async function replayAsResults(lake: Lake, queries: readonly QueryDefinition[], since: Date, now: Date, stepMinutes?: number): Promise<HuntResult[]> {
  const replayed = await replayRuns(lake, { queries, from: since, to: now, ...(stepMinutes !== undefined ? { stepMinutes } : {}) });
  return queries.map((query) => alertsAsHuntResult(query, replayed.get(query.id) ?? [], true));
}

/**
 * Runs every scheduled detection on the lake at `lakeDir` (what `okta-lake hunt --all` does), once
 * at `now` or, with `since`, replayed over the period; optionally prints the findings; returns
 * them. Used by the demo.
 */
export async function huntAll(lakeDir: string, options: HuntAllOptions = {}): Promise<HuntResult[]> {
  const queries = loadQueries(options.queriesDir ?? defaultQueriesDir()).filter((q) => q.kind === 'detection' && q.schedule !== undefined);
  const lake = await openLake(lakeDir);
  try {
    const now = options.now ?? new Date();
    const results = !options.since
      ? await runDetections(lake, queries, { now })
      : options.onTime
        ? await replaySchedule(lake, queries, { from: options.since, to: now, stepMinutes: options.stepMinutes })
        : await replayAsResults(lake, queries, options.since, now, options.stepMinutes);
    options.print?.write(formatResults(results, options.format ?? 'table'));
    return results;
  } finally {
    lake.close();
  }
}

export async function huntCommand(
  argv: readonly string[],
  io: { env: NodeJS.ProcessEnv; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; signal?: AbortSignal },
): Promise<number> {
  const { values } = parse(argv, {
    lake: { type: 'string' },
    all: { type: 'boolean' },
    detection: { type: 'string' },
    list: { type: 'boolean' },
    format: { type: 'string' },
    now: { type: 'string' },
    param: { type: 'string', multiple: true },
    queries: { type: 'string' },
    since: { type: 'string' },
    step: { type: 'string' },
    'on-time': { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(`${HUNT_HELP}\n`);
    return EXIT.ok;
  }
  const format = (optionalString(values, 'format') ?? 'table') as HuntFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
  const queriesDir = optionalString(values, 'queries');
  const queries = loadQueries(queriesDir ? resolve(queriesDir) : defaultQueriesDir());
  if (values.list) {
    io.stdout.write(formatList(queries));
    return EXIT.ok;
  }

  const detection = optionalString(values, 'detection');
  const all = values.all === true;
  if (all === (detection !== undefined)) throw new UsageError('give exactly one of --all, --detection <id> or --list');
  const lakeDir = optionalString(values, 'lake');
  if (!lakeDir) throw new UsageError('--lake is required');
  const nowText = optionalString(values, 'now');
  const now = nowText ? new Date(parseInstant(nowText, '--now', Date.now())) : new Date();
  const params = parseParams((values as Record<string, unknown>).param);
  const sinceText = optionalString(values, 'since');
  const since = sinceText ? new Date(parseInstant(sinceText, '--since', Date.now())) : undefined;
  if (since && since.getTime() >= now.getTime()) throw new UsageError('--since must be before --now');
  const stepText = optionalString(values, 'step');
  if (stepText && !since) throw new UsageError('--step is for replaying with --since');
  const onTime = values['on-time'] === true;
  if (onTime && !since) throw new UsageError('--on-time is for replaying with --since');
  const stepMinutes = stepText ? parseNumber(stepText, '--step', 1, 24 * 60, true) : undefined;

  let selected: QueryDefinition[];
  if (all) {
    if (Object.keys(params).length > 0) throw new UsageError('--param is for one hunt (--detection <id>), not for --all');
    selected = queries.filter((q) => q.kind === 'detection' && q.schedule !== undefined);
  } else {
    const query = queries.find((q) => q.id === detection);
    if (!query) {
      throw new UsageError(`unknown query "${detection}"; known: ${queries.map((q) => q.id).join(', ')}`);
    }
    if (since && query.scheduleMinutes === undefined) throw new UsageError(`--since replays scheduled detections; ${query.id} is not scheduled`);
    for (const name of query.parameters) {
      if (!(name in params)) throw new UsageError(`${query.id} needs --param ${name}=<value>`);
    }
    for (const name of Object.keys(params)) {
      if (!query.parameters.includes(name)) {
        throw new UsageError(`${query.id} has no parameter "${name}"${query.parameters.length > 0 ? ` (it takes ${[...new Set(query.parameters)].join(', ')})` : ''}`);
      }
    }
    selected = [query];
  }

  const lake = await openLake(lakeDir);
  try {
    let results: HuntResult[];
    if (since) {
      results = onTime ? await replaySchedule(lake, selected, { from: since, to: now, stepMinutes }) : await replayAsResults(lake, selected, since, now, stepMinutes);
    } else if (all) {
      results = await runDetections(lake, selected, { now });
    } else {
      const query = selected[0];
      const { columns, rows } = await executeQuery(lake, query, { now, params });
      results = [{ id: query.id, title: query.title, severity: effectiveSeverity(query, rows), columns, findings: rows }];
    }
    io.stdout.write(formatResults(results, format));
    return EXIT.ok;
  } finally {
    lake.close();
  }
}

