/**
 * Property-based: random values and mutated realistic events fed through the writer, and corrupted
 * pages fed through a whole ingestion run. Nothing crashes; nothing is dropped (every element is a
 * Parquet row, a quarantine line, or a counted repeat of a uuid already written); every quarantined
 * element, and every page kept whole, is byte-identical to its input.
 * (test/writer/property.test.ts checks schema-typed values on fixture events; this goes further:
 * any JSON where an event should be, broken uuids and times, lone surrogates, unknown keys in any
 * script, repeats, and pages that are not JSON at all.)
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIngest } from '../../lib/core/ingest/ingest';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import type { LogPage, LogPageSource } from '../../lib/core/ports';
import { DuckDbParquetWriter, type QuarantineLine } from '../../lib/core/writer/parquet-writer';
import { generateEvents } from '../../lib/demo/generate';
import { EVENT_COLUMNS, type Field } from '../../lib/core/schema';
import { ManualClock } from '../../testkit/clock';
import { MemorySink } from '../../testkit/fakes';
import { openParquetReader, type ParquetReader } from '../writer/support';

type JsonObject = Record<string, unknown>;

const T0 = Date.parse('2024-06-03T00:00:00.000Z');
const BASE: readonly JsonObject[] = generateEvents(60, { seed: 21, start: new Date(T0), hours: 1 }).map((e) => JSON.parse(JSON.stringify(e)) as JsonObject);

/** Dotted paths of every schema field, struct members included. */
function fieldPaths(fields: readonly Field[], prefix = ''): string[] {
  return fields.flatMap((f) => {
    const path = `${prefix}${f.name}`;
    return typeof f.type !== 'string' && f.type.kind === 'struct' ? [path, ...fieldPaths(f.type.fields, `${path}.`)] : [path];
  });
}
const PATHS = fieldPaths(EVENT_COLUMNS);

function setAt(event: JsonObject, path: string, value: unknown): void {
  const parts = path.split('.');
  let node: JsonObject = event;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) return;
    node = next as JsonObject;
  }
  node[parts[parts.length - 1]] = value;
}

const KEEP = Symbol('keep');
const DELETE = Symbol('delete');

/** `published` as real exports and broken ones write it. */
const published = fc.oneof(
  fc.constant<typeof KEEP>(KEEP),
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).chain((d) =>
    fc.constantFrom(
      d.toISOString(),
      d.toISOString().replace(/\.\d+Z$/, 'Z'),
      d.toISOString().replace('Z', '+05:30'),
      d.toISOString().replace('Z', ''),
      d.toISOString().toLowerCase(),
      d.toISOString().replace(/\.(\d+)Z$/, '.$1456789Z'),
      d.toISOString().replace('T', ' '),
    ),
  ),
  fc.constantFrom('2017-09-31T22:23:07.777Z', '2024-02-30T00:00:00Z', '2024-05-05T24:00:00Z', '', 'yesterday'),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.jsonValue({ maxDepth: 1 }),
  fc.constant<typeof DELETE>(DELETE),
);

const uuid = fc.oneof(
  fc.constant<typeof KEEP>(KEEP),
  fc.constantFrom('dup-A', 'dup-B', ''),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc.jsonValue({ maxDepth: 1 }).filter((v) => typeof v !== 'string'),
  fc.constant<typeof DELETE>(DELETE),
);

/** A realistic event with its identity, time and any fields broken, and unknown keys in any script. */
const mutatedEvent = fc
  .record({
    base: fc.nat(BASE.length - 1),
    uuid,
    published,
    changes: fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 }),
    unknown: fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
    indent: fc.constantFrom<undefined | number | string>(undefined, undefined, 1, '\t'),
  })
  .map(({ base, uuid: id, published: time, changes, unknown, indent }) => {
    const e = JSON.parse(JSON.stringify(BASE[base])) as JsonObject;
    for (const [path, value] of changes) if (path !== 'uuid' && path !== 'published') setAt(e, path, value);
    if (id === DELETE) delete e.uuid;
    else if (id !== KEEP) e.uuid = id;
    if (time === DELETE) delete e.published;
    else if (time !== KEEP) e.published = time;
    return JSON.stringify({ ...e, ...unknown }, null, indent);
  });

/** Anything at all where an event should be. */
const element = fc.oneof(
  { weight: 6, arbitrary: mutatedEvent },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom('{}', '[]', 'null', '"text"', '1e400', '-0', '{"uuid":"\\ud800x","published":"2024-06-03T00:00:00Z"}') },
);

function uuidOf(text: string): string | undefined {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const id = (v as JsonObject).uuid;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

const quarantineLines = (body: Uint8Array | undefined): QuarantineLine[] =>
  Buffer.from(body ?? new Uint8Array())
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as QuarantineLine);

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

