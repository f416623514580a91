/**
 * The suppression store in memory, with the same rules as the DynamoDB one (claims expire at the end
 * of the window, rounded up to a whole second like DynamoDB TTL; a run may re-claim its own claims).
 * For tests and for local runs that alert within one process.
 */
import type { SuppressionClaim, SuppressionStore } from './ports';

interface Held {
  readonly runId: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/** Claim expiry in epoch seconds (DynamoDB TTL format): the end of the window, rounded up. */
export function claimExpiresAt(nowMs: number, windowMs: number): number {
  return Math.ceil((nowMs + windowMs) / 1000);
}

/** Whether a claim expiring at `expiresAt` (epoch seconds) has expired at `nowMs`. */
export function claimExpired(expiresAt: number, nowMs: number): boolean {
  return expiresAt <= Math.floor(nowMs / 1000);
}

export class MemorySuppressionStore implements SuppressionStore {
  private readonly held = new Map<string, Held>();

  async claim(fingerprints: readonly string[], claim: SuppressionClaim): Promise<string[]> {
    const out: string[] = [];
    for (const fp of fingerprints) {
      const h = this.held.get(fp);
      if (h === undefined || claimExpired(h.expiresAt, claim.nowMs) || h.runId === claim.runId) {
        this.held.set(fp, { runId: claim.runId, expiresAt: claimExpiresAt(claim.nowMs, claim.windowMs) });
        out.push(fp);
      }
    }
    return out;
  }

  async release(fingerprints: readonly string[], runId: string): Promise<void> {
    for (const fp of fingerprints) if (this.held.get(fp)?.runId === runId) this.held.delete(fp);
  }
}
