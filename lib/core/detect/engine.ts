/**
 * Where a detection's SQL is executed for one evaluation: Athena through the `QueryRunner` port
 * (`QueryRunnerEngine`, here: start, poll with capped exponential backoff inside the time budget,
 * page through the results), or DuckDB on a local lake (lib/core/hunt/engine.ts).
 *
 * A query that fails, is cancelled or does not finish in time is an error, never an empty result.
 */
import { ConfigError } from '../errors';
import { systemClock, silentReporter, type Clock, type Reporter, type TimeBudget } from '../ports';
import { DetectionQueryError, DetectionTimeoutError } from './errors';
import type { QueryRunner, QueryStatus, ResultRow } from './ports';

/** What one evaluation returned. */
export interface EngineResult {
  /** The engine's id of the execution (Athena's query execution id; a local sequence number). */
  readonly executionId: string;
  readonly columns: readonly string[];
  readonly rows: readonly ResultRow[];
  /** Bytes the engine scanned (what Athena bills), when known. */
  readonly dataScannedBytes?: number;
}

export interface EvaluationEngine {
  /** Runs one pinned, scoped query. Throws a named error when it fails or does not finish in time. */
  run(sql: string, context: { readonly detectionId: string }): Promise<EngineResult>;
}

/** Time a detection run keeps for reading the results and publishing once a query has ended (`TimeBudget.marginMs`). */
export const DEFAULT_MARGIN_MS = 20_000;

/** Waits between polls of the query state: `initialMs`, then times `factor`, at most `maxMs`. */
export interface PollBackoff {
  /** @default 500 */
  readonly initialMs?: number;
  /** @default 5_000 */
  readonly maxMs?: number;
  /** @default 2 */
  readonly factor?: number;
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

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export interface QueryRunnerEngineOptions {
  readonly runner: QueryRunner;
  /** The Athena workgroup the query runs in (its result location, encryption and scan limit apply). */
  readonly workGroup: string;
  /** The Glue database unqualified table names resolve in. */
  readonly database: string;
  readonly timeBudget: TimeBudget;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default silent */
  readonly reporter?: Reporter;
  /** @default 500 ms doubling up to 5 s */
  readonly pollBackoff?: PollBackoff;
}

/** Runs evaluations in Athena through the `QueryRunner` port. */
export class QueryRunnerEngine implements EvaluationEngine {
  private readonly backoff: Required<PollBackoff>;
  private readonly clock: Clock;
  private readonly reporter: Reporter;
  private readonly marginMs: number;

  constructor(private readonly options: QueryRunnerEngineOptions) {
    this.backoff = backoffOf(options.pollBackoff);
    this.clock = options.clock ?? systemClock;
    this.reporter = options.reporter ?? silentReporter;
    this.marginMs = options.timeBudget.marginMs ?? DEFAULT_MARGIN_MS;
    if (!(this.marginMs >= 0)) throw new ConfigError(`timeBudget.marginMs must be >= 0, got ${this.marginMs}`);
  }

  private budgetLeft(): number {
    return this.options.timeBudget.remainingMs() - this.marginMs;
  }

  async run(sql: string, { detectionId }: { readonly detectionId: string }): Promise<EngineResult> {
    const { runner, workGroup, database } = this.options;
    if (this.budgetLeft() <= 0) {
      throw new DetectionTimeoutError(
        `detection "${detectionId}": no time left to start the query (${this.options.timeBudget.remainingMs()} ms remaining, ${this.marginMs} ms kept as margin)`,
        detectionId,
        undefined,
        undefined,
        false,
      );
    }
    const startedAt = this.clock.now();
    const executionId = await runner.start(sql, { workGroup, database });
    this.reporter.info('detection query started', { detectionId, executionId, workGroup });

    // Wait for the query, never past the time budget.
    let delay = this.backoff.initialMs;
    let status: QueryStatus | undefined;
    for (;;) {
      const left = this.budgetLeft();
      if (left <= 0) {
        let stopped = false;
        let stopError: unknown;
        try {
          await runner.stop(executionId);
          stopped = true;
        } catch (error) {
          stopError = error;
          this.reporter.warn('could not stop the timed-out query', { detectionId, executionId, error: describeError(error) });
        }
        const elapsedS = Math.round((this.clock.now() - startedAt) / 1000);
        throw new DetectionTimeoutError(
          `detection "${detectionId}": query execution ${executionId} was still ${status?.state ?? 'QUEUED'} after ${elapsedS} s, ` +
            `at the end of the time budget (${this.marginMs} ms kept for results and publishing); ` +
            (stopped ? 'it was stopped' : `stopping it failed (${describeError(stopError)})`),
          detectionId,
          executionId,
          status?.state,
          stopped,
          stopError === undefined ? undefined : { cause: stopError },
        );
      }
      await this.clock.sleep(Math.min(delay, left));
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
      delay = Math.min(delay * this.backoff.factor, this.backoff.maxMs);
    }

    let columns: readonly string[] | undefined;
    const rows: ResultRow[] = [];
    for await (const page of runner.results(executionId)) {
      columns ??= page.columns;
      rows.push(...page.rows);
    }
    return { executionId, columns: columns ?? [], rows, ...(status.dataScannedBytes !== undefined ? { dataScannedBytes: status.dataScannedBytes } : {}) };
  }
}
