/**
 * One scheduled invocation: an ingestion run (`runIngest`) within a time budget, then, when it caught
 * up and the org has a watermark, the reconciliation sweep (`reconcile`) within the same budget.
 * The ingestion Lambda, `okta-lake ingest [--reconcile]`, the demo, the tests and the soak all run
 * this one function.
 *
 * Contract: errors are returned, never thrown (`error`, with `failedIn` naming the part that
 * failed), so a test or the soak can go on to the next invocation the way a scheduler would; a
 * caller that must fail (the Lambda, the CLI) rethrows `error`.
 */
import type { LakeIndex, TimeBudget } from '../ports';
import { runIngest, type IngestOptions, type IngestResult } from './ingest';
import { reconcile, type ReconcileOptions, type ReconcileResult } from './reconcile';

/**
 * The sweep after the ingestion run. Org, source, writer, sink, store, owner, clock, reporter and
 * signal are taken from the ingestion's options unless given here; the watermark is the one the run
 * left; the time budget is the invocation's.
 */
export type ScheduledSweepOptions = Partial<Omit<ReconcileOptions, 'index' | 'watermark' | 'timeBudget'>> & { readonly index: LakeIndex };

export interface ScheduledInvocationOptions {
  /** The ingestion run's options (its time budget is the invocation's `timeBudget`). */
  readonly ingest: Omit<IngestOptions, 'timeBudget'>;
  /**
   * The sweep after it, or how to open what it needs (called only when the sweep runs, so an
   * invocation that does not sweep opens no lake index). @default no sweep
   */
  readonly sweep?: ScheduledSweepOptions | (() => Promise<ScheduledSweepOptions>);
  /** Time the invocation may take, shared by the run and the sweep. @default no limit */
  readonly timeBudget?: TimeBudget;
  /**
   * Called once the ingestion run returned, before the sweep starts (metrics, a summary, the
   * source's statistics of the run alone). An error it throws ends the invocation as `failedIn: 'ingest'`.
   */
  readonly afterIngest?: (result: IngestResult) => void | Promise<void>;
}

export interface ScheduledInvocationResult {
  /** The ingestion run's result (absent when the run failed). */
  readonly ingest?: IngestResult;
  /** The sweep's whole result, when it ran and finished. */
  readonly reconcile?: ReconcileResult;
  /** What made the invocation fail (the ingestion's or the sweep's error). */
  readonly error?: unknown;
  /** Which part failed. */
  readonly failedIn?: 'ingest' | 'reconcile';
}

/** Runs one scheduled invocation; see the module comment for the contract. */
export async function runScheduledInvocation(o: ScheduledInvocationOptions): Promise<ScheduledInvocationResult> {
  const budget = o.timeBudget ? { timeBudget: o.timeBudget } : {};
  let ingest: IngestResult;
  try {
    ingest = await runIngest({ ...o.ingest, ...budget });
  } catch (error) {
    return { error, failedIn: 'ingest' };
  }
  try {
    await o.afterIngest?.(ingest);
  } catch (error) {
    return { ingest, error, failedIn: 'ingest' };
  }
  if (o.sweep === undefined || ingest.outcome !== 'caught-up' || ingest.watermark === undefined) return { ingest };
  try {
    const sweep = typeof o.sweep === 'function' ? await o.sweep() : o.sweep;
    const from = o.ingest;
    const result = await reconcile({
      org: from.org,
      source: from.source,
      writer: from.writer,
      sink: from.sink,
      store: from.store,
      owner: from.owner,
      clock: from.clock,
      reporter: from.reporter,
      signal: from.signal,
      ...budget,
      watermark: ingest.watermark,
      ...sweep,
    });
    return { ingest, reconcile: result };
  } catch (error) {
    return { ingest, error, failedIn: 'reconcile' };
  }
}

