/**
 * Compaction of closed org-days: each day's originals (`events/` and `late/`) rewritten as at most
 * two ZSTD Parquet files under `compacted/`, verified against the originals, then switched to with
 * one write-once record. Originals are never deleted, no key is written twice. The protocol, and why
 * readers see each day exactly once at every step: docs/compaction.md.
 *
 * `compactDay` runs the steps for one day, each resumable (a run killed anywhere is completed by the
 * next): 1. freeze (once); 2. wait `graceMs` after the freeze; 3. list and read the originals, check
 * uuids (identical repeats collapse, a uuid with two `raw` texts stops the day:
 * `CompactionConflictError`), write the parts of the next generation, then its manifest; 4. read the
 * parts back and compare them with the originals; 5. write the switch record. `compactLake` runs it
 * for every closed day of every org, oldest first.
 */
import { OktaLakeError } from '../errors';
import { DEFAULT_SWEEP_OFFSETS_MS } from '../sweep-lines';
import { EVENTS_PREFIX, LATE_PREFIX, assertOrgLabel, parsePartitionKey } from '../layout';
import type { WatermarkReader } from '../detect/ports';
import { silentReporter, type Clock, type LakeSink, type Reporter } from '../ports';
import { LOG_EVENT_COLUMNS } from '../schema';
import type { DuckDbOptions } from '../writer/duckdb';
import { CompactionConflictError, CompactionError, CompactionLayoutError, CompactionVerificationError, FreezeViolationError } from './errors';
import { lakeFilesOf, listDays, type DayFiles } from './files';
import {
  MAX_PARTS,
  compactedDayPrefix,
  dayStartMs,
  dayStatePrefix,
  encodeRecord,
  manifestKey,
  parseCompactedKey,
  parseManifest,
  parseSwitch,
  partKey,
  switchKey,
  type FreezeRecord,
  type Manifest,
  type OutputObject,
  type SourceObject,
  type SwitchRecord,
} from './records';
import { freezeDay, putRecordOnce, readFreeze, RecordExistsError } from './sink-state';
import { FREEZE_GRACE_MS } from './state';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CHECKSUM_SQL,
  compareEvents,
  copyObjects,
  describeFiles,
  fileList,
  openCompactionWorkspace,
  sameEvents,
  sha256Hex,
  sqlString,
  type CompactionWorkspace,
  type EventComparison,
  type LocalCopy,
} from './workspace';
import { ingestSpans, type IngestSpan } from './ingest-spans';
import { DAY, HOUR } from '../time';

/**
 * Rows per row group of a part. DuckDB's default is 122,880 rows; Parquet's reference writer and
 * Athena's tuning guide think in 128 MB row groups, which at this lake's compressed bytes per event
 * (bench/results.md) would be several times a 100,000-event org's day: one group, so its min/max
 * statistics on `published` and `eventType` could skip nothing. 65,536 rows (a fraction of 128 MB,
 * 2 groups for such a day, one per half-day since parts are sorted by hour) keeps each group large
 * enough for sequential reads and per-group overhead negligible, and small enough for statistics to
 * skip half a day for an hour range.
 */
export const DEFAULT_ROW_GROUP_ROWS = 65_536;
/** A day with more rows than this is written as two parts, split at the hour nearest its middle. */
export const DEFAULT_PART_ROWS = 2_000_000;
/** ZSTD level of the parts (the ingestion writer uses 1: it runs per page; compaction runs once). */
export const DEFAULT_COMPACTION_LEVEL = 9;
/** The order of the rows in a part. */
export const SORTED_BY = ['hour', 'eventType', 'published', 'uuid'] as const;

