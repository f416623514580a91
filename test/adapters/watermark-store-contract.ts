/**
 * The behaviour every WatermarkStore must have, as one suite run against each implementation
 * (memory, file, DynamoDB). Time is passed explicitly (`nowMs`), so no test waits for a lease to expire.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../lib/core/errors';
import type { IngestState, Lease, WatermarkStore } from '../../lib/core/ports';

export interface WatermarkStoreHandles {
  /** The store under test. */
  readonly store: WatermarkStore;
  /**
   * A second handle on the same storage, as another process would have (another client, another
   * instance over the same folder); may be `store` itself for the in-memory store.
   */
  readonly other: WatermarkStore;
}

const T0 = Date.parse('2024-05-01T00:00:00.000Z');
const TTL = 60_000;

/** A fresh org label per test, so tests sharing one table or folder never see each other's items. */
function freshOrg(): string {
  return `org-${randomBytes(5).toString('hex')}.okta.com`;
}

function progressed(org: string, overrides: Partial<IngestState> = {}): IngestState {
  return {
    org,
    watermark: '2024-04-30T23:55:00.000Z',
    window: {
      start: '2024-04-30T23:55:00.000Z',
      end: '2024-05-01T00:00:00.000Z',
      nextUrl: 'https://acme.okta.com/api/v1/logs?after=1714521600000_1&limit=1000',
      pagesWritten: 3,
      eventsWritten: 2_874,
    },
    totalEvents: 120_345,
    totalQuarantined: 2,
    updatedAt: '2024-05-01T00:00:00.500Z',
    ...overrides,
  };
}

/** A copy of `value` with `keys` absent (not set to undefined). */
function without<T extends object, K extends keyof T>(value: T, ...keys: K[]): Omit<T, K> {
  const copy: Partial<T> = { ...value };
  for (const key of keys) delete copy[key];
  return copy as Omit<T, K>;
}

async function mustAcquire(store: WatermarkStore, org: string, owner: string, nowMs: number): Promise<{ lease: Lease; state: IngestState }> {
  const got = await store.acquire(org, owner, TTL, nowMs);
  if (got === undefined) throw new Error(`expected ${owner} to acquire ${org}`);
  return got;
}

