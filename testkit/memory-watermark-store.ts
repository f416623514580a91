/**
 * A `WatermarkStore` kept in memory, with the same lease semantics as the DynamoDB and file stores
 * (see `lib/core/lease.ts`). For domain tests; nothing survives the process.
 */
import { acquireRecord, checkpointRecord, releaseRecord, stateOfRecord, type StoredOrgRecord } from '../lib/core/lease';
import type { IngestState, Lease, WatermarkStore } from '../lib/core/ports';

export class MemoryWatermarkStore implements WatermarkStore {
  private readonly records = new Map<string, StoredOrgRecord>();

  async acquire(org: string, owner: string, ttlMs: number, nowMs: number): Promise<{ lease: Lease; state: IngestState } | undefined> {
    const outcome = acquireRecord(this.records.get(org), org, owner, ttlMs, nowMs);
    if (outcome === undefined) return undefined;
    this.records.set(org, outcome.record);
    return { lease: outcome.lease, state: outcome.state };
  }

  async checkpoint(lease: Lease, state: IngestState, ttlMs: number, nowMs: number): Promise<Lease> {
    const outcome = checkpointRecord(this.records.get(lease.org), lease, state, ttlMs, nowMs);
    this.records.set(lease.org, outcome.record);
    return outcome.lease;
  }

  async release(lease: Lease): Promise<void> {
    const next = releaseRecord(this.records.get(lease.org), lease);
    if (next !== undefined) this.records.set(lease.org, next);
  }

  /** The stored state of `org` without taking the lease (for tests and status displays). */
  peek(org: string): IngestState | undefined {
    const record = this.records.get(org);
    return record === undefined ? undefined : stateOfRecord(record);
  }
}
