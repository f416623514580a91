/**
 * Whatever values arrive where the schema expects something else, a page never fails and no event
 * is lost: every element is either a Parquet row whose raw is its exact text, or a quarantine line
 * holding that text, or a counted duplicate.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEvent, type JsonObject, type JsonValue } from '../../lib/core/fixtures';
import { EVENT_COLUMNS, type Field } from '../../lib/core/schema';
import { DuckDbParquetWriter, type QuarantineLine } from '../../lib/core/writer/parquet-writer';
import { arrayPage, openParquetReader, type ParquetReader } from './support';

let writer: DuckDbParquetWriter;
let reader: ParquetReader;

beforeAll(async () => {
  writer = await DuckDbParquetWriter.open();
  reader = await openParquetReader();
});

afterAll(async () => {
  await writer?.close();
  reader?.close();
});

/** Dotted paths of every schema field (struct members included), e.g. `client.geographicalContext.city`. */
function fieldPaths(fields: readonly Field[], prefix = ''): string[] {
  return fields.flatMap((f) => {
    const path = `${prefix}${f.name}`;
    return typeof f.type !== 'string' && f.type.kind === 'struct' ? [path, ...fieldPaths(f.type.fields, `${path}.`)] : [path];
  });
}
const PATHS = fieldPaths(EVENT_COLUMNS).filter((p) => p !== 'uuid');

function setAt(event: JsonObject, path: string, value: JsonValue): void {
  const parts = path.split('.');
  let node: JsonObject = event;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) return;
    node = next;
  }
  node[parts[parts.length - 1]] = value;
}

const mutatedEvent = fc
  .record({
    seed: fc.nat(1000),
    uuid: fc.oneof(fc.uuid(), fc.constantFrom('dup-1', 'dup-2')),
    changes: fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 }),
    unknown: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), { nil: undefined }),
  })
  .map(({ seed, uuid, changes, unknown }) => {
    const event = fixtureEvent(seed, { uuid, published: `2024-01-31T23:${String(seed % 60).padStart(2, '0')}:00.000Z` });
    for (const [path, value] of changes) setAt(event, path, value as JsonValue);
    return JSON.stringify(unknown ? { ...event, ...unknown } : event, null, seed % 3 === 0 ? 1 : undefined);
  });

describe('DuckDbParquetWriter: arbitrary values', () => {
  it('never fails a page and accounts for every element', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutatedEvent, { minLength: 1, maxLength: 15 }), async (texts) => {
        // Act
        const result = await writer.writePage({
          org: 'acme.okta.com',
          body: arrayPage(texts),
          format: 'array',
          name: 'property',
          ingestedAt: new Date('2024-02-01T00:00:00.000Z'),
        });
        // Assess
        const rows = await reader.rows(result.objects);
        const quarantined = Buffer.from(result.quarantine?.body ?? new Uint8Array())
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => (JSON.parse(l) as QuarantineLine).raw);
        expect(rows.length + quarantined.length + result.duplicatesDropped).toBe(texts.length);
        const kept = new Set([...rows.map((r) => String(r.raw)), ...quarantined]);
        for (const text of kept) expect(texts).toContain(text);
        const firstOfEachUuid = new Map<unknown, string>();
        for (const t of texts) {
          const uuid = (JSON.parse(t) as { uuid: unknown }).uuid;
          if (!firstOfEachUuid.has(uuid)) firstOfEachUuid.set(uuid, t);
        }
        for (const t of firstOfEachUuid.values()) expect(kept.has(t)).toBe(true);
      }),
      { numRuns: 12, seed: 20240131 },
    );
  });
});
