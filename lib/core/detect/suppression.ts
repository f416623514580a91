/**
 * The suppression rule shared by every `SuppressionStore`: when a claim stops suppressing, and how
 * long its record is kept. Two clocks are involved:
 * - event time: a finding claimed by an evaluation at instant `atMs` is not claimed again by an
 *   evaluation at any instant before `atMs + windowMs` (`suppressUntil`), however late that
 *   evaluation runs (a re-evaluation of late evidence, a catch-up after an outage);
 * - wall-clock time: the record is kept until `nowMs + windowMs + retainMs` (`expiresAt`, the
 *   DynamoDB TTL attribute), then it may be deleted and stops suppressing.
 * Both are whole epoch seconds, rounded up, as DynamoDB TTL stores them.
 */
import type { SuppressionClaim } from './ports';

export interface ClaimTimes {
  /** Epoch seconds: evaluations at instants before this are suppressed. */
  readonly suppressUntil: number;
  /** Epoch seconds: the record is kept until then (TTL). */
  readonly expiresAt: number;
  /** The claim's instant and wall clock, in whole seconds (what conditions compare against). */
  readonly atSeconds: number;
  readonly nowSeconds: number;
}

export function claimTimes(claim: SuppressionClaim): ClaimTimes {
  const atMs = claim.atMs ?? claim.nowMs;
  const suppressUntil = Math.ceil((atMs + claim.windowMs) / 1000);
  const expiresAt = Math.max(suppressUntil, Math.ceil((claim.nowMs + claim.windowMs + (claim.retainMs ?? 0)) / 1000));
  return { suppressUntil, expiresAt, atSeconds: Math.floor(atMs / 1000), nowSeconds: Math.floor(claim.nowMs / 1000) };
}

/**
 * A stored claim, as the rule reads it. `suppressUntil` and `atSeconds` are missing on records
 * written before they existed.
 */
export interface HeldClaim {
  readonly runId: string;
  readonly expiresAt: number;
  readonly suppressUntil?: number;
  /** The instant of the evaluation that claimed it, epoch seconds. */
  readonly atSeconds?: number;
}

/**
 * Whether `claim` may take a fingerprint held as `held`: none held, kept no longer, no longer
 * suppressing, or held by the same run (a retried invocation redoing an evaluation whose publish may
 * not have happened: losing an alert is worse than sending it twice). Within one run, the runner
 * itself never alerts a finding twice.
 */
export function claimable(held: HeldClaim | undefined, claim: SuppressionClaim): boolean {
  if (held === undefined || held.runId === claim.runId) return true;
  const t = claimTimes(claim);
  return held.expiresAt <= t.nowSeconds || (held.suppressUntil !== undefined && held.suppressUntil <= t.atSeconds);
}

/** The record a claim stores. */
export function heldBy(claim: SuppressionClaim): HeldClaim {
  const t = claimTimes(claim);
  return { runId: claim.runId, expiresAt: t.expiresAt, suppressUntil: t.suppressUntil, atSeconds: t.atSeconds };
}
