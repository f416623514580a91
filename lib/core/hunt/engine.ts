/**
 * The scheduled detections on a local lake: the same evaluation cursors, late-evidence re-evaluation
 * and suppression as the deployed runner (lib/core/detect/evaluate.ts), with DuckDB as the engine.
 * `okta-lake detect` runs it once over the lake's state folder; `okta-lake hunt --since` replays it
 * run by run over the lake as it was at each run (rows with `ingested_at` up to the run), so a replay
 * says what the deployment would have alerted, and when.
 */
import { ConfigError } from '../errors';
import { evaluateSchedule, type Alert, type DetectionResult, type EvaluateDeps } from '../detect/evaluate';
import type { EngineResult, EvaluationEngine } from '../detect/engine';
import type { DetectionInput } from '../detect/input';
import type { ResultRow, WatermarkReader } from '../detect/ports';
import { MemoryCursorStore } from '../detect/memory-cursor-store';
import { MemorySuppressionStore } from '../detect/memory-suppression-store';
import { MemoryLateEvidenceLog, type LateEvidenceLog } from '../late-evidence';
import { TABLE_NAME } from '../layout';
import { silentReporter, type Clock, type Reporter } from '../ports';
import type { QueryDefinition } from '../queries';
import { timestampLiteral } from '../sql/rewrite';
import { codeTokens } from '../sql/tokens';
import type { Lake } from './lake';
import { QueryExecutionError, effectiveSeverity, toFindingValue, type HuntResult, type FindingRow } from './runner';
import { formatDelay } from '../detect/message';
import { DAY } from '../time';

