/**
 * The small interfaces the detection runner talks to. Adapters in `lib/adapters/` implement them
 * against Athena (`AthenaQueryRunner`), DynamoDB (`DynamoDbSuppressionStore`) and SNS (`SnsNotifier`);
 * tests pass those adapters bound to mocks or emulators, or the in-memory suppression store.
 */

export const QUERY_STATES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type QueryState = (typeof QUERY_STATES)[number];

/** A saved (named) query as the Athena console shows it. */
export interface NamedQuery {
  readonly name: string;
  /** The SQL text that runs: the console's current text, including any analyst's edit. */
  readonly queryString: string;
  readonly database?: string;
  readonly workGroup?: string;
}

export interface QueryStatus {
  readonly state: QueryState;
  /** Why the query ended that way (Athena's state change reason or error message), when it says. */
  readonly reason?: string;
  /** Bytes Athena scanned so far (what it bills), when known. */
  readonly dataScannedBytes?: number;
}

/** One result row: column name to value as Athena renders it (`null` for SQL NULL). */
export type ResultRow = Readonly<Record<string, string | null>>;

/**
 * One page of results (one GetQueryResults response). The header row Athena puts first on the first
 * page is NOT in `rows`: it is `columns`, in result order.
 */
export interface ResultPage {
  readonly columns: readonly string[];
  readonly rows: readonly ResultRow[];
}

export interface QueryRunner {
  /** The saved query with this id; throws when there is none. */
  getNamedQuery(namedQueryId: string): Promise<NamedQuery>;
  /** Starts the query and returns its execution id. */
  start(queryString: string, context: { readonly workGroup: string; readonly database: string }): Promise<string>;
  poll(executionId: string): Promise<QueryStatus>;
  /** Asks Athena to stop the query (accepted for a query that already ended, too). */
  stop(executionId: string): Promise<void>;
  /** Every result page in order; the first page always comes, even when there are no rows. */
  results(executionId: string): AsyncIterable<ResultPage>;
}

export interface SuppressionClaim {
  /** Unique id of this run; a later attempt with the same id (a retried invocation) may re-claim its own claims. */
  readonly runId: string;
  readonly detectionId: string;
  /** The wall-clock time of the claim (epoch ms). */
  readonly nowMs: number;
  /**
   * The instant the finding was evaluated at (event time, epoch ms). A claimed fingerprint is not
   * claimed again by an evaluation at an instant before `atMs + windowMs`, whenever that evaluation
   * runs: a late re-evaluation of an instant already alerted on repeats nothing.
   * @default nowMs
   */
  readonly atMs?: number;
  /** A claimed fingerprint is not claimed again (alerted on) before `atMs + windowMs`. */
  readonly windowMs: number;
  /**
   * How long past `nowMs + windowMs` the claim is kept (DynamoDB TTL), so that a late
   * re-evaluation days after the alert still finds it. @default 0
   */
  readonly retainMs?: number;
}

/**
 * Remembers which findings were alerted on, so that each is alerted once per window. Claiming is
 * atomic per fingerprint: when two runs race, each fingerprint goes to exactly one of them.
 */
export interface SuppressionStore {
  /**
   * Claims the fingerprints nobody else holds an unexpired claim on (a claim held by the same run id
   * counts as free), and returns those, in input order. The rest are suppressed.
   */
  claim(fingerprints: readonly string[], claim: SuppressionClaim): Promise<string[]>;
  /** Gives back the claims of `runId` on these fingerprints (others' claims stay); for a failed publish. */
  release(fingerprints: readonly string[], runId: string): Promise<void>;
}

export interface Notification {
  /** At most 99 printable ASCII characters (the SNS limit for e-mail subjects). */
  readonly subject: string;
  /** Plain text. */
  readonly message: string;
  /** String message attributes, for subscription filter policies. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface Notifier {
  publish(notification: Notification): Promise<{ readonly messageId?: string }>;
}

/** Where one scheduled detection stands for one org. */
export interface EvaluationCursor {
  /**
   * The detection has been evaluated at successive instants, no further apart than its schedule,
   * up to and including this one (event time, epoch ms); nothing later has been evaluated.
   */
  readonly evaluatedThroughMs: number;
  /** Every late-evidence range with `seq <= lateSeq` has been re-evaluated. */
  readonly lateSeq: number;
  /** The late range being re-evaluated (the next after `lateSeq`) and the last instant of it done. */
  readonly lateProgress?: { readonly seq: number; readonly throughMs: number };
}

/** A stored cursor and the version a conditional write must see. */
export interface StoredCursor {
  readonly cursor: EvaluationCursor;
  /** Incremented by every write; 0 for a cursor never written. */
  readonly version: number;
}

/** The evaluation cursors (DynamoDB in AWS, the lake's state folder locally). */
export interface EvaluationCursorStore {
  read(org: string, detectionId: string): Promise<StoredCursor | undefined>;
  /**
   * Stores `cursor` if the stored version is still `expectedVersion` (0: none stored yet) and
   * returns the new version; returns `undefined` (and changes nothing) when another run moved it.
   */
  write(org: string, detectionId: string, cursor: EvaluationCursor, expectedVersion: number, nowMs: number): Promise<number | undefined>;
}

/** Reads an org's ingestion watermark: every event published before it has been read once. */
export interface WatermarkReader {
  /** Epoch ms, or `undefined` when the org was never ingested. */
  watermark(org: string): Promise<number | undefined>;
}
