/**
 * The reconciliation sweep lines: how far behind the watermark each sweeps, and the store key under
 * which each keeps its progress. Owned here, not by the sweep, because the compaction (which must not
 * compact a day a sweep line may still add to), the configuration and the CLI read them too.
 */
import { assertOrgLabel } from './layout';
import { DAY, HOUR, MINUTE } from './time';

/** The default sweep offsets: one hour and one day behind the watermark. */
export const DEFAULT_SWEEP_OFFSETS_MS: readonly number[] = [HOUR, DAY];

/** The store key under which the sweep line `offsetMs` of `org` keeps its progress. */
export function sweepLineKey(org: string, offsetMs: number): string {
  return assertOrgLabel(`${org}.reconcile-${Math.round(offsetMs / MINUTE)}m`);
}