export interface CompactDayOptions {
  readonly sink: LakeSink;
  readonly org: string;
  readonly dt: string;
  readonly clock?: Pick<Clock, 'now'>;
  /** How long after the freeze the originals are listed. @default FREEZE_GRACE_MS */
  readonly graceMs?: number;
  /** @default DEFAULT_PART_ROWS */
  readonly partRows?: number;
  /** @default DEFAULT_ROW_GROUP_ROWS */
  readonly rowGroupRows?: number;
  /** @default DEFAULT_COMPACTION_LEVEL */
  readonly compressionLevel?: number;
  /** Where the DuckDB work happens. @default one opened (and closed) for this call */
  readonly workspace?: CompactionWorkspace;
  readonly duckdb?: DuckDbOptions;
  readonly reporter?: Reporter;
  /**
   * The latest late cutoff this run may use (see `chooseLateCutoff`): a `late/` object is absorbed
   * only when all its rows were ingested at or before it. Every object that lands after this run's
   * listing must have been stamped after it, so it is the run's start minus the longest time a
   * writer takes from stamping `ingested_at` to landing the object (`FREEZE_GRACE_MS`: a Lambda
   * run lasts at most 15 minutes, and writers stamp each page as they write it).
   * @default clock.now() - graceMs, when the call starts
   */
  readonly lateCutoffMs?: number;
}

export type CompactDayResult =
  /** The day has no originals: nothing to compact (not frozen). */
  | { readonly outcome: 'empty' }
  /**
   * Frozen; the grace period has not passed yet, or the only originals not absorbed yet are `late/`
   * objects too recent for the late cutoff.
   */
  | { readonly outcome: 'waiting'; readonly frozenAt: string; readonly readyAt: string }
  /** The current generation holds every original: nothing to do. */
  | { readonly outcome: 'up-to-date'; readonly generation: number }
  | CompactedDay;

export interface CompactedDay {
  readonly outcome: 'compacted';
  readonly generation: number;
  /** A generation a killed run had written up to its manifest was verified and switched to. */
  readonly resumed: boolean;
  readonly rows: number;
  readonly sourceRows: number;
  readonly duplicateRowsCollapsed: number;
  readonly sourceObjects: number;
  readonly sourceBytes: number;
  readonly parts: readonly OutputObject[];
  /** `late/` objects this generation absorbed. */
  readonly absorbedLate: number;
}

/**
 * The late cutoff of a generation (epoch ms) and the `late/` objects it absorbs: the latest whole
 * millisecond T at or before `boundMs` that no object straddles. An object is absorbed when all its
 * rows were ingested at or before T (`maxUs <= T * 1000`) and left for a later generation when all
 * were ingested at or after T + 1 ms: no row lies in between, so `ingested_at <= T` tells the two
 * apart the same way at microsecond precision (DuckDB) and at millisecond precision (Athena reads
 * Parquet timestamps as `timestamp(3)`). Objects without rows are absorbed.
 */
export function chooseLateCutoff(spans: readonly IngestSpan[], boundMs: number): { cutoffMs: number; absorbed: string[]; left: string[] } {
  let t = Math.floor(boundMs);
  for (;;) {
    const straddler = spans.find((s) => s.minUs !== undefined && s.maxUs !== undefined && s.maxUs > t * 1000 && s.minUs < (t + 1) * 1000);
    if (!straddler) break;
    t = Math.floor((straddler.minUs as number) / 1000) - 1;
  }
  const absorbed: string[] = [];
  const left: string[] = [];
  for (const s of spans) (s.maxUs === undefined || s.maxUs <= t * 1000 ? absorbed : left).push(s.key);
  return { cutoffMs: t, absorbed, left };
}

const columnList = LOG_EVENT_COLUMNS.map((c) => `"${c.name}"`).join(', ');

/** What is stored for a day under `compacted/` and its state folder. */
interface GenerationsOfDay {
  /** Highest generation number any key uses (0 when none). */
  readonly maxUsed: number;
  readonly manifests: ReadonlySet<number>;
  readonly switches: ReadonlySet<number>;
}

async function generationsOf(sink: LakeSink, org: string, dt: string): Promise<GenerationsOfDay> {
  const keys = [...(await sink.list(compactedDayPrefix(org, dt))), ...(await sink.list(dayStatePrefix(org, dt)))];
  const manifests = new Set<number>();
  const switches = new Set<number>();
  let maxUsed = 0;
  for (const key of keys) {
    const k = parseCompactedKey(key);
    if (!k || k.kind === 'freeze' || k.org !== org || k.dt !== dt) continue;
    maxUsed = Math.max(maxUsed, k.generation);
    if (k.kind === 'manifest') manifests.add(k.generation);
    if (k.kind === 'switch') switches.add(k.generation);
  }
  return { maxUsed, manifests, switches };
}

