/**
 * The contract between the stack and the detection runner (lambdas/detect/handler.ts): the
 * environment variables the stack sets and the handler reads, and the metrics the handler emits and
 * the alarms and the dashboard watch. Both sides import these names from here, so they cannot drift
 * apart.
 *
 * This module is bundled into the function: it must import nothing (an import of aws-cdk-lib here
 * would end up in the Lambda bundle).
 */

/** Environment variables of the detection runner function. */
export const DETECT_ENV = {
  /** Athena workgroup the named queries run in. */
  workGroup: 'WORKGROUP',
  /** Glue database of the lake table. */
  database: 'DATABASE',
  /** DynamoDB table of the findings already e-mailed. */
  suppressionTable: 'SUPPRESSION_TABLE',
  /** ARN of the findings topic (standard, not FIFO). */
  topicArn: 'TOPIC_ARN',
  /** Default suppression window, in whole minutes. */
  suppressionWindowMinutes: 'SUPPRESSION_WINDOW_MINUTES',
  /** The orgs evaluated, as a JSON array of host names (the Glue table's org projection). */
  orgs: 'ORGS',
  /** DynamoDB table of the ingestion watermarks (read only). */
  watermarkTable: 'WATERMARK_TABLE',
  /** DynamoDB table of the evaluation cursors and late-evidence logs. */
  evaluationTable: 'EVALUATION_TABLE',
  /** Evaluations one run may make, over all orgs (the rest resume on the next run). */
  maxEvaluationsPerRun: 'MAX_EVALUATIONS_PER_RUN',
  /** Where a new evaluation cursor starts: this many minutes before the org's watermark. */
  initialBackfillMinutes: 'INITIAL_BACKFILL_MINUTES',
} as const;

const METRIC_NAMES = {
  findings: 'DetectionFindings',
  newFindings: 'DetectionNewFindings',
  failed: 'DetectionFailed',
  dataScannedBytes: 'DetectionDataScannedBytes',
  evaluations: 'DetectionEvaluations',
  lagSeconds: 'DetectionLagSeconds',
  lateRangesPending: 'DetectionLateRangesPending',
} as const;

/**
 * CloudWatch metrics of the detection runner (Powertools Metrics, embedded metric format). Every run
 * writes two EMF records, and one more per org:
 * - over all detections (dimension `service` only): all four metrics, with the detection id as
 *   metadata (`detectionMetadata`), a log field that is not a dimension: Logs Insights can group
 *   new findings and bytes scanned by detection without CloudWatch billing a metric per detection;
 * - per detection (dimensions `service` and `DetectionId`): only `failed` and `findings`, what an
 *   operator needs per detection (which one fails, which one fires). Not written when the payload
 *   has no usable detection id;
 * - per org (dimensions `service` and `Org`): `lagSeconds` (the org's watermark minus this
 *   detection's cursor: how far evaluation is behind what the lake holds; its Maximum over the
 *   detections is the org's detection lag) and `lateRangesPending` (late-evidence ranges this
 *   detection has not re-evaluated yet).
 *
 * Cost: each distinct (name, dimensions) pair is one custom metric, ~$0.30 per metric-month. For N
 * scheduled detections and M orgs that is 5 + 2 × N + 2 × M metrics (20 detections, 1 org: 47,
 * ~$14.10 a month), where one dimension set per detection for all of them would be 5 × (N + 1).
 */
export const DETECT_METRICS = {
  namespace: 'OktaLake',
  /** Powertools adds it as the `service` dimension of every metric. */
  service: 'okta-lake-detect',
  /** The dimension of the per-detection metrics (`perDetection`). */
  detectionDimension: 'DetectionId',
  /**
   * The log field of the detection id in the record over all detections (metadata, not a
   * dimension). Spelled unlike `DetectionId` in more than case, so a Logs Insights query tells the
   * two records apart whatever it makes of case.
   */
  detectionMetadata: 'detection_id',
  names: METRIC_NAMES,
  /** The metrics also published per detection; the others only over all detections. */
  perDetection: [METRIC_NAMES.failed, METRIC_NAMES.findings],
  /** The dimension of the per-org metrics (`perOrg`). */
  orgDimension: 'Org',
  /** The metrics published per org (Maximum is the statistic that means something). */
  perOrg: [METRIC_NAMES.lagSeconds, METRIC_NAMES.lateRangesPending],
} as const;

/** SNS message attributes the runner sets on every findings message (for subscription filter policies). */
export const FINDING_ATTRIBUTES = {
  severity: 'severity',
  detectionId: 'detection_id',
  org: 'org',
} as const;
