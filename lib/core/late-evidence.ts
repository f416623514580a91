/**
 * Late evidence: ranges of event time (`published`) that received events after the scheduled
 * detections may already have evaluated them. The reconciliation sweep and `okta-lake import` record a
 * range for every page of events they add; each scheduled detection re-evaluates every range it has
 * not seen yet (see lib/core/detect/plan.ts), so evidence that arrives late is still evaluated, once.
 *
 * The ranges of one org form a short log ordered by `seq`. A detection remembers the highest `seq` it
 * has re-evaluated (its cursor's `lateSeq`), so the log needs no per-detection bookkeeping on the
 * writing side and a detection added later simply starts at the log's newest `seq`.
 */
import { ConfigError } from './errors';

/** One range of `published` time that received late events. */
export interface LateRange {
  /** Position in the org's log; increases with every recorded range. */
  readonly seq: number;
  /** Earliest and latest `published` of the late events (epoch ms, inclusive). */
  readonly fromMs: number;
  readonly toMs: number;
  /** When the range was recorded (epoch ms). */
  readonly recordedAtMs: number;
  /** Largest `ingested_at - published` among its events (how late the evidence arrived), in ms. */
  readonly maxDelayMs: number;
}

/** The late-evidence log of one org, as stored. */
export interface LateLog {
  /** Ranges in `seq` order. */
  readonly ranges: readonly LateRange[];
  /** Highest `seq` ever given (0 before the first). */
  readonly lastSeq: number;
  /** Ranges up to this `seq` were dropped from the log (kept too long or too many). 0 when none. */
  readonly droppedThroughSeq: number;
}

export const EMPTY_LATE_LOG: LateLog = { ranges: [], lastSeq: 0, droppedThroughSeq: 0 };

/** What a writer records: the `published` span of the events it added and how late they were. */
export interface LateEvidence {
  readonly fromMs: number;
  readonly toMs: number;
  readonly maxDelayMs: number;
}

/** Where the sweep and imports record late evidence (DynamoDB in AWS, the lake's state folder locally). */
export interface LateEvidenceLog {
  /** Appends one range to the org's log (see `appendLateRange` for merging and pruning). */
  record(org: string, evidence: LateEvidence, nowMs: number): Promise<void>;
  /** The org's log (empty when nothing was recorded). */
  lateLog(org: string): Promise<LateLog>;
}

/** Ranges are kept this long after they were recorded; a detection that falls further behind is told so. */
export const LATE_RANGE_RETENTION_MS = 30 * 24 * 3_600_000;
/** At most this many ranges per org (a DynamoDB item stays far below its 400 KB limit). */
export const MAX_LATE_RANGES = 500;

function assertEvidence(e: LateEvidence): void {
  if (!Number.isFinite(e.fromMs) || !Number.isFinite(e.toMs) || e.fromMs > e.toMs) {
    throw new ConfigError(`a late-evidence range needs fromMs <= toMs, got ${e.fromMs}..${e.toMs}`);
  }
  if (!(Number.isFinite(e.maxDelayMs) && e.maxDelayMs >= 0)) throw new ConfigError(`maxDelayMs must be >= 0, got ${e.maxDelayMs}`);
}

/**
 * The log with `evidence` appended under a new `seq`. A range inside the newest one (the same
 * evidence recorded again: a retried sweep window or import) is not added; any other range is, even
 * when it touches the newest one, since a detection that had re-evaluated the newest would otherwise
 * re-evaluate the union again. Ranges recorded more than `LATE_RANGE_RETENTION_MS` ago, and the
 * oldest beyond `MAX_LATE_RANGES`, are dropped and counted in `droppedThroughSeq`.
 */
export function appendLateRange(log: LateLog, evidence: LateEvidence, nowMs: number): LateLog {
  assertEvidence(evidence);
  const newest = log.ranges[log.ranges.length - 1];
  if (newest !== undefined && evidence.fromMs >= newest.fromMs && evidence.toMs <= newest.toMs && evidence.maxDelayMs <= newest.maxDelayMs) return log;
  const seq = log.lastSeq + 1;
  const ranges = [...log.ranges, { seq, fromMs: evidence.fromMs, toMs: evidence.toMs, recordedAtMs: nowMs, maxDelayMs: evidence.maxDelayMs }];
  let dropped = log.droppedThroughSeq;
  while (ranges.length > 0 && (ranges.length > MAX_LATE_RANGES || ranges[0].recordedAtMs < nowMs - LATE_RANGE_RETENTION_MS)) {
    dropped = Math.max(dropped, ranges[0].seq);
    ranges.shift();
  }
  return { ranges, lastSeq: seq, droppedThroughSeq: dropped };
}

/** The late evidence of some written events: their `published` span and largest delay, or undefined when none. */
export function lateEvidenceOf(publishedMs: Iterable<number>, ingestedAtMs: number): LateEvidence | undefined {
  let fromMs = Infinity;
  let toMs = -Infinity;
  for (const p of publishedMs) {
    if (!Number.isFinite(p)) continue;
    if (p < fromMs) fromMs = p;
    if (p > toMs) toMs = p;
  }
  if (fromMs > toMs) return undefined;
  return { fromMs, toMs, maxDelayMs: Math.max(0, ingestedAtMs - fromMs) };
}

/** The late-evidence log in memory (tests, the soak, and the local replay). */
export class MemoryLateEvidenceLog implements LateEvidenceLog {
  private readonly logs = new Map<string, LateLog>();

  async record(org: string, evidence: LateEvidence, nowMs: number): Promise<void> {
    this.logs.set(org, appendLateRange(this.logs.get(org) ?? EMPTY_LATE_LOG, evidence, nowMs));
  }

  async lateLog(org: string): Promise<LateLog> {
    return this.logs.get(org) ?? EMPTY_LATE_LOG;
  }
}
