import { describe, expect, it } from 'vitest';
import { EVENT_COLUMNS, type FieldType } from '../../lib/core/schema';
import { FIXTURE_EPOCH_MS, fixtureEvent, fixtureEvents, fixturePage, mergeOverrides, type JsonValue } from '../../lib/core/fixtures';

/** Problems of `value` against schema type `type` (empty when every field is filled with its type). */
function problems(type: FieldType, value: JsonValue | undefined, path: string): string[] {
  if (value === undefined || value === null) return [`${path} is empty`];
  if (typeof type === 'string') {
    const ok = {
      string: typeof value === 'string' && value.length > 0,
      timestamp: typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value) && new Date(value).toISOString() === value,
      bigint: Number.isSafeInteger(value),
      int: Number.isSafeInteger(value) && Math.abs(value as number) < 2 ** 31,
      double: typeof value === 'number' && Number.isFinite(value),
      boolean: typeof value === 'boolean',
      // A free-form object (Okta's `additionalProperties`), with at least one entry.
      json: typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0,
    }[type];
    return ok ? [] : [`${path} is not a ${type}: ${JSON.stringify(value)}`];
  }
  switch (type.kind) {
    case 'struct': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path} is not an object`];
      const keys = Object.keys(value);
      const names = type.fields.map((f) => f.name);
      const extra = keys.filter((k) => !names.includes(k)).map((k) => `${path}.${k} is not in the schema`);
      return [...extra, ...type.fields.flatMap((f) => problems(f.type, value[f.name], `${path}.${f.name}`))];
    }
    case 'list':
      if (!Array.isArray(value) || value.length < 1 || value.length > 2) return [`${path} is not a list of 1-2 elements`];
      return value.flatMap((e, i) => problems(type.element, e, `${path}[${i}]`));
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path} is not a map`];
      const entries = Object.entries(value);
      if (entries.length < 1) return [`${path} has no entries`];
      return entries.filter(([, v]) => typeof v !== 'string').map(([k]) => `${path}.${k} is not a string`);
    }
  }
}

describe('fixtureEvent', () => {
  it.each([0, 1, 2, 99, 123456])('fills every field of EVENT_COLUMNS with a value of its type (seed %i)', (seed) => {
    const event = fixtureEvent(seed);
    expect(problems({ kind: 'struct', fields: EVENT_COLUMNS }, event, 'event')).toEqual([]);
  });

  it('is deterministic per seed and differs between seeds', () => {
    expect(fixtureEvent(5)).toEqual(fixtureEvent(5));
    expect(fixtureEvent(5).uuid).not.toBe(fixtureEvent(6).uuid);
  });

  it('publishes within 30 days after FIXTURE_EPOCH_MS', () => {
    for (let seed = 0; seed < 20; seed++) {
      const t = Date.parse(String(fixtureEvent(seed).published));
      expect(t).toBeGreaterThanOrEqual(FIXTURE_EPOCH_MS);
      expect(t).toBeLessThanOrEqual(FIXTURE_EPOCH_MS + 30 * 86_400_000);
    }
  });

  it('deep-merges overrides: objects merge, arrays and null replace, undefined deletes', () => {
    // Prepare
    const base = fixtureEvent(3);
    // Act
    const event = fixtureEvent(3, {
      client: { ipAddress: 'null', geographicalContext: { city: null } },
      target: [],
      debugContext: null,
      device: undefined,
      newField: { x: 1 },
    });
    // Assess
    const client = event.client as Record<string, JsonValue>;
    const baseClient = base.client as Record<string, JsonValue>;
    expect(client.ipAddress).toBe('null');
    expect(client.userAgent).toEqual(baseClient.userAgent);
    expect(client.geographicalContext).toEqual({ ...(baseClient.geographicalContext as object), city: null });
    expect(event.target).toEqual([]);
    expect(event.debugContext).toBeNull();
    expect('device' in event).toBe(false);
    expect(event.newField).toEqual({ x: 1 });
    expect(base).toEqual(fixtureEvent(3));
  });

  it('takes overrides alone with seed 0', () => {
    expect(fixtureEvent({ uuid: 'u' })).toEqual(mergeOverrides(fixtureEvent(0), { uuid: 'u' }));
  });

  it('refuses a non-integer seed', () => {
    expect(() => fixtureEvent(1.5)).toThrow(RangeError);
  });
});

describe('fixtureEvents and fixturePage', () => {
  it('gives distinct uuids and published spaced from start', () => {
    // Act
    const events = fixtureEvents(4, { seed: 10, start: '2024-01-31T23:59:58.500Z', spacingMs: 500, overrides: { version: '1' } });
    // Assess
    expect(events.map((e) => e.published)).toEqual([
      '2024-01-31T23:59:58.500Z',
      '2024-01-31T23:59:59.000Z',
      '2024-01-31T23:59:59.500Z',
      '2024-02-01T00:00:00.000Z',
    ]);
    expect(new Set(events.map((e) => e.uuid)).size).toBe(4);
    expect(events.every((e) => e.version === '1')).toBe(true);
    expect(JSON.parse(fixturePage(events))).toEqual(events);
  });

  it('refuses a bad count or start', () => {
    expect(() => fixtureEvents(-1)).toThrow(RangeError);
    expect(() => fixtureEvents(1, { start: 'not a date' })).toThrow(/not a valid instant/);
  });
});
