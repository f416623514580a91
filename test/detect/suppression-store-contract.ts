/**
 * The rules every SuppressionStore keeps, run against the in-memory store and the DynamoDB one.
 */
import { describe, expect, it } from 'vitest';
import type { SuppressionStore } from '../../lib/core/detect/ports';
import { HOUR } from '../../lib/core/time';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');

export function describeSuppressionStoreContract(name: string, make: () => { store: SuppressionStore; other: SuppressionStore }): void {
  let n = 0;
  const fps = (count: number): string[] => {
    n++;
    return Array.from({ length: count }, (_, i) => `${name}-${n}-fp${i}`.replace(/[^A-Za-z0-9-]/g, ''));
  };
  const claim = (runId: string, nowMs: number, windowMs = HOUR) => ({ runId, detectionId: 'contract', nowMs, windowMs });

  describe(`${name} (SuppressionStore contract)`, () => {
    it('claims fingerprints nobody holds, and returns them in input order', async () => {
      // Prepare
      const { store } = make();
      const f = fps(5);
      // Act
      const got = await store.claim(f, claim('run-a', T0));
      // Assess
      expect(got).toEqual(f);
    });

    it('does not give a fingerprint to another run within the window, but does once it has passed', async () => {
      // Prepare
      const { store, other } = make();
      const f = fps(3);
      await store.claim(f.slice(0, 2), claim('run-a', T0));
      // Act
      const inside = await other.claim(f, claim('run-b', T0 + HOUR - 1000));
      const after = await other.claim(f.slice(0, 2), claim('run-c', T0 + HOUR + 1000));
      // Assess
      expect(inside).toEqual([f[2]]);
      expect(after).toEqual(f.slice(0, 2));
    });

    it('lets the same run id claim again what it holds (a retried invocation)', async () => {
      // Prepare
      const { store, other } = make();
      const f = fps(2);
      await store.claim(f, claim('run-a', T0));
      // Act
      const again = await other.claim(f, claim('run-a', T0 + 60_000));
      // Assess
      expect(again).toEqual(f);
    });

    it('gives each fingerprint to exactly one of two racing runs', async () => {
      // Prepare
      const { store, other } = make();
      const f = fps(20);
      // Act
      const [a, b] = await Promise.all([store.claim(f, claim('run-a', T0)), other.claim([...f].reverse(), claim('run-b', T0))]);
      // Assess
      expect([...a, ...b].sort()).toEqual([...f].sort());
      expect(a.filter((x) => b.includes(x))).toEqual([]);
    });

    it('release gives back only the claims of that run', async () => {
      // Prepare
      const { store, other } = make();
      const f = fps(3);
      await store.claim(f.slice(0, 2), claim('run-a', T0));
      await other.claim([f[2]], claim('run-b', T0));
      // Act
      await store.release(f, 'run-a');
      const later = await other.claim(f, claim('run-c', T0 + 60_000));
      // Assess
      expect(later).toEqual(f.slice(0, 2));
    });

    it('release of nothing held is not an error', async () => {
      // Prepare
      const { store } = make();
      // Act / Assess
      await expect(store.release(fps(2), 'nobody')).resolves.toBeUndefined();
    });
  });
}
