/**
 * Replays the schedule of detections over a past period: what the deployed runner would have
 * alerted on had it run every `schedule` between `from` and `to`. Each run pins `now` to its
 * instant, so it reads exactly its lookback; a finding is reported once, by the first run that
 * found it (identified by the query's `finding_key` columns, as the runner's suppression does),
 * with that run's instant in an added `run_at` column.
 *
 * A single run at the end of a day only sees each detection's last lookback (1 hour for most);
 * replaying the day is how a local lake is hunted "as the alerts would have come".
 */
import { ConfigError } from '../errors';
import type { QueryDefinition } from '../queries';
import type { Lake } from './lake';
import { effectiveSeverity, executeQuery, type HuntResult, type FindingRow } from './runner';

export interface ReplayOptions {
  /** Start of the period (exclusive): the first run is one step later. */
  readonly from: Date;
  /** End of the period (inclusive): the last run is at `to`. */
  readonly to: Date;
  /**
   * Minutes between runs.
   * @default each query's own schedule (`scheduleMinutes`)
   */
  readonly stepMinutes?: number;
}

/** The instants at which a query with `stepMs` runs in `(from, to]`; the last one is `to`. */
export function runInstants(fromMs: number, toMs: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = fromMs + stepMs; t < toMs; t += stepMs) out.push(t);
  out.push(toMs);
  return out;
}

/** Replays each scheduled query of `queries` over the period (queries without a schedule are skipped). */
export async function replaySchedule(lake: Lake, queries: readonly QueryDefinition[], options: ReplayOptions): Promise<HuntResult[]> {
  const fromMs = options.from.getTime();
  const toMs = options.to.getTime();
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || fromMs >= toMs) {
    throw new ConfigError('the replay period needs a start before its end');
  }
  if (options.stepMinutes !== undefined && !(options.stepMinutes >= 1)) {
    throw new ConfigError(`stepMinutes must be at least 1, got ${options.stepMinutes}`);
  }
  const results: HuntResult[] = [];
  for (const query of queries) {
    if (query.scheduleMinutes === undefined) continue;
    const stepMs = (options.stepMinutes ?? query.scheduleMinutes) * 60_000;
    const seen = new Set<string>();
    const findings: FindingRow[] = [];
    let columns: readonly string[] = [];
    for (const t of runInstants(fromMs, toMs, stepMs)) {
      const result = await executeQuery(lake, query, { now: new Date(t) });
      columns = result.columns;
      for (const row of result.rows) {
        const key = JSON.stringify(query.findingKey.map((k) => row[k] ?? null));
        if (seen.has(key)) continue;
        seen.add(key);
        findings.push({ ...row, run_at: new Date(t).toISOString() });
      }
    }
    results.push({ id: query.id, title: query.title, severity: effectiveSeverity(query, findings), columns: [...columns, 'run_at'], findings });
  }
  return results;
}
