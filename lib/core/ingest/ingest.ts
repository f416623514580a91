/**
 * The ingestion run: reads closed windows of the System Log for one org, page by page, writes each
 * page as Parquet into the lake, and checkpoints after every page, so a run that stops anywhere
 * (time budget, crash, another run taking over) resumes at the same page and writes nothing twice.
 *
 * Windows are `[watermark, min(now - settleLag, watermark + maxWindow, until))`: bounded queries,
 * in `published` order, with finite pages (Okta may write an event late: reconcile.ts re-reads).
 * Each page's objects are named from its window and page index, so re-reading a page replaces the
 * objects it wrote before instead of adding copies.
 *
 * Retried pages. A run can die after storing page k and before the checkpoint that covers it. The
 * lake is write-once (lib/core/lake/store-page.ts), so the run that resumes cannot replace what
 * that attempt stored, and must not write its events again; and the page it fetches again from the
 * same link may differ (a late event in its range pushes its last events into page k+1). So the
 * first page a run reads in a window it resumed is preceded by a listing of the keys that page's
 * name can have; when an earlier attempt stored any, the rest of the window is read "checked"
 * (below): each page writes only the events the lake does not hold, under names made from their
 * texts. Counted in `retriedPages`; a retried page that brought events the earlier attempt had not
 * stored is counted in `retriedPagesDiffering` (an alarm: Okta's answer to one query changed). A
 * positional key found taken when no listing predicted it (state restored from a backup, two runs
 * despite the lease) does the same, counted in `unexpectedObjects`. Nothing is ever put over an
 * object, not even an empty one.
 *
 * Empty pages with a `next` link are followed (see `PageChain`), at most `maxConsecutiveEmptyPages`
 * in a row: then the run fails with `EmptyPagesError`, after checkpointing the last link.
 *
 * While page n is being written, page n+1 is already being fetched (see `PageChain`).
 *
 * Window bounds. Whether Okta's `since` is inclusive and `until` exclusive is not documented, so the
 * query of window `[start, end)` asks for `[start - overlapMs, end + overlapMs)`, and each event is
 * kept by the one window its `published` falls in: the writer leaves out events at or after `end`
 * (`PageWriteInput.until`), and the run leaves out those before `start` (`overlapEventsSkipped`),
 * which the window before kept. An event in the overlap is therefore read twice and written once.
 * An event published outside the query's bounds altogether (a 2021 event in a 2026 window) is
 * quarantined with reason `outside_window` (`PageWriteInput.accept`): a hostile or broken answer
 * cannot plant history in a day of its choosing.
 *
 * Restarts and splits. Two answers of Okta make the window's query unusable as it is:
 * - HTTP 500 `E0000009`, the query took too long (developer.okta.com/docs/reference/system-log-query,
 *   "Timeouts" and "Errors": "Please either simplify your query"). The window is split: its first
 *   half is read now, the rest as the windows after it (and windows stay at most that wide for the
 *   rest of the run), down to `minWindowMs`, then `WindowSplitError`. Counted in `windowSplits`.
 * - HTTP 400 on a stored or followed `next` link (a stale cursor). The window is read again from its
 *   start, at most `maxCursorRestarts` times a run, then `CursorRestartError`. Counted in `cursorRestarts`.
 * Pages of the window may be in the lake already (written under page names of the old query). The
 * window is then "checked" (`WindowProgress.checkedUntil`, carried to the windows after it up to that
 * instant): the uuids the lake holds in its partitions are read (`LakeIndex`, by default a
 * `SinkLakeIndex` over the sink), and each page writes only the events the lake does not hold, under
 * a name made from their texts (`w<start>-<end>-c-<hash>`), so that a re-run finds the same objects stored
 * or writes nothing: exactly once, as the sweep's late objects. Those left out are counted in
 * `eventsAlreadyInLake`. A window split before anything was stored needs no check.
 */
import { createHash } from 'node:crypto';
import { ConfigError, ObjectExistsError } from '../errors';
import { EVENTS_PREFIX, LATE_PREFIX, eventObjectKeyIn, pageObjectName, partitionsOfWindow, quarantineObjectKey, stamp } from '../layout';
import { OktaBadRequestError, OktaQueryTimeoutError } from '../okta/errors';
import type { CompactionState } from '../compact/state';
import { SinkLakeIndex } from '../lake/lake-index';
import { CursorRestartError, IngestError, WindowSplitError } from './errors';
import { PageAlreadyStoredError, putNew, storePage, type ObjectNaming } from '../lake/store-page';
import { checkMaxEmptyPages, EmptyPageGuard, isEmptyPage, PageChain } from './page-chain';
import { checkOverlapMs, dropBefore, inOverlapBefore, overlappedQueryUrl, timedElements, type TimedElement } from './reconcile';
import {
  systemClock,
  silentReporter,
  type Clock,
  type IngestState,
  type LakeIndex,
  type LakeSink,
  type Lease,
  type LogPage,
  type LogPageSource,
  type PageWriter,
  type PageWriteResult,
  type Reporter,
  type TimeBudget,
  type WatermarkStore,
  type WindowProgress,
} from '../ports';
import { DAY, HOUR, MINUTE } from '../time';
import { MalformedPageError } from '../writer/errors';
/** Okta returns no events older than 90 days. */
export const MAX_LOOKBACK_MS = 90 * DAY;

