/**
 * The contract between the stack and the ingestion function: the environment variables the stack
 * sets and the handler reads, and the metrics the handler emits and the alarms watch. Both sides
 * import these names from here, so they cannot drift apart.
 *
 * This module is bundled into the function: it must import nothing (but types).
 */
import type { CredentialKindName } from '../core/okta/credentials';

/** Environment variables of the ingestion function. */
export const INGEST_ENV = {
  /** JSON array of `IngestOrgSetting`. */
  orgs: 'OKTA_LAKE_ORGS',
  /** The lake bucket name. */
  bucket: 'OKTA_LAKE_BUCKET',
  /** Key prefix of the lake inside the bucket ('' = bucket root, where `events/` and `quarantine/` live). */
  prefix: 'OKTA_LAKE_PREFIX',
  /** The watermark table name. */
  table: 'OKTA_LAKE_TABLE',
  /** The detection state table, where the sweep records late evidence for the detections. */
  evaluationTable: 'OKTA_LAKE_EVALUATION_TABLE',
  /** ARN of the KMS key that encrypts the lake (objects are written with SSE-KMS under it). */
  kmsKeyArn: 'OKTA_LAKE_KMS_KEY_ARN',
  /** Settle lag in milliseconds. */
  settleLagMs: 'OKTA_LAKE_SETTLE_LAG_MS',
  /** Initial lookback in milliseconds. */
  initialLookbackMs: 'OKTA_LAKE_INITIAL_LOOKBACK_MS',
  /** Offsets of the reconciliation sweep behind the watermark: milliseconds, comma-separated (`3600000,86400000`). */
  reconcileOffsetsMs: 'OKTA_LAKE_RECONCILE_OFFSETS_MS',
} as const;

/**
 * What the reconciliation sweep offsets may be, checked by the configuration and again by the function.
 * Each offset is a sweep line that re-reads the whole log once more from Okta (under its rate limit),
 * hence the cap on their number; Okta keeps 90 days, hence the longest offset.
 */
export const RECONCILE_OFFSET_LIMITS = {
  minMinutes: 1,
  maxMinutes: 90 * 24 * 60,
  maxCount: 4,
} as const;

/** One org as the function sees it. */
export interface IngestOrgSetting {
  /**
   * The org as `parseOrg` accepts it: its host name (`acme.okta.com`). The schedules send its label
   * (`parseOrg(org).host`) as the event's `org`.
   */
  readonly org: string;
  /** The org's credential kind (`orgs[].auth`). */
  readonly auth: CredentialKindName;
  /** What to pass as `SecretId` to GetSecretValue: the secret's ARN or name. */
  readonly secretId: string;
}

/** The event each schedule sends to the function. */
export interface IngestEvent {
  readonly org: string;
}

/** CloudWatch metrics of the ingestion function (Powertools Metrics, embedded metric format). */
export const INGEST_METRICS = {
  namespace: 'OktaLake',
  /** Powertools adds it as the `service` dimension of every metric. */
  service: 'okta-lake-ingest',
  /** Every metric also carries the org's host as this dimension. */
  orgDimension: 'org',
  names: {
    eventsWritten: 'EventsWritten',
    eventsQuarantined: 'EventsQuarantined',
    pages: 'Pages',
    objectsWritten: 'ObjectsWritten',
    bytesWritten: 'BytesWritten',
    rateLimitWaitMs: 'RateLimitWaitMs',
    watermarkLagSeconds: 'WatermarkLagSeconds',
    /** Events the reconciliation sweep found missing from the lake (recorded late by Okta) and wrote. */
    lateEventsRecovered: 'LateEventsRecovered',
    /** Windows split because Okta timed out on their query (HTTP 500 E0000009). */
    windowSplits: 'WindowSplits',
    /** Windows read again from their start after Okta refused a stored next link (HTTP 400, a stale cursor). */
    cursorRestarts: 'CursorRestarts',
    /** Events of restarted or split windows left out because the lake already held them. */
    eventsAlreadyInLake: 'EventsAlreadyInLake',
    /** Empty pages that still carried a next link, followed (Okta promises only that the last page has none). */
    emptyPagesFollowed: 'EmptyPagesFollowed',
    /** Pages an earlier attempt stored without a checkpoint, read again against the lake (never overwritten). */
    retriedPages: 'RetriedPages',
    /** Retried pages that brought events the earlier attempt had not stored: Okta answered one query differently (alarmed). */
    retriedPagesDiffering: 'RetriedPagesDiffering',
    /** Positional objects found taken where no earlier attempt was known (alarmed). */
    unexpectedObjects: 'UnexpectedObjects',
  },
} as const;