/** A cell as the runner's `ResultRow` has it (Athena's rendering: text, NULL as null). */
function cellOf(value: unknown): string | null {
  const v = toFindingValue(value);
  if (v === null) return null;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Runs evaluations on a local lake with DuckDB. */
export class LakeEngine implements EvaluationEngine {
  private executions = 0;
  constructor(private readonly lake: Lake) {}

  async run(sql: string, { detectionId }: { readonly detectionId: string }): Promise<EngineResult> {
    const executionId = `local-${++this.executions}`;
    try {
      const reader = await this.lake.connection.runAndReadAll(sql);
      const columns = reader.columnNames();
      const rows: ResultRow[] = reader.getRowObjectsJS().map((row) => Object.fromEntries(columns.map((c) => [c, cellOf(row[c])])));
      return { executionId, columns, rows };
    } catch (error) {
      const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      throw new QueryExecutionError(`${detectionId} failed in DuckDB: ${first}`, { cause: error });
    }
  }
}

/** The detection input of a query file, for running it locally (no named query, no console). */
export function localDetectionInput(query: QueryDefinition, suppressionWindowMs = DAY): DetectionInput {
  if (query.kind !== 'detection' || query.scheduleMinutes === undefined) throw new ConfigError(`${query.id} is not a scheduled detection`);
  return {
    detectionId: query.id,
    namedQueryId: query.id,
    title: query.title,
    severity: query.severity,
    findingKey: query.findingKey,
    runbook: query.runbook,
    description: query.description,
    suppressionWindowMs: Math.max(suppressionWindowMs, query.lookbackMs),
    maxFindingsInMessage: 20,
    consoleRegion: 'us-east-1',
    sqlSha256: '',
    scheduleMs: query.scheduleMinutes * 60_000,
    lookbackMs: query.lookbackMs,
  };
}

/** The org folders of a lake (`events/org=<org>/`), read by DuckDB from the file names. */
export async function lakeOrgs(lake: Lake): Promise<string[]> {
  const reader = await lake.connection.runAndReadAll(`SELECT DISTINCT org FROM ${TABLE_NAME} WHERE org IS NOT NULL ORDER BY org`);
  return reader.getRowObjectsJS().map((r) => String(r.org));
}

/** Newest and oldest `published` of an org's rows (those written by `ingestedThrough`, when given), epoch ms. */
export async function publishedSpan(lake: Lake, org: string, ingestedThrough?: Date): Promise<{ oldestMs: number; newestMs: number } | undefined> {
  const through = ingestedThrough ? ` AND ingested_at <= ${timestampLiteral(ingestedThrough)}` : '';
  const reader = await lake.connection.runAndReadAll(
    `SELECT min(published) AS oldest, max(published) AS newest FROM ${TABLE_NAME} WHERE org = $org${through}`,
    { org },
  );
  const row = reader.getRowObjectsJS()[0];
  if (!(row?.newest instanceof Date) || !(row.oldest instanceof Date)) return undefined;
  return { oldestMs: row.oldest.getTime(), newestMs: row.newest.getTime() };
}

/**
 * Alerts of one detection as hunt results, one row per alerted finding with `evaluated_at` and
 * `alerted` (on schedule; how long after the fact, when the evaluation ran more than two schedule
 * periods after its instant; or late evidence and how late), and, `withRunAt`, the `run_at` of the
 * replayed run that sent it.
 */
export function alertsAsHuntResult(query: QueryDefinition, alerts: readonly { readonly alert: Alert; readonly runAt?: string }[], withRunAt = false): HuntResult {
  const scheduleMs = (query.scheduleMinutes ?? 0) * 60_000;
  const findings: FindingRow[] = alerts.flatMap(({ alert, runAt }) =>
    alert.findings.map((f) => ({
      ...f,
      ...(runAt !== undefined ? { run_at: runAt } : {}),
      evaluated_at: alert.evaluatedAt,
      alerted:
        alert.kind === 'late'
          ? `late evidence, up to ${formatDelay(alert.evidenceDelayMs ?? 0)} late`
          : alert.delayMs > 2 * scheduleMs
            ? `${formatDelay(alert.delayMs)} after the fact`
            : 'on schedule',
    })),
  );
  const columns = [...(alerts[0]?.alert.columns ?? []), ...(withRunAt ? ['run_at'] : []), 'evaluated_at', 'alerted'];
  return { id: query.id, title: query.title, severity: effectiveSeverity(query, findings), columns, findings };
}

export interface LocalDetection {
  readonly query: QueryDefinition;
  readonly result: DetectionResult;
}

export interface DetectLakeOptions extends Omit<EvaluateDeps, 'engine' | 'notifier' | 'workGroup'> {
  /** The scheduled detections to run. */
  readonly queries: readonly QueryDefinition[];
}

/** At most this many rows are copied into memory for a run of many evaluations (see `withSnapshot`). */
export const SNAPSHOT_MAX_ROWS = 250_000;

/**
 * Runs `fn` with the lake's table read from an in-memory copy of its rows (without `raw`, which no
 * scheduled detection reads), when the lake is small enough: a catch-up makes hundreds of
 * evaluations, and each one over the Parquet files lists and opens them again, which a query over
 * the in-memory copy does not (it only scans rows already in memory). The same rows, the
 * same SQL; a larger lake, or a query that reads `raw`, is read from the files.
 */
export async function withSnapshot<T>(lake: Lake, queries: readonly QueryDefinition[], fn: () => Promise<T>): Promise<T> {
  await lake.refresh();
  const readsRaw = queries.some((q) => codeTokens(q.sql).some((t) => t.kind === 'word' && t.text.toLowerCase() === 'raw'));
  const count = Number((await lake.connection.runAndReadAll(`SELECT count(*) AS n FROM ${TABLE_NAME}`)).getRowObjectsJS()[0]?.n ?? 0);
  if (readsRaw || count === 0 || count > SNAPSHOT_MAX_ROWS) return fn();
  await lake.connection.run(`CREATE OR REPLACE TEMP TABLE okta_lake_snapshot AS SELECT * EXCLUDE (raw) FROM ${TABLE_NAME}`);
  await lake.connection.run(`CREATE OR REPLACE TEMP VIEW ${TABLE_NAME} AS SELECT * FROM okta_lake_snapshot`);
  try {
    return await fn();
  } finally {
    await lake.connection.run('DROP TABLE IF EXISTS okta_lake_snapshot');
    await lake.refresh();
  }
}

/** One run of every scheduled detection of `queries` on the lake (what `okta-lake detect` does once). */
export async function detectLake(lake: Lake, options: DetectLakeOptions): Promise<LocalDetection[]> {
  const { queries, ...deps } = options;
  return withSnapshot(lake, queries, () => detectLakeWith(new LakeEngine(lake), queries, deps));
}

export interface ReplayRunsOptions {
  readonly queries: readonly QueryDefinition[];
  /** Start of the period: the cursors start here. */
  readonly from: Date;
  /** End of the period: the last simulated run is at `to`. */
  readonly to: Date;
  /** Minutes between simulated runs. @default 15 */
  readonly stepMinutes?: number;
  /** @default every org of the lake */
  readonly orgs?: readonly string[];
  readonly reporter?: Reporter;
}

/** What one replayed detection alerted, each alert with the simulated run that sent it. */
export interface ReplayedAlert {
  readonly runAt: string;
  readonly alert: DetectionResult['alerts'][number];
}

/**
 * Replays the deployment over `[from, to]`: a simulated run every `stepMinutes`, each seeing only
 * the rows written by then (`ingested_at <= run`), with the ingestion watermark the lake had then
 * (the newest `published` written by then), late evidence where rows arrived for time the watermark
 * had already passed, and every scheduled detection run from its cursor, as the deployed runner does.
 */
export async function replayRuns(lake: Lake, options: ReplayRunsOptions): Promise<Map<string, ReplayedAlert[]>> {
  return withSnapshot(lake, options.queries, () => replayRunsOn(lake, options));
}

async function replayRunsOn(lake: Lake, options: ReplayRunsOptions): Promise<Map<string, ReplayedAlert[]>> {
  const fromMs = options.from.getTime();
  const toMs = options.to.getTime();
  if (!(Number.isFinite(fromMs) && Number.isFinite(toMs) && fromMs < toMs)) throw new ConfigError('the replay period needs a start before its end');
  const stepMs = (options.stepMinutes ?? 15) * 60_000;
  if (!(stepMs >= 60_000)) throw new ConfigError(`stepMinutes must be at least 1, got ${options.stepMinutes}`);
  const reporter = options.reporter ?? silentReporter;
  const orgs = options.orgs ?? (await lakeOrgs(lake));
  const cursors = new MemoryCursorStore();
  const late: LateEvidenceLog = new MemoryLateEvidenceLog();
  const suppression = new MemorySuppressionStore();
  const engine = new LakeEngine(lake);
  const out = new Map<string, ReplayedAlert[]>(options.queries.map((q) => [q.id, []]));
  for (const q of options.queries) for (const org of orgs) await cursors.write(org, q.id, { evaluatedThroughMs: fromMs, lateSeq: 0 }, 0, fromMs);

  const watermarkAt = new Map<string, number | undefined>();
  let previousRun = -Infinity;
  const runs: number[] = [];
  for (let t = fromMs + stepMs; t < toMs; t += stepMs) runs.push(t);
  runs.push(toMs);
  for (const runMs of runs) {
    const runAt = new Date(runMs);
    // The watermark at this run, and the rows that arrived since the previous run behind the watermark then.
    for (const org of orgs) {
      const span = await publishedSpan(lake, org, runAt);
      const before = watermarkAt.get(org);
      if (before !== undefined && previousRun > -Infinity) {
        const reader = await lake.connection.runAndReadAll(
          `SELECT min(published) AS a, max(published) AS b, max(to_unixtime(ingested_at) - to_unixtime(published)) AS delay FROM ${TABLE_NAME} ` +
            `WHERE org = $org AND ingested_at > ${timestampLiteral(new Date(previousRun))} AND ingested_at <= ${timestampLiteral(runAt)} ` +
            `AND published < ${timestampLiteral(new Date(before))}`,
          { org },
        );
        const row = reader.getRowObjectsJS()[0];
        if (row?.a instanceof Date && row.b instanceof Date) {
          await late.record(org, { fromMs: row.a.getTime(), toMs: row.b.getTime(), maxDelayMs: Math.max(0, Math.round(Number(row.delay) * 1000)) }, runMs);
        }
      }
      const w = span === undefined ? undefined : Math.min(runMs, span.newestMs);
      watermarkAt.set(org, w === undefined ? before : Math.max(before ?? -Infinity, w));
    }
    previousRun = runMs;
    const clock: Clock = { now: () => runMs, sleep: async () => undefined };
    const watermarks: WatermarkReader = { watermark: async (org) => watermarkAt.get(org) };
    const results = await detectLakeWith(engine, options.queries, {
      orgs,
      cursors,
      lateEvidence: late,
      suppression,
      watermarks,
      clock,
      reporter,
      runId: `replay-${runMs}`,
      maxEvaluationsPerRun: Number.MAX_SAFE_INTEGER,
      scopeOf: () => ({ ingestedThrough: runAt }),
    });
    for (const { query, result } of results) {
      for (const alert of result.alerts) out.get(query.id)!.push({ runAt: runAt.toISOString(), alert });
    }
  }
  return out;
}

async function detectLakeWith(engine: EvaluationEngine, queries: readonly QueryDefinition[], deps: Omit<EvaluateDeps, 'engine' | 'notifier'>): Promise<LocalDetection[]> {
  const out: LocalDetection[] = [];
  for (const query of queries) {
    const input = localDetectionInput(query);
    const result = await evaluateSchedule(
      { input, sql: query.sql, queryName: query.id, timing: { scheduleMs: input.scheduleMs, lookbackMs: input.lookbackMs } },
      { ...deps, engine, notifier: { publish: async () => ({}) }, workGroup: 'local' },
    );
    out.push({ query, result });
  }
  return out;
}
