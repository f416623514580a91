/**
 * One run of a scheduled detection over every org: for each org, the evaluations its cursor and its
 * late-evidence log call for (./plan.ts), each one the detection's SQL pinned at the evaluation's
 * instant and scoped to the org, executed by an `EvaluationEngine` (Athena, or DuckDB locally). After
 * each evaluation the new findings are claimed (event-time suppression, ./suppression.ts), published
 * as one message, and only then is the org's cursor moved past that instant. So every stored event is
 * evaluated by every run of the schedule that would have seen it, however late it arrived, and each
 * finding is alerted once.
 *
 * Losing an alert is worse than sending one twice, so:
 * - claims are taken before publishing (two racing runs never both alert on one finding) and given
 *   back when the publish fails; the cursor does not move, so the next run evaluates that instant
 *   again and alerts;
 * - a retried invocation (same run id) may re-claim its own claims and publish again;
 * - when the suppression store itself fails, the evaluation publishes every finding (fail open) and
 *   the run then fails, so the failure is seen;
 * - a cursor write that finds another run moved the cursor stops that org for this run (the other run
 *   goes on from there; claims keep either from alerting twice).
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../errors';
import { scopeTable, pinNow, type TableScope } from '../sql/rewrite';
import type { LateEvidenceLog } from '../late-evidence';
import { TABLE_NAME } from '../layout';
import { silentReporter, systemClock, type Clock, type Reporter, type TimeBudget } from '../ports';
import { DetectionPublishError, DetectionSuppressionError, EvaluationStoreError } from './errors';
import { describeError, type EvaluationEngine } from './engine';
import { assertFindingKeyColumns, fingerprint } from './fingerprint';
import type { DetectionInput } from './input';
import { formatBody, formatSubject, type EvaluationContext } from './message';
import { advanceCursor, interleave, planOrg, type DetectionTiming, type OrgPlan, type PlannedEvaluation } from './plan';
import type { EvaluationCursor, EvaluationCursorStore, Notification, Notifier, ResultRow, SuppressionStore, WatermarkReader } from './ports';
import { DAY } from '../time';

/** @default evaluations per run, over all orgs */
export const DEFAULT_MAX_EVALUATIONS_PER_RUN = 48;
/** @default where a new cursor starts: one day before the watermark */
export const DEFAULT_INITIAL_BACKFILL_MS = DAY;
/** @default how long a claim is kept past its window, for late re-evaluations */
export const DEFAULT_CLAIM_RETAIN_MS = 7 * DAY;

/** The detection to evaluate: its input (payload), the SQL text to run and its timing. */
export interface ScheduledDetection {
  readonly input: DetectionInput;
  /** The query text (the named query's, verified against the deployed text; or the file's, locally). */
  readonly sql: string;
  /** Name of the query (the named query's name), for the message. */
  readonly queryName: string;
  readonly timing: DetectionTiming;
}

export interface EvaluateDeps {
  readonly engine: EvaluationEngine;
  readonly suppression: SuppressionStore;
  readonly notifier: Notifier;
  readonly cursors: EvaluationCursorStore;
  readonly watermarks: WatermarkReader;
  readonly lateEvidence: Pick<LateEvidenceLog, 'lateLog'>;
  /** The orgs to evaluate (the lake's `org` partitions). */
  readonly orgs: readonly string[];
  /** Milliseconds left in the run, and the margin kept for publishing. @default no limit */
  readonly timeBudget?: TimeBudget;
  /** Evaluations per run over all orgs; the rest resume on the next run. @default 48 */
  readonly maxEvaluationsPerRun?: number;
  /** Where a new cursor starts, before the watermark. @default 1 day */
  readonly initialBackfillMs?: number;
  /** Claims are kept this long past their window. @default 7 days */
  readonly claimRetainMs?: number;
  /** Further scope of what an evaluation reads (the replay reads the lake as it was at `runAtMs`). */
  readonly scopeOf?: (org: string, evaluation: PlannedEvaluation) => Omit<TableScope, 'org'>;
  /** Where the message's console link points: workgroup and query execution. */
  readonly workGroup?: string;
  /** Unique id of this invocation (the Lambda request id, kept across retries). @default a random UUID */
  readonly runId?: string;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default silent */
  readonly reporter?: Reporter;
  /** Widest table cell in the message, in characters. @default 40 */
  readonly maxCellWidth?: number;
}

