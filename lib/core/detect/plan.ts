/**
 * Which instants a scheduled detection evaluates, per org: the arithmetic of evaluation cursors.
 *
 * A detection's SQL reads `[current_timestamp - lookback, current_timestamp]` of `published`. The
 * runner pins `current_timestamp` to chosen instants (event time), never to the wall clock, so what
 * is evaluated depends on what the lake holds, not on when the run happens:
 *
 * - Schedule. From the cursor (the last instant evaluated) up to the org's ingestion watermark (every
 *   event published before it has been read once), in steps no longer than the detection's schedule:
 *   `c + s, c + 2s, ...` while before the watermark, then the watermark itself. Never past it. A run
 *   after an outage therefore evaluates every step of the outage, in order.
 * - Late evidence. For every range `[a, b]` of the org's late-evidence log not seen yet (events the
 *   sweep or an import added, published at `a..b`), the instants `a, a + s, ...` up to
 *   `min(b + lookback, cursor)`: every evaluation whose window holds one of those events, as far as
 *   the schedule has already gone (later ones are the schedule's).
 * - A new cursor (first deployment, a new detection or org) starts `initialBackfillMs` before the
 *   watermark: the part of a longer backfill before that is not evaluated, and the runner says so.
 *
 * Everything here is pure; the runner (./evaluate.ts) stores the cursor after each evaluation.
 */
import { ConfigError } from '../errors';
import type { LateLog, LateRange } from '../late-evidence';
import type { EvaluationCursor, StoredCursor } from './ports';

export interface DetectionTiming {
  /** The detection's schedule period: the longest step between two evaluated instants. */
  readonly scheduleMs: number;
  /** How far back the query reads from its instant. */
  readonly lookbackMs: number;
}

/** One evaluation to run: the detection's SQL at instant `atMs`. */
export interface PlannedEvaluation {
  readonly atMs: number;
  readonly kind: 'schedule' | 'late';
  /** For a late evaluation: the range it re-evaluates. */
  readonly late?: {
    readonly range: LateRange;
    /** This instant is the last the range needs: the cursor's `lateSeq` moves to `completesThroughSeq`. */
    readonly last: boolean;
    readonly completesThroughSeq: number;
  };
}

export interface OrgPlan {
  readonly org: string;
  /** The cursor the plan starts from (a new one when nothing was stored). */
  readonly cursor: EvaluationCursor;
  /** The stored version (0 when the cursor is new and must be written first). */
  readonly version: number;
  readonly isNew: boolean;
  readonly watermarkMs?: number;
  /** The evaluations due, in the order to run them (schedule first, then late evidence). */
  readonly evaluations: readonly PlannedEvaluation[];
  /** Late ranges not fully re-evaluated yet. */
  readonly lateRangesPending: number;
  /** Ranges the cursor had not seen were dropped from the log (it fell more than 30 days behind). */
  readonly lateRangesLost: boolean;
}

export interface PlanOrgInput {
  readonly org: string;
  readonly timing: DetectionTiming;
  /** The org's ingestion watermark; nothing is planned without one. */
  readonly watermarkMs: number | undefined;
  readonly stored: StoredCursor | undefined;
  readonly lateLog: LateLog;
  /** Where a new cursor starts: this long before the watermark. */
  readonly initialBackfillMs: number;
}

/** The instants after `fromMs` up to `toMs`, at most `stepMs` apart, the last one `toMs`; empty when `toMs <= fromMs`. */
export function stepInstants(fromMs: number, toMs: number, stepMs: number): number[] {
  if (!(stepMs > 0)) throw new ConfigError(`the step must be more than 0, got ${stepMs}`);
  const out: number[] = [];
  for (let t = fromMs + stepMs; t < toMs; t += stepMs) out.push(t);
  if (toMs > fromMs) out.push(toMs);
  return out;
}

function assertTiming(t: DetectionTiming): void {
  if (!(Number.isSafeInteger(t.scheduleMs) && t.scheduleMs > 0)) throw new ConfigError(`scheduleMs must be a whole number of ms above 0, got ${t.scheduleMs}`);
  if (!(Number.isSafeInteger(t.lookbackMs) && t.lookbackMs >= t.scheduleMs)) {
    throw new ConfigError(`lookbackMs must be at least the schedule (${t.scheduleMs} ms), got ${t.lookbackMs}`);
  }
}

