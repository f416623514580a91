/**
 * What compaction buys on a lake written at the production cadence: an org of 100,000 events a day,
 * one ingestion run every 5 minutes, each run writing one object per hour partition its page
 * touches (what `runIngest` does), then every day compacted. Side by side in one run, before and
 * after compaction: files, bytes per event, and the time and Parquet bytes of month-long hunts
 * (athena-queries/ `user-timeline` for one user, `event-type-overview`) and of one detection's
 * backfill (`password-spray` at every step of its schedule over the period).
 *
 * A month takes too long to write on 2 cores (the writer runs ~3,000 events/s), so the simulated
 * period is `--days` days (default 2) of `--events-per-day` events (default 100,000); file counts
 * per month are the measured count per day × 30, said so in the report. The hunts cover the whole
 * simulated period (their lookbacks, 30 and 7 days, hold it).
 *
 *   npx tsx bench/compaction.ts --report bench/compaction.md     # alone (about 3 minutes)
 *   npm run bench                                                 # with everything else
 */
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSink } from '../lib/adapters/local-sink';
import { compactLake, lakeFilesOf, readerFiles, type CompactedDay } from '../lib/core/compact';
import { dottedReferences, executeQuery, openLake, replaySchedule, runInstants, tableScans, type Lake } from '../lib/core/hunt';
import { pageObjectName, partitionOf } from '../lib/core/layout';
import { defaultQueriesDir, loadQueries, type QueryDefinition } from '../lib/core/queries';
import { LOG_EVENT_COLUMNS, PARTITION_KEYS } from '../lib/core/schema';
import { openDuckDb, type OpenDuckDb } from '../lib/core/writer/duckdb';
import { DuckDbParquetWriter } from '../lib/core/writer/parquet-writer';
import { iterateEvents } from '../lib/demo/generate';
import { DAY, HOUR, MINUTE } from '../lib/core/time';

const ORG = 'acme.okta.com';

export interface CompactionBenchOptions {
  readonly days?: number;
  readonly eventsPerDay?: number;
  /** First simulated day (UTC). */
  readonly start?: string;
  readonly log?: (line: string) => void;
}

export interface QueryFigure {
  readonly id: string;
  readonly what: string;
  readonly queries: number;
  readonly beforeMs: number;
  readonly afterMs: number;
  readonly beforeBytes: number;
  readonly afterBytes: number;
}

export interface CompactionBenchResult {
  readonly days: number;
  readonly events: number;
  readonly filesPerDayBefore: number;
  readonly filesPerDayAfter: number;
  readonly medianFileBytesBefore: number;
  readonly bytesPerEventBefore: number;
  readonly bytesPerEventAfter: number;
  readonly writeMs: number;
  readonly compactMs: number;
  readonly queries: readonly QueryFigure[];
  readonly markdown: string;
}

const ROOTS = new Set([...LOG_EVENT_COLUMNS.map((c) => c.name.toLowerCase()), ...PARTITION_KEYS]);
const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const leafPath = (p: string): string =>
  p
    .split(', ')
    .filter((x) => x !== 'list' && x !== 'element' && x !== 'key_value')
    .join('.')
    .toLowerCase();

/** Per row group of every file the readers read: its published range and the compressed bytes of each leaf column. */
interface RowGroup {
  readonly dt: string;
  /** The hour partition of an original (undefined for a part, whose rows span hours). */
  readonly hour?: string;
  readonly minMs: number;
  readonly maxMs: number;
  readonly bytes: Map<string, number>;
}

