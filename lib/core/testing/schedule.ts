/**
 * One scheduled invocation, as the ingestion Lambda does it: an ingestion run within a time budget,
 * then, when it caught up and time remains, the reconciliation sweep. Errors are returned, not
 * thrown, so a test or the soak can go on to the next invocation the way a scheduler would.
 */
import { runIngest, type IngestOptions, type IngestResult } from '../ingest/ingest';
import { reconcile, type LakeIndex, type ReconcileOptions, type ReconcileResult } from '../ingest/reconcile';
import type { Clock } from '../ports';

export interface ScheduledRunOptions {
  /** The ingestion run's options; its `timeBudget` is set from `budgetMs`. */
  readonly ingest: IngestOptions;
  /** The sweep after it (org, source, writer, sink, store, owner and clock are taken from `ingest`), or `false`. */
  readonly reconcile: false | (Partial<Omit<ReconcileOptions, 'index'>> & { readonly index: LakeIndex });
  /** The invocation's time budget on `ingest.clock`. @default no limit */
  readonly budgetMs?: number;
  /** Stop with this margin left. @default 30_000 */
  readonly marginMs?: number;
}

export interface ScheduledRunResult {
  readonly ingest?: IngestResult;
  readonly reconcile?: ReconcileResult;
  /** What made the invocation fail (the ingestion's or the sweep's error). */
  readonly error?: unknown;
  /** Which part failed. */
  readonly failedIn?: 'ingest' | 'reconcile';
}

export async function scheduledRun(o: ScheduledRunOptions): Promise<ScheduledRunResult> {
  const clock: Pick<Clock, 'now'> = o.ingest.clock ?? { now: () => Date.now() };
  const deadline = o.budgetMs === undefined ? undefined : clock.now() + o.budgetMs;
  const timeBudget = deadline === undefined ? undefined : { remainingMs: () => deadline - clock.now(), marginMs: o.marginMs ?? 30_000 };
  let ingest: IngestResult;
  try {
    ingest = await runIngest({ ...o.ingest, ...(timeBudget ? { timeBudget } : {}) });
  } catch (error) {
    return { error, failedIn: 'ingest' };
  }
  if (o.reconcile === false || ingest.outcome !== 'caught-up' || ingest.watermark === undefined) return { ingest };
  try {
    const result = await reconcile({
      org: o.ingest.org,
      source: o.ingest.source,
      writer: o.ingest.writer,
      sink: o.ingest.sink,
      store: o.ingest.store,
      owner: o.ingest.owner,
      ...(o.ingest.clock ? { clock: o.ingest.clock } : {}),
      ...(o.ingest.reporter ? { reporter: o.ingest.reporter } : {}),
      ...(timeBudget ? { timeBudget } : {}),
      watermark: ingest.watermark,
      ...o.reconcile,
    });
    return { ingest, reconcile: result };
  } catch (error) {
    return { ingest, error, failedIn: 'reconcile' };
  }
}