/** What the run has done so far; passed to `onProgress` after every page. */
export interface IngestProgress {
  readonly window: { readonly start: string; readonly end: string };
  /** Everything published before this instant has been read (best known). */
  readonly coveredUntil: string;
  /** Where this run will stop when it catches up. */
  readonly target: string;
  /** Where this run started reading. */
  readonly startedAt: string;
  readonly pages: number;
  readonly eventsWritten: number;
  readonly eventsQuarantined: number;
  readonly bytesWritten: number;
}

export interface IngestOptions {
  /** Org label used in the lake path (the org's host name, see `parseOrg`). */
  readonly org: string;
  readonly source: LogPageSource;
  readonly writer: PageWriter;
  readonly sink: LakeSink;
  readonly store: WatermarkStore;
  /** Unique id of this run (the Lambda request id, or a random id on the CLI). */
  readonly owner: string;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default silent */
  readonly reporter?: Reporter;
  /** Windows close this long before now, so that late events have time to arrive. @default 5 minutes */
  readonly settleLagMs?: number;
  /** Longest window read as one bounded query. @default 1 hour */
  readonly maxWindowMs?: number;
  /** Where a first run (no watermark yet) starts. @default 7 days; at most 90 days */
  readonly initialLookbackMs?: number;
  /** Lease duration, renewed at every checkpoint. @default 15 minutes */
  readonly leaseTtlMs?: number;
  /** Stop cleanly before the time runs out. @default no limit */
  readonly timeBudget?: TimeBudget;
  /** Start of the first window when the org has no watermark yet (ISO-8601). @default now - initialLookback */
  readonly since?: string;
  /** Do not read past this instant (ISO-8601). @default now - settleLag */
  readonly until?: string;
  /** Stops the run cleanly at the next page boundary (for SIGINT). */
  readonly signal?: AbortSignal;
  /** Called after every page checkpoint. */
  readonly onProgress?: (progress: IngestProgress) => void;
  /** Times a page the writer cannot parse is fetched again before it is quarantined whole. @default 2 */
  readonly malformedPageRetries?: number;
  /**
   * Empty pages that still carry a `next` link a window may yield in a row before the run fails with
   * `EmptyPagesError` (never silently ending the window). @default 20
   */
  readonly maxConsecutiveEmptyPages?: number;
  /** A split window is never narrower than this (then `WindowSplitError`). @default 1 minute */
  readonly minWindowMs?: number;
  /** Restarts of one window from its start after a stale cursor, per run (then `CursorRestartError`). @default 2 */
  readonly maxCursorRestarts?: number;
  /** Which events the lake holds, for checked windows (see "Restarts and splits"). @default a `SinkLakeIndex` over `sink`, opened when needed */
  readonly index?: LakeIndex;
  /**
   * Each window's query reaches this far beyond the window on both sides (see "Window bounds").
   * @default 1000 (1 s); at most 1 minute
   */
  readonly overlapMs?: number;
  /** Which days compaction has frozen: their events go under `late/` (see store-page.ts). @default none */
  readonly compaction?: CompactionState;
}

export type IngestOutcome = 'caught-up' | 'time-budget' | 'lease-held' | 'stopped';