async function readManifest(sink: LakeSink, org: string, dt: string, g: number): Promise<{ manifest: Manifest; sha256: string }> {
  const key = manifestKey(org, dt, g);
  const body = await sink.get(key);
  if (body === undefined) throw new CompactionError(`${sink.location}/${key} was listed but cannot be found`);
  return { manifest: parseManifest(body, key, { org, dt, generation: g }), sha256: sha256Hex(body) };
}

/** Splits the day's hours (sorted, with their row counts) into at most `MAX_PARTS` ranges. */
export function splitHours(rowsPerHour: readonly (readonly [string, number])[], partRows: number): (readonly [string, string])[] {
  if (rowsPerHour.length === 0) return [];
  const total = rowsPerHour.reduce((n, [, r]) => n + r, 0);
  const first = rowsPerHour[0][0];
  const last = rowsPerHour[rowsPerHour.length - 1][0];
  if (total <= partRows || rowsPerHour.length < 2 || MAX_PARTS < 2) return [[first, last]];
  let best = 1;
  let bestGap = Infinity;
  let before = 0;
  for (let i = 1; i < rowsPerHour.length; i++) {
    before += rowsPerHour[i - 1][1];
    const gap = Math.abs(total / 2 - before);
    if (gap < bestGap) [best, bestGap] = [i, gap];
  }
  return [
    [first, rowsPerHour[best - 1][0]],
    [rowsPerHour[best][0], last],
  ];
}

/**
 * Checks a written generation: its sources are still what the manifest says (sha256), its parts
 * are (read back from the sink), they have the originals' columns, and they hold exactly the
 * originals' events (count, uuids, sha256 of each `raw`). Throws `CompactionVerificationError`.
 */
async function checkGeneration(ws: CompactionWorkspace, sink: LakeSink, manifest: Manifest, localSources?: readonly LocalCopy[]): Promise<EventComparison> {
  const dir = join(ws.dir, `check-${manifest.generation}-${Date.now()}`);
  const where = `${manifest.org} ${manifest.dt} generation ${manifest.generation}`;
  const sources = localSources ?? (await copyObjects(sink, manifest.sources.map((s) => s.key), dir, 'src'));
  manifest.sources.forEach((s, i) => {
    const copy = sources[i];
    if (copy?.key !== s.key || copy.sha256 !== s.sha256 || copy.bytes !== s.bytes) {
      throw new CompactionVerificationError(`${where}: original ${s.key} is not what the manifest lists (size or sha256 differ)`);
    }
  });
  const parts = await copyObjects(sink, manifest.outputs.map((o) => o.key), dir, 'part');
  manifest.outputs.forEach((o, i) => {
    if (parts[i].sha256 !== o.sha256 || parts[i].bytes !== o.bytes) {
      throw new CompactionVerificationError(`${where}: part ${o.key} as read back is not what was written (size or sha256 differ)`);
    }
  });
  const expected = await describeFiles(ws, sources.map((s) => s.file));
  const actual = await describeFiles(ws, parts.map((p) => p.file));
  if (expected.join('\n') !== actual.join('\n')) throw new CompactionVerificationError(`${where}: the parts' columns differ from the originals'`);
  const cmp = await compareEvents(ws, sources.map((s) => s.file), parts.map((p) => p.file));
  if (!sameEvents(cmp) || cmp.compactedEvents !== manifest.rows || cmp.compactedChecksum !== manifest.checksum) {
    throw new CompactionVerificationError(
      `${where}: the parts do not hold exactly the originals' events (removed ${cmp.removed.count}, added ${cmp.added.count}, changed ${cmp.changed.count}, duplicated ${cmp.duplicated.count})`,
      cmp,
    );
  }
  return cmp;
}

