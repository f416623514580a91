import { describe, expect, it } from 'vitest';
import { eventObjectKey, pageObjectName, parsePartitionKey, partitionOf, quarantineObjectKey } from '../lib/core/layout';

describe('lake layout', () => {
  it('partitions by published in UTC', () => {
    // Prepare / Act
    const p = partitionOf(Date.parse('2024-03-10T23:59:59.999-02:00'));
    // Assess
    expect(p).toEqual({ dt: '2024-03-11', hour: '01' });
  });

  it('builds Hive-style keys that parse back', () => {
    const name = pageObjectName('2024-03-11T01:00:00.000Z', '2024-03-11T01:05:00.000Z', 7);
    const key = eventObjectKey('acme.okta.com', { dt: '2024-03-11', hour: '01' }, name);
    expect(key).toBe('events/org=acme.okta.com/dt=2024-03-11/hour=01/w20240311T010000.000Z-20240311T010500.000Z-p00007.parquet');
    expect(parsePartitionKey(key)).toEqual({ org: 'acme.okta.com', dt: '2024-03-11', hour: '01' });
    expect(quarantineObjectKey('acme.okta.com', '2024-03-11', name)).toMatch(/^quarantine\/org=acme\.okta\.com\/dt=2024-03-11\/w.*\.jsonl$/);
  });

  it('names a page from its window and position only, so a rewrite replaces it', () => {
    expect(pageObjectName('2024-01-01T00:00:00.000Z', '2024-01-01T00:10:00.000Z', 3)).toBe(
      pageObjectName('2024-01-01T00:00:00.000Z', '2024-01-01T00:10:00.000Z', 3),
    );
  });

  it('refuses org labels that could escape the layout', () => {
    expect(() => eventObjectKey('../etc', { dt: '2024-01-01', hour: '00' }, 'x')).toThrow(/not allowed/);
    expect(() => eventObjectKey('Acme/x', { dt: '2024-01-01', hour: '00' }, 'x')).toThrow(/not allowed/);
  });
});