export interface IngestResult {
  readonly outcome: IngestOutcome;
  readonly windows: number;
  readonly pages: number;
  readonly eventsWritten: number;
  readonly eventsQuarantined: number;
  /** Pages the writer could not parse at all even after refetching: kept whole in quarantine. */
  readonly pagesQuarantined: number;
  readonly duplicatesDropped: number;
  readonly objectsWritten: number;
  readonly bytesWritten: number;
  /** Pages an earlier attempt stored without a checkpoint, read again against the lake (see "Retried pages"). */
  readonly retriedPages: number;
  /** Retried pages that brought events the earlier attempt had not stored: the `RetriedPagesDiffering` metric (alarmed). */
  readonly retriedPagesDiffering: number;
  /** Keys of positional objects found taken that no listing predicted: the `UnexpectedObjects` metric (alarmed). */
  readonly unexpectedObjects: number;
  /** Event objects put under `late/` because compaction froze their day. */
  readonly lateObjects: number;
  /** Windows split because Okta timed out on their query (E0000009): the `WindowSplits` metric. */
  readonly windowSplits: number;
  /** Windows read again from their start after Okta refused a stored next link (HTTP 400): the `CursorRestarts` metric. */
  readonly cursorRestarts: number;
  /** Events of checked windows left out because the lake already holds them: the `EventsAlreadyInLake` metric. */
  readonly eventsAlreadyInLake: number;
  /** Events Okta returned in the overlap before a window's start: they belong to the window before (see "Window bounds"). */
  readonly overlapEventsSkipped: number;
  /** Empty pages that still carried a next link, followed: the `EmptyPagesFollowed` metric. */
  readonly emptyPagesFollowed: number;
  /** The watermark after the run. */
  readonly watermark?: string;
  /** How far the watermark is behind now, after the run. */
  readonly lagMs?: number;
}

export { CursorRestartError, IngestError, WindowSplitError } from './errors';

/** Name (without extension) of the objects a checked window writes for these element texts. */
export function checkedObjectName(window: { readonly start: string; readonly end: string }, texts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const t of texts) hash.update(t).update('\n');
  return `w${stamp(window.start)}-${stamp(window.end)}-c-${hash.digest('hex').slice(0, 20)}`;
}

/** The writer's named error for a page that is not parseable JSON. */
function isMalformedPage(error: unknown): boolean {
  return error instanceof MalformedPageError;
}

function validate(
  o: IngestOptions,
): Required<
  Pick<
    IngestOptions,
    'settleLagMs' | 'maxWindowMs' | 'initialLookbackMs' | 'leaseTtlMs' | 'malformedPageRetries' | 'maxConsecutiveEmptyPages' | 'minWindowMs' | 'maxCursorRestarts' | 'overlapMs'
  >
> {
  const settleLagMs = o.settleLagMs ?? 5 * MINUTE;
  const maxWindowMs = o.maxWindowMs ?? HOUR;
  const initialLookbackMs = o.initialLookbackMs ?? 7 * DAY;
  const leaseTtlMs = o.leaseTtlMs ?? 15 * MINUTE;
  const malformedPageRetries = o.malformedPageRetries ?? 2;
  if (!(settleLagMs >= 0)) throw new ConfigError(`settleLagMs must be >= 0, got ${settleLagMs}`);
  if (!(maxWindowMs >= 1000)) throw new ConfigError(`maxWindowMs must be at least 1000 ms, got ${maxWindowMs}`);
  if (!(initialLookbackMs > 0 && initialLookbackMs <= MAX_LOOKBACK_MS)) {
    throw new ConfigError(`initialLookbackMs must be more than 0 and at most 90 days (Okta keeps 90 days), got ${initialLookbackMs}`);
  }
  if (!(leaseTtlMs >= 10_000)) throw new ConfigError(`leaseTtlMs must be at least 10 s, got ${leaseTtlMs}`);
  if (!(Number.isInteger(malformedPageRetries) && malformedPageRetries >= 0)) {
    throw new ConfigError(`malformedPageRetries must be a whole number >= 0, got ${malformedPageRetries}`);
  }
  for (const [field, value] of [['since', o.since], ['until', o.until]] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) throw new ConfigError(`${field} must be an ISO-8601 instant, got "${value}"`);
  }
  const maxConsecutiveEmptyPages = checkMaxEmptyPages(o.maxConsecutiveEmptyPages, 'ingest');
  const minWindowMs = o.minWindowMs ?? MINUTE;
  if (!(Number.isSafeInteger(minWindowMs) && minWindowMs >= 1)) throw new ConfigError(`minWindowMs must be a whole number of ms >= 1, got ${minWindowMs}`);
  const maxCursorRestarts = o.maxCursorRestarts ?? 2;
  if (!(Number.isInteger(maxCursorRestarts) && maxCursorRestarts >= 0 && maxCursorRestarts <= 100)) {
    throw new ConfigError(`maxCursorRestarts must be a whole number from 0 to 100, got ${maxCursorRestarts}`);
  }
  const overlapMs = checkOverlapMs(o.overlapMs, 'ingest');
  return { settleLagMs, maxWindowMs, initialLookbackMs, leaseTtlMs, malformedPageRetries, maxConsecutiveEmptyPages, minWindowMs, maxCursorRestarts, overlapMs };
}

const iso = (ms: number): string => new Date(ms).toISOString();