/** Step 5: the switch record, once nothing new appeared under `events/` since the listing. */
async function switchTo(sink: LakeSink, manifest: Manifest, manifestSha256: string, nowMs: number): Promise<SwitchRecord> {
  const { org, dt, generation } = manifest;
  const sourceKeys = new Set(manifest.sources.map((s) => s.key));
  const events = (await sink.list(`${EVENTS_PREFIX}/org=${org}/dt=${dt}/`)).filter((k) => k.endsWith('.parquet'));
  const unlisted = events.filter((k) => !sourceKeys.has(k));
  if (unlisted.length > 0) {
    throw new FreezeViolationError(`${org} ${dt}: ${unlisted.length} object(s) appeared under events/ after the day was frozen and listed (${unlisted[0]}); generation ${generation} is not switched to`);
  }
  const record: SwitchRecord = {
    kind: 'okta-lake/compaction-switch',
    version: 1,
    org,
    dt,
    generation,
    switchedAt: new Date(nowMs).toISOString(),
    manifest: manifestKey(org, dt, generation),
    manifestSha256,
    parts: manifest.outputs.map((o) => o.key),
    rows: manifest.rows,
    absorbedLate: manifest.sources.map((s) => s.key).filter((k) => k.startsWith(`${LATE_PREFIX}/`)),
    ...(manifest.lateCutoff !== undefined ? { lateCutoff: manifest.lateCutoff } : {}),
    absorbedEvents: manifest.sources.map((s) => s.key).filter((k) => k.startsWith(`${EVENTS_PREFIX}/`)),
  };
  const key = switchKey(org, dt, generation);
  const { stored } = await putRecordOnce(sink, key, encodeRecord(record));
  return parseSwitch(stored, key, { org, dt, generation });
}

function compactedResult(manifest: Manifest, resumed: boolean): CompactedDay {
  return {
    outcome: 'compacted',
    generation: manifest.generation,
    resumed,
    rows: manifest.rows,
    sourceRows: manifest.sourceRows,
    duplicateRowsCollapsed: manifest.duplicateRowsCollapsed,
    sourceObjects: manifest.sources.length,
    sourceBytes: manifest.sources.reduce((n, s) => n + s.bytes, 0),
    parts: manifest.outputs,
    absorbedLate: manifest.sources.filter((s) => s.key.startsWith(`${LATE_PREFIX}/`)).length,
  };
}

/** Compacts one org-day (see the module comment). The caller decides that the day is closed. */
export async function compactDay(options: CompactDayOptions): Promise<CompactDayResult> {
  const ws = options.workspace ?? (await openCompactionWorkspace(options.duckdb));
  try {
    return await compactDayIn(ws, options);
  } finally {
    if (!options.workspace) await ws.close();
  }
}

