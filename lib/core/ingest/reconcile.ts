/**
 * The reconciliation sweep: Okta warns that a bounded window read soon after it closed can miss
 * events that are recorded late. The sweep re-reads windows some time after they closed (by default
 * one hour and one day behind the org's watermark), compares what Okta returns with the uuids the
 * lake already holds for those `dt/hour` partitions, and writes only the missing events, as new
 * objects beside the ingested ones.
 *
 * Sweep lines. Each offset is a "sweep line" with its own progress, kept in the same watermark store
 * as the org under the key `sweepLineKey(org, offset)` (`<org>.reconcile-<minutes>m`), with the
 * same lease and conditional-write rules. A line's watermark is the end of the last window it swept.
 * A run sweeps, oldest first and one window per line in turn, every `span`-aligned window
 * `[a, a + span)` with `a >= line watermark` and `a + span <= floor((org watermark - offset) / span) * span`,
 * and checkpoints the line after each window. So every window is swept once per line (again only
 * after a crash), whatever the schedule, and a run that stops (time budget, crash) resumes at the
 * window it did not finish. A line's first run sweeps only the last due window; a line that fell
 * more than `maxBacklog` behind (the function was off for days) skips ahead, with a warning: the
 * windows it skips were read by the ingestion long after they closed.
 *
 * Late objects. The missing events of one page are written as one page through the writer (their
 * exact texts, so `raw` stays byte for byte what Okta sent; the page is split with `JSON.parse` and
 * `arrayElementSpans`, measured faster on a realistic 1,000-event page than letting DuckDB's
 * `read_json_objects` return uuids and texts) under the name
 * `w<start>-<end>-late-<hash of their sorted uuids>`, through the shared store step
 * (store-page.ts, `content` naming): the lake is write-once, and a re-run that finds the same events
 * missing (a crash after the write and before the checkpoint) finds that object stored and writes
 * nothing; once they are in the lake a re-run finds nothing missing. A name never depends on the
 * page position.
 *
 * Elements without a usable uuid cannot be compared with the lake; they are counted
 * (`unidentified`) and left alone (the ingestion quarantined them when it read them).
 *
 * Duplicates. The sweep cannot remove anything, but it reports (`duplicatesFound`, and a warning
 * per window) rows of a uuid the lake holds more than once in a swept window, so that a broken
 * exactly-once promise is seen rather than silently queried.
 */
import { createHash } from 'node:crypto';
import { ConfigError, OktaLakeError } from '../errors';
import { assertOrgLabel, partitionsOfWindow, stamp } from '../layout';
import { DEFAULT_SWEEP_OFFSETS_MS, sweepLineKey } from '../sweep-lines';
import { DAY, HOUR, MINUTE } from '../time';
import {
  silentReporter,
  systemClock,
  type Clock,
  type IngestState,
  type LakeSink,
  type Lease,
  type LogPage,
  type LogPageSource,
  type LakeIndex,
  type PageWriter,
  type Reporter,
  type TimeBudget,
  type WatermarkStore,
} from '../ports';
import { lateEvidenceOf, type LateEvidenceLog } from '../late-evidence';
import { arrayElementSpans } from '../writer/json-text';
import { OktaQueryTimeoutError } from '../okta/errors';
import { checkMaxEmptyPages, EmptyPageGuard } from './page-chain';
import type { CompactionState } from '../compact/state';
import { storePage } from '../lake/store-page';

