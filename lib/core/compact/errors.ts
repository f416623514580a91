/** The named errors of compaction (see docs/compaction.md). */
import { OktaLakeError } from '../errors';
import type { EventComparison } from './workspace';

/** Compaction of a day failed; the day stays as it was (readers read its originals, or its previous generation). */
export class CompactionError extends OktaLakeError {}

/**
 * The same uuid is stored with different `raw` texts among the day's originals: which one is the
 * evidence cannot be decided by compaction, so the day is not compacted (nothing is dropped).
 */
export class CompactionConflictError extends CompactionError {
  constructor(
    readonly org: string,
    readonly dt: string,
    /** How many uuids conflict. */
    readonly count: number,
    /** The first of them, sorted. */
    readonly uuids: readonly string[],
  ) {
    super(`${org} ${dt}: ${count} uuid${count === 1 ? '' : 's'} stored with different raw texts (${uuids.slice(0, 5).join(', ')}${count > 5 ? ', ...' : ''}); the day is not compacted`);
  }
}

/** An original row is not where its `published` places it, or has no uuid or `published`. */
export class CompactionLayoutError extends CompactionError {}

/** The written generation does not hold exactly the originals' events (or its files are not what its manifest says); it is not switched to. */
export class CompactionVerificationError extends CompactionError {
  constructor(
    message: string,
    readonly comparison?: EventComparison,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An object appeared under `events/` for a frozen day after compaction listed the day (a writer
 * that did not honour the freeze): the generation is not switched to; the next run compacts the
 * day again from all its originals.
 */
export class FreezeViolationError extends CompactionError {}