describe('bad input, property-based', () => {
  it('the writer accounts for every element of any page of random and mutated events, quarantine byte for byte', async () => {
    const seen = { written: 0, quarantined: 0, repeats: 0, unicode: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(element, { minLength: 1, maxLength: 12 }), fc.constantFrom(',', ' ,\n '), async (texts, separator) => {
        // Act
        const result = await writer.writePage({ org: 'acme.okta.com', body: `[${texts.join(separator)}]`, format: 'array', name: 'fuzz', ingestedAt: new Date(T0) });

        // Assess: quarantine lines are the elements at their index, byte for byte.
        const lines = quarantineLines(result.quarantine?.body);
        expect(result.eventsQuarantined).toBe(lines.length);
        const quarantined = new Set<number>();
        for (const line of lines) {
          expect(quarantined.has(line.index)).toBe(false);
          quarantined.add(line.index);
          expect(line.raw).toBe(texts[line.index]);
        }
        // Anything without a usable uuid is among them.
        texts.forEach((t, i) => {
          if (uuidOf(t) === undefined) expect(quarantined.has(i), t).toBe(true);
        });
        // The rest: one row per uuid, holding the text of its first element; the others counted as repeats.
        const rows = await reader.rows(result.objects);
        const byUuid = new Map(rows.map((r) => [String(r.uuid), String(r.raw)]));
        expect(byUuid.size).toBe(rows.length);
        const first = new Map<string, string>();
        texts.forEach((t, i) => {
          if (quarantined.has(i)) return;
          const id = uuidOf(t) as string;
          if (!first.has(id)) first.set(id, t);
        });
        expect([...byUuid.keys()].sort()).toEqual([...first.keys()].sort());
        for (const [id, text] of first) expect(byUuid.get(id)).toBe(text);
        expect(rows.length + lines.length + result.duplicatesDropped).toBe(texts.length);
        expect(result.eventsWritten).toBe(rows.length);
        seen.quarantined += lines.length;
        seen.repeats += result.duplicatesDropped;
        seen.written += rows.length;
        seen.unicode += lines.filter((l) => l.reason === 'invalid_unicode').length;
      }),
      { numRuns: 40, seed: 20250601 },
    );
    // The generators reach every outcome (a property that never quarantines proves little).
    expect(seen.written).toBeGreaterThan(0);
    expect(seen.quarantined).toBeGreaterThan(0);
    expect(seen.repeats).toBeGreaterThan(0);
    expect(seen.unicode).toBeGreaterThan(0);
  });

  it('an ingestion run never fails on a page that is cut, spliced or garbled: it keeps it whole, byte for byte, or writes every element', async () => {
    // Realistic pages, then damaged at a random place (or not at all).
    const page = fc
      .record({
        start: fc.nat(BASE.length - 10),
        count: fc.integer({ min: 1, max: 10 }),
        damage: fc.oneof(
          fc.constant<undefined>(undefined),
          fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), cut: fc.integer({ min: 0, max: 40 }), insert: fc.string({ unit: 'binary', maxLength: 3 }) }),
        ),
      })
      .map(({ start, count, damage }) => {
        const texts = BASE.slice(start, start + count).map((e) => JSON.stringify(e));
        let body = `[${texts.join(',')}]`;
        if (damage) {
          const at = Math.floor(damage.at * body.length);
          body = body.slice(0, at) + damage.insert + body.slice(at + damage.cut);
        }
        return { texts, body };
      });

    const outcomes = { written: 0, keptWhole: 0 };
    await fc.assert(
      fc.asyncProperty(page, async ({ texts, body }) => {
        // Prepare: a source serving this one page for the hour [T0, T0 + 1 h).
        const sink = new MemorySink();
        let fetches = 0;
        const source: LogPageSource = {
          boundedQueryUrl: (since, until) => `https://fake.okta.test/api/v1/logs?since=${since}&until=${until}`,
          fetchPage: async (url): Promise<LogPage> => {
            fetches++;
            return { url, body };
          },
        };

        // Act
        const result = await runIngest({
          org: 'acme.okta.com',
          source,
          writer,
          sink,
          store: new MemoryWatermarkStore(),
          owner: 'fuzz',
          since: new Date(T0).toISOString(),
          until: new Date(T0 + 3_600_000).toISOString(),
          clock: new ManualClock(T0 + 2 * 3_600_000),
        });

        // Assess
        expect(result.outcome).toBe('caught-up');
        let valid = true;
        try {
          JSON.parse(body);
        } catch {
          valid = false;
        }
        const wholePages = [...sink.objects].filter(([k]) => k.endsWith('.page.json'));
        if (!valid) {
          outcomes.keptWhole++;
          expect(result.pagesQuarantined).toBe(1);
          expect(fetches).toBe(3);
          expect(wholePages).toHaveLength(1);
          expect(Buffer.from(wholePages[0][1]).toString('utf8')).toBe(body);
          expect(Buffer.from(wholePages[0][1]).equals(Buffer.from(body, 'utf8'))).toBe(true);
          return;
        }
        expect(wholePages).toHaveLength(0);
        const elements = JSON.parse(body) as unknown[];
        const lines = [...sink.objects].filter(([k]) => k.endsWith('.jsonl')).flatMap(([, b]) => quarantineLines(b));
        const rows = await reader.rows([...sink.objects].filter(([k]) => k.endsWith('.parquet')).map(([key, b]) => ({ key, body: b, events: 0 })));
        expect(rows.length + lines.length + result.duplicatesDropped).toBe(elements.length);
        for (const r of rows) expect(body).toContain(String(r.raw));
        for (const l of lines) expect(body).toContain(l.raw);
        if (body === `[${texts.join(',')}]`) expect(rows.map((r) => String(r.raw)).sort()).toEqual([...texts].sort());
        outcomes.written += valid ? 1 : 0;
      }),
      { numRuns: 25, seed: 20250602 },
    );
    expect(outcomes.written).toBeGreaterThan(0);
    expect(outcomes.keptWhole).toBeGreaterThan(0);
  });
});
