/**
 * The detection runner Lambda: invoked by one EventBridge Scheduler schedule per scheduled detection,
 * with the detection's payload (`DetectionPayload`, built by `detectionPayload()` in the stack).
 * A thin composition root: clients are built once per container, the run is `runDetection()`: the
 * named query checked against the deployed text, then evaluated for every org from its cursor to its
 * ingestion watermark, and again over late evidence (lib/core/detect/evaluate.ts).
 *
 * Environment (names from `DETECT_ENV` in lib/config/detect-contract.ts, which the stack sets):
 *   WORKGROUP                    Athena workgroup the query runs in
 *   DATABASE                     Glue database of the lake table
 *   SUPPRESSION_TABLE            DynamoDB table of alerted findings (key `fingerprint`, TTL `expiresAt`)
 *   TOPIC_ARN                    SNS topic the alerts go to
 *   SUPPRESSION_WINDOW_MINUTES   default suppression window (a payload may set its own) @default 1440
 *   ORGS                         the orgs evaluated, a JSON array of host names
 *   WATERMARK_TABLE              DynamoDB table of the ingestion watermarks (read)
 *   EVALUATION_TABLE             DynamoDB table of the evaluation cursors and late-evidence logs
 *   MAX_EVALUATIONS_PER_RUN      evaluations per run over all orgs @default 48
 *   INITIAL_BACKFILL_MINUTES     where a new cursor starts, before the watermark @default 1440
 *   AWS_REGION                   set by Lambda; region of the Athena console link
 *
 * Metrics (namespace `OktaLake`; names, dimensions and their cost in lib/config/detect-contract.ts),
 * two EMF records per run:
 *   [service]:              DetectionFindings, DetectionNewFindings (Count), DetectionDataScannedBytes
 *                           (Bytes) after a run, DetectionFailed (Count); metadata `detection_id`
 *   [service, DetectionId]: DetectionFindings after a run, DetectionFailed (only with a usable id)
 *   [service, Org]:         DetectionLagSeconds, DetectionLateRangesPending after a run (one record per org)
 *   DetectionFailed is 1 when the run fails, 0 when it succeeds. A failed run is rethrown, so the
 *   function's `Errors` metric counts it too.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { AthenaQueryRunner } from '../../lib/adapters/athena-query-runner';
import { DynamoDbEvaluationStore } from '../../lib/adapters/dynamodb-evaluation-store';
import { DynamoDbSuppressionStore } from '../../lib/adapters/dynamodb-suppression-store';
import { DynamoDbWatermarkReader } from '../../lib/adapters/dynamodb-watermark-reader';
import { createLogger, createMetrics, createObservability, loggerReporter } from '../../lib/adapters/powertools-observability';
import { SnsNotifier } from '../../lib/adapters/sns-notifier';
import { DETECT_ENV, DETECT_METRICS } from '../../lib/config/detect-contract';
import { ConfigError } from '../../lib/core/errors';
import { systemClock, type Clock } from '../../lib/core/ports';
import { parseDetectionInput, MAX_SUPPRESSION_WINDOW_MS, MIN_SUPPRESSION_WINDOW_MS } from '../../lib/core/detect/input';
import { runDetection, type DetectionResult, type PollBackoff } from '../../lib/core/detect/run';
import type { EvaluationCursorStore, Notifier, QueryRunner, SuppressionStore, WatermarkReader } from '../../lib/core/detect/ports';
import { assertOrgLabel } from '../../lib/core/layout';
import type { LateEvidenceLog } from '../../lib/core/late-evidence';

/** @default for SUPPRESSION_WINDOW_MINUTES: one day */
export const DEFAULT_SUPPRESSION_WINDOW_MINUTES = 24 * 60;
/** @default time kept for reading results and publishing after the query ends */
export const DEFAULT_MARGIN_MS = 20_000;
/** @default for MAX_EVALUATIONS_PER_RUN */
export const DEFAULT_MAX_EVALUATIONS_PER_RUN = 48;
/** @default for INITIAL_BACKFILL_MINUTES: one day */
export const DEFAULT_INITIAL_BACKFILL_MINUTES = 24 * 60;

export interface DetectConfig {
  readonly workGroup: string;
  readonly database: string;
  readonly suppressionTable: string;
  readonly topicArn: string;
  readonly suppressionWindowMs: number;
  readonly orgs: readonly string[];
  readonly watermarkTable: string;
  readonly evaluationTable: string;
  readonly maxEvaluationsPerRun: number;
  readonly initialBackfillMs: number;
  /** The function's region: the default region of the Athena console link. */
  readonly region?: string;
}

