/**
 * The small interfaces (ports) the ingestion core talks to. The core never imports the AWS SDK:
 * adapters in `lib/adapters/` implement these against S3, DynamoDB or the local file system, and
 * tests pass in-memory fakes or emulator-bound adapters.
 */
import type { Partition } from './layout';

/** Where lake objects go: an S3 bucket/prefix or a local folder, with the same key layout. */
export interface LakeSink {
  /** A human-readable location of the sink root, e.g. `s3://bucket/prefix` or `/path/to/lake`. */
  readonly location: string;
  /**
   * Stores `body` under a new `key` (relative to the sink root, `/`-separated). The lake is
   * write-once: when the key already holds an object, nothing is written and the call throws
   * `ObjectExistsError`, whatever the bytes. Callers make retried writes idempotent by naming objects
   * after what they hold (see lib/core/lake/store-page.ts).
   */
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** Keys (relative to the sink root) under `prefix`, in any order. */
  list(prefix: string): Promise<string[]>;
  /** The object's bytes, or `undefined` when there is no such key. */
  get(key: string): Promise<Uint8Array | undefined>;
}

/** Where a run is inside a window, so that a run that stops mid-window resumes at the same page. */
export interface WindowProgress {
  /** Inclusive start of the window (ISO-8601 UTC). */
  readonly start: string;
  /** Exclusive end of the window (ISO-8601 UTC). */
  readonly end: string;
  /** The `rel="next"` link to fetch next, or undefined when the first page has not been fetched. */
  readonly nextUrl?: string;
  /** Pages of this window already written (the index of the next page). */
  readonly pagesWritten: number;
  /** Events of this window already written. */
  readonly eventsWritten: number;
  /**
   * Windows starting before this instant are checked against the lake (uuids) and written under
   * content names, because pages of an earlier query of them may be stored (a restart after a stale
   * cursor, a split after a timeout: see `runIngest`). Absent for ordinary windows.
   */
  readonly checkedUntil?: string;
}

/** The durable ingestion state of one org. */
export interface IngestState {
  readonly org: string;
  /** Everything published before this instant (ISO-8601 UTC) is in the lake. Undefined before the first run. */
  readonly watermark?: string;
  /** The window being read, when a run stopped inside it. */
  readonly window?: WindowProgress;
  /** Totals over the life of the org, for operators. */
  readonly totalEvents: number;
  readonly totalQuarantined: number;
  readonly updatedAt?: string;
}

/** Proof that this run holds the org's lease; checkpoints are refused without the current one. */
export interface Lease {
  readonly org: string;
  readonly owner: string;
  readonly expiresAt: number;
  /** Version of the stored item as this lease last saw it (optimistic concurrency). */
  readonly version: number;
}

export interface WatermarkStore {
  /**
   * Takes the org's lease for `ttlMs` if nobody else holds an unexpired one, and returns it with the
   * stored state. Returns `undefined` (and changes nothing) when another run holds it.
   */
  acquire(org: string, owner: string, ttlMs: number, nowMs: number): Promise<{ lease: Lease; state: IngestState } | undefined>;
  /**
   * Stores `state` if `lease` is still the current one (same owner, same version), extends the lease,
   * and returns the new lease. Throws `LeaseLostError` otherwise.
   */
  checkpoint(lease: Lease, state: IngestState, ttlMs: number, nowMs: number): Promise<Lease>;
  /** Gives the lease up (keeps the state). Never throws for a lease already lost. */
  release(lease: Lease): Promise<void>;
}

