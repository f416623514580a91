/**
 * Storing a page in the write-once lake: the one step by which ingestion, the reconciliation sweep
 * and import put events into the lake.
 *
 * The lake never replaces an object (`LakeSink.put` throws `ObjectExistsError` for a key that is
 * taken; in S3 the bucket policy makes that hold for every role). A retried write is therefore
 * idempotent only through its name, and each caller says which kind of name it uses:
 *
 * - `content`: the name is derived from the texts of the events the page holds (the sweep's late
 *   objects, the objects of a checked window, an import). A key that is taken holds the same events
 *   (written by an earlier attempt that did not get to record it), so it counts as stored.
 * - `position`: the name is the page's place in its window (`pageObjectName`). A key that is taken
 *   means that an earlier attempt stored this page and the events Okta returns now may differ; the
 *   step throws `PageAlreadyStoredError` (after trying every object of the page) and the caller
 *   reads the page again against the lake's uuids (see "Retried pages" in ingest.ts).
 *
 * Frozen days. Event objects for a day that compaction has frozen (`CompactionState`) go under
 * `late/` instead of `events/`, same partition path, so that a day's originals do not change after
 * compaction listed them (lib/core/compact/state.ts).
 */
import { ObjectExistsError } from '../errors';
import { EVENTS_PREFIX, LATE_PREFIX, parsePartitionKey } from '../layout';
import { SinkCompactionState } from '../compact/sink-state';
import type { CompactionState } from '../compact/state';
import type { LakeSink, PageWriteInput, PageWriteResult, PageWriter, WrittenObject } from '../ports';
import { IngestError } from '../ingest/errors';

export type ObjectNaming = 'content' | 'position';

export const PARQUET_TYPE = 'application/vnd.apache.parquet';
export const JSON_LINES_TYPE = 'application/x-ndjson';

/** The content type of a lake object, from its key. */
export function contentTypeOf(key: string): string {
  if (key.endsWith('.parquet')) return PARQUET_TYPE;
  if (key.endsWith('.jsonl')) return JSON_LINES_TYPE;
  return 'application/json';
}

export interface PageStoreParts {
  readonly writer: PageWriter;
  readonly sink: LakeSink;
  /**
   * Which days are frozen. @default the freeze records in the sink itself (`SinkCompactionState`,
   * one listing per org a minute at most, well inside compaction's `FREEZE_GRACE_MS`)
   */
  readonly compaction?: CompactionState;
}

export interface StoredPage {
  readonly result: PageWriteResult;
  /** Keys this call wrote. */
  readonly written: readonly string[];
  /** Keys that already held the same content (`content` naming only): stored by an earlier attempt. */
  readonly alreadyStored: readonly string[];
  readonly bytesWritten: number;
  /** Event objects put under `late/` because their day is frozen. */
  readonly lateObjects: number;
}

/**
 * A page named by its position was stored before (some of its keys are taken). Every object of the
 * page whose key was free has been written (`written`); the caller reads the page again against the
 * lake. `cause` is the first `ObjectExistsError`.
 */
export class PageAlreadyStoredError extends IngestError {
  constructor(
    message: string,
    readonly taken: readonly string[],
    readonly written: readonly WrittenObject[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One compaction state per sink, so that its short cache spans the pages of a run. */
const defaultStates = new WeakMap<LakeSink, CompactionState>();
const DEFAULT_STATE_CACHE_MS = 60_000;

function compactionOf(parts: PageStoreParts): CompactionState {
  if (parts.compaction) return parts.compaction;
  let state = defaultStates.get(parts.sink);
  if (!state) {
    state = new SinkCompactionState({ sink: parts.sink, cacheMs: DEFAULT_STATE_CACHE_MS });
    defaultStates.set(parts.sink, state);
  }
  return state;
}

/** Whether `key` is the key of an event object under `events/` whose day is in `frozen`. */
function routedKey(key: string, frozen: ReadonlySet<string>): string {
  if (frozen.size === 0 || !key.startsWith(`${EVENTS_PREFIX}/`)) return key;
  const { dt } = parsePartitionKey(key);
  return dt !== undefined && frozen.has(dt) ? `${LATE_PREFIX}/${key.slice(EVENTS_PREFIX.length + 1)}` : key;
}

/**
 * Puts one object under a new key: `written`, or `exists` when the key is taken and `naming` is
 * `content`. With `position` naming a taken key throws the `ObjectExistsError`.
 */
export async function putNew(sink: LakeSink, key: string, body: Uint8Array, naming: ObjectNaming): Promise<'written' | 'exists'> {
  try {
    await sink.put(key, body, contentTypeOf(key));
    return 'written';
  } catch (error) {
    if (error instanceof ObjectExistsError && naming === 'content') return 'exists';
    throw error;
  }
}

/**
 * Writes `input` with the writer and stores every object it makes (see the module comment). Writer
 * errors (e.g. `MalformedPageError`) and sink errors other than a taken key pass through.
 */
export async function storePage(parts: PageStoreParts, input: PageWriteInput, naming: ObjectNaming): Promise<StoredPage> {
  const result = await parts.writer.writePage(input);
  const made = result.quarantine ? [...result.objects, result.quarantine] : [...result.objects];
  const needsDays = made.some((o) => o.key.startsWith(`${EVENTS_PREFIX}/`));
  const frozen = needsDays ? await compactionOf(parts).frozenDays(input.org) : new Set<string>();
  const objects = made.map((o) => ({ ...o, key: routedKey(o.key, frozen) }));
  const lateObjects = objects.filter((o, i) => o.key !== made[i].key).length;

  const outcomes = await Promise.allSettled(objects.map((o) => putNew(parts.sink, o.key, o.body, naming)));
  const written: WrittenObject[] = [];
  const alreadyStored: string[] = [];
  const taken: string[] = [];
  let failure: unknown;
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') {
      if (outcome.value === 'written') written.push(objects[i]);
      else alreadyStored.push(objects[i].key);
    } else if (outcome.reason instanceof ObjectExistsError) {
      taken.push(objects[i].key);
      failure ??= outcome.reason;
    } else {
      failure = outcome.reason;
    }
  });
  if (failure !== undefined && !(failure instanceof ObjectExistsError)) throw failure;
  if (taken.length > 0) {
    throw new PageAlreadyStoredError(
      `page ${input.name} of org ${input.org} was stored before (${taken.length} of its ${objects.length} objects exist): the lake is write-once, it is read again against the lake`,
      taken,
      written,
      { cause: failure },
    );
  }
  return {
    result,
    written: written.map((o) => o.key),
    alreadyStored,
    bytesWritten: written.reduce((n, o) => n + o.body.byteLength, 0),
    lateObjects,
  };
}