async function compactDayIn(ws: CompactionWorkspace, o: CompactDayOptions): Promise<CompactDayResult> {
  const { sink } = o;
  const org = assertOrgLabel(o.org);
  const dt = o.dt;
  dayStartMs(dt);
  const clock = o.clock ?? { now: () => Date.now() };
  const graceMs = o.graceMs ?? FREEZE_GRACE_MS;
  const lateCutoffMs = o.lateCutoffMs ?? clock.now() - graceMs;
  const reporter = o.reporter ?? silentReporter;

  const before = (await lakeFilesOf(sink, { org, dt }))[0];
  if (!before || before.events.length + before.late.length === 0) return { outcome: 'empty' };

  // 1-2. Freeze, then wait out the grace period.
  const freeze: FreezeRecord = (await readFreeze(sink, org, dt)) ?? (await freezeDay(sink, org, dt, clock.now()));
  const readyAtMs = Date.parse(freeze.frozenAt) + graceMs;
  if (clock.now() < readyAtMs) return { outcome: 'waiting', frozenAt: freeze.frozenAt, readyAt: new Date(readyAtMs).toISOString() };

  let files: DayFiles = (await lakeFilesOf(sink, { org, dt }))[0] ?? before;
  const gens = await generationsOf(sink, org, dt);
  const currentG = files.current?.generation ?? 0;

  // A generation a killed run wrote up to its manifest: verify it and switch to it.
  const pending = [...gens.manifests].filter((g) => g > currentG && !gens.switches.has(g)).sort((a, b) => b - a)[0];
  let resumed: Manifest | undefined;
  if (pending !== undefined) {
    const { manifest, sha256 } = await readManifest(sink, org, dt, pending);
    const sources = new Set(manifest.sources.map((s) => s.key));
    if (files.events.every((k) => sources.has(k))) {
      try {
        await checkGeneration(ws, sink, manifest);
        await switchTo(sink, manifest, sha256, clock.now());
        reporter.info('compaction resumed a written generation', { org, dt, generation: pending });
        resumed = manifest;
        files = (await lakeFilesOf(sink, { org, dt }))[0] ?? files;
      } catch (error) {
        if (!(error instanceof CompactionVerificationError)) throw error;
        // The originals are intact (nothing deletes them): write the day again as a new generation.
        reporter.warn('a written generation failed verification: compacting the day again', { org, dt, generation: pending, error: error.message });
      }
    } else {
      reporter.warn('a written generation misses originals listed now: compacting the day again', { org, dt, generation: pending });
    }
  }
  if (files.current && files.originals.length === 0) {
    return resumed ? compactedResult(resumed, true) : { outcome: 'up-to-date', generation: files.current.generation };
  }

  // 3. The next generation, from all originals but the late objects too recent for the cutoff.
  const generation = Math.max(gens.maxUsed, files.current?.generation ?? 0) + 1;
  const sourceKeys = [...files.events, ...files.late].sort();
  const dir = join(ws.dir, `${org}-${dt}-g${generation}`);
  const all = await copyObjects(sink, sourceKeys, dir, 'src');
  const isLate = (key: string) => key.startsWith(`${LATE_PREFIX}/`);
  const late = all.filter((c) => isLate(c.key));
  const cut = chooseLateCutoff(await ingestSpans(ws, org, dt, late), lateCutoffMs);
  const absorb = new Set(cut.absorbed);
  const copies = all.filter((c) => !isLate(c.key) || absorb.has(c.key));
  const held = new Set(files.current ? [...files.current.absorbedEvents, ...files.current.absorbedLate] : []);
  if (copies.every((c) => held.has(c.key))) {
    // Only late objects too recent to absorb are new: a later run takes them (readers read them meanwhile).
    return { outcome: 'waiting', frozenAt: freeze.frozenAt, readyAt: new Date(clock.now() + graceMs).toISOString() };
  }
  const manifest = await writeGeneration(ws, sink, { org, dt, generation, freeze, copies, nowMs: clock.now(), dir, o, lateCutoffMs: cut.cutoffMs });

  // 4-5. Verify what was written, then switch.
  const manifestBody = encodeRecord(manifest);
  const mKey = manifestKey(org, dt, generation);
  const { written } = await putRecordOnce(sink, mKey, manifestBody);
  if (!written) throw new RecordExistsError(`${sink.location}/${mKey} exists already: another compaction of ${org} ${dt} is running`);
  await checkGeneration(ws, sink, manifest, copies);
  await switchTo(sink, manifest, sha256Hex(manifestBody), clock.now());
  reporter.info('compacted a day', { org, dt, generation, rows: manifest.rows, parts: manifest.outputs.length });
  return compactedResult(manifest, false);
}

interface GenerationInput {
  readonly org: string;
  readonly dt: string;
  readonly generation: number;
  readonly freeze: FreezeRecord;
  readonly copies: readonly LocalCopy[];
  readonly nowMs: number;
  readonly dir: string;
  readonly o: CompactDayOptions;
  readonly lateCutoffMs: number;
}