export function describeWatermarkStoreContract(name: string, handles: () => WatermarkStoreHandles): void {
  describe(`${name}: WatermarkStore contract`, () => {
    it('gives an empty state and a lease on the first acquire', async () => {
      // Prepare
      const { store } = handles();
      const org = freshOrg();
      // Act
      const got = await store.acquire(org, 'run-a', TTL, T0);
      // Assess
      expect(got).toBeDefined();
      expect(got?.state).toStrictEqual({ org, totalEvents: 0, totalQuarantined: 0 });
      expect(got?.lease).toMatchObject({ org, owner: 'run-a', expiresAt: T0 + TTL });
      expect(Number.isSafeInteger(got?.lease.version)).toBe(true);
    });

    it('refuses another owner while the lease is valid, up to and including its expiry instant', async () => {
      // Prepare
      const { store, other } = handles();
      const org = freshOrg();
      const a = await mustAcquire(store, org, 'run-a', T0);
      // Act
      const early = await other.acquire(org, 'run-b', TTL, T0 + 1);
      const atExpiry = await other.acquire(org, 'run-b', TTL, T0 + TTL);
      // Assess: refused, and the refusal changed nothing: the holder's lease still checkpoints
      expect(early).toBeUndefined();
      expect(atExpiry).toBeUndefined();
      await expect(store.checkpoint(a.lease, progressed(org), TTL, T0 + 10)).resolves.toMatchObject({ owner: 'run-a' });
    });

    it('lets another owner take an expired lease, after which the old owner cannot checkpoint', async () => {
      // Prepare
      const { store, other } = handles();
      const org = freshOrg();
      const a = await mustAcquire(store, org, 'run-a', T0);
      const saved = progressed(org);
      const aLease = await store.checkpoint(a.lease, saved, TTL, T0 + 1_000);
      // Act
      const b = await other.acquire(org, 'run-b', TTL, aLease.expiresAt + 1);
      // Assess
      expect(b?.state).toStrictEqual(saved);
      expect(b?.lease.owner).toBe('run-b');
      await expect(store.checkpoint(aLease, progressed(org, { totalEvents: 1 }), TTL, aLease.expiresAt + 2)).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      // the old owner's release neither throws nor frees the new owner's lease
      await expect(store.release(aLease)).resolves.toBeUndefined();
      expect(await store.acquire(org, 'run-c', TTL, aLease.expiresAt + 3)).toBeUndefined();
      const again = await mustAcquire(other, org, 'run-b', aLease.expiresAt + 4);
      expect(again.state).toStrictEqual(saved);
    });

    it('round-trips state with and without window, nextUrl and watermark', async () => {
      // Prepare
      const { store, other } = handles();
      const org = freshOrg();
      const first = await mustAcquire(store, org, 'run-a', T0);
      const full = progressed(org);
      const noNextUrl = progressed(org, {
        window: { start: '2024-05-01T00:00:00.000Z', end: '2024-05-01T00:05:00.000Z', pagesWritten: 0, eventsWritten: 0 },
      });
      const noWindowState = without(progressed(org, { watermark: '2024-05-01T00:05:00.000Z', totalEvents: 130_000 }), 'window');
      const bare = without(progressed(org, { totalEvents: 5 }), 'watermark', 'window');
      const checked = progressed(org, {
        window: { start: '2024-05-01T00:00:00.000Z', end: '2024-05-01T00:05:00.000Z', pagesWritten: 2, eventsWritten: 9, checkedUntil: '2024-05-01T01:00:00.000Z' },
      });
      const seen: IngestState[] = [];
      let lease = first.lease;
      // Act: each state is checkpointed, then read back through a fresh acquire by the other handle
      for (const state of [full, noNextUrl, noWindowState, full, bare, checked, full]) {
        lease = await store.checkpoint(lease, state, TTL, T0 + 1);
        await store.release(lease);
        const read = await mustAcquire(other, org, 'run-b', T0 + 2);
        seen.push(read.state);
        await other.release(read.lease);
        lease = (await mustAcquire(store, org, 'run-a', T0 + 3)).lease;
      }
      // Assess (toStrictEqual: an absent field must be absent, not present as undefined)
      expect(seen).toStrictEqual([full, noNextUrl, noWindowState, full, bare, checked, full]);
      expect(seen[1]?.window).not.toHaveProperty('nextUrl');
      expect(seen[2]).not.toHaveProperty('window');
    });

    it('sets updatedAt to the checkpoint time when the state has none', async () => {
      // Prepare
      const { store } = handles();
      const org = freshOrg();
      const a = await mustAcquire(store, org, 'run-a', T0);
      const state = without(progressed(org), 'updatedAt');
      // Act
      const lease = await store.checkpoint(a.lease, state, TTL, T0 + 5_000);
      await store.release(lease);
      const read = await mustAcquire(store, org, 'run-a', T0 + 6_000);
      // Assess
      expect(read.state.updatedAt).toBe(new Date(T0 + 5_000).toISOString());
    });

    it('extends the lease on checkpoint and moves the version on', async () => {
      // Prepare
      const { store, other } = handles();
      const org = freshOrg();
      const a = await mustAcquire(store, org, 'run-a', T0);
      // Act
      const next = await store.checkpoint(a.lease, progressed(org), TTL, T0 + 50_000);
      // Assess
      expect(next).toStrictEqual({ org, owner: 'run-a', expiresAt: T0 + 50_000 + TTL, version: next.version });
      expect(next.version).toBeGreaterThan(a.lease.version);
      // past the first expiry but inside the extended one: still held
      expect(await other.acquire(org, 'run-b', TTL, T0 + TTL + 1)).toBeUndefined();
      // the superseded lease object is refused, the new one accepted
      await expect(store.checkpoint(a.lease, progressed(org), TTL, T0 + 60_000)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(store.checkpoint(next, progressed(org), TTL, T0 + 60_000)).resolves.toMatchObject({ version: next.version + 1 });
    });

    it('lets the same owner acquire again, which supersedes its older lease', async () => {
      // Prepare
      const { store } = handles();
      const org = freshOrg();
      const first = await mustAcquire(store, org, 'run-a', T0);
      // Act
      const second = await mustAcquire(store, org, 'run-a', T0 + 10);
      // Assess
      expect(second.lease.version).toBeGreaterThan(first.lease.version);
      expect(second.lease.expiresAt).toBe(T0 + 10 + TTL);
      await expect(store.checkpoint(first.lease, progressed(org), TTL, T0 + 20)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(store.checkpoint(second.lease, progressed(org), TTL, T0 + 20)).resolves.toBeDefined();
    });

    it('release keeps the state, lets another owner in before expiry, and is idempotent', async () => {
      // Prepare
      const { store, other } = handles();
      const org = freshOrg();
      const a = await mustAcquire(store, org, 'run-a', T0);
      const saved = progressed(org);
      const lease = await store.checkpoint(a.lease, saved, TTL, T0 + 1);
      // Act
      await store.release(lease);
      await store.release(lease);
      const b = await other.acquire(org, 'run-b', TTL, T0 + 2);
      // Assess
      expect(b?.state).toStrictEqual(saved);
      await expect(store.checkpoint(lease, progressed(org), TTL, T0 + 3)).rejects.toBeInstanceOf(LeaseLostError);
    });

    it('grants exactly one of two concurrent acquires of a new org', async () => {
      for (let round = 0; round < 5; round++) {
        // Prepare
        const { store, other } = handles();
        const org = freshOrg();
        // Act
        const results = await Promise.all([store.acquire(org, 'run-a', TTL, T0), other.acquire(org, 'run-b', TTL, T0)]);
        // Assess
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        // the winner's lease is the real one: it checkpoints
        const winner = winners[0] as { lease: Lease };
        const winnerStore = results[0] !== undefined ? store : other;
        await expect(winnerStore.checkpoint(winner.lease, progressed(org), TTL, T0 + 1)).resolves.toBeDefined();
      }
    });

    it('grants exactly one of several concurrent acquires of an expired lease', async () => {
      // Prepare
      const { store, other } = handles();
      const org = freshOrg();
      const a = await mustAcquire(store, org, 'run-a', T0);
      const later = a.lease.expiresAt + 1;
      const owners = ['run-b', 'run-c', 'run-d', 'run-e'];
      // Act
      const results = await Promise.all(owners.map((owner, i) => (i % 2 === 0 ? store : other).acquire(org, owner, TTL, later)));
      // Assess
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      await expect(store.checkpoint(a.lease, progressed(org), TTL, later)).rejects.toBeInstanceOf(LeaseLostError);
    });

    it('keeps orgs apart', async () => {
      // Prepare
      const { store, other } = handles();
      const orgA = freshOrg();
      const orgB = freshOrg();
      const a = await mustAcquire(store, orgA, 'run-a', T0);
      // Act
      const b = await other.acquire(orgB, 'run-b', TTL, T0);
      await store.checkpoint(a.lease, progressed(orgA), TTL, T0 + 1);
      // Assess
      expect(b?.state).toStrictEqual({ org: orgB, totalEvents: 0, totalQuarantined: 0 });
    });

    it('refuses a state of another org and a non-positive ttl', async () => {
      // Prepare
      const { store } = handles();
      const org = freshOrg();
      const a = await mustAcquire(store, org, 'run-a', T0);
      // Act / Assess
      await expect(store.checkpoint(a.lease, progressed('other.okta.com'), TTL, T0 + 1)).rejects.toThrow(/cannot be checkpointed/);
      await expect(store.acquire(freshOrg(), 'run-a', 0, T0)).rejects.toThrow(/ttlMs/);
      await expect(store.checkpoint(a.lease, progressed(org, { totalEvents: -1 }), TTL, T0 + 1)).rejects.toThrow(/totalEvents/);
    });
  });
}