async function rowGroups(duck: OpenDuckDb, dir: string, keys: readonly string[]): Promise<RowGroup[]> {
  const out = new Map<string, RowGroup>();
  for (let i = 0; i < keys.length; i += 200) {
    const batch = keys.slice(i, i + 200);
    const rows = (
      await duck.connection.runAndReadAll(
        `SELECT file_name, row_group_id, path_in_schema, total_compressed_size::BIGINT AS bytes, stats_min, stats_max FROM parquet_metadata([${batch.map((k) => quote(join(dir, k))).join(', ')}])`,
      )
    ).getRowObjectsJS();
    for (const r of rows) {
      const file = String(r.file_name);
      const id = `${file}#${String(r.row_group_id)}`;
      let g = out.get(id);
      if (!g) {
        const dt = /dt=(\d{4}-\d{2}-\d{2})/.exec(file)![1];
        const hour = /hour=(\d{2})/.exec(file)?.[1];
        g = { dt, hour, minMs: Infinity, maxMs: -Infinity, bytes: new Map() };
        out.set(id, g);
      }
      const leaf = leafPath(String(r.path_in_schema));
      g.bytes.set(leaf, (g.bytes.get(leaf) ?? 0) + Number(r.bytes));
      if (leaf === 'published' && r.stats_min !== null) {
        (g as { minMs: number }).minMs = Date.parse(`${String(r.stats_min).replace(' ', 'T')}Z`);
        (g as { maxMs: number }).maxMs = Date.parse(`${String(r.stats_max).replace(' ', 'T')}Z`);
      }
    }
  }
  return [...out.values()];
}

/** The leaf columns a query's SQL references. */
function leavesOf(query: QueryDefinition, allLeaves: readonly string[]): string[] {
  const refs = dottedReferences(query.sql, ROOTS).map((p) => p.join('.').toLowerCase());
  return allLeaves.filter((l) => refs.some((r) => l === r || l.startsWith(`${r}.`)));
}

/**
 * Parquet bytes one run at `t` reads (what Athena bills): the referenced leaf columns of the row
 * groups in the partitions the lookback selects (`dt`, and `hour` for originals when the query
 * filters on it), and for parts, whose path has no hour, only the row groups whose `published`
 * statistics overlap the lookback (Athena/Trino and DuckDB skip the others).
 */
