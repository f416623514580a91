/**
 * One run of a scheduled detection: fetch the named query by id (the console's text is what runs),
 * start it in the workgroup, wait for it with capped exponential backoff inside the time budget, page
 * through the results, fingerprint each row by its finding-key columns, claim the fingerprints not
 * alerted within the suppression window, and publish one message with the new findings.
 *
 * Losing an alert is worse than sending one twice, so:
 * - claims are taken before publishing (two racing runs never both alert on one finding) and given
 *   back when the publish fails, so the next run alerts on them again;
 * - a retried invocation (same run id) may re-claim its own claims and publish again;
 * - when the suppression store itself fails, the run publishes every finding (fail open) and then
 *   fails, so the failure is seen.
 * A query that fails, is cancelled or does not finish in time is an error, never an empty result.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../errors';
import { systemClock, silentReporter, type Clock, type Reporter } from '../ports';
import { DetectionPublishError, DetectionQueryError, DetectionSuppressionError, DetectionTimeoutError } from './errors';
import { assertFindingKeyColumns, fingerprint } from './fingerprint';
import type { DetectionInput } from './input';
import { formatBody, formatSubject } from './message';
import type { Notification, Notifier, QueryRunner, QueryStatus, ResultRow, SuppressionStore } from './ports';

export interface DetectionTimeBudget {
  /** Milliseconds left before the run is cut off (the Lambda context's `getRemainingTimeInMillis`). */
  remainingMs(): number;
  /** Time kept for reading the results and publishing once the query has ended. @default 20_000 */
  readonly marginMs?: number;
}

/** Waits between polls of the query state: `initialMs`, then times `factor`, at most `maxMs`. */
export interface PollBackoff {
  /** @default 500 */
  readonly initialMs?: number;
  /** @default 5_000 */
  readonly maxMs?: number;
  /** @default 2 */
  readonly factor?: number;
}

export interface DetectionDeps {
  readonly runner: QueryRunner;
  readonly suppression: SuppressionStore;
  readonly notifier: Notifier;
  readonly timeBudget: DetectionTimeBudget;
  /** The Athena workgroup the query runs in (its result location, encryption and scan limit apply). */
  readonly workGroup: string;
  /** The Glue database unqualified table names resolve in. */
  readonly database: string;
  /** Unique id of this invocation (the Lambda request id, kept across retries). @default a random UUID */
  readonly runId?: string;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default silent */
  readonly reporter?: Reporter;
  /** @default 500 ms doubling up to 5 s */
  readonly pollBackoff?: PollBackoff;
  /** Widest table cell in the message, in characters. @default 40 */
  readonly maxCellWidth?: number;
}

export interface DetectionResult {
  readonly detectionId: string;
  readonly executionId: string;
  /** Name of the named query that ran. */
  readonly queryName: string;
  /** Result rows (the header row not counted). */
  readonly rows: number;
  /** Distinct findings (fingerprints) among the rows. */
  readonly findings: number;
  /** Findings not alerted within the suppression window: the ones published. */
  readonly newFindings: number;
  /** Findings already alerted within the window. */
  readonly suppressed: number;
  readonly published: boolean;
  readonly messageId?: string;
  readonly dataScannedBytes?: number;
}

const DEFAULT_MARGIN_MS = 20_000;

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function backoffOf(b: PollBackoff = {}): Required<PollBackoff> {
  const initialMs = b.initialMs ?? 500;
  const maxMs = b.maxMs ?? 5_000;
  const factor = b.factor ?? 2;
  if (!(Number.isFinite(initialMs) && initialMs > 0)) throw new ConfigError(`pollBackoff.initialMs must be more than 0, got ${initialMs}`);
  if (!(Number.isFinite(maxMs) && maxMs >= initialMs)) throw new ConfigError(`pollBackoff.maxMs must be at least initialMs (${initialMs}), got ${maxMs}`);
  if (!(Number.isFinite(factor) && factor >= 1)) throw new ConfigError(`pollBackoff.factor must be at least 1, got ${factor}`);
  return { initialMs, maxMs, factor };
}