/** Structured progress and diagnostics. Implementations must never receive a credential. */
export interface Reporter {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const silentReporter: Reporter = {
  info: () => undefined,
  warn: () => undefined,
};

/** Time, injectable so tests can move it. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * The time a run may still take (a Lambda invocation's remaining time); runs stop cleanly before
 * it ends. One shape for the ingestion, the sweep and the detections: each documents its margin.
 */
export interface TimeBudget {
  /** Milliseconds left before the run is cut off (the Lambda context's `getRemainingTimeInMillis`). */
  remainingMs(): number;
  /** Stop cleanly when less than this is left. @default 30_000 for ingestion and the sweep, 20_000 for detections */
  readonly marginMs?: number;
}

/** One page of `GET /api/v1/logs` as received: the body text is kept as is (it becomes `raw`). */
export interface LogPage {
  /** The URL fetched (carries no credential). */
  readonly url: string;
  /** The response body, a JSON array of LogEvent objects, byte for byte. */
  readonly body: string;
  /** The `rel="next"` link, already checked to point at the configured org. */
  readonly nextUrl?: string;
}

/** Reads pages of the System Log (the Okta client implements it; tests may fake it). */
export interface LogPageSource {
  /** URL of the first page of a bounded query `[since, until)` in `published` order. */
  boundedQueryUrl(since: string, until: string): string;
  /**
   * Fetches one page (retrying, pacing to the rate limit), refusing links to any other host.
   * `onNextLink`, when given, is called at most once with the page's `rel="next"` link as soon as the
   * response headers carry it, before the body is read, so the caller can request the next page
   * early; the link in the returned page is the authoritative one.
   */
  fetchPage(url: string, signal?: AbortSignal, onNextLink?: (nextUrl: string) => void): Promise<LogPage>;
}

/** One Parquet object produced from a page: one per `dt/hour` partition the page touches. */
export interface WrittenObject {
  readonly key: string;
  readonly body: Uint8Array;
  readonly events: number;
}

export interface PageWriteInput {
  /** Org label used in the partition path (the org's host name, or an import label). */
  readonly org: string;
  /** The page text: a JSON array (`array`) or one JSON object per line (`newline_delimited`). */
  readonly body: string;
  readonly format: 'array' | 'newline_delimited';
  /** Object name (without extension) shared by every file the page produces: see `pageObjectName`. */
  readonly name: string;
  /** Events published at or after this instant (ISO-8601) belong to a later window and are not written. */
  readonly until?: string;
  /**
   * The bounds of the query that returned the page: an event published outside `[from, to)` is
   * quarantined (reason `outside_window`), never written into a partition of its own. @default no bounds
   */
  readonly accept?: { readonly from: string; readonly to: string };
  /**
   * The `raw` text of elements (by 0-based position in the page) whose page text is not what was
   * received: an import that reads case-variant keys as Okta's writes the renamed object, from which
   * the typed columns are read, and `raw` keeps the original text. @default none
   */
  readonly rawOf?: ReadonlyMap<number, string>;
  /** The `ingested_at` value of every row. */
  readonly ingestedAt: Date;
}

export interface PageWriteResult {
  readonly objects: readonly WrittenObject[];
  /** Events that could not be placed (no uuid, no valid `published`, not an object), verbatim as JSON lines. */
  readonly quarantine?: WrittenObject;
  readonly eventsWritten: number;
  readonly eventsQuarantined: number;
  /** Repeated uuids inside the page, written once. */
  readonly duplicatesDropped: number;
  /** Events at or after `until`: they are read again by the next window. */
  readonly outsideWindow: number;
  /** Smallest and largest `published` written (ISO-8601), when any. */
  readonly minPublished?: string;
  readonly maxPublished?: string;
}

/** Turns a page of events into Parquet objects laid out by partition (the DuckDB writer implements it). */
export interface PageWriter {
  writePage(input: PageWriteInput): Promise<PageWriteResult>;
  close(): Promise<void>;
}

/** What the lake holds in some partitions. */
export interface LakeHoldings {
  /** The uuids of the events stored (as Parquet). */
  readonly uuids: Set<string>;
  /** Rows beyond the first of a uuid: events the lake holds more than once (0 in a correct lake). */
  readonly duplicateRows: number;
  /** With `{ digests: true }`: each uuid's sha256 (hex) of its `raw` text (the smallest, when it has several rows). */
  readonly digests?: ReadonlyMap<string, string>;
}

/** Reads which events the lake already holds. */
export interface LakeIndex {
  /**
   * What is stored (as Parquet) in these `dt/hour` partitions of `org`; with `digests`, also each
   * event's digest of `raw` (reads the largest column: only for callers that compare contents).
   */
  holdings(org: string, partitions: readonly Partition[], options?: { readonly digests?: boolean }): Promise<LakeHoldings>;
}