/** Reads the originals into DuckDB, checks them, writes the parts to the sink; returns the manifest (not yet stored). */
async function writeGeneration(ws: CompactionWorkspace, sink: LakeSink, g: GenerationInput): Promise<Manifest> {
  const c = ws.db.connection;
  const { org, dt, generation, copies } = g;
  const level = g.o.compressionLevel ?? DEFAULT_COMPACTION_LEVEL;
  const rowGroupRows = g.o.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  const partRows = g.o.partRows ?? DEFAULT_PART_ROWS;
  if (!(Number.isInteger(level) && level >= 1 && level <= 22)) throw new CompactionError(`compressionLevel must be 1 to 22, got ${level}`);
  if (!(Number.isInteger(rowGroupRows) && rowGroupRows >= 2048)) throw new CompactionError(`rowGroupRows must be an integer of at least 2,048, got ${rowGroupRows}`);
  if (!(Number.isInteger(partRows) && partRows >= 1)) throw new CompactionError(`partRows must be a positive integer, got ${partRows}`);

  const fileRows = copies.map((copy) => {
    const p = parsePartitionKey(copy.key);
    return `(${sqlString(copy.file)}, ${sqlString(p.dt ?? '')}, ${sqlString(p.hour ?? '')})`;
  });
  try {
    await c.run(`CREATE OR REPLACE TEMP TABLE okta_lake_src_files (filename VARCHAR, dt VARCHAR, hour VARCHAR)`);
    if (fileRows.length > 0) await c.run(`INSERT INTO okta_lake_src_files VALUES ${fileRows.join(', ')}`);
    await c.run(`CREATE OR REPLACE TEMP TABLE okta_lake_src AS SELECT ${columnList}, filename FROM read_parquet(${fileList(copies.map((x) => x.file))}, filename = true, hive_partitioning = false)`);
  } catch (cause) {
    throw new CompactionError(`${org} ${dt}: could not read the ${copies.length} originals with DuckDB`, { cause });
  }
  try {
    const misplaced = (
      await c.runAndReadAll(
        `SELECT count(*)::BIGINT AS n, min(s.uuid) AS example FROM okta_lake_src s JOIN okta_lake_src_files f USING (filename)
         WHERE s.uuid IS NULL OR s.published IS NULL OR s.raw IS NULL OR strftime(s.published, '%Y-%m-%d') <> f.dt OR strftime(s.published, '%H') <> f.hour`,
      )
    ).getRowObjectsJS()[0];
    if (Number(misplaced.n) > 0) {
      throw new CompactionLayoutError(`${org} ${dt}: ${Number(misplaced.n)} original row(s) lack a uuid, published or raw, or are not in the partition their published gives (e.g. ${String(misplaced.example)}); the day is not compacted`);
    }
    const conflicts = (
      await c.runAndReadAll(`SELECT count(*) OVER ()::BIGINT AS total, uuid FROM okta_lake_src GROUP BY uuid HAVING count(DISTINCT raw) > 1 ORDER BY uuid LIMIT 50`)
    ).getRowObjectsJS();
    if (conflicts.length > 0) throw new CompactionConflictError(org, dt, Number(conflicts[0].total), conflicts.map((r) => String(r.uuid)));

    // Identical repeats collapse to the row first written (earliest ingested_at, then key order).
    await c.run(
      `CREATE OR REPLACE TEMP TABLE okta_lake_out AS SELECT ${columnList}, strftime(published, '%H') AS okta_lake_hour FROM okta_lake_src
       QUALIFY row_number() OVER (PARTITION BY uuid ORDER BY ingested_at NULLS LAST, filename) = 1`,
    );
    const stats = (
      await c.runAndReadAll(
        `SELECT (SELECT count(*)::BIGINT FROM okta_lake_src) AS src_rows, (SELECT count(*)::BIGINT FROM okta_lake_out) AS out_rows,
                (SELECT ${CHECKSUM_SQL} FROM (SELECT uuid, sha256(raw) AS h FROM okta_lake_out)) AS checksum`,
      )
    ).getRowObjectsJS()[0];
    const hours = (await c.runAndReadAll(`SELECT okta_lake_hour AS h, count(*)::BIGINT AS n FROM okta_lake_out GROUP BY 1 ORDER BY 1`)).getRowsJS() as [string, bigint][];
    const rowsPerHour: [string, number][] = hours.map(([h, n]) => [h, Number(n)]);
    const perSource = new Map(
      ((await c.runAndReadAll(`SELECT filename, count(*)::BIGINT FROM okta_lake_src GROUP BY 1`)).getRowsJS() as [string, bigint][]).map(([f, n]) => [f, Number(n)]),
    );
    const uuids = ((await c.runAndReadAll(`SELECT uuid FROM okta_lake_out ORDER BY uuid`)).getRowsJS() as [string][]).map(([u]) => u);

    const ranges = splitHours(rowsPerHour, partRows);
    // A day whose originals hold no rows (only empty objects) still gets one part: the columns, no rows.
    const partRanges: (readonly [string, string] | null)[] = ranges.length === 0 ? [null] : ranges;
    const outputs: OutputObject[] = [];
    for (const [i, range] of partRanges.entries()) {
      const file = join(g.dir, `part-${i}.parquet`);
      const where = range ? `WHERE okta_lake_hour BETWEEN ${sqlString(range[0])} AND ${sqlString(range[1])}` : '';
      await c.run(
        `COPY (SELECT ${columnList} FROM okta_lake_out ${where} ORDER BY okta_lake_hour, "eventType", published, uuid)
         TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${level}, ROW_GROUP_SIZE ${rowGroupRows})`,
      );
      const body = await readFile(file);
      const key = partKey(org, dt, generation, i);
      await sink.put(key, body, 'application/vnd.apache.parquet');
      const rows = range ? rowsPerHour.filter(([h]) => h >= range[0] && h <= range[1]).reduce((n, [, r]) => n + r, 0) : 0;
      outputs.push({ key, bytes: body.byteLength, rows, sha256: sha256Hex(body), hours: range });
    }
    const sources: SourceObject[] = copies.map((x) => ({ key: x.key, bytes: x.bytes, sha256: x.sha256, rows: perSource.get(x.file) ?? 0 }));
    const srcRows = Number(stats.src_rows);
    const outRows = Number(stats.out_rows);
    return {
      kind: 'okta-lake/compaction-manifest',
      version: 1,
      org,
      dt,
      generation,
      createdAt: new Date(g.nowMs).toISOString(),
      frozenAt: g.freeze.frozenAt,
      lateCutoff: new Date(g.lateCutoffMs).toISOString(),
      rows: outRows,
      sourceRows: srcRows,
      duplicateRowsCollapsed: srcRows - outRows,
      rowsPerHour: Object.fromEntries(rowsPerHour),
      checksum: String(stats.checksum),
      uuids,
      sources,
      outputs,
      format: { compression: 'zstd', compressionLevel: level, rowGroupRows, sortedBy: SORTED_BY },
    };
  } catch (error) {
    if (error instanceof OktaLakeError) throw error;
    throw new CompactionError(`${org} ${dt}: could not write generation ${generation}`, { cause: error });
  } finally {
    await c.run('DROP TABLE IF EXISTS okta_lake_src');
    await c.run('DROP TABLE IF EXISTS okta_lake_out');
    await c.run('DROP TABLE IF EXISTS okta_lake_src_files');
  }
}

