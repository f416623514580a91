/**
 * Observability of the Lambda handlers with Powertools for AWS Lambda: the Logger and Metrics of a
 * handler, made from its metrics contract (`INGEST_METRICS`, `DETECT_METRICS`, `COMPACT_METRICS`:
 * service name and namespace), and the core `Reporter` port implemented on a Logger. The ingestion,
 * detection runner and compaction handlers build theirs here; their log fields, metric names and
 * dimensions are their own (lib/config/*-contract.ts).
 *
 * Log level and the rest of the Powertools settings come from the function's environment
 * (`powertoolsEnvironment()` in lib/constructs/lambda-defaults.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Reporter } from '../core/ports';

/** What a handler's metrics contract names: the `service` dimension and log field, and the namespace. */
export interface ServiceIdentity {
  readonly service: string;
  readonly namespace: string;
}

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The core's `Reporter` on `logger`. */
  readonly reporter: Reporter;
}

export function createLogger(identity: Pick<ServiceIdentity, 'service'>): Logger {
  return new Logger({ serviceName: identity.service });
}

export function createMetrics(identity: ServiceIdentity): Metrics {
  return new Metrics({ namespace: identity.namespace, serviceName: identity.service });
}

/** The core's `Reporter` on a Powertools Logger: a message and its fields become one structured log record. */
export function loggerReporter(logger: Pick<Logger, 'info' | 'warn'>): Reporter {
  return {
    info: (message, fields) => logger.info(message, { ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fields }),
  };
}

/** A handler's Logger, Metrics and Reporter. */
export function createObservability(identity: ServiceIdentity): Observability {
  const logger = createLogger(identity);
  return { logger, metrics: createMetrics(identity), reporter: loggerReporter(logger) };
}
