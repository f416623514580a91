/**
 * The lease rules every `WatermarkStore` follows, as pure functions over one stored record per org.
 * The in-memory store and the file store apply them directly; the DynamoDB store expresses the same
 * rules as condition expressions (see `lib/adapters/dynamodb-watermark-store.ts`), and one contract
 * test suite checks all three behave alike.
 *
 * Rules:
 * - a lease is free when there is no record, no owner, or `leaseExpiresAt < nowMs`; the current owner
 *   may always take it again (which bumps the version and so invalidates its older lease objects);
 * - every write increments `version`;
 * - a checkpoint is accepted only when both the owner and the version match the stored ones (an
 *   expired lease that nobody took over is still accepted: nothing else has written meanwhile);
 * - a release removes the owner and the expiry only when owner and version still match.
 */
import { LeaseLostError } from './errors';
import type { IngestState, Lease, WindowProgress } from './ports';

/** What a store keeps for one org: the ingest state plus the lease bookkeeping. */
export interface StoredOrgRecord {
  readonly org: string;
  /** Incremented on every write. */
  readonly version: number;
  readonly leaseOwner?: string;
  /** Epoch milliseconds. */
  readonly leaseExpiresAt?: number;
  readonly watermark?: string;
  readonly window?: WindowProgress;
  readonly totalEvents: number;
  readonly totalQuarantined: number;
  readonly updatedAt?: string;
}

export interface AcquireOutcome {
  readonly record: StoredOrgRecord;
  readonly lease: Lease;
  readonly state: IngestState;
}

export interface CheckpointOutcome {
  readonly record: StoredOrgRecord;
  readonly lease: Lease;
}

function assertNonEmpty(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new RangeError(`${name} must be a non-empty string`);
  }
}

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
}

/** Checks the arguments of `acquire`/`checkpoint` with specific messages. */
export function assertLeaseArgs(org: string, owner: string, ttlMs: number, nowMs: number): void {
  assertNonEmpty('org', org);
  assertNonEmpty('lease owner', owner);
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`lease ttlMs must be a positive integer number of milliseconds, got ${String(ttlMs)}`);
  }
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) {
    throw new RangeError(`nowMs must be a non-negative integer (epoch milliseconds), got ${String(nowMs)}`);
  }
}

/** Checks that `state` can be stored under `lease`. */
export function assertStateForLease(lease: Lease, state: IngestState): void {
  if (state.org !== lease.org) {
    throw new RangeError(`state of org "${state.org}" cannot be checkpointed under the lease of org "${lease.org}"`);
  }
  assertCount('totalEvents', state.totalEvents);
  assertCount('totalQuarantined', state.totalQuarantined);
  if (state.watermark !== undefined) assertNonEmpty('watermark', state.watermark);
  const w = state.window;
  if (w !== undefined) {
    assertNonEmpty('window.start', w.start);
    assertNonEmpty('window.end', w.end);
    if (w.nextUrl !== undefined) assertNonEmpty('window.nextUrl', w.nextUrl);
    assertCount('window.pagesWritten', w.pagesWritten);
    assertCount('window.eventsWritten', w.eventsWritten);
    if (w.checkedUntil !== undefined) assertNonEmpty('window.checkedUntil', w.checkedUntil);
  }
}

/** A copy of `w` without `undefined`-valued optional fields. */
export function copyWindow(w: WindowProgress): WindowProgress {
  return {
    start: w.start,
    end: w.end,
    ...(w.nextUrl !== undefined ? { nextUrl: w.nextUrl } : {}),
    pagesWritten: w.pagesWritten,
    eventsWritten: w.eventsWritten,
    ...(w.checkedUntil !== undefined ? { checkedUntil: w.checkedUntil } : {}),
  };
}

/** The ingest state held in a record (a fresh object; optional fields absent rather than undefined). */
export function stateOfRecord(record: StoredOrgRecord): IngestState {
  return {
    org: record.org,
    ...(record.watermark !== undefined ? { watermark: record.watermark } : {}),
    ...(record.window !== undefined ? { window: copyWindow(record.window) } : {}),
    totalEvents: record.totalEvents,
    totalQuarantined: record.totalQuarantined,
    ...(record.updatedAt !== undefined ? { updatedAt: record.updatedAt } : {}),
  };
}