export interface ReconcileOptions {
  /** Org label used in the lake path (as for `runIngest`). */
  readonly org: string;
  readonly source: LogPageSource;
  readonly writer: PageWriter;
  readonly sink: LakeSink;
  readonly index: LakeIndex;
  /** The org's watermark store; the sweep lines keep their progress in it too. */
  readonly store: WatermarkStore;
  /** Unique id of this run (lease owner). */
  readonly owner: string;
  /**
   * The org's watermark (as the ingestion run just left it). When absent it is read from the store,
   * which needs the org's lease for a moment: the sweep returns `lease-held` when a run holds it.
   * @default read from the store
   */
  readonly watermark?: string;
  /** How far behind the watermark each sweep line re-reads, in whole minutes. @default 1 hour and 24 hours */
  readonly offsetsMs?: readonly number[];
  /** Length of a sweep window, a whole number of hours dividing a day. @default 1 hour */
  readonly spanMs?: number;
  /** A line further behind than this skips ahead (with a warning). @default 24 hours */
  readonly maxBacklogMs?: number;
  /** Lease duration of a sweep line, renewed at every window. @default 15 minutes */
  readonly leaseTtlMs?: number;
  /** Stop cleanly (between pages; the unfinished window is swept again next time). @default no limit */
  readonly timeBudget?: TimeBudget;
  /** Times a page that is not valid JSON is fetched again before the sweep fails. @default 2 */
  readonly malformedPageRetries?: number;
  /** Empty pages with a `next` link a window may yield in a row before the sweep fails with `EmptyPagesError`. @default 20 */
  readonly maxConsecutiveEmptyPages?: number;
  /** Each window's query reaches this far beyond it on both sides; events outside the window are left to its neighbours (see `overlappedQueryUrl`). @default 1000 */
  readonly overlapMs?: number;
  /** A range whose query Okta times out on (E0000009) is swept in halves, never narrower than this. @default 1 minute */
  readonly minWindowMs?: number;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default silent */
  readonly reporter?: Reporter;
  /** Stops the sweep at the next page boundary. */
  readonly signal?: AbortSignal;
  /** Called after each swept window has been checkpointed. */
  readonly onWindow?: (window: SweptWindow) => void;
  /**
   * Where the `published` span of the events the sweep adds is recorded, so that every scheduled
   * detection evaluates that time again (lib/core/late-evidence.ts). Recorded before the events are
   * written: a crash in between costs a re-evaluation, never a missed one. @default not recorded
   */
  readonly lateEvidence?: Pick<LateEvidenceLog, 'record'>;
  /** Which days compaction has frozen: late events for them go under `late/` (store-page.ts). @default none */
  readonly compaction?: CompactionState;
}

/** One window a sweep line re-read. */
export interface SweptWindow {
  readonly offsetMs: number;
  readonly start: string;
  readonly end: string;
  readonly pages: number;
  /** Elements Okta returned for the window. */
  readonly eventsSeen: number;
  /** Events the lake did not hold, now written. */
  readonly lateEvents: number;
  /** Missing events the writer could not place (no valid `published`, unreadable): in quarantine. */
  readonly lateQuarantined: number;
}

export type ReconcileOutcome =
  /** Every line swept every window that was due. */
  | 'done'
  | 'time-budget'
  | 'stopped'
  /** Another run holds the org's lease (only when the watermark had to be read from the store). */
  | 'lease-held'
  /** The org has no watermark yet: nothing has been ingested, nothing to sweep. */
  | 'no-watermark';

export interface SweepLineResult {
  readonly offsetMs: number;
  /** The line's store key. */
  readonly key: string;
  /** Where the line stands after the run (end of the last window swept), when it has started. */
  readonly sweptUntil?: string;
  readonly windows: number;
  readonly lateEvents: number;
  /** Another run held this line's lease: it was skipped. */
  readonly leaseHeld: boolean;
}

export interface ReconcileResult {
  readonly outcome: ReconcileOutcome;
  readonly windows: number;
  readonly pages: number;
  readonly eventsSeen: number;
  /** Late events found and written: the `LateEventsRecovered` metric. */
  readonly lateEvents: number;
  readonly lateQuarantined: number;
  /** Elements without a usable uuid (not compared). */
  readonly unidentified: number;
  /** Pages fetched again because they were not valid JSON. */
  readonly malformedRefetches: number;
  readonly objectsWritten: number;
  readonly bytesWritten: number;
  /** Windows a line skipped because it was more than `maxBacklog` behind. */
  readonly windowsSkipped: number;
  /** Rows of events the lake holds more than once in the swept windows (see the module comment). */
  readonly duplicatesFound: number;
  /** Ranges swept in halves because Okta timed out on their query (E0000009). */
  readonly windowSplits: number;
  readonly lines: readonly SweepLineResult[];
}

