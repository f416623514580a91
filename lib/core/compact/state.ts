/**
 * The compaction state of an org, as writers need it: which days are frozen. A frozen day's
 * originals under `events/` are final (compaction lists them after a grace period); every later
 * write for that day goes under `late/` (`LATE_PREFIX`), where readers find it whether or not the
 * day has been compacted yet.
 */

/** Which org-days compaction has frozen (YYYY-MM-DD, UTC). */
export interface CompactionState {
  /**
   * The frozen days of `org`. Writers ask before each page they store; an answer may be at most
   * `FREEZE_GRACE_MS` old when the write lands (compaction waits that long after freezing a day
   * before it lists the day's originals).
   */
  frozenDays(org: string): Promise<ReadonlySet<string>>;
}

/** No day is frozen (a lake that is never compacted, or tests). */
export const noCompaction: CompactionState = {
  frozenDays: async () => new Set<string>(),
};

/**
 * How long compaction waits between freezing a day and listing its originals. Longer than any run
 * that could have read the state before the freeze and still be writing (a Lambda function runs
 * at most 15 minutes).
 */
export const FREEZE_GRACE_MS = 20 * 60_000;