export async function runDetection(input: DetectionInput, deps: DetectionDeps): Promise<DetectionResult> {
  const { runner, suppression, notifier, workGroup, database } = deps;
  const clock = deps.clock ?? systemClock;
  const reporter = deps.reporter ?? silentReporter;
  const runId = deps.runId ?? randomUUID();
  const backoff = backoffOf(deps.pollBackoff);
  const marginMs = deps.timeBudget.marginMs ?? DEFAULT_MARGIN_MS;
  if (!(marginMs >= 0)) throw new ConfigError(`timeBudget.marginMs must be >= 0, got ${marginMs}`);
  const { detectionId } = input;
  const budgetLeft = (): number => deps.timeBudget.remainingMs() - marginMs;

  if (budgetLeft() <= 0) {
    throw new DetectionTimeoutError(
      `detection "${detectionId}": no time left to start the query (${deps.timeBudget.remainingMs()} ms remaining, ${marginMs} ms kept as margin)`,
      detectionId,
      undefined,
      undefined,
      false,
    );
  }

  const named = await runner.getNamedQuery(input.namedQueryId);
  if (named.workGroup !== undefined && named.workGroup !== workGroup) {
    reporter.warn('the named query is saved in another workgroup; running it in the configured one', {
      detectionId,
      namedQueryId: input.namedQueryId,
      savedWorkGroup: named.workGroup,
      workGroup,
    });
  }
  if (named.database !== undefined && named.database !== database) {
    reporter.warn('the named query is saved for another database; running it in the configured one', {
      detectionId,
      namedQueryId: input.namedQueryId,
      savedDatabase: named.database,
      database,
    });
  }

  const startedAt = clock.now();
  const executionId = await runner.start(named.queryString, { workGroup, database });
  reporter.info('detection query started', { detectionId, executionId, queryName: named.name, workGroup });

  // Wait for the query, never past the time budget.
  let delay = backoff.initialMs;
  let status: QueryStatus | undefined;
  for (;;) {
    const left = budgetLeft();
    if (left <= 0) {
      let stopped = false;
      let stopError: unknown;
      try {
        await runner.stop(executionId);
        stopped = true;
      } catch (error) {
        stopError = error;
        reporter.warn('could not stop the timed-out query', { detectionId, executionId, error: describeError(error) });
      }
      const elapsedS = Math.round((clock.now() - startedAt) / 1000);
      throw new DetectionTimeoutError(
        `detection "${detectionId}": query execution ${executionId} was still ${status?.state ?? 'QUEUED'} after ${elapsedS} s, ` +
          `at the end of the time budget (${marginMs} ms kept for results and publishing); ` +
          (stopped ? 'it was stopped' : `stopping it failed (${describeError(stopError)})`),
        detectionId,
        executionId,
        status?.state,
        stopped,
        stopError === undefined ? undefined : { cause: stopError },
      );
    }
    await clock.sleep(Math.min(delay, left));
    status = await runner.poll(executionId);
    if (status.state === 'SUCCEEDED') break;
    if (status.state === 'FAILED' || status.state === 'CANCELLED') {
      throw new DetectionQueryError(
        `detection "${detectionId}": query execution ${executionId} ${status.state}: ${status.reason ?? 'Athena gave no reason'}`,
        detectionId,
        executionId,
        status.state,
        status.reason,
      );
    }
    delay = Math.min(delay * backoff.factor, backoff.maxMs);
  }
  const dataScannedBytes = status.dataScannedBytes;

  // Page through the results; one finding per fingerprint, shown as its first row.
  let columns: readonly string[] | undefined;
  let rows = 0;
  const findings = new Map<string, ResultRow>();
  for await (const page of runner.results(executionId)) {
    if (columns === undefined) {
      columns = page.columns;
      assertFindingKeyColumns(detectionId, input.findingKey, columns);
    }
    for (const row of page.rows) {
      rows++;
      const fp = fingerprint(detectionId, input.findingKey, row);
      if (!findings.has(fp)) findings.set(fp, row);
    }
  }
  const base = { detectionId, executionId, queryName: named.name, rows, findings: findings.size, ...(dataScannedBytes !== undefined ? { dataScannedBytes } : {}) };
  if (findings.size === 0) {
    reporter.info('detection ran: no findings', { detectionId, executionId, rows });
    return { ...base, newFindings: 0, suppressed: 0, published: false };
  }

  // Claim the findings not alerted within the window; fail open when the store cannot be used.
  const fingerprints = [...findings.keys()];
  let claimed: readonly string[];
  let suppressionError: unknown;
  try {
    claimed = await suppression.claim(fingerprints, { runId, detectionId, nowMs: clock.now(), windowMs: input.suppressionWindowMs });
  } catch (error) {
    suppressionError = error;
    claimed = fingerprints;
    reporter.warn('the suppression store failed: publishing every finding of this run', { detectionId, executionId, error: describeError(error) });
  }
  const claimedSet = new Set(claimed);
  const fresh = fingerprints.filter((fp) => claimedSet.has(fp));
  const suppressed = findings.size - fresh.length;
  if (fresh.length === 0) {
    reporter.info('detection ran: every finding was already alerted within the window', { detectionId, executionId, findings: findings.size });
    return { ...base, newFindings: 0, suppressed, published: false };
  }

  const notification: Notification = {
    subject: formatSubject(input.severity, input.title, fresh.length),
    message: formatBody({
      detectionId,
      title: input.title,
      severity: input.severity,
      description: input.description,
      runbook: input.runbook,
      findingKey: input.findingKey,
      namedQueryName: named.name,
      workGroup,
      executionId,
      consoleRegion: input.consoleRegion,
      ranAt: new Date(startedAt).toISOString(),
      columns: columns ?? [],
      newFindings: fresh.map((fp) => findings.get(fp) as ResultRow),
      rows,
      findings: findings.size,
      suppressed,
      suppressionWindowMs: input.suppressionWindowMs,
      maxFindingsInMessage: input.maxFindingsInMessage,
      ...(dataScannedBytes !== undefined ? { dataScannedBytes } : {}),
      ...(suppressionError !== undefined ? { suppressionUnavailable: true } : {}),
      ...(deps.maxCellWidth !== undefined ? { maxCellWidth: deps.maxCellWidth } : {}),
    }),
    attributes: { severity: input.severity, detection_id: detectionId },
  };

  let messageId: string | undefined;
  try {
    messageId = (await notifier.publish(notification)).messageId;
  } catch (publishError) {
    let released = false;
    let releaseError: unknown;
    try {
      await suppression.release(fresh, runId);
      released = true;
    } catch (error) {
      releaseError = error;
      reporter.warn('could not release the suppression claims after the failed publish', { detectionId, executionId, error: describeError(error) });
    }
    const until = new Date(clock.now() + input.suppressionWindowMs).toISOString();
    throw new DetectionPublishError(
      `detection "${detectionId}": publishing the alert for ${fresh.length} new finding(s) of query execution ${executionId} failed ` +
        `(${describeError(publishError)}); ` +
        (released
          ? 'their suppression claims were released, so the next run alerts on them again'
          : `their suppression claims could not be released (${describeError(releaseError)}), so they stay suppressed until about ${until} unless this invocation is retried`),
      detectionId,
      executionId,
      released,
      { cause: publishError },
    );
  }
  reporter.info('detection alert published', { detectionId, executionId, newFindings: fresh.length, suppressed, messageId });

  if (suppressionError !== undefined) {
    throw new DetectionSuppressionError(
      `detection "${detectionId}": the suppression store failed (${describeError(suppressionError)}); ` +
        `all ${fresh.length} finding(s) of query execution ${executionId} were published without suppression, so some may repeat earlier alerts`,
      detectionId,
      executionId,
      true,
      { cause: suppressionError },
    );
  }
  return { ...base, newFindings: fresh.length, suppressed, published: true, ...(messageId !== undefined ? { messageId } : {}) };
}