/** New findings of one evaluation, as they were alerted. */
export interface Alert {
  readonly org: string;
  /** The evaluated instant (ISO-8601). */
  readonly evaluatedAt: string;
  readonly kind: PlannedEvaluation['kind'];
  /** How long after the evaluated instant the evaluation ran (ms): the detection's delay. */
  readonly delayMs: number;
  /** For a late re-evaluation: how late the evidence reached the lake, at most (ms). */
  readonly evidenceDelayMs?: number;
  readonly executionId: string;
  readonly columns: readonly string[];
  readonly findings: readonly ResultRow[];
  readonly messageId?: string;
}

export interface OrgStatus {
  readonly org: string;
  readonly watermark?: string;
  /** The cursor after the run (ISO-8601), when the org has one. */
  readonly evaluatedThrough?: string;
  /**
   * How far the detection is behind what the lake holds, after the run (ms): the watermark minus the
   * cursor, or, when longer, how long the oldest late-evidence range still waiting has waited.
   */
  readonly lagMs?: number;
  readonly evaluations: number;
  readonly lateRangesPending: number;
  readonly lateRangesLost: boolean;
  /** The cursor was created by this run, starting here (events before it are not evaluated). */
  readonly startedAt?: string;
}

export type EvaluateOutcome = 'caught-up' | 'limit' | 'time-budget' | 'lost-race';

export interface DetectionResult {
  readonly detectionId: string;
  readonly queryName: string;
  readonly outcome: EvaluateOutcome;
  readonly evaluations: number;
  /** Result rows over all evaluations (the header row not counted). */
  readonly rows: number;
  /** Distinct findings over all evaluations (a finding found by two evaluations counts twice). */
  readonly findings: number;
  /** Findings alerted by this run. */
  readonly newFindings: number;
  /** Findings already alerted (by this detection, for an instant within the suppression window). */
  readonly suppressed: number;
  /** Whether any message was published. */
  readonly published: boolean;
  readonly messageId?: string;
  readonly executionId?: string;
  readonly dataScannedBytes?: number;
  readonly orgs: readonly OrgStatus[];
  readonly alerts: readonly Alert[];
}