function bytesOfRun(groups: readonly RowGroup[], leaves: readonly string[], scans: number, t: number, lookbackMs: number, byHour: boolean): number {
  const from = t - lookbackMs;
  const fromDay = partitionOf(from).dt;
  const fromHour = `${partitionOf(from).dt}/${partitionOf(from).hour}`;
  const toDay = partitionOf(t).dt;
  let n = 0;
  for (const g of groups) {
    if (g.dt < fromDay || g.dt > toDay) continue;
    if (g.hour !== undefined && byHour && `${g.dt}/${g.hour}` < fromHour) continue;
    if (g.hour === undefined && (g.maxMs < Math.floor(from / HOUR) * HOUR || g.minMs > t)) continue;
    for (const l of leaves) n += g.bytes.get(l) ?? 0;
  }
  return n * scans;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Measured {
  readonly ms: number;
  readonly bytes: number;
  readonly queries: number;
}

/** The files readers read in the lake at `dir` and their row groups. */
async function groupsOf(duck: OpenDuckDb, dir: string): Promise<RowGroup[]> {
  const { originals, parts } = readerFiles(await lakeFilesOf(new LocalSink({ root: dir })));
  return rowGroups(duck, dir, [...originals, ...parts]);
}

/**
 * The hunts and the backfill on the lake before compaction (a copy taken just before it) and after,
 * in the same process at the same time: each hunt's runs alternate between the two lakes (median of
 * 5 each), so load on a shared machine falls on both sides alike; the backfills (minutes long) run
 * one after the other.
 */
async function measureQueries(
  lakes: { readonly before: Lake; readonly after: Lake },
  dirs: { readonly before: string; readonly after: string },
  duck: OpenDuckDb,
  o: { queries: Map<string, QueryDefinition>; user: string; startMs: number; endMs: number },
): Promise<{ before: Map<string, Measured>; after: Map<string, Measured> }> {
  const groups = { before: await groupsOf(duck, dirs.before), after: await groupsOf(duck, dirs.after) };
  const allLeaves = [...new Set([...groups.before, ...groups.after].flatMap((g) => [...g.bytes.keys()]))];
  const out = { before: new Map<string, Measured>(), after: new Map<string, Measured>() };
  const now = new Date(o.endMs);
  for (const id of ['user-timeline', 'event-type-overview']) {
    const q = o.queries.get(id)!;
    const params: Record<string, string> = id === 'user-timeline' ? { user: o.user } : {};
    const runs = { before: [] as number[], after: [] as number[] };
    for (let i = 0; i < 5; i++) {
      for (const side of i % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
        runs[side].push((await timed(() => executeQuery(lakes[side], q, { now, params }))).ms);
      }
    }
    const byHour = /\bhour\b/.test(q.sql);
    for (const side of ['before', 'after'] as const) {
      out[side].set(id, { ms: median(runs[side]), bytes: bytesOfRun(groups[side], leavesOf(q, allLeaves), tableScans(q.sql, 'okta_system_log'), o.endMs, q.lookbackMs, byHour), queries: 1 });
    }
  }
  const spray = o.queries.get('password-spray')!;
  const from = new Date(o.startMs);
  const instants = runInstants(o.startMs, o.endMs, (spray.scheduleMinutes ?? 15) * MINUTE);
  const leaves = leavesOf(spray, allLeaves);
  const scans = tableScans(spray.sql, 'okta_system_log');
  const byHour = /\bhour\b/.test(spray.sql);
  for (const side of ['before', 'after'] as const) {
    const { ms } = await timed(() => replaySchedule(lakes[side], [spray], { from, to: now }));
    const bytes = instants.reduce((n, t) => n + bytesOfRun(groups[side], leaves, scans, t, spray.lookbackMs, byHour), 0);
    out[side].set('password-spray', { ms, bytes, queries: instants.length });
  }
  return out;
}

export async function benchCompaction(options: CompactionBenchOptions = {}): Promise<CompactionBenchResult> {
  const days = options.days ?? 2;
  const perDay = options.eventsPerDay ?? 100_000;
  const log = options.log ?? (() => undefined);
  const startMs = Date.parse(`${options.start ?? '2024-06-03'}T00:00:00.000Z`);
  const endMs = startMs + days * DAY;
  const dir = mkdtempSync(join(tmpdir(), 'okta-lake-bench-compact-'));
  const dirBefore = `${dir}-before`;
  const sink = new LocalSink({ root: dir, fsync: false });
  const queries = new Map(loadQueries(defaultQueriesDir()).map((q) => [q.id, q]));
  try {
    // 1. The lake as ingestion writes it: a run every 5 minutes, one page, one object per hour touched.
    log(`compaction: writing ${days} day(s) of ${perDay.toLocaleString('en-US')} events at the production cadence`);
    const writer = await DuckDbParquetWriter.open({});
    const actors = new Map<string, number>();
    let events = 0;
    const write0 = performance.now();
    try {
      let runEnd = startMs + 5 * MINUTE;
      let page: string[] = [];
      const flush = async (end: number) => {
        if (page.length > 0) {
          const r = await writer.writePage({
            org: ORG,
            body: `[${page.join(',')}]`,
            format: 'array',
            name: pageObjectName(new Date(end - 5 * MINUTE).toISOString(), new Date(end).toISOString(), 0),
            ingestedAt: new Date(end + 2 * MINUTE),
          });
          for (const obj of r.objects) await sink.put(obj.key, obj.body, 'application/vnd.apache.parquet');
        }
        page = [];
      };
      for (const e of iterateEvents(perDay * days, { seed: 11, start: new Date(startMs), hours: 24 * days })) {
        const t = Date.parse(e.published);
        while (t >= runEnd) {
          await flush(runEnd);
          runEnd += 5 * MINUTE;
        }
        page.push(JSON.stringify(e));
        events++;
        const who = e.actor?.alternateId;
        if (typeof who === 'string' && who.includes('@') && !who.startsWith('system@')) actors.set(who, (actors.get(who) ?? 0) + 1);
      }
      await flush(runEnd);
    } finally {
      await writer.close();
    }
    const writeMs = performance.now() - write0;
    const user = [...actors].sort((a, b) => b[1] - a[1])[0][0];

    const before = readerFiles(await lakeFilesOf(sink)).originals;
    const sizesBefore = before.map((k) => statSync(join(dir, k)).size);
    const bytesBefore = sizesBefore.reduce((a, b) => a + b, 0);

    // 2. A copy of the lake as it is before compaction, for the side-by-side hunts.
    cpSync(dir, dirBefore, { recursive: true });
    // 3. Compaction of every day (closed: nobody writes this lake any more).
    log('compaction: compacting every day');
    const c0 = performance.now();
    const result = await compactLake({ sink, watermarks: { watermark: async () => undefined }, closedThrough: '9999-12-31', graceMs: 0 });
    const compactMs = performance.now() - c0;
    const compacted = result.days.flatMap((d) => ('result' in d && d.result.outcome === 'compacted' ? [d.result] : []));
    if (compacted.length !== days) throw new Error(`compaction: ${compacted.length} of ${days} days compacted: ${JSON.stringify(result.days)}`);
    // 4. The hunts, before and after, side by side.
    log('compaction: hunts before and after compaction, alternating');
    const duck = await openDuckDb({ threads: 1, memoryLimit: '512MB' });
    const lakes = { before: await openLake(dirBefore), after: await openLake(dir) };
    let measured: { before: Map<string, Measured>; after: Map<string, Measured> };
    try {
      measured = await measureQueries(lakes, { before: dirBefore, after: dir }, duck, { queries, user, startMs, endMs });
    } finally {
      lakes.before.close();
      lakes.after.close();
      duck.close();
    }
    const measuredBefore = measured.before;
    const measuredAfter = measured.after;
    const after = readerFiles(await lakeFilesOf(sink)).parts;
    const bytesAfter = after.reduce((n, k) => n + statSync(join(dir, k)).size, 0);

    const figures: QueryFigure[] = [
      { id: 'user-timeline', what: `one user's timeline (${user}), 30-day lookback` },
      { id: 'event-type-overview', what: 'the event-type overview, 7-day lookback' },
      { id: 'password-spray', what: 'password-spray backfill: every 15-minute step over the period, 1-hour lookback' },
    ].map(({ id, what }) => {
      const b = measuredBefore.get(id)!;
      const a = measuredAfter.get(id)!;
      return { id, what, queries: b.queries, beforeMs: b.ms, afterMs: a.ms, beforeBytes: b.bytes, afterBytes: a.bytes };
    });
    const r = {
      days,
      events,
      filesPerDayBefore: before.length / days,
      filesPerDayAfter: after.length / days,
      medianFileBytesBefore: median(sizesBefore),
      bytesPerEventBefore: bytesBefore / events,
      bytesPerEventAfter: bytesAfter / events,
      writeMs,
      compactMs,
      queries: figures,
    };
    return { ...r, markdown: markdown(r, compacted) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(dirBefore, { recursive: true, force: true });
  }
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${fmt(ms)} ms`);

/** The three goals, checked: files per org-day, bytes per event, the month-long hunt's speed-up. */
export function compactionGoals(r: Omit<CompactionBenchResult, 'markdown'>): { files: boolean; bytes: boolean; hunt: boolean; speedup: number } {
  const before = r.queries.filter((q) => q.id !== 'password-spray').reduce((n, q) => n + q.beforeMs, 0);
  const after = r.queries.filter((q) => q.id !== 'password-spray').reduce((n, q) => n + q.afterMs, 0);
  const speedup = before / after;
  return { files: r.filesPerDayAfter <= 2, bytes: r.bytesPerEventAfter <= 0.6 * r.bytesPerEventBefore, hunt: speedup >= 10, speedup };
}

function markdown(r: Omit<CompactionBenchResult, 'markdown'>, compacted: readonly CompactedDay[]): string {
  const goals = compactionGoals(r);
  const ok = (b: boolean) => (b ? 'met' : '**not met**');
  return [
    '# Compaction: a lake at the production cadence, before and after',
    '',
    `Produced by \`npx tsx bench/compaction.ts --report bench/compaction.md\` (also run by \`npm run bench\`) on ${new Date().toISOString().slice(0, 16)}Z.`,
    '',
    `${r.days} simulated days of one org, ${fmt(r.events)} events (${fmt(r.events / r.days)} a day, lib/demo's generator), written as ingestion writes them: a run every 5 minutes, one page per run, one object per hour partition the page touches, by the project's DuckDB writer (${secs(r.writeMs)}). Then every day compacted (\`compactLake\`, ${secs(r.compactMs)} for the ${r.days} days, verification included). A month is not simulated (writing it would take ~15 minutes on 2 cores): per-month file counts are the measured per-day counts × 30, and the hunts cover the ${r.days} simulated days (within both hunts' lookbacks).`,
    '',
    '| figure | before | after | goal | |',
    '| --- | --- | --- | --- | --- |',
    `| files per org-day | ${r.filesPerDayBefore.toFixed(0)} (median ${kib(r.medianFileBytesBefore)}) | ${r.filesPerDayAfter.toFixed(0)} | ≤ 2 | ${ok(goals.files)} |`,
    `| files per org-month (× 30, extrapolated) | ${fmt(r.filesPerDayBefore * 30)} | ${fmt(r.filesPerDayAfter * 30)} | | |`,
    `| bytes per event | ${r.bytesPerEventBefore.toFixed(0)} | ${r.bytesPerEventAfter.toFixed(0)} (${((100 * r.bytesPerEventAfter) / r.bytesPerEventBefore).toFixed(1)}%) | ≤ 60% | ${ok(goals.bytes)} |`,
    `| the ${r.days}-day hunt (user timeline + event-type overview), DuckDB locally | ${secs(r.queries[0].beforeMs + r.queries[1].beforeMs)} | ${secs(r.queries[0].afterMs + r.queries[1].afterMs)} (${goals.speedup.toFixed(1)}× faster) | ≥ 10× | ${ok(goals.hunt)} |`,
    '',
    '## Queries',
    '',
    'Time: the local `okta_system_log` view (DuckDB, 2 threads), on a copy of the lake taken just before compaction and on the compacted lake, in the same process: for the hunts the median of 5 runs on each, alternating between the two so that load on the machine falls on both alike; for the backfill the whole replay (`replaySchedule`, every step of the schedule), one after the other; each query lists the lake and defines the view again, as `okta-lake hunt` does. Bytes: the compressed Parquet column chunks the query references in what its lookback selects, what Athena bills (the model of bench/detection-cost.ts); parts have no `hour` in their path, so for them only row groups whose `published` statistics overlap the lookback count (Athena and DuckDB skip the others).',
    '',
    '| query | queries | time before | time after | × | bytes before | bytes after | after / before |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.queries.map(
      (q) =>
        `| ${q.what} | ${fmt(q.queries)} | ${secs(q.beforeMs)} | ${secs(q.afterMs)} | ${(q.beforeMs / q.afterMs).toFixed(1)} | ${mib(q.beforeBytes)} | ${mib(q.afterBytes)} | ${((100 * q.afterBytes) / q.beforeBytes).toFixed(0)}% |`,
    ),
    '',
    '## Days',
    '',
    '| generation | originals | original bytes | parts | part bytes | events |',
    '| --- | --- | --- | --- | --- | --- |',
    ...compacted.map((d) => `| ${d.generation} | ${fmt(d.sourceObjects)} | ${mib(d.sourceBytes)} | ${d.parts.length} | ${mib(d.parts.reduce((n, p) => n + p.bytes, 0))} | ${fmt(d.rows)} |`),
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('compaction.ts')) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const report = arg('--report');
  const r = await benchCompaction({
    days: arg('--days') ? Number(arg('--days')) : undefined,
    eventsPerDay: arg('--events-per-day') ? Number(arg('--events-per-day')) : undefined,
    log: (s) => process.stderr.write(`[bench] ${s}\n`),
  });
  if (report) writeFileSync(report, r.markdown);
  process.stdout.write(r.markdown);
}