/** Whether `owner` may take the lease of `record` at `nowMs`. */
export function isLeaseAvailable(record: StoredOrgRecord | undefined, owner: string, nowMs: number): boolean {
  if (record === undefined || record.leaseOwner === undefined) return true;
  if (record.leaseOwner === owner) return true;
  return record.leaseExpiresAt !== undefined && record.leaseExpiresAt < nowMs;
}

/** Takes the lease, or returns `undefined` when another owner holds an unexpired one. */
export function acquireRecord(
  record: StoredOrgRecord | undefined,
  org: string,
  owner: string,
  ttlMs: number,
  nowMs: number,
): AcquireOutcome | undefined {
  assertLeaseArgs(org, owner, ttlMs, nowMs);
  if (record !== undefined && record.org !== org) {
    throw new RangeError(`stored record of org "${record.org}" was looked up for org "${org}"`);
  }
  if (!isLeaseAvailable(record, owner, nowMs)) return undefined;
  const base: StoredOrgRecord = record ?? { org, version: 0, totalEvents: 0, totalQuarantined: 0 };
  const next: StoredOrgRecord = { ...base, version: base.version + 1, leaseOwner: owner, leaseExpiresAt: nowMs + ttlMs };
  return {
    record: next,
    lease: { org, owner, expiresAt: nowMs + ttlMs, version: next.version },
    state: stateOfRecord(next),
  };
}

/** Whether `lease` is still the one `record` holds (same owner, same version). */
export function holdsLease(record: StoredOrgRecord | undefined, lease: Lease): record is StoredOrgRecord {
  return record !== undefined && record.leaseOwner === lease.owner && record.version === lease.version;
}

/**
 * Stores `state` in a new record and extends the lease. `updatedAt` is taken from `state`, or set to
 * `nowMs` when the state has none. Throws `LeaseLostError` when `lease` is no longer the current one.
 */
export function checkpointRecord(
  record: StoredOrgRecord | undefined,
  lease: Lease,
  state: IngestState,
  ttlMs: number,
  nowMs: number,
): CheckpointOutcome {
  assertLeaseArgs(lease.org, lease.owner, ttlMs, nowMs);
  assertStateForLease(lease, state);
  if (!holdsLease(record, lease)) {
    throw new LeaseLostError(
      `lease of org "${lease.org}" held by "${lease.owner}" at version ${lease.version} is no longer current`,
    );
  }
  const expiresAt = nowMs + ttlMs;
  const next: StoredOrgRecord = {
    org: record.org,
    version: record.version + 1,
    leaseOwner: lease.owner,
    leaseExpiresAt: expiresAt,
    ...(state.watermark !== undefined ? { watermark: state.watermark } : {}),
    ...(state.window !== undefined ? { window: copyWindow(state.window) } : {}),
    totalEvents: state.totalEvents,
    totalQuarantined: state.totalQuarantined,
    updatedAt: state.updatedAt ?? new Date(nowMs).toISOString(),
  };
  return { record: next, lease: { org: lease.org, owner: lease.owner, expiresAt, version: next.version } };
}

/** The record without the lease, or `undefined` when `lease` is no longer current (nothing to change). */
export function releaseRecord(record: StoredOrgRecord | undefined, lease: Lease): StoredOrgRecord | undefined {
  if (!holdsLease(record, lease)) return undefined;
  return {
    org: record.org,
    version: record.version + 1,
    ...(record.watermark !== undefined ? { watermark: record.watermark } : {}),
    ...(record.window !== undefined ? { window: copyWindow(record.window) } : {}),
    totalEvents: record.totalEvents,
    totalQuarantined: record.totalQuarantined,
    ...(record.updatedAt !== undefined ? { updatedAt: record.updatedAt } : {}),
  };
}