interface OrgState {
  readonly plan: OrgPlan;
  cursor: EvaluationCursor;
  version: number;
  evaluations: number;
  lateDone: Set<number>;
  stopped: boolean;
  /** The stored cursor's `lateSeq` (undefined when none is stored). */
  readonly storedLateSeq?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export async function evaluateSchedule(detection: ScheduledDetection, deps: EvaluateDeps): Promise<DetectionResult> {
  const { input, timing } = detection;
  const { detectionId } = input;
  const clock = deps.clock ?? systemClock;
  const reporter = deps.reporter ?? silentReporter;
  const runId = deps.runId ?? randomUUID();
  const max = deps.maxEvaluationsPerRun ?? DEFAULT_MAX_EVALUATIONS_PER_RUN;
  const initialBackfillMs = deps.initialBackfillMs ?? DEFAULT_INITIAL_BACKFILL_MS;
  const retainMs = deps.claimRetainMs ?? DEFAULT_CLAIM_RETAIN_MS;
  if (!(Number.isSafeInteger(max) && max >= 1)) throw new ConfigError(`maxEvaluationsPerRun must be a whole number of at least 1, got ${max}`);
  if (!(Number.isSafeInteger(initialBackfillMs) && initialBackfillMs >= 0)) throw new ConfigError(`initialBackfillMs must be >= 0, got ${initialBackfillMs}`);
  if (new Set(deps.orgs).size !== deps.orgs.length) throw new ConfigError('the orgs to evaluate must be distinct');

  // Plan every org.
  const states: OrgState[] = [];
  for (const org of deps.orgs) {
    let watermarkMs: number | undefined;
    let stored;
    let lateLog;
    try {
      [watermarkMs, stored, lateLog] = await Promise.all([deps.watermarks.watermark(org), deps.cursors.read(org, detectionId), deps.lateEvidence.lateLog(org)]);
    } catch (error) {
      throw new EvaluationStoreError(`detection "${detectionId}": could not read where org ${org} stands (${describeError(error)})`, { cause: error });
    }
    const plan = planOrg({ org, timing, watermarkMs, stored, lateLog, initialBackfillMs });
    if (plan.lateRangesLost) {
      reporter.warn('late-evidence ranges this detection had not re-evaluated were dropped from the log (the detection fell more than 30 days behind)', { detectionId, org });
    }
    if (plan.isNew && plan.watermarkMs !== undefined) {
      reporter.warn('new evaluation cursor: events published before its start are not evaluated by the schedule (replay them with okta-lake hunt --since, or raise the initial backfill)', {
        detectionId,
        org,
        startsAt: iso(plan.cursor.evaluatedThroughMs),
        watermark: iso(plan.watermarkMs),
      });
    }
    states.push({
      plan,
      cursor: plan.cursor,
      version: plan.version,
      evaluations: 0,
      lateDone: new Set(),
      stopped: false,
      ...(stored !== undefined ? { storedLateSeq: stored.cursor.lateSeq } : {}),
    });
  }

  const save = async (state: OrgState, next: EvaluationCursor): Promise<boolean> => {
    let version: number | undefined;
    try {
      version = await deps.cursors.write(state.plan.org, detectionId, next, state.version, clock.now());
    } catch (error) {
      throw new EvaluationStoreError(`detection "${detectionId}": could not store the evaluation cursor of org ${state.plan.org} (${describeError(error)})`, { cause: error });
    }
    if (version === undefined) {
      state.stopped = true;
      reporter.warn('another run moved the evaluation cursor: this run stops evaluating the org', { detectionId, org: state.plan.org });
      return false;
    }
    state.cursor = next;
    state.version = version;
    return true;
  };

  // A cursor the plan created or moved without a query (late ranges with nothing behind the
  // cursor) is stored now when no evaluation will store it.
  for (const state of states) {
    if (state.plan.evaluations.length > 0 || state.plan.watermarkMs === undefined) continue;
    if (state.plan.isNew || state.plan.cursor.lateSeq !== state.storedLateSeq) await save(state, state.cursor);
  }

  const marginMs = deps.timeBudget?.marginMs ?? 0;
  const timeLeft = (): number => (deps.timeBudget === undefined ? Infinity : deps.timeBudget.remainingMs() - marginMs);
  const queue = interleave(states.map((s) => s.plan), max);
  const byOrg = new Map(states.map((s) => [s.plan.org, s]));

  let outcome: EvaluateOutcome = 'caught-up';
  let rows = 0;
  let findings = 0;
  let newFindings = 0;
  let suppressed = 0;
  let dataScannedBytes: number | undefined;
  let executionId: string | undefined;
  let messageId: string | undefined;
  let suppressionError: unknown;
  const alerts: Alert[] = [];
  let evaluations = 0;
  /** Fingerprints this run alerted: a later evaluation of the same run that finds one again is not an alert. */
  const alertedByThisRun = new Set<string>();

  for (const { org, evaluation } of queue) {
    const state = byOrg.get(org)!;
    if (state.stopped) continue;
    // Out of time: stop cleanly, the next run resumes at the cursor. A run that could not make even
    // its first evaluation lets the engine raise its timeout: that is a misconfiguration, not a pause.
    if (timeLeft() <= 0 && evaluations > 0) {
      outcome = 'time-budget';
      break;
    }
    const atMs = evaluation.atMs;
    const sql = scopeTable(pinNow(detection.sql, new Date(atMs)), TABLE_NAME, { org, ...deps.scopeOf?.(org, evaluation) });
    const result = await deps.engine.run(sql, { detectionId });
    evaluations++;
    state.evaluations++;
    executionId = result.executionId;
    if (result.dataScannedBytes !== undefined) dataScannedBytes = (dataScannedBytes ?? 0) + result.dataScannedBytes;
    assertFindingKeyColumns(detectionId, input.findingKey, result.columns);
    rows += result.rows.length;

    const found = new Map<string, ResultRow>();
    for (const row of result.rows) {
      const fp = fingerprint(detectionId, input.findingKey, row);
      if (!found.has(fp)) found.set(fp, row);
    }
    findings += found.size;

    let fresh: string[] = [];
    const unseen = [...found.keys()].filter((fp) => !alertedByThisRun.has(fp));
    suppressed += found.size - unseen.length;
    if (unseen.length > 0) {
      const fingerprints = unseen;
      let claimed: readonly string[];
      try {
        claimed = await deps.suppression.claim(fingerprints, { runId, detectionId, nowMs: clock.now(), atMs, windowMs: input.suppressionWindowMs, retainMs });
      } catch (error) {
        suppressionError ??= error;
        claimed = fingerprints;
        reporter.warn('the suppression store failed: publishing every finding of this evaluation', { detectionId, org, executionId: result.executionId, error: describeError(error) });
      }
      const claimedSet = new Set(claimed);
      fresh = fingerprints.filter((fp) => claimedSet.has(fp));
      suppressed += fingerprints.length - fresh.length;
    }

    const ranAtMs = clock.now();
    const context: EvaluationContext = {
      org,
      evaluatedAt: iso(atMs),
      kind: evaluation.kind,
      delayMs: Math.max(0, ranAtMs - atMs),
      scheduleMs: timing.scheduleMs,
      ...(evaluation.late
        ? { lateRange: { from: iso(evaluation.late.range.fromMs), to: iso(evaluation.late.range.toMs), maxDelayMs: evaluation.late.range.maxDelayMs } }
        : {}),
    };
    if (fresh.length > 0) {
      const newRows = fresh.map((fp) => found.get(fp) as ResultRow);
      const notification: Notification = {
        subject: formatSubject(input.severity, input.title, fresh.length),
        message: formatBody({
          detectionId,
          title: input.title,
          severity: input.severity,
          description: input.description,
          runbook: input.runbook,
          findingKey: input.findingKey,
          namedQueryName: detection.queryName,
          workGroup: deps.workGroup ?? 'local',
          executionId: result.executionId,
          consoleRegion: input.consoleRegion,
          ranAt: iso(ranAtMs),
          columns: result.columns,
          newFindings: newRows,
          rows: result.rows.length,
          findings: found.size,
          suppressed: found.size - fresh.length,
          suppressionWindowMs: input.suppressionWindowMs,
          maxFindingsInMessage: input.maxFindingsInMessage,
          evaluation: context,
          ...(result.dataScannedBytes !== undefined ? { dataScannedBytes: result.dataScannedBytes } : {}),
          ...(suppressionError !== undefined ? { suppressionUnavailable: true } : {}),
          ...(deps.maxCellWidth !== undefined ? { maxCellWidth: deps.maxCellWidth } : {}),
        }),
        attributes: { severity: input.severity, detection_id: detectionId, org },
      };
      let published: string | undefined;
      try {
        published = (await deps.notifier.publish(notification)).messageId;
      } catch (publishError) {
        let released = false;
        let releaseError: unknown;
        try {
          await deps.suppression.release(fresh, runId);
          released = true;
        } catch (error) {
          releaseError = error;
          reporter.warn('could not release the suppression claims after the failed publish', { detectionId, executionId: result.executionId, error: describeError(error) });
        }
        throw new DetectionPublishError(
          `detection "${detectionId}": publishing the alert for ${fresh.length} new finding(s) of org ${org} at ${iso(atMs)} (query execution ${result.executionId}) failed ` +
            `(${describeError(publishError)}); the evaluation cursor stays before that instant, and ` +
            (released
              ? 'their claims were released, so the next run alerts on them again'
              : `their claims could not be released (${describeError(releaseError)}), so only a retry of this invocation alerts on them`),
          detectionId,
          result.executionId,
          released,
          { cause: publishError },
        );
      }
      messageId = published ?? messageId;
      newFindings += fresh.length;
      for (const fp of fresh) alertedByThisRun.add(fp);
      alerts.push({
        org,
        evaluatedAt: context.evaluatedAt,
        kind: evaluation.kind,
        delayMs: context.delayMs,
        ...(evaluation.late ? { evidenceDelayMs: evaluation.late.range.maxDelayMs } : {}),
        executionId: result.executionId,
        columns: result.columns,
        findings: newRows,
        ...(published !== undefined ? { messageId: published } : {}),
      });
      reporter.info('detection alert published', { detectionId, org, evaluatedAt: context.evaluatedAt, kind: evaluation.kind, newFindings: fresh.length, messageId: published });
    }

    const next = advanceCursor(state.cursor, evaluation);
    if (evaluation.late?.last) state.lateDone.add(evaluation.late.range.seq);
    if (!(await save(state, next))) outcome = 'lost-race';
  }
  if (outcome === 'caught-up' && states.some((s) => s.plan.evaluations.length > s.evaluations && !s.stopped)) outcome = 'limit';

  const orgs: OrgStatus[] = states.map((s) => {
    const w = s.plan.watermarkMs;
    const waiting = s.plan.evaluations.filter((e) => e.late && !s.lateDone.has(e.late.range.seq)).map((e) => e.late!.range);
    const pendingLate = new Set(waiting.map((r) => r.seq)).size;
    const lateWaitMs = waiting.length === 0 ? 0 : Math.max(0, clock.now() - Math.min(...waiting.map((r) => r.recordedAtMs)));
    const hasCursor = w !== undefined;
    return {
      org: s.plan.org,
      ...(w !== undefined ? { watermark: iso(w) } : {}),
      ...(hasCursor ? { evaluatedThrough: iso(s.cursor.evaluatedThroughMs), lagMs: Math.max(0, w - s.cursor.evaluatedThroughMs, lateWaitMs) } : {}),
      evaluations: s.evaluations,
      lateRangesPending: pendingLate,
      lateRangesLost: s.plan.lateRangesLost,
      ...(s.plan.isNew && w !== undefined ? { startedAt: iso(s.plan.cursor.evaluatedThroughMs) } : {}),
    };
  });
  reporter.info('detection run finished', { detectionId, outcome, evaluations, findings, newFindings, suppressed });

  const result: DetectionResult = {
    detectionId,
    queryName: detection.queryName,
    outcome,
    evaluations,
    rows,
    findings,
    newFindings,
    suppressed,
    published: alerts.length > 0,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(executionId !== undefined ? { executionId } : {}),
    ...(dataScannedBytes !== undefined ? { dataScannedBytes } : {}),
    orgs,
    alerts,
  };
  if (suppressionError !== undefined) {
    throw new DetectionSuppressionError(
      `detection "${detectionId}": the suppression store failed (${describeError(suppressionError)}); ` +
        `${newFindings} finding(s) were published without suppression, so some may repeat earlier alerts`,
      detectionId,
      executionId ?? 'none',
      true,
      { cause: suppressionError },
    );
  }
  return result;
}
