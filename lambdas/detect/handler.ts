/**
 * The detection runner Lambda: invoked by one EventBridge Scheduler schedule per scheduled detection,
 * with the detection's payload (`DetectionPayload`, built by `detectionPayload()` in the stack).
 * A thin composition root: clients are built once per container, the run is `runDetection()`.
 *
 * Environment (names from `DETECT_ENV` in lib/config/detect-contract.ts, which the stack sets):
 *   WORKGROUP                    Athena workgroup the query runs in
 *   DATABASE                     Glue database of the lake table
 *   SUPPRESSION_TABLE            DynamoDB table of alerted findings (key `fingerprint`, TTL `expiresAt`)
 *   TOPIC_ARN                    SNS topic the alerts go to
 *   SUPPRESSION_WINDOW_MINUTES   default suppression window (a payload may set its own) @default 1440
 *   AWS_REGION                   set by Lambda; region of the Athena console link
 *
 * Metrics (namespace `OktaLake`; names, dimensions and their cost in lib/config/detect-contract.ts),
 * two EMF records per run:
 *   [service]:              DetectionFindings, DetectionNewFindings (Count), DetectionDataScannedBytes
 *                           (Bytes) after a run, DetectionFailed (Count); metadata `detection_id`
 *   [service, DetectionId]: DetectionFindings after a run, DetectionFailed (only with a usable id)
 *   DetectionFailed is 1 when the run fails, 0 when it succeeds. A failed run is rethrown, so the
 *   function's `Errors` metric counts it too.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { AthenaQueryRunner } from '../../lib/adapters/athena-query-runner';
import { DynamoDbSuppressionStore } from '../../lib/adapters/dynamodb-suppression-store';
import { SnsNotifier } from '../../lib/adapters/sns-notifier';
import { DETECT_ENV, DETECT_METRICS } from '../../lib/config/detect-contract';
import { ConfigError } from '../../lib/core/errors';
import { systemClock, type Clock, type Reporter } from '../../lib/core/ports';
import { parseDetectionInput, MAX_SUPPRESSION_WINDOW_MS, MIN_SUPPRESSION_WINDOW_MS } from '../../lib/core/detect/input';
import { runDetection, type DetectionResult, type PollBackoff } from '../../lib/core/detect/run';
import type { Notifier, QueryRunner, SuppressionStore } from '../../lib/core/detect/ports';

/** @default for SUPPRESSION_WINDOW_MINUTES: one day */
export const DEFAULT_SUPPRESSION_WINDOW_MINUTES = 24 * 60;
/** @default time kept for reading results and publishing after the query ends */
export const DEFAULT_MARGIN_MS = 20_000;

export interface DetectConfig {
  readonly workGroup: string;
  readonly database: string;
  readonly suppressionTable: string;
  readonly topicArn: string;
  readonly suppressionWindowMs: number;
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
  const region = env.AWS_REGION;
  return { workGroup, database, suppressionTable, topicArn, suppressionWindowMs: minutes * 60_000, ...(region ? { region } : {}) };
}

export interface DetectHandlerDeps {
  readonly config: DetectConfig;
  readonly runner: QueryRunner;
  readonly suppression: SuppressionStore;
  readonly notifier: Notifier;
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

function reporterFor(logger: Logger): Reporter {
  return {
    info: (message, fields) => logger.info(message, { ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fields }),
  };
}

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
  metrics.addMetric(names.failed, MetricUnit.Count, failed);
  metrics.publishStoredMetrics();
  if (detectionId === undefined) return;
  metrics.addDimension(DETECT_METRICS.detectionDimension, detectionId);
  if (result !== undefined) metrics.addMetric(names.findings, MetricUnit.Count, result.findings);
  metrics.addMetric(names.failed, MetricUnit.Count, failed);
  metrics.publishStoredMetrics();
}

export function createDetectHandler(deps: DetectHandlerDeps): DetectHandler {
  const { config, logger, metrics } = deps;
  const reporter = reporterFor(logger);
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
        workGroup: config.workGroup,
        database: config.database,
        runId: context.awsRequestId,
        clock: deps.clock ?? systemClock,
        reporter,
        timeBudget: { remainingMs: () => context.getRemainingTimeInMillis(), marginMs: deps.marginMs ?? DEFAULT_MARGIN_MS },
        ...(deps.pollBackoff !== undefined ? { pollBackoff: deps.pollBackoff } : {}),
      });
      logger.info('detection run finished', { ...result });
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
  const logger = new Logger({ serviceName: DETECT_METRICS.service });
  const metrics = new Metrics({ namespace: DETECT_METRICS.namespace, serviceName: DETECT_METRICS.service });
  return createDetectHandler({
    config,
    logger,
    metrics,
    runner: new AthenaQueryRunner({ client: new AthenaClient({}) }),
    suppression: new DynamoDbSuppressionStore({ client: new DynamoDBClient({}), tableName: config.suppressionTable }),
    notifier: new SnsNotifier({ client: new SNSClient({}), topicArn: config.topicArn }),
  });
}

export const handler = async (event: unknown, context: Context): Promise<DetectionResult> => {
  if (cached === undefined) {
    try {
      cached = fromEnvironment();
    } catch (error) {
      // A configuration error fails every run: count it like any failed run, then fail.
      const metrics = new Metrics({ namespace: DETECT_METRICS.namespace, serviceName: DETECT_METRICS.service });
      publishRunMetrics(metrics, dimensionIdOf(event), undefined);
      new Logger({ serviceName: DETECT_METRICS.service }).error('the detection runner is misconfigured', error as Error);
      throw error;
    }
  }
  return cached(event, context);
};