/**
 * The keys page `name` of `window` can have in the lake: one event object per `dt/hour` partition
 * the window spans, and one quarantine object per UTC day from `fromMs` to `toMs` (the days an
 * earlier attempt at the page may have run on: quarantine objects are filed by ingestion day).
 */
function pageObjectKeys(org: string, window: { readonly start: string; readonly end: string }, name: string, fromMs: number, toMs: number): string[] {
  const keys: string[] = [];
  for (const p of partitionsOfWindow(Date.parse(window.start), Date.parse(window.end))) {
    keys.push(eventObjectKeyIn(EVENTS_PREFIX, org, p, name), eventObjectKeyIn(LATE_PREFIX, org, p, name));
  }
  for (let day = Math.floor(Math.min(fromMs, toMs) / DAY) * DAY; day <= Math.max(fromMs, toMs); day += DAY) {
    const quarantine = quarantineObjectKey(org, iso(day).slice(0, 10), name);
    keys.push(quarantine, wholePageQuarantineKey(quarantine));
  }
  return keys;
}

/** The key under which a page that cannot be parsed is kept whole, from its quarantine key. */
function wholePageQuarantineKey(quarantineKey: string): string {
  return quarantineKey.replace(/\.jsonl$/, '.page.json');
}

export async function runIngest(options: IngestOptions): Promise<IngestResult> {
  const cfg = validate(options);
  const { org, source, writer, sink, store, owner } = options;
  const clock = options.clock ?? systemClock;
  const reporter = options.reporter ?? silentReporter;
  const marginMs = options.timeBudget?.marginMs ?? 30_000;

  const totals = {
    windows: 0,
    pages: 0,
    eventsWritten: 0,
    eventsQuarantined: 0,
    pagesQuarantined: 0,
    duplicatesDropped: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    retriedPages: 0,
    retriedPagesDiffering: 0,
    unexpectedObjects: 0,
    lateObjects: 0,
    windowSplits: 0,
    cursorRestarts: 0,
    eventsAlreadyInLake: 0,
    overlapEventsSkipped: 0,
    emptyPagesFollowed: 0,
  };
  /** The lake index this run opened itself (when `options.index` is not given), once needed. */
  let ownIndex: Promise<SinkLakeIndex> | undefined;

  const acquired = await store.acquire(org, owner, cfg.leaseTtlMs, clock.now());
  if (!acquired) {
    reporter.info('another run holds the lease for this org; exiting without fetching', { org });
    return { outcome: 'lease-held', ...totals };
  }
  let lease: Lease = acquired.lease;
  let state: IngestState = acquired.state;
  // A window stored in the state may have its next page stored without a checkpoint (see the module
  // comment); that page was written after the last checkpoint, so on or after its day.
  let resuming = state.window !== undefined;
  const lastCheckpointMs = Date.parse(state.updatedAt ?? state.window?.end ?? '');

  const startNow = clock.now();
  const target = Math.min(startNow - cfg.settleLagMs, options.until ? Date.parse(options.until) : Number.POSITIVE_INFINITY);
  const firstStart = state.watermark
    ? Date.parse(state.watermark)
    : Math.max(options.since ? Date.parse(options.since) : startNow - cfg.initialLookbackMs, startNow - MAX_LOOKBACK_MS);
  if (state.watermark && options.since && Date.parse(options.since) < firstStart) {
    reporter.warn('the org already has a watermark; --since applies only to a first run, continuing from the watermark', {
      watermark: state.watermark,
    });
  }
  const startedAt = state.window?.start ?? iso(firstStart);

  const shouldStop = (): 'time-budget' | 'stopped' | undefined => {
    if (options.signal?.aborted) return 'stopped';
    if (options.timeBudget && options.timeBudget.remainingMs() < marginMs) return 'time-budget';
    return undefined;
  };

  /** Windows are at most this wide in this run: halved by each split (see `splitWindow`). */
  let windowCapMs = cfg.maxWindowMs;
  const nextWindow = (): WindowProgress | undefined => {
    if (state.window) return state.window;
    const start = state.watermark ? Date.parse(state.watermark) : firstStart;
    const end = Math.min(target, start + windowCapMs);
    if (!(end > start)) return undefined;
    const carried = checkedAfter !== undefined && Date.parse(checkedAfter) > start ? { checkedUntil: checkedAfter } : {};
    return { start: iso(start), end: iso(end), pagesWritten: 0, eventsWritten: 0, ...carried };
  };
  /** The `checkedUntil` of the window that just ended, carried into the next one while it lasts. */
  let checkedAfter: string | undefined;
  /** Cursor restarts of each window (by start) in this run. */
  const restartsOf = new Map<string, number>();

  let chain: PageChain | undefined;

  let outcome: IngestOutcome = 'caught-up';
  try {
    windows: for (;;) {
      const stop = shouldStop();
      if (stop) {
        outcome = stop;
        break;
      }
      const next = nextWindow();
      if (!next) break;
      let window: WindowProgress = next;
      const fromEarlierRun = resuming;
      if (!state.window) {
        // Record a window before writing into it: its end depends on the clock, and a run that dies
        // after storing a page of it must be resumed with the same end (object names include it).
        state = { ...state, window, updatedAt: iso(clock.now()) };
        lease = await store.checkpoint(lease, state, cfg.leaseTtlMs, clock.now());
      }
      totals.windows++;
      let pageIndex = window.pagesWritten;
      let windowEvents = window.eventsWritten;
      let checked = window.checkedUntil !== undefined && Date.parse(window.start) < Date.parse(window.checkedUntil);
      /** The first page read after a retry, while its events are compared with the earlier attempt's. */
      let retried = false;
      /** Texts of elements without a uuid that the earlier attempt quarantined (they cannot be matched by uuid). */
      let keptTexts: ReadonlySet<string> = new Set<string>();
      if (resuming && !checked) {
        // An earlier attempt may have stored the next page without its checkpoint (see "Retried pages").
        const name = pageObjectName(window.start, window.end, pageIndex);
        const earlier = await listEarlierAttempt(window, name);
        if (earlier.length > 0) {
          totals.retriedPages++;
          retried = true;
          keptTexts = await quarantinedTexts(earlier);
          window = checkWindow(window);
          checked = true;
          reporter.warn('an earlier attempt stored this page without recording it; reading the rest of the window against the lake', {
            org,
            page: name,
            objects: earlier.length,
          });
        }
      }
      resuming = false;
      // Checked windows write only what the lake does not hold yet (see "Restarts and splits").
      let known = checked ? await heldUuids(window) : undefined;
      const firstUrl = overlappedQueryUrl(source, window.start, window.end, cfg.overlapMs);
      const startMs = Date.parse(window.start);
      // Pages come in published order: once one reaches the window start, no later one is before it.
      let pastStart = false;
      const cutOverlap = (body: string): string => {
        const cut = dropBefore(body, startMs, cfg.overlapMs);
        totals.overlapEventsSkipped += cut.dropped;
        if (cut.reached) pastStart = true;
        return cut.body;
      };
      // Pages are requested as soon as their link is known, while earlier ones are written.
      let pageUrl = window.nextUrl ?? firstUrl;
      chain = new PageChain(source, pageUrl);
      const emptyPages = new EmptyPageGuard(cfg.maxConsecutiveEmptyPages, `window ${window.start}..${window.end} of org ${org}`);

      for (;;) {
        let page: LogPage;
        try {
          page = await chain.take();
        } catch (error) {
          chain.stop();
          if (error instanceof OktaQueryTimeoutError) {
            await splitWindow(window, pageIndex > 0 || fromEarlierRun || checked, error);
            continue windows;
          }
          if (error instanceof OktaBadRequestError && pageUrl !== firstUrl) {
            await restartWindow(window, windowEvents, error);
            continue windows;
          }
          throw error;
        }
        const nextUrl = page.nextUrl;

        let written: PageWriteResult | undefined;
        /** Events of a retried page that its earlier attempt stored without a checkpoint: not counted yet. */
        let storedUncounted = 0;
        if (!known) {
          const name = pageObjectName(window.start, window.end, pageIndex);
          const inWindow = pastStart ? page : { ...page, body: cutOverlap(page.body) };
          if (!isEmptyPage(inWindow.body)) {
            try {
              written = await writePage(inWindow, name, window, 'position', pastStart ? undefined : cutOverlap);
            } catch (error) {
              if (!(error instanceof PageAlreadyStoredError)) throw error;
              // Stored before, though no listing said so: read this page and the rest of the window against the lake.
              totals.unexpectedObjects += error.taken.length;
              countWritten(error.written);
              reporter.warn('objects of this page exist though no earlier attempt was known: reading the rest of the window against the lake', {
                org,
                page: name,
                keys: error.taken,
              });
              window = checkWindow(window);
              checked = true;
              known = await heldUuids(window);
            }
          }
        }
        if (known) {
          const inLakeBefore = totals.eventsAlreadyInLake;
          const fresh = await writeChecked(page, window, known, keptTexts);
          if (retried) storedUncounted = totals.eventsAlreadyInLake - inLakeBefore;
          if (retried && fresh !== undefined && fresh.eventsWritten + fresh.eventsQuarantined > 0) {
            totals.retriedPagesDiffering++;
            reporter.warn('a page fetched again brought events its earlier attempt had not stored: Okta answered one query differently', {
              org,
              window: `${window.start}..${window.end}`,
              page: pageIndex,
              events: fresh.eventsWritten + fresh.eventsQuarantined,
            });
          }
          written = fresh;
        }
        if (!isEmptyPage(page.body)) retried = false;
        pageIndex++;
        totals.pages++;
        windowEvents += written?.eventsWritten ?? 0;

        if (nextUrl) {
          state = { ...state, window: { ...window, nextUrl, pagesWritten: pageIndex, eventsWritten: windowEvents } };
        } else {
          checkedAfter = window.checkedUntil !== undefined && Date.parse(window.checkedUntil) > Date.parse(window.end) ? window.checkedUntil : undefined;
          state = { ...state, watermark: window.end, window: undefined };
          // The next window inherits the check at once, in this checkpoint: a run that stops here
          // must not read it unchecked.
          const following = checkedAfter !== undefined ? nextWindow() : undefined;
          if (following) state = { ...state, window: following };
        }
        state = {
          ...state,
          totalEvents: state.totalEvents + (written?.eventsWritten ?? 0) + storedUncounted,
          totalQuarantined: state.totalQuarantined + (written?.eventsQuarantined ?? 0),
          updatedAt: iso(clock.now()),
        };
        lease = await store.checkpoint(lease, state, cfg.leaseTtlMs, clock.now());
        options.onProgress?.({
          window: { start: window.start, end: window.end },
          coveredUntil: nextUrl ? (written?.maxPublished ?? window.start) : window.end,
          target: iso(target),
          startedAt,
          pages: totals.pages,
          eventsWritten: totals.eventsWritten,
          eventsQuarantined: totals.eventsQuarantined,
          bytesWritten: totals.bytesWritten,
        });

        if (!nextUrl) {
          chain.stop();
          continue windows;
        }
        pageUrl = nextUrl;
        if (isEmptyPage(page.body)) totals.emptyPagesFollowed++;
        emptyPages.see(page);
        const stopNow = shouldStop();
        if (stopNow) {
          outcome = stopNow;
          break windows;
        }
      }
    }
  } finally {
    chain?.stop();
    await store.release(lease).catch((error: unknown) => reporter.warn('could not release the lease', { error: String(error) }));
    if (ownIndex) await ownIndex.then((i) => i.close()).catch((error: unknown) => reporter.warn('could not close the lake index', { error: String(error) }));
  }

  const watermark = state.watermark;
  return {
    outcome,
    ...totals,
    watermark,
    lagMs: watermark ? clock.now() - Date.parse(watermark) : undefined,
  };

  /** The objects page `name` of the resumed `window` already has in the lake (from an attempt that died before its checkpoint). */
  async function listEarlierAttempt(window: WindowProgress, name: string): Promise<string[]> {
    const nowMs = clock.now();
    const keys = pageObjectKeys(org, window, name, Number.isNaN(lastCheckpointMs) ? Date.parse(window.end) : lastCheckpointMs, nowMs);
    try {
      // Each key is its own listing prefix: the answer is that key or nothing.
      const found = await Promise.all(keys.map(async (key) => ((await sink.list(key)).includes(key) ? [key] : [])));
      return found.flat();
    } catch (error) {
      throw new IngestError(`listing the objects an earlier attempt at page ${name} of org ${org} stored failed; the next run resumes at this page`, { cause: error });
    }
  }

  /** The raw texts in the quarantine objects (JSON Lines of `QuarantineLine`) among `keys`. */
  async function quarantinedTexts(keys: readonly string[]): Promise<Set<string>> {
    const texts = new Set<string>();
    for (const key of keys.filter((k) => k.endsWith('.jsonl') && !k.startsWith(`${EVENTS_PREFIX}/`))) {
      let body: Uint8Array | undefined;
      try {
        body = await sink.get(key);
      } catch (cause) {
        throw new IngestError(`reading ${sink.location}/${key}, which an earlier attempt at this page stored, failed; the next run resumes at this page`, { cause });
      }
      for (const line of new TextDecoder().decode(body ?? new Uint8Array(0)).split('\n')) {
        if (line.trim() === '') continue;
        try {
          const raw = (JSON.parse(line) as { raw?: unknown }).raw;
          if (typeof raw === 'string') texts.add(raw);
        } catch {
          // A line that is not a quarantine record matches nothing.
        }
      }
    }
    return texts;
  }

  /** `window`, to be read against the lake up to its end at least (see "Retried pages"). */
  function checkWindow(window: WindowProgress): WindowProgress {
    const checkedUntil = iso(Math.max(Date.parse(window.end), Date.parse(window.checkedUntil ?? window.end)));
    const checkedWindow = { ...window, checkedUntil };
    if (state.window !== undefined && state.window.start === window.start) state = { ...state, window: { ...state.window, checkedUntil } };
    return checkedWindow;
  }

  /** Adds objects a page stored to the totals. */
  function countWritten(objects: readonly { readonly body: Uint8Array }[]): void {
    totals.objectsWritten += objects.length;
    totals.bytesWritten += objects.reduce((n, o) => n + o.body.byteLength, 0);
  }

  /** The uuids the lake holds in the partitions of `window` (for a checked window). */
  async function heldUuids(window: WindowProgress): Promise<Set<string>> {
    try {
      if (!options.index) ownIndex ??= SinkLakeIndex.open({ sink });
      const index: LakeIndex = options.index ?? (await (ownIndex as Promise<SinkLakeIndex>));
      return (await index.holdings(org, partitionsOfWindow(Date.parse(window.start), Date.parse(window.end)))).uuids;
    } catch (error) {
      throw new IngestError(`reading which events of ${window.start}..${window.end} of org ${org} the lake holds failed; the next run tries again`, { cause: error });
    }
  }

  /**
   * Okta timed out on the window's query (E0000009): read its first half now and the rest after it.
   * A window from which nothing was stored yet is simply narrowed; otherwise the narrowed window and
   * those after it up to the old end are checked against the lake.
   */
  async function splitWindow(window: WindowProgress, stored: boolean, error: OktaQueryTimeoutError): Promise<void> {
    const startMs = Date.parse(window.start);
    const endMs = Date.parse(window.end);
    const half = Math.floor((endMs - startMs) / 2);
    if (half < cfg.minWindowMs) {
      throw new WindowSplitError(
        `Okta timed out on window ${window.start}..${window.end} of org ${org} (E0000009) and it cannot be split below minWindowMs = ${cfg.minWindowMs} ms; the next run tries again`,
        { cause: error },
      );
    }
    const mid = iso(startMs + half);
    const checkedUntil = stored ? iso(Math.max(endMs, Date.parse(window.checkedUntil ?? window.end))) : window.checkedUntil;
    const narrowed: WindowProgress = {
      start: window.start,
      end: mid,
      pagesWritten: 0,
      eventsWritten: stored ? window.eventsWritten : 0,
      ...(checkedUntil !== undefined ? { checkedUntil } : {}),
    };
    windowCapMs = Math.min(windowCapMs, half);
    totals.windowSplits++;
    reporter.warn('Okta timed out on the window query (E0000009); reading it in halves', {
      org,
      window: `${window.start}..${window.end}`,
      now: `${narrowed.start}..${narrowed.end}`,
      checkedAgainstLake: checkedUntil !== undefined,
      ...(error.requestId ? { requestId: error.requestId } : {}),
    });
    state = { ...state, window: narrowed, updatedAt: iso(clock.now()) };
    lease = await store.checkpoint(lease, state, cfg.leaseTtlMs, clock.now());
    resuming = false;
  }

  /**
   * Okta refused a stored next link (HTTP 400: a stale cursor): read the window again from its start,
   * checked against the lake so that what was already stored is not written twice.
   */
  async function restartWindow(window: WindowProgress, eventsWritten: number, error: OktaBadRequestError): Promise<void> {
    const n = (restartsOf.get(window.start) ?? 0) + 1;
    restartsOf.set(window.start, n);
    if (n > cfg.maxCursorRestarts) {
      throw new CursorRestartError(
        `Okta refused the next link of window ${window.start}..${window.end} of org ${org} again after ${n - 1} restart(s) from the window start (more than maxCursorRestarts = ${cfg.maxCursorRestarts}); the next run tries again`,
        { cause: error },
      );
    }
    const checkedUntil = iso(Math.max(Date.parse(window.end), Date.parse(window.checkedUntil ?? window.end)));
    totals.cursorRestarts++;
    reporter.warn('Okta refused a stored next link (HTTP 400, a stale cursor); reading the window again from its start, checked against the lake', {
      org,
      window: `${window.start}..${window.end}`,
      errorCode: error.errorCode,
      ...(error.requestId ? { requestId: error.requestId } : {}),
    });
    state = { ...state, window: { start: window.start, end: window.end, pagesWritten: 0, eventsWritten, checkedUntil }, updatedAt: iso(clock.now()) };
    lease = await store.checkpoint(lease, state, cfg.leaseTtlMs, clock.now());
    resuming = false;
  }

  /**
   * Writes the events of a page of a checked window that the lake does not hold (`known`, updated),
   * as one page named after their texts: a re-run that finds the same events missing finds its
   * objects stored, and a name never depends on the page position (as the sweep's late objects).
   */
  async function writeChecked(page: LogPage, window: WindowProgress, known: Set<string>, keptTexts: ReadonlySet<string>): Promise<PageWriteResult | undefined> {
    const startMs = Date.parse(window.start);
    const isFresh = (e: TimedElement): boolean => (e.uuid === undefined ? !keptTexts.has(e.text) : !known.has(e.uuid));
    const select = (elements: readonly TimedElement[]): TimedElement[] =>
      elements.filter((e) => !inOverlapBefore(e, startMs, cfg.overlapMs) && isFresh(e));
    const elements = timedElements(page.body);
    if (elements === undefined) {
      // Not a JSON array: refetched (what a refetch brings is selected the same way), then kept
      // whole in quarantine, as any page.
      const prepare = (body: string): string => {
        const again = timedElements(body);
        return again === undefined ? body : `[${select(again).map((e) => e.text).join(',')}]`;
      };
      return writePage(page, checkedObjectName(window, [page.body]), window, 'content', prepare);
    }
    const inWindow = elements.filter((e) => !inOverlapBefore(e, startMs, cfg.overlapMs));
    totals.overlapEventsSkipped += elements.length - inWindow.length;
    const fresh = inWindow.filter(isFresh);
    totals.eventsAlreadyInLake += inWindow.length - fresh.length;
    if (fresh.length === 0) return undefined;
    const texts = fresh.map((e) => e.text);
    const written = await writePage({ url: page.url, body: `[${texts.join(',')}]` }, checkedObjectName(window, texts), window, 'content');
    for (const e of fresh) if (e.uuid !== undefined) known.add(e.uuid);
    return written;
  }

  /**
   * Writes one page through the shared store step (refetching a page the writer cannot parse) and
   * updates the totals; undefined for a page kept whole in quarantine. `PageAlreadyStoredError`
   * (position naming) passes through.
   */
  async function writePage(first: LogPage, name: string, window: WindowProgress, naming: ObjectNaming, prepare?: (body: string) => string): Promise<PageWriteResult | undefined> {
    // Events outside the query's own bounds are not Okta's to return: quarantined (see "Window bounds").
    const accept = { from: iso(Date.parse(window.start) - cfg.overlapMs), to: iso(Date.parse(window.end) + cfg.overlapMs) };
    let page = first;
    for (let attempt = 0; ; attempt++) {
      try {
        const stored = await storePage(
          { writer, sink, ...(options.compaction ? { compaction: options.compaction } : {}) },
          { org, body: page.body, format: 'array', name, until: window.end, accept, ingestedAt: new Date(clock.now()) },
          naming,
        );
        const result = stored.result;
        totals.eventsWritten += result.eventsWritten;
        totals.eventsQuarantined += result.eventsQuarantined;
        totals.duplicatesDropped += result.duplicatesDropped;
        totals.objectsWritten += stored.written.length;
        totals.bytesWritten += stored.bytesWritten;
        totals.lateObjects += stored.lateObjects;
        if (result.eventsQuarantined > 0) {
          reporter.warn('events quarantined: they could not be placed in time or have no uuid', { count: result.eventsQuarantined, page: name });
        }
        return result;
      } catch (error) {
        if (error instanceof PageAlreadyStoredError) throw error;
        if (!isMalformedPage(error)) {
          throw new IngestError(`writing page ${name} of org ${org} failed; the next run resumes at this page`, { cause: error });
        }
        if (attempt < cfg.malformedPageRetries) {
          reporter.warn('page is not valid JSON; fetching it again', { page: name, attempt: attempt + 1 });
          page = await source.fetchPage(page.url);
          if (prepare) page = { ...page, body: prepare(page.body) };
          continue;
        }
        // Keep the page whole, verbatim, where a person can find it; count it; go on.
        const key = wholePageQuarantineKey(quarantineObjectKey(org, iso(clock.now()).slice(0, 10), name));
        const body = new TextEncoder().encode(page.body);
        let outcome: 'written' | 'exists';
        try {
          outcome = await putNew(sink, key, body, naming);
        } catch (cause) {
          if (cause instanceof ObjectExistsError) throw new PageAlreadyStoredError(`page ${name} of org ${org} was kept whole in quarantine before`, [key], [], { cause });
          throw new IngestError(`keeping page ${name} of org ${org} whole in quarantine failed; the next run resumes at this page`, { cause });
        }
        totals.pagesQuarantined++;
        if (outcome === 'written') countWritten([{ body }]);
        reporter.warn('page could not be parsed after refetching; kept whole in quarantine', { key });
        return undefined;
      }
    }
  }
}
