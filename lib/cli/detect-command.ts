/**
 * `okta-lake detect`: the local equivalent of the scheduled detection runner. Every scheduled
 * detection runs from its evaluation cursors to the lake's watermark (`okta-lake ingest`'s state in
 * `<lake>/_state`, or, for a lake with no watermark such as an import, the newest event it holds),
 * re-evaluates the late evidence the sweep and imports recorded, prints each new finding once, and
 * keeps its cursors and the fingerprints it alerted in `<lake>/_state/detect/`: a second run prints
 * nothing new.
 */
import { join, resolve } from 'node:path';
import { FileDetectionState } from '../adapters/file-detection-state';
import { FileWatermarkStore } from '../adapters/file-watermark-store';
import type { WatermarkReader } from '../core/detect/ports';
import { alertsAsHuntResult, detectLake, lakeOrgs, openLake, publishedSpan, type HuntResult, type Lake, type LocalDetection } from '../core/hunt';
import { assertOrgLabel } from '../core/layout';
import { defaultQueriesDir, loadQueries, type QueryDefinition } from '../core/queries';
import { UsageError, optionalString, parse, parseInstant } from './args';
import { formatResults, type HuntFormat } from './hunt-command';
import { EXIT } from './output';
import { DAY } from '../core/time';

/** A new cursor starts at the lake's oldest event, but at most this far before the watermark. */
export const DEFAULT_LOCAL_BACKFILL_MS = 7 * DAY;

export const DETECT_HELP = `Usage: okta-lake detect --lake <dir> [options]

Runs every scheduled detection of athena-queries/ on a local lake the way the deployed runner does:
from where each detection last stopped (its evaluation cursor) up to what the lake holds (the
ingestion watermark in <dir>/_state, or for a lake with no watermark, such as an import, its newest
event), in steps of the detection's schedule, and again over events that arrived late. Each new
finding is printed once; cursors and alerted findings are kept in <dir>/_state/detect, so a second
run prints only what is new.

Options:
  --lake <dir>             the lake folder (the one that holds events/)
  --format <f>             table (default), json or csv
  --org <host>             only this org (repeatable; default: every org the lake holds)
  --since <ISO|duration>   where a detection starts for an org it has not evaluated yet
                           (default: the org's oldest event, at most 7 days before its watermark)
  --state <dir>            the state folder (default: <dir>/_state)
  --queries <dir>          another folder of query files (default: the installed athena-queries/)

Exit codes: 0 the detections ran (whether or not anything was found), 1 a detection failed, 2 usage.`;

const FORMATS: readonly HuntFormat[] = ['table', 'json', 'csv'];

/** The lake's watermark of an org: ingestion's, else the newest event the lake holds. */
export function lakeWatermarks(lake: Lake, stateDir: string): WatermarkReader {
  const store = new FileWatermarkStore({ dir: stateDir });
  return {
    watermark: async (org) => (await store.watermark(org)) ?? (await publishedSpan(lake, org))?.newestMs,
  };
}

/** The alerts of local detections as the hunt formatters print them, one row per finding. */
export function alertsAsResults(detections: readonly LocalDetection[]): HuntResult[] {
  return detections.map(({ query, result }) => alertsAsHuntResult(query, result.alerts.map((alert) => ({ alert }))));
}

export interface DetectLocalOptions {
  readonly queries?: readonly QueryDefinition[];
  readonly orgs?: readonly string[];
  readonly stateDir?: string;
  /** Where a new cursor starts. @default the org's oldest event, at most 7 days before its watermark */
  readonly since?: Date;
  /** The wall clock. @default Date.now */
  readonly now?: () => number;
}

/** Runs every scheduled detection once on the lake at `lakeDir` (see the module comment). */
export async function detectLocal(lakeDir: string, options: DetectLocalOptions = {}): Promise<LocalDetection[]> {
  const queries = (options.queries ?? loadQueries(defaultQueriesDir())).filter((q) => q.kind === 'detection' && q.scheduleMinutes !== undefined);
  const stateDir = resolve(options.stateDir ?? join(lakeDir, '_state'));
  const state = new FileDetectionState({ dir: join(stateDir, 'detect') });
  const now = options.now ?? Date.now;
  const lake = await openLake(lakeDir);
  try {
    const orgs = options.orgs ?? (await lakeOrgs(lake));
    const watermarks = lakeWatermarks(lake, stateDir);
    const merged = new Map<string, LocalDetection>();
    // One pass per org: where a new cursor starts depends on the org's own history.
    for (const org of orgs) {
      const w = await watermarks.watermark(org);
      const oldest = (await publishedSpan(lake, org))?.oldestMs;
      const start = options.since?.getTime() ?? (oldest === undefined || w === undefined ? undefined : Math.max(oldest - 1, w - DEFAULT_LOCAL_BACKFILL_MS));
      const results = await detectLake(lake, {
        queries,
        orgs: [org],
        cursors: state,
        lateEvidence: state,
        suppression: state,
        watermarks,
        clock: { now, sleep: async () => undefined },
        maxEvaluationsPerRun: Number.MAX_SAFE_INTEGER,
        initialBackfillMs: w === undefined || start === undefined ? 0 : Math.max(0, w - start),
      });
      for (const r of results) {
        const before = merged.get(r.query.id);
        merged.set(r.query.id, before === undefined ? r : { query: r.query, result: { ...r.result, alerts: [...before.result.alerts, ...r.result.alerts], orgs: [...before.result.orgs, ...r.result.orgs] } });
      }
    }
    return [...merged.values()];
  } finally {
    lake.close();
  }
}

export async function detectCommand(argv: readonly string[], io: { env: NodeJS.ProcessEnv; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  const { values } = parse(argv, {
    lake: { type: 'string' },
    format: { type: 'string' },
    org: { type: 'string', multiple: true },
    since: { type: 'string' },
    state: { type: 'string' },
    queries: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`${DETECT_HELP}\n`);
    return EXIT.ok;
  }
  const lakeDir = optionalString(values, 'lake');
  if (!lakeDir) throw new UsageError('--lake is required');
  const format = (optionalString(values, 'format') ?? 'table') as HuntFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
  const rawOrgs = (values as Record<string, unknown>).org;
  const orgs = rawOrgs === undefined ? undefined : (Array.isArray(rawOrgs) ? rawOrgs : [rawOrgs]).map(String);
  for (const org of orgs ?? []) {
    try {
      assertOrgLabel(org);
    } catch (cause) {
      throw new UsageError(`--org ${JSON.stringify(org)} is not an org host name`, { cause });
    }
  }
  const sinceText = optionalString(values, 'since');
  const since = sinceText ? new Date(parseInstant(sinceText, '--since', Date.now())) : undefined;
  const queriesDir = optionalString(values, 'queries');
  const stateDir = optionalString(values, 'state');
  const detections = await detectLocal(lakeDir, {
    queries: loadQueries(queriesDir ? resolve(queriesDir) : defaultQueriesDir()),
    ...(orgs ? { orgs } : {}),
    ...(stateDir ? { stateDir } : {}),
    ...(since ? { since } : {}),
  });
  io.stdout.write(formatResults(alertsAsResults(detections), format));
  const behind = detections.flatMap((d) => d.result.orgs.filter((o) => o.startedAt !== undefined).map((o) => `${o.org} from ${o.startedAt}`));
  if (behind.length > 0) io.stderr.write(`detect: first evaluation of ${[...new Set(behind)].join(', ')}; events before that are not evaluated (use --since to start earlier)\n`);
  return EXIT.ok;
}
