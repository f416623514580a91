/**
 * The contract between the stack and the compaction function (lambdas/compact/handler.ts): the
 * environment variables the stack sets and the handler reads, the events it is invoked with, and
 * the metrics it emits. Both sides import these names from here, so they cannot drift apart.
 *
 * This module is bundled into the function: it must import nothing.
 */

/** Environment variables of the compaction function. */
export const COMPACT_ENV = {
  /** The lake bucket name (the lake lives at its root: `events/`, `late/`, `compacted/`). */
  bucket: 'OKTA_LAKE_BUCKET',
  /** The watermark table (read only: a day is closed once its org's watermark is far enough past it). */
  watermarkTable: 'OKTA_LAKE_WATERMARK_TABLE',
  /** The orgs compacted and shown by the view: a JSON array of org labels (the tables' org projection). */
  orgs: 'OKTA_LAKE_ORGS',
  /** The Glue database of the lake tables and the view. */
  database: 'OKTA_LAKE_DATABASE',
  /** The Athena workgroup the view's DDL runs in. */
  workGroup: 'OKTA_LAKE_WORKGROUP',
  /** ARN of the KMS key that encrypts the lake (compacted objects are written with SSE-KMS under it). */
  kmsKeyArn: 'OKTA_LAKE_KMS_KEY_ARN',
  /**
   * `true` on the function that only publishes the view (the deployment trigger's): whatever the
   * event, it compacts nothing. Its role cannot write the lake.
   */
  viewOnly: 'OKTA_LAKE_COMPACT_VIEW_ONLY',
} as const;

/**
 * The event of an invocation: `{}` from the hourly schedule (compact the closed days, then publish
 * the view), `{ "viewOnly": true }` to publish the view only (by hand, or the view function).
 */
export interface CompactEvent {
  readonly viewOnly?: boolean;
}

/** CloudWatch metrics of the compaction function (Powertools Metrics, embedded metric format). */
export const COMPACT_METRICS = {
  namespace: 'OktaLake',
  /** Powertools adds it as the `service` dimension of every metric. */
  service: 'okta-lake-compact',
  names: {
    /** Org-days switched to a new generation by the run. */
    daysCompacted: 'DaysCompacted',
    /** Org-days that could not be compacted: uuid conflicts, failed verification, layout errors, freeze violations (alarmed). */
    failures: 'CompactionFailures',
    /** Closed days left to the next run because the run's time was up. */
    daysDeferred: 'DaysDeferred',
    /** Frozen days waiting for the grace period or for late objects too recent to absorb. */
    daysWaiting: 'DaysWaiting',
  },
} as const;