/** When an org-day counts as closed (no run will write to it in the ordinary course). */
export interface ClosedDayRule {
  /** The longest reconciliation sweep offset. @default 24 h (the longest of `DEFAULT_SWEEP_OFFSETS_MS`) */
  readonly sweepOffsetMs?: number;
  /** Added on top. @default 1 h */
  readonly marginMs?: number;
}

/** Whether day `dt` is closed for an org whose watermark is `watermarkMs`: the watermark is past the day's end + the sweep offset + the margin. */
export function isDayClosed(dt: string, watermarkMs: number | undefined, rule: ClosedDayRule = {}): boolean {
  if (watermarkMs === undefined) return false;
  const sweep = rule.sweepOffsetMs ?? Math.max(...DEFAULT_SWEEP_OFFSETS_MS);
  const margin = rule.marginMs ?? HOUR;
  return watermarkMs >= dayStartMs(dt) + DAY + sweep + margin;
}

export interface CompactLakeOptions extends Omit<CompactDayOptions, 'org' | 'dt' | 'workspace'>, ClosedDayRule {
  /** Each org's ingestion watermark (the watermark store). */
  readonly watermarks: WatermarkReader;
  /** @default every org of the lake */
  readonly orgs?: readonly string[];
  /** Only this day. */
  readonly day?: string;
  /**
   * Days up to and including this one are closed whatever the watermark (a lake nobody writes to
   * any more, such as an imported one, which has no watermark).
   */
  readonly closedThrough?: string;
  /**
   * No day is started at or after this instant (epoch ms, on `clock`): a Lambda run leaves the
   * rest to the next run. A day started before it runs to its end. @default no limit
   */
  readonly startBeforeMs?: number;
}