/** The evaluations one org needs for one detection (see the module comment). */
export function planOrg(input: PlanOrgInput): OrgPlan {
  assertTiming(input.timing);
  const { scheduleMs, lookbackMs } = input.timing;
  const w = input.watermarkMs;
  const lastSeq = input.lateLog.lastSeq;
  if (input.stored === undefined) {
    if (w === undefined) {
      return { org: input.org, cursor: { evaluatedThroughMs: 0, lateSeq: lastSeq }, version: 0, isNew: true, evaluations: [], lateRangesPending: 0, lateRangesLost: false };
    }
    const start: EvaluationCursor = { evaluatedThroughMs: w - input.initialBackfillMs, lateSeq: lastSeq };
    return {
      org: input.org,
      cursor: start,
      version: 0,
      isNew: true,
      watermarkMs: w,
      evaluations: stepInstants(start.evaluatedThroughMs, w, scheduleMs).map((atMs) => ({ atMs, kind: 'schedule' as const })),
      lateRangesPending: 0,
      lateRangesLost: false,
    };
  }

  let cursor = input.stored.cursor;
  const c = cursor.evaluatedThroughMs;
  const evaluations: PlannedEvaluation[] =
    w === undefined ? [] : stepInstants(c, w, scheduleMs).map((atMs) => ({ atMs, kind: 'schedule' as const }));

  const pending = input.lateLog.ranges.filter((r) => r.seq > cursor.lateSeq);
  const lateRangesLost = input.lateLog.droppedThroughSeq > cursor.lateSeq;
  let lastLate: number | undefined;
  for (const range of pending) {
    const end = Math.min(range.toMs + lookbackMs, c);
    const resume = cursor.lateProgress?.seq === range.seq ? cursor.lateProgress.throughMs : undefined;
    const instants =
      range.fromMs > end ? [] : resume !== undefined ? stepInstants(resume, end, scheduleMs) : [range.fromMs, ...stepInstants(range.fromMs, end, scheduleMs)];
    if (instants.length === 0) {
      // Nothing of this range is behind the cursor (or it was finished): done without a query.
      if (lastLate === undefined) cursor = { evaluatedThroughMs: cursor.evaluatedThroughMs, lateSeq: range.seq };
      else {
        const previous = evaluations[lastLate];
        evaluations[lastLate] = { ...previous, late: { ...previous.late!, completesThroughSeq: range.seq } };
      }
      continue;
    }
    instants.forEach((atMs, i) => {
      const last = i === instants.length - 1;
      evaluations.push({ atMs, kind: 'late', late: { range, last, completesThroughSeq: range.seq } });
    });
    lastLate = evaluations.length - 1;
  }
  return {
    org: input.org,
    cursor,
    version: input.stored.version,
    isNew: false,
    ...(w !== undefined ? { watermarkMs: w } : {}),
    evaluations,
    lateRangesPending: new Set(evaluations.filter((e) => e.late).map((e) => e.late!.range.seq)).size,
    lateRangesLost,
  };
}

/** The cursor after `evaluation` succeeded (its findings published, or none). */
export function advanceCursor(cursor: EvaluationCursor, evaluation: PlannedEvaluation): EvaluationCursor {
  if (evaluation.kind === 'schedule') {
    return { ...cursor, evaluatedThroughMs: Math.max(cursor.evaluatedThroughMs, evaluation.atMs) };
  }
  const late = evaluation.late!;
  if (late.last) return { evaluatedThroughMs: cursor.evaluatedThroughMs, lateSeq: Math.max(cursor.lateSeq, late.completesThroughSeq) };
  return { ...cursor, lateProgress: { seq: late.range.seq, throughMs: evaluation.atMs } };
}

/**
 * The evaluations of a run: round-robin over the orgs (each org's next evaluation in turn), at most
 * `max`, so an org with a long backlog never holds back another org's current evaluation.
 */
export function interleave(plans: readonly OrgPlan[], max: number): { readonly org: string; readonly evaluation: PlannedEvaluation }[] {
  const out: { org: string; evaluation: PlannedEvaluation }[] = [];
  for (let round = 0; out.length < max; round++) {
    let any = false;
    for (const plan of plans) {
      const evaluation = plan.evaluations[round];
      if (evaluation === undefined) continue;
      any = true;
      if (out.length < max) out.push({ org: plan.org, evaluation });
    }
    if (!any) break;
  }
  return out;
}
