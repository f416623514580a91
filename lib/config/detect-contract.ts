/**
 * The contract between the stack and the detection runner (lambdas/detect/handler.ts): the
 * environment variables the stack sets and the handler reads, and the metrics the handler emits and
 * the alarms watch. The handler spells these names itself; test/infra/detections.test.ts checks that
 * it reads and emits exactly these, so the two sides cannot drift apart.
 *
 * This module imports nothing.
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
} as const;

/** CloudWatch metrics of the detection runner (Powertools Metrics, embedded metric format). */
export const DETECT_METRICS = {
  namespace: 'OktaLake',
  /** Powertools adds it as the `service` dimension of every metric. */
  service: 'okta-lake-detect',
  /** One dimension set carries the detection id as this dimension; the other only `service`. */
  detectionDimension: 'DetectionId',
  names: {
    findings: 'DetectionFindings',
    newFindings: 'DetectionNewFindings',
    failed: 'DetectionFailed',
    dataScannedBytes: 'DetectionDataScannedBytes',
  },
} as const;

/** SNS message attributes the runner sets on every findings message (for subscription filter policies). */
export const FINDING_ATTRIBUTES = {
  severity: 'severity',
  detectionId: 'detection_id',
} as const;