/** The sweep failed (a page, a write or a checkpoint); the lines resume at their unfinished window. */
export class ReconcileError extends OktaLakeError {}

/** A page of the sweep is not a JSON array even after fetching it again. */
export class MalformedSweepPageError extends ReconcileError {}

/** Name (without extension) of the objects holding the late events `uuids` found in window `[start, end)`. */
export function lateObjectName(start: string, end: string, uuids: readonly string[]): string {
  const hash = createHash('sha256');
  for (const uuid of [...uuids].sort()) hash.update(uuid).update('\n');
  return `w${stamp(start)}-${stamp(end)}-late-${hash.digest('hex').slice(0, 20)}`;
}

/** The `published` instant of one event's JSON text (epoch ms), NaN when it has none that parses. */
function publishedOf(text: string): number {
  try {
    const value = (JSON.parse(text) as Record<string, unknown>).published;
    return typeof value === 'string' ? Date.parse(value) : NaN;
  } catch {
    return NaN;
  }
}

/** One element of a page: its exact text and its uuid, when it has a usable one. */
export interface PageElement {
  readonly text: string;
  readonly uuid?: string;
}

/**
 * The elements of a page body (a JSON array) with their exact texts, or `undefined` when the body
 * is not a JSON array.
 */
export function pageElements(body: string): PageElement[] | undefined {
  return timedElements(body)?.map((e) => (e.uuid !== undefined ? { text: e.text, uuid: e.uuid } : { text: e.text }));
}

/** A page element with its `published` instant, when it has a readable one. */
export interface TimedElement extends PageElement {
  readonly publishedMs?: number;
}

/** As {@link pageElements}, with each element's `published` (ms), when it is a readable instant. */
export function timedElements(body: string): TimedElement[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const spans = arrayElementSpans(body);
  if (!spans || spans.length !== parsed.length) return undefined;
  return spans.map((s, i) => {
    const value: unknown = parsed[i];
    const o = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    const uuid = o?.uuid;
    const publishedMs = typeof o?.published === 'string' ? Date.parse(o.published) : Number.NaN;
    const text = body.slice(s.start, s.end);
    return {
      text,
      ...(typeof uuid === 'string' && uuid !== '' ? { uuid } : {}),
      ...(Number.isNaN(publishedMs) ? {} : { publishedMs }),
    };
  });
}

/**
 * Okta does not document whether `since` is inclusive and `until` exclusive
 * (developer.okta.com/docs/reference/system-log-query describes neither), so nothing here depends on
 * either; windows overlap and deduplicate by uuid: a window's query reaches `overlapMs` beyond it
 * on both sides, and each event is kept by the one window its `published` falls in.
 */
export function overlappedQueryUrl(source: LogPageSource, start: string, end: string, overlapMs: number): string {
  return source.boundedQueryUrl(iso(Date.parse(start) - overlapMs), iso(Date.parse(end) + overlapMs));
}

/** Validates an `overlapMs` option. */
export function checkOverlapMs(value: number | undefined, what: string): number {
  const v = value ?? 1000;
  if (!(Number.isSafeInteger(v) && v >= 0 && v <= MINUTE)) throw new ConfigError(`${what} overlapMs must be a whole number of ms from 0 to 60000, got ${v}`);
  return v;
}

/** Whether an element was published in the overlap `[startMs - overlapMs, startMs)` before a window. */
export function inOverlapBefore(e: TimedElement, startMs: number, overlapMs: number): boolean {
  return e.publishedMs !== undefined && e.publishedMs < startMs && e.publishedMs >= startMs - overlapMs;
}

