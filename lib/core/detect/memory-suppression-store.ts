/**
 * The suppression store in memory, with the same rule as the DynamoDB one (`claimable`, in
 * ./suppression.ts). For tests, the soak, and local runs that alert within one process.
 */
import type { SuppressionClaim, SuppressionStore } from './ports';
import { claimable, heldBy, type HeldClaim } from './suppression';

export class MemorySuppressionStore implements SuppressionStore {
  private readonly held = new Map<string, HeldClaim>();

  async claim(fingerprints: readonly string[], claim: SuppressionClaim): Promise<string[]> {
    const out: string[] = [];
    const record = heldBy(claim);
    for (const fp of fingerprints) {
      if (claimable(this.held.get(fp), claim)) {
        this.held.set(fp, record);
        out.push(fp);
      }
    }
    return out;
  }

  async release(fingerprints: readonly string[], runId: string): Promise<void> {
    for (const fp of fingerprints) if (this.held.get(fp)?.runId === runId) this.held.delete(fp);
  }
}