/** Reads the function's configuration; throws `ConfigError` naming the variable and what is allowed. */
export function readDetectConfig(env: Readonly<Record<string, string | undefined>>): DetectConfig {
  const need = (name: string, pattern: RegExp, what: string): string => {
    const v = env[name];
    if (v === undefined || v.length === 0) throw new ConfigError(`environment variable ${name} is missing (${what})`);
    if (!pattern.test(v)) throw new ConfigError(`environment variable ${name} is "${v}", which is not ${what}`);
    return v;
  };
  const workGroup = need(DETECT_ENV.workGroup, /^[A-Za-z0-9._-]{1,128}$/, 'an Athena workgroup name');
  const database = need(DETECT_ENV.database, /^[A-Za-z0-9_-]{1,255}$/, 'a Glue database name');
  const suppressionTable = need(DETECT_ENV.suppressionTable, /^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name');
  const topicArn = need(DETECT_ENV.topicArn, /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'the ARN of a standard SNS topic');
  const minutesText = env[DETECT_ENV.suppressionWindowMinutes] ?? String(DEFAULT_SUPPRESSION_WINDOW_MINUTES);
  const minutes = Number(minutesText);
  const minMinutes = MIN_SUPPRESSION_WINDOW_MS / 60_000;
  const maxMinutes = MAX_SUPPRESSION_WINDOW_MS / 60_000;
  if (!/^\d+$/.test(minutesText) || minutes < minMinutes || minutes > maxMinutes) {
    throw new ConfigError(`environment variable ${DETECT_ENV.suppressionWindowMinutes} must be a whole number from ${minMinutes} to ${maxMinutes}, got "${minutesText}"`);
  }
  const watermarkTable = need(DETECT_ENV.watermarkTable, /^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name');
  const evaluationTable = need(DETECT_ENV.evaluationTable, /^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name');
  const orgsText = need(DETECT_ENV.orgs, /^\[.*\]$/s, 'a JSON array of org host names');
  let orgs: unknown;
  try {
    orgs = JSON.parse(orgsText);
  } catch {
    throw new ConfigError(`environment variable ${DETECT_ENV.orgs} is not JSON: ${orgsText.slice(0, 80)}`);
  }
  if (!Array.isArray(orgs) || orgs.length === 0 || !orgs.every((o) => typeof o === 'string') || new Set(orgs).size !== orgs.length) {
    throw new ConfigError(`environment variable ${DETECT_ENV.orgs} must be a JSON array of distinct org host names, got ${orgsText.slice(0, 80)}`);
  }
  for (const org of orgs as string[]) {
    try {
      assertOrgLabel(org);
    } catch (error) {
      throw new ConfigError(`environment variable ${DETECT_ENV.orgs}: ${(error as Error).message}`);
    }
  }
  const whole = (name: string, fallback: number, min: number, max: number): number => {
    const text = env[name] ?? String(fallback);
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new ConfigError(`environment variable ${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    return n;
  };
  const maxEvaluationsPerRun = whole(DETECT_ENV.maxEvaluationsPerRun, DEFAULT_MAX_EVALUATIONS_PER_RUN, 1, 1000);
  const initialBackfillMs = whole(DETECT_ENV.initialBackfillMinutes, DEFAULT_INITIAL_BACKFILL_MINUTES, 0, 90 * 24 * 60) * 60_000;
  const region = env.AWS_REGION;
  return {
    workGroup,
    database,
    suppressionTable,
    topicArn,
    suppressionWindowMs: minutes * 60_000,
    orgs: orgs as string[],
    watermarkTable,
    evaluationTable,
    maxEvaluationsPerRun,
    initialBackfillMs,
    ...(region ? { region } : {}),
  };
}

export interface DetectHandlerDeps {
  readonly config: DetectConfig;
  readonly runner: QueryRunner;
  readonly suppression: SuppressionStore;
  readonly notifier: Notifier;
  readonly cursors: EvaluationCursorStore;
  readonly lateEvidence: Pick<LateEvidenceLog, 'lateLog'>;
  readonly watermarks: WatermarkReader;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default 20_000 */
  readonly marginMs?: number;
  /** @default 500 ms doubling up to 5 s */
  readonly pollBackoff?: PollBackoff;
}

export type DetectContext = Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'> & Partial<Context>;
export type DetectHandler = (event: unknown, context: DetectContext) => Promise<DetectionResult>;

/** A detection id good enough to be a metric dimension, from a payload that may be invalid. */
function dimensionIdOf(event: unknown): string | undefined {
  const id = typeof event === 'object' && event !== null ? (event as Record<string, unknown>).detectionId : undefined;
  return typeof id === 'string' && /^[a-z0-9-]{1,128}$/.test(id) ? id : undefined;
}

/**
 * Writes the metrics of one run as two EMF records (Powertools applies one dimension set to every
 * metric of a flush): all four over all detections, with the detection id as metadata, then only
 * `DetectionFailed` and `DetectionFindings` per detection. `result` is undefined for a failed run.
 * Per-detection new findings and bytes scanned stay in the first record's log line, queryable in
 * Logs Insights by `detection_id`, without a billed metric per detection (see detect-contract.ts).
 */
export function publishRunMetrics(metrics: Metrics, detectionId: string | undefined, result: DetectionResult | undefined): void {
  const { names } = DETECT_METRICS;
  const failed = result === undefined ? 1 : 0;
  if (detectionId !== undefined) metrics.addMetadata(DETECT_METRICS.detectionMetadata, detectionId);
  if (result !== undefined) {
    metrics.addMetric(names.findings, MetricUnit.Count, result.findings);
    metrics.addMetric(names.newFindings, MetricUnit.Count, result.newFindings);
    if (result.dataScannedBytes !== undefined) metrics.addMetric(names.dataScannedBytes, MetricUnit.Bytes, result.dataScannedBytes);
  }
  if (result !== undefined) metrics.addMetric(names.evaluations, MetricUnit.Count, result.evaluations);
  metrics.addMetric(names.failed, MetricUnit.Count, failed);
  metrics.publishStoredMetrics();
  if (detectionId === undefined) return;
  metrics.addDimension(DETECT_METRICS.detectionDimension, detectionId);
  if (result !== undefined) metrics.addMetric(names.findings, MetricUnit.Count, result.findings);
  metrics.addMetric(names.failed, MetricUnit.Count, failed);
  metrics.publishStoredMetrics();
  for (const org of result?.orgs ?? []) {
    if (org.lagMs === undefined) continue;
    metrics.addMetadata(DETECT_METRICS.detectionMetadata, detectionId);
    metrics.addDimension(DETECT_METRICS.orgDimension, org.org);
    metrics.addMetric(names.lagSeconds, MetricUnit.Seconds, Math.round(org.lagMs / 1000));
    metrics.addMetric(names.lateRangesPending, MetricUnit.Count, org.lateRangesPending);
    metrics.publishStoredMetrics();
  }
}

export function createDetectHandler(deps: DetectHandlerDeps): DetectHandler {
  const { config, logger, metrics } = deps;
  const reporter = loggerReporter(logger);
  return async (event, context) => {
    if (context.functionName !== undefined) logger.addContext(context as Context);
    const detectionId = dimensionIdOf(event);
    if (detectionId !== undefined) logger.appendKeys({ detectionId });
    let result: DetectionResult | undefined;
    try {
      const input = parseDetectionInput(event, {
        suppressionWindowMs: config.suppressionWindowMs,
        ...(config.region !== undefined ? { consoleRegion: config.region } : {}),
      });
      result = await runDetection(input, {
        runner: deps.runner,
        suppression: deps.suppression,
        notifier: deps.notifier,
        cursors: deps.cursors,
        lateEvidence: deps.lateEvidence,
        watermarks: deps.watermarks,
        orgs: config.orgs,
        maxEvaluationsPerRun: config.maxEvaluationsPerRun,
        initialBackfillMs: config.initialBackfillMs,
        workGroup: config.workGroup,
        database: config.database,
        runId: context.awsRequestId,
        clock: deps.clock ?? systemClock,
        reporter,
        timeBudget: { remainingMs: () => context.getRemainingTimeInMillis(), marginMs: deps.marginMs ?? DEFAULT_MARGIN_MS },
        ...(deps.pollBackoff !== undefined ? { pollBackoff: deps.pollBackoff } : {}),
      });
      logger.info('detection run finished', {
        detectionId: result.detectionId,
        outcome: result.outcome,
        evaluations: result.evaluations,
        findings: result.findings,
        newFindings: result.newFindings,
        suppressed: result.suppressed,
        dataScannedBytes: result.dataScannedBytes,
        orgs: result.orgs,
      });
      return result;
    } catch (error) {
      logger.error('detection run failed', error as Error);
      throw error;
    } finally {
      publishRunMetrics(metrics, detectionId, result);
      logger.resetKeys();
    }
  };
}

let cached: DetectHandler | undefined;

/** Builds the clients and adapters once per container, from the environment. */
function fromEnvironment(): DetectHandler {
  const config = readDetectConfig(process.env);
  const { logger, metrics } = createObservability(DETECT_METRICS);
  const dynamodb = new DynamoDBClient({});
  const evaluation = new DynamoDbEvaluationStore({ client: dynamodb, tableName: config.evaluationTable });
  return createDetectHandler({
    config,
    logger,
    metrics,
    runner: new AthenaQueryRunner({ client: new AthenaClient({}) }),
    suppression: new DynamoDbSuppressionStore({ client: dynamodb, tableName: config.suppressionTable }),
    cursors: evaluation,
    lateEvidence: evaluation,
    watermarks: new DynamoDbWatermarkReader({ client: dynamodb, tableName: config.watermarkTable }),
    notifier: new SnsNotifier({ client: new SNSClient({}), topicArn: config.topicArn }),
  });
}

export const handler = async (event: unknown, context: Context): Promise<DetectionResult> => {
  if (cached === undefined) {
    try {
      cached = fromEnvironment();
    } catch (error) {
      // A configuration error fails every run: count it like any failed run, then fail.
      publishRunMetrics(createMetrics(DETECT_METRICS), dimensionIdOf(event), undefined);
      createLogger(DETECT_METRICS).error('the detection runner is misconfigured', error as Error);
      throw error;
    }
  }
  return cached(event, context);
};