export type DayOutcome =
  | { readonly org: string; readonly dt: string; readonly result: CompactDayResult }
  | { readonly org: string; readonly dt: string; readonly conflict: CompactionConflictError }
  | { readonly org: string; readonly dt: string; readonly failed: CompactionError };

export interface CompactLakeResult {
  /** Each closed day that needed work, oldest first. */
  readonly days: readonly DayOutcome[];
  /** Days left alone because they are not closed yet, per org. */
  readonly open: Readonly<Record<string, number>>;
  /** Closed days already compacted with nothing new, per org. */
  readonly upToDate: Readonly<Record<string, number>>;
  /** Orgs with no watermark (and no `closedThrough`): none of their days count as closed. */
  readonly noWatermark: readonly string[];
  /** Closed days not started because `startBeforeMs` had passed (the next run takes them). */
  readonly deferred: number;
}

/** Compacts every closed day of every org (or those asked for) that needs it, oldest first. */
export async function compactLake(options: CompactLakeOptions): Promise<CompactLakeResult> {
  const { sink, watermarks } = options;
  const scope = options.orgs?.length === 1 ? { org: options.orgs[0], ...(options.day ? { dt: options.day } : {}) } : {};
  const listings = (await listDays(sink, scope)).filter((l) => (!options.orgs || options.orgs.includes(l.org)) && (!options.day || l.dt === options.day));
  const orgs = [...new Set(listings.map((l) => l.org))];
  const marks = new Map<string, number | undefined>();
  for (const org of orgs) marks.set(org, await watermarks.watermark(org));
  const open: Record<string, number> = {};
  const upToDate: Record<string, number> = {};
  const noWatermark = orgs.filter((org) => marks.get(org) === undefined && options.closedThrough === undefined);
  const due: { org: string; dt: string }[] = [];
  for (const l of listings) {
    const closed = (options.closedThrough !== undefined && l.dt <= options.closedThrough) || isDayClosed(l.dt, marks.get(l.org), options);
    if (!closed) {
      open[l.org] = (open[l.org] ?? 0) + 1;
      continue;
    }
    due.push({ org: l.org, dt: l.dt });
  }
  due.sort((a, b) => a.dt.localeCompare(b.dt) || a.org.localeCompare(b.org));
  const days: DayOutcome[] = [];
  let deferred = 0;
  // One late cutoff for the whole run, so that the days it compacts share it (one view predicate).
  const clock = options.clock ?? { now: () => Date.now() };
  const lateCutoffMs = options.lateCutoffMs ?? clock.now() - (options.graceMs ?? FREEZE_GRACE_MS);
  const ws = await openCompactionWorkspace(options.duckdb);
  try {
    for (const [i, { org, dt }] of due.entries()) {
      if (options.startBeforeMs !== undefined && clock.now() >= options.startBeforeMs) {
        deferred = due.length - i;
        break;
      }
      try {
        const result = await compactDay({ ...options, org, dt, workspace: ws, lateCutoffMs });
        if (result.outcome === 'up-to-date') upToDate[org] = (upToDate[org] ?? 0) + 1;
        else days.push({ org, dt, result });
      } catch (error) {
        if (error instanceof CompactionConflictError) days.push({ org, dt, conflict: error });
        else if (error instanceof CompactionVerificationError || error instanceof FreezeViolationError || error instanceof CompactionLayoutError) days.push({ org, dt, failed: error });
        else throw error;
      }
    }
  } finally {
    await ws.close();
  }
  return { days, open, upToDate, noWatermark, deferred };
}