/**
 * `body` without its elements published in the overlap `[startMs - overlapMs, startMs)` before a
 * window (they belong to the window before), byte for byte the same text when none is; `reached`
 * when an element is at or after `startMs`. Elements published before the overlap are kept: no
 * window can own them, and the writer quarantines them (`PageWriteInput.accept`). A body that is not
 * a JSON array is returned as it is (the writer refuses it).
 */
export function dropBefore(body: string, startMs: number, overlapMs: number): { body: string; dropped: number; reached: boolean } {
  const elements = timedElements(body);
  if (elements === undefined) return { body, dropped: 0, reached: false };
  const kept = elements.filter((e) => !inOverlapBefore(e, startMs, overlapMs));
  const reached = elements.some((e) => e.publishedMs !== undefined && e.publishedMs >= startMs);
  const dropped = elements.length - kept.length;
  return { body: dropped === 0 ? body : `[${kept.map((e) => e.text).join(',')}]`, dropped, reached };
}

interface Config {
  readonly offsetsMs: readonly number[];
  readonly spanMs: number;
  readonly maxBacklogMs: number;
  readonly leaseTtlMs: number;
  readonly malformedPageRetries: number;
  readonly maxConsecutiveEmptyPages: number;
  readonly overlapMs: number;
  readonly minWindowMs: number;
}

