/**
 * Named errors of the detection runner. A scheduled detection never fails silently: each of these
 * ends the run with an error (so the Lambda `Errors` alarm fires) after the handler has counted it in
 * the `DetectionFailed` metric.
 */
import { ConfigError, OktaLakeError } from '../errors';
import type { QueryState } from './ports';

/** The schedule payload (or another run input) is missing a field or has a value that is not allowed. */
export class DetectionInputError extends ConfigError {}

/**
 * The query's results lack a column named in the detection's `finding_key`: the SQL and its header
 * disagree (for example after an analyst edited the named query in the console). Nothing is published,
 * because findings cannot be told apart without their key.
 */
export class FindingKeyColumnError extends ConfigError {
  constructor(
    message: string,
    readonly missing: readonly string[],
    readonly columns: readonly string[],
  ) {
    super(message);
  }
}

/** Base class of the errors a detection run raises after it has started its query. */
export class DetectionError extends OktaLakeError {
  constructor(
    message: string,
    readonly detectionId: string,
    readonly executionId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Athena ended the query as FAILED or CANCELLED; `reason` is Athena's own explanation. */
export class DetectionQueryError extends DetectionError {
  constructor(
    message: string,
    detectionId: string,
    executionId: string,
    readonly state: QueryState,
    readonly reason: string | undefined,
  ) {
    super(message, detectionId, executionId);
  }
}

/**
 * The query did not finish inside the run's time budget. `stopped` tells whether StopQueryExecution
 * was accepted (when not, `cause` is the error it raised).
 */
export class DetectionTimeoutError extends DetectionError {
  constructor(
    message: string,
    detectionId: string,
    executionId: string | undefined,
    readonly lastState: QueryState | undefined,
    readonly stopped: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, detectionId, executionId, options);
  }
}

/**
 * Publishing the alert failed. `released` tells whether the suppression claims of its findings were
 * given back (then the next run alerts on them again); when not, they stay suppressed until the
 * window ends, and the message says so.
 */
export class DetectionPublishError extends DetectionError {
  constructor(
    message: string,
    detectionId: string,
    executionId: string,
    readonly released: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, detectionId, executionId, options);
  }
}

/**
 * The suppression store could not be used. The run failed open: it published every finding of the run
 * (`published`), which may repeat earlier alerts, then raised this error so the failure is seen.
 */
export class DetectionSuppressionError extends DetectionError {
  constructor(
    message: string,
    detectionId: string,
    executionId: string,
    readonly published: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, detectionId, executionId, options);
  }
}

/** An Athena call failed (the AWS adapter wraps the SDK error as `cause`). */
export class QueryRunnerError extends OktaLakeError {}

/** The suppression table could not be read or written. */
export class SuppressionStoreError extends OktaLakeError {}

/** The notification could not be published. */
export class NotifierError extends OktaLakeError {}

/**
 * The named query's text is not the text this deployment put there (someone edited it in the
 * console, or replaced it): the run refuses it, so nobody can silence a detection by editing it.
 */
export class DetectionQueryTamperedError extends ConfigError {
  constructor(
    message: string,
    readonly detectionId: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
  ) {
    super(message);
  }
}

/** The evaluation cursors could not be read or written. */
export class EvaluationStoreError extends OktaLakeError {}