function validate(o: ReconcileOptions): Config {
  const offsetsMs = o.offsetsMs ?? DEFAULT_SWEEP_OFFSETS_MS;
  const spanMs = o.spanMs ?? HOUR;
  const maxBacklogMs = o.maxBacklogMs ?? DAY;
  const leaseTtlMs = o.leaseTtlMs ?? 15 * MINUTE;
  const malformedPageRetries = o.malformedPageRetries ?? 2;
  if (!Array.isArray(offsetsMs) || offsetsMs.length === 0) throw new ConfigError('reconcile offsetsMs must list at least one offset');
  for (const offset of offsetsMs) {
    if (!(Number.isSafeInteger(offset) && offset >= MINUTE && offset % MINUTE === 0 && offset <= 90 * DAY)) {
      throw new ConfigError(`reconcile offsets must be whole minutes from 1 minute to 90 days, got ${offset}`);
    }
  }
  if (new Set(offsetsMs).size !== offsetsMs.length) throw new ConfigError(`reconcile offsets must differ, got ${offsetsMs.join(', ')}`);
  if (!(Number.isSafeInteger(spanMs) && spanMs >= HOUR && spanMs % HOUR === 0 && DAY % spanMs === 0)) {
    throw new ConfigError(`reconcile spanMs must be a whole number of hours that divides a day (1, 2, 3, 4, 6, 8, 12 or 24 h), got ${spanMs}`);
  }
  if (!(Number.isSafeInteger(maxBacklogMs) && maxBacklogMs >= spanMs)) {
    throw new ConfigError(`reconcile maxBacklogMs must be at least spanMs (${spanMs}), got ${maxBacklogMs}`);
  }
  if (!(Number.isSafeInteger(leaseTtlMs) && leaseTtlMs >= 10_000)) throw new ConfigError(`reconcile leaseTtlMs must be at least 10 s, got ${leaseTtlMs}`);
  if (!(Number.isInteger(malformedPageRetries) && malformedPageRetries >= 0)) {
    throw new ConfigError(`reconcile malformedPageRetries must be a whole number >= 0, got ${malformedPageRetries}`);
  }
  if (o.watermark !== undefined && Number.isNaN(Date.parse(o.watermark))) {
    throw new ConfigError(`reconcile watermark must be an ISO-8601 instant, got "${o.watermark}"`);
  }
  assertOrgLabel(o.org);
  const maxConsecutiveEmptyPages = checkMaxEmptyPages(o.maxConsecutiveEmptyPages, 'reconcile');
  const overlapMs = checkOverlapMs(o.overlapMs, 'reconcile');
  const minWindowMs = o.minWindowMs ?? MINUTE;
  if (!(Number.isSafeInteger(minWindowMs) && minWindowMs >= 1)) throw new ConfigError(`reconcile minWindowMs must be a whole number of ms >= 1, got ${minWindowMs}`);
  return { offsetsMs, spanMs, maxBacklogMs, leaseTtlMs, malformedPageRetries, maxConsecutiveEmptyPages, overlapMs, minWindowMs };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A sweep line during a run. */
interface Line {
  readonly offsetMs: number;
  readonly key: string;
  /** End of the last window due for this line. */
  readonly targetMs: number;
  lease?: Lease;
  state?: IngestState;
  /** Start of the next window to sweep. */
  nextMs?: number;
  windows: number;
  lateEvents: number;
  leaseHeld: boolean;
}

/** Internal: the run must stop between pages. */
class Stop {
  constructor(readonly outcome: 'time-budget' | 'stopped') {}
}

/** Runs one reconciliation sweep for one org. See the module comment. */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const cfg = validate(options);
  const { org, source, writer, sink, index, store, owner } = options;
  const clock = options.clock ?? systemClock;
  const reporter = options.reporter ?? silentReporter;
  const marginMs = options.timeBudget?.marginMs ?? 30_000;
  const totals = {
    windows: 0,
    pages: 0,
    eventsSeen: 0,
    lateEvents: 0,
    lateQuarantined: 0,
    unidentified: 0,
    malformedRefetches: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    windowsSkipped: 0,
    duplicatesFound: 0,
    windowSplits: 0,
  };

  let watermark = options.watermark;
  if (watermark === undefined) {
    const acquired = await store.acquire(org, owner, cfg.leaseTtlMs, clock.now());
    if (!acquired) {
      reporter.info('another run holds the lease for this org; the sweep waits for the next run', { org });
      return { outcome: 'lease-held', ...totals, lines: [] };
    }
    watermark = acquired.state.watermark;
    await store.release(acquired.lease);
  }
  if (watermark === undefined) return { outcome: 'no-watermark', ...totals, lines: [] };
  const watermarkMs = Date.parse(watermark);

  const lines: Line[] = [...cfg.offsetsMs]
    .sort((a, b) => a - b)
    .map((offsetMs) => ({
      offsetMs,
      key: sweepLineKey(org, offsetMs),
      targetMs: Math.floor((watermarkMs - offsetMs) / cfg.spanMs) * cfg.spanMs,
      windows: 0,
      lateEvents: 0,
      leaseHeld: false,
    }));

  const shouldStop = (): Stop | undefined => {
    if (options.signal?.aborted) return new Stop('stopped');
    if (options.timeBudget && options.timeBudget.remainingMs() < marginMs) return new Stop('time-budget');
    return undefined;
  };

  let outcome: ReconcileOutcome = 'done';
  try {
    for (const line of lines) {
      const acquired = await store.acquire(line.key, owner, cfg.leaseTtlMs, clock.now());
      if (!acquired) {
        line.leaseHeld = true;
        reporter.info('another run holds this sweep line; skipping it', { org, offsetMs: line.offsetMs });
        continue;
      }
      line.lease = acquired.lease;
      line.state = acquired.state;
      line.nextMs = startOf(line, acquired.state);
    }
    // Round robin, one window per line in turn, so that a short budget does not starve the far lines.
    for (;;) {
      const due = lines.filter((l) => l.lease && l.nextMs !== undefined && l.nextMs + cfg.spanMs <= l.targetMs);
      if (due.length === 0) break;
      for (const line of due) {
        const stop = shouldStop();
        if (stop) throw stop;
        await sweepWindow(line);
      }
    }
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    outcome = error.outcome;
  } finally {
    for (const line of lines) {
      if (line.lease) {
        await store.release(line.lease).catch((error: unknown) => reporter.warn('could not release a sweep line lease', { key: line.key, error: String(error) }));
      }
    }
  }

  return {
    outcome,
    ...totals,
    lines: lines.map((l) => ({
      offsetMs: l.offsetMs,
      key: l.key,
      ...(l.state?.watermark !== undefined ? { sweptUntil: l.state.watermark } : {}),
      windows: l.windows,
      lateEvents: l.lateEvents,
      leaseHeld: l.leaseHeld,
    })),
  };

  /** Where a line starts this run: its watermark, its first due window, or its backlog limit. */
  function startOf(line: Line, state: IngestState): number {
    const first = line.targetMs - cfg.spanMs;
    if (state.watermark === undefined) return first;
    const at = Date.parse(state.watermark);
    const oldest = line.targetMs - cfg.maxBacklogMs;
    if (at < oldest) {
      const skipped = Math.floor((oldest - at) / cfg.spanMs);
      totals.windowsSkipped += skipped;
      reporter.warn('sweep line fell behind; skipping windows the ingestion read long after they closed', {
        org,
        offsetMs: line.offsetMs,
        from: iso(at),
        to: iso(oldest),
        windows: skipped,
      });
      return oldest;
    }
    return at;
  }

  async function sweepWindow(line: Line): Promise<void> {
    const startMs = line.nextMs as number;
    const endMs = startMs + cfg.spanMs;
    const start = iso(startMs);
    const end = iso(endMs);
    const window = { offsetMs: line.offsetMs, start, end, pages: 0, eventsSeen: 0, lateEvents: 0, lateQuarantined: 0 };
    let known: Set<string>;
    let duplicateRows: number;
    try {
      ({ uuids: known, duplicateRows } = await index.holdings(org, partitionsOfWindow(startMs, endMs)));
    } catch (cause) {
      throw new ReconcileError(`could not read the uuids the lake holds for ${start}..${end} of org ${org}`, { cause });
    }
    /**
     * Sweeps `[a, b)` of the window. When Okta times out on its query (HTTP 500 E0000009, see
     * `OktaQueryTimeoutError`), the halves are swept instead, down to `minWindowMs`: what was written
     * before is in `known`, and late objects are named after their events, so nothing is written twice.
     */
    const sweepRange = async (a: number, b: number): Promise<void> => {
      let url: string | undefined = overlappedQueryUrl(source, iso(a), iso(b), cfg.overlapMs);
      const emptyPages = new EmptyPageGuard(cfg.maxConsecutiveEmptyPages, `sweep of ${iso(a)}..${iso(b)} of org ${org}`);
      while (url !== undefined) {
        if (window.pages > 0) {
          const stop = shouldStop();
          if (stop) throw stop;
        }
        let fetched: { page: LogPage; elements: TimedElement[] };
        try {
          fetched = await fetchElements(url);
        } catch (error) {
          const half = Math.floor((b - a) / 2);
          if (error instanceof ReconcileError && error.cause instanceof OktaQueryTimeoutError && half >= cfg.minWindowMs) {
            totals.windowSplits++;
            reporter.warn('Okta timed out on the sweep query (E0000009); sweeping it in halves', { org, range: `${iso(a)}..${iso(b)}` });
            await sweepRange(a, a + half);
            await sweepRange(a + half, b);
            return;
          }
          throw error;
        }
        await sweepPage(fetched, a, b);
        // An empty page with a next link is not the end (see `PageChain`).
        emptyPages.see(fetched.page);
        url = fetched.page.nextUrl;
      }
    };
    const sweepPage = async (fetched: { page: LogPage; elements: TimedElement[] }, a: number, b: number): Promise<void> => {
      // Events of the overlap belong to the neighbouring windows (or ranges): their partitions are not in `known`.
      const elements = fetched.elements.filter((e) => e.publishedMs === undefined || (e.publishedMs >= a && e.publishedMs < b));
      window.pages++;
      totals.pages++;
      window.eventsSeen += elements.length;
      totals.eventsSeen += elements.length;
      const missing: { text: string; uuid: string }[] = [];
      for (const e of elements) {
        if (e.uuid === undefined) {
          totals.unidentified++;
        } else if (!known.has(e.uuid)) {
          known.add(e.uuid);
          missing.push({ text: e.text, uuid: e.uuid });
        }
      }
      if (missing.length > 0) {
        const written = await writeLate(missing, start, end);
        window.lateEvents += written.events;
        window.lateQuarantined += written.quarantined;
      }
    };
    await sweepRange(startMs, endMs);

    const state: IngestState = {
      ...(line.state as IngestState),
      org: line.key,
      watermark: end,
      totalEvents: (line.state?.totalEvents ?? 0) + window.lateEvents,
      totalQuarantined: (line.state?.totalQuarantined ?? 0) + window.lateQuarantined,
      updatedAt: iso(clock.now()),
    };
    try {
      line.lease = await store.checkpoint(line.lease as Lease, state, cfg.leaseTtlMs, clock.now());
    } catch (cause) {
      // The lease is lost or the store failed: do not try to release it again.
      line.lease = undefined;
      throw new ReconcileError(`could not checkpoint sweep line ${line.key} at ${end}; the next run sweeps ${start}..${end} again`, { cause });
    }
    line.state = state;
    line.nextMs = endMs;
    if (duplicateRows > 0) {
      totals.duplicatesFound += duplicateRows;
      reporter.warn('the lake holds some events of this window more than once', { org, window: `${start}..${end}`, rows: duplicateRows });
    }
    line.windows++;
    line.lateEvents += window.lateEvents;
    totals.windows++;
    totals.lateEvents += window.lateEvents;
    totals.lateQuarantined += window.lateQuarantined;
    if (window.lateEvents > 0 || window.lateQuarantined > 0) {
      reporter.info('late events recovered', { org, offsetMs: line.offsetMs, window: `${start}..${end}`, events: window.lateEvents, quarantined: window.lateQuarantined });
    }
    options.onWindow?.(window);
  }

  async function fetchElements(url: string): Promise<{ page: LogPage; elements: TimedElement[] }> {
    for (let attempt = 0; ; attempt++) {
      let page: LogPage;
      try {
        page = await source.fetchPage(url, options.signal);
      } catch (cause) {
        if (options.signal?.aborted) throw new Stop('stopped');
        throw new ReconcileError(`fetching a page of the sweep of org ${org} failed; the next run sweeps the window again`, { cause });
      }
      const elements = timedElements(page.body);
      if (elements) return { page, elements };
      if (attempt >= cfg.malformedPageRetries) {
        throw new MalformedSweepPageError(`a page of the sweep of org ${org} is not a JSON array after ${attempt + 1} fetches; the next run sweeps the window again`);
      }
      totals.malformedRefetches++;
      reporter.warn('sweep page is not valid JSON; fetching it again', { attempt: attempt + 1 });
    }
  }

  async function writeLate(missing: readonly { text: string; uuid: string }[], start: string, end: string): Promise<{ events: number; quarantined: number }> {
    const name = lateObjectName(start, end, missing.map((m) => m.uuid));
    if (options.lateEvidence) {
      const evidence = lateEvidenceOf(missing.map((m) => publishedOf(m.text)), clock.now());
      if (evidence) {
        try {
          await options.lateEvidence.record(org, evidence, clock.now());
        } catch (cause) {
          throw new ReconcileError(`recording the late evidence of ${start}..${end} of org ${org} failed; the next run sweeps the window again`, { cause });
        }
      }
    }
    try {
      const stored = await storePage(
        { writer, sink, ...(options.compaction ? { compaction: options.compaction } : {}) },
        { org, body: `[${missing.map((m) => m.text).join(',')}]`, format: 'array', name, until: end, ingestedAt: new Date(clock.now()) },
        'content',
      );
      const result = stored.result;
      totals.objectsWritten += stored.written.length;
      totals.bytesWritten += stored.bytesWritten;
      if (result.eventsQuarantined > 0) {
        reporter.warn('late events quarantined: they could not be placed in time', { count: result.eventsQuarantined, key: result.quarantine?.key });
      }
      return { events: result.eventsWritten, quarantined: result.eventsQuarantined };
    } catch (cause) {
      throw new ReconcileError(`writing ${missing.length} late events of ${start}..${end} of org ${org} failed; the next run sweeps the window again`, { cause });
    }
  }
}
