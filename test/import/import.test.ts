/**
 * `okta-lake import` never loses and never doubles (issue 13): events shaped like exports other
 * tools write, imported into a folder lake with the real writer and the lake's own uuid index.
 * The events are our own (lib/core/fixtures.ts), shaped like those exports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSink } from '../../lib/adapters/local-sink';
import { importBytes } from '../../lib/cli/import-command';
import { freezeDay } from '../../lib/core/compact/sink-state';
import { fixtureEvents, type JsonObject } from '../../lib/core/fixtures';
import { openLake } from '../../lib/core/hunt/lake';
import { runQuery } from '../../lib/core/hunt/runner';
import { loadQueries } from '../../lib/core/queries';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { auditLake, sha256 } from '../../testkit/lake-audit';

const ORG = 'acme.okta.com';
const NOW = new Date('2024-05-03T12:00:00.000Z');
const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const root = mkdtempSync(join(tmpdir(), 'okta-lake-import-'));
let writer: DuckDbParquetWriter;
let lakes = 0;

beforeAll(async () => {
  writer = await DuckDbParquetWriter.open();
});
afterAll(async () => {
  await writer.close();
  rmSync(root, { recursive: true, force: true });
});

function newLake(): { dir: string; sink: LocalSink } {
  const dir = join(root, `lake-${++lakes}`);
  return { dir, sink: new LocalSink({ root: dir }) };
}

function events(count: number, seed: number, start = '2024-05-01T10:00:00.000Z'): JsonObject[] {
  return fixtureEvents(count, { seed, start, spacingMs: 97_000 });
}

const run = (sink: LocalSink, bytes: Uint8Array, now = NOW) => importBytes(bytes, ORG, writer, sink, now);

/** Each uuid's rows in the lake, and the digests of their raw texts. */
async function lakeRows(sink: LocalSink): Promise<{ counts: Map<string, number>; digests: Set<string> }> {
  const audit = await auditLake(sink);
  const counts = new Map<string, number>();
  const digests = new Set<string>();
  for (const [uuid, e] of audit.byUuid) {
    counts.set(uuid, e.count);
    digests.add(e.rawSha256);
  }
  return { counts, digests };
}

describe('import: nothing lost, nothing doubled', () => {
  it('JSON Lines, then the same events as a JSON array, then an overlapping export: each uuid once, and lake-duplicate-events finds nothing', async () => {
    // Prepare
    const { dir, sink } = newLake();
    const first = events(100, 1);
    const second = [...first.slice(60), ...events(40, 1000, '2024-05-02T01:00:00.000Z')];
    // Act
    const a = await run(sink, enc(first.map((e) => JSON.stringify(e)).join('\n')));
    const b = await run(sink, enc(JSON.stringify(first)));
    const c = await run(sink, enc(second.map((e) => JSON.stringify(e)).join('\r\n')));
    // Assess
    expect([a.eventsWritten, b.eventsWritten, c.eventsWritten]).toEqual([100, 0, 40]);
    expect([b.repeatedInLake, c.repeatedInLake]).toEqual([100, 40]);
    const { counts } = await lakeRows(sink);
    expect(counts.size).toBe(140);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const query = loadQueries().find((q) => q.id === 'lake-duplicate-events');
    expect(query).toBeDefined();
    const lake = await openLake(dir);
    try {
      expect(await runQuery(lake, query!, { now: NOW })).toEqual([]);
    } finally {
      lake.close();
    }
  });

  it('keeps a different event with an already-used uuid in quarantine, verbatim, in the file and against the lake', async () => {
    // Prepare: six different events sharing one uuid (as OCSF's examples do), and one that differs from the lake's copy
    const { sink } = newLake();
    const stored = events(3, 3);
    await run(sink, enc(JSON.stringify(stored)));
    const shared = events(6, 4).map((e) => ({ ...e, uuid: 'one-uuid-for-all' }));
    const changed = { ...stored[1], displayMessage: 'a different text under a stored uuid' };
    const texts = [...shared, changed].map((e) => JSON.stringify(e));
    // Act
    const summary = await run(sink, enc(texts.join('\n')));
    // Assess
    expect(summary.eventsWritten).toBe(1);
    expect(summary.conflictsInFile).toBe(5);
    expect(summary.conflictsInLake).toBe(1);
    const audit = await auditLake(sink);
    const conflicts = audit.quarantined.filter((q) => q.reason === 'uuid_conflict');
    expect(conflicts.map((q) => q.raw).sort()).toEqual([...texts.slice(1, 6), texts[6]].sort());
    expect(audit.byUuid.get('one-uuid-for-all')).toMatchObject({ count: 1, rawSha256: sha256(texts[0]) });
    expect(audit.byUuid.get(String(stored[1].uuid))).toMatchObject({ count: 1, rawSha256: sha256(JSON.stringify(stored[1])) });
  });

  it('quarantines each unreadable piece once, however often and on whatever day it is imported', async () => {
    // Prepare
    const { sink } = newLake();
    const good = events(5, 5).map((e) => JSON.stringify(e));
    const broken = '{"uuid":"broken","published":"2024-05-01T1';
    const noUuid = '{"published":"2024-05-01T10:00:00.000Z","eventType":"user.session.start"}';
    const file = enc([...good, broken, noUuid].join('\n'));
    // Act
    const first = await run(sink, file);
    const again = await run(sink, file, new Date('2024-05-04T12:00:00.000Z'));
    const overlapping = await run(sink, enc([broken, good[0], '{"uuid":"x2",'].join('\n')), new Date('2024-05-05T12:00:00.000Z'));
    // Assess
    expect(first.quarantined).toEqual({ invalid_json: 1, missing_uuid: 1 });
    expect(again.alreadyQuarantined).toBe(2);
    expect(again.objectsWritten).toBe(0);
    expect(overlapping.alreadyQuarantined).toBe(1);
    const audit = await auditLake(sink);
    expect(audit.quarantined.map((q) => q.raw).sort()).toEqual([broken, noUuid, '{"uuid":"x2",'].sort());
  });
});

describe('import: bytes kept', () => {
  it('keeps a line that is not valid UTF-8 as its exact bytes, and writes the others', async () => {
    // Prepare: a Latin-1 "é" (0xE9) inside a string, as a mis-encoded export has it
    const { sink } = newLake();
    const good = events(2, 6).map((e) => JSON.stringify(e));
    const before = Buffer.from('{"uuid":"latin1","published":"2024-05-01T10:00:00.000Z","displayMessage":"caf');
    const bad = Buffer.concat([before, Buffer.from([0xe9]), Buffer.from('"}')]);
    const file = Buffer.concat([Buffer.from(`${good[0]}\n`), bad, Buffer.from(`\n${good[1]}\n`)]);
    // Act
    const summary = await run(sink, file);
    // Assess
    expect(summary.eventsWritten).toBe(2);
    expect(summary.quarantined).toEqual({ invalid_utf8: 1 });
    const audit = await auditLake(sink);
    const kept = audit.quarantined.filter((q) => q.reason === 'invalid_utf8');
    expect(kept).toHaveLength(1);
    expect(Buffer.from(kept[0].rawBase64 ?? '', 'base64').equals(bad)).toBe(true);
  });
});

describe('import: shapes other tools export', () => {
  it('reads top-level keys that differ only in case as Okta\'s, says so, and keeps raw as it was', async () => {
    // Prepare: a data-lake export with lower-cased top-level keys
    const { dir, sink } = newLake();
    const lower = events(3, 7).map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k.toLowerCase(), v])));
    const texts = lower.map((e) => JSON.stringify(e));
    // Act
    const summary = await run(sink, enc(texts.join('\n')));
    // Assess
    expect(summary.eventsWritten).toBe(3);
    expect(summary.keysReadAsOkta).toMatchObject({ 'eventtype -> eventType': 3, 'debugcontext -> debugContext': 3, 'authenticationcontext -> authenticationContext': 3 });
    const lake = await openLake(dir);
    try {
      const reader = await lake.connection.runAndReadAll('SELECT uuid, eventType, raw, debugContext.debugData IS NOT NULL AS debug FROM okta_system_log ORDER BY uuid');
      const rows = reader.getRowObjectsJS();
      expect(rows.map((r) => r.eventType)).toEqual([...lower].sort((x, y) => String(x.uuid).localeCompare(String(y.uuid))).map((e) => e.eventtype));
      expect(rows.every((r) => r.debug === true)).toBe(true);
      expect(new Set(rows.map((r) => r.raw))).toEqual(new Set(texts));
    } finally {
      lake.close();
    }
  });

  it('reads pretty-printed events in a .jsonl file and events concatenated on one line, raw byte for byte', async () => {
    // Prepare
    const { sink } = newLake();
    const all = events(6, 8);
    const pretty = all.slice(0, 3).map((e) => JSON.stringify(e, null, 2));
    const compact = all.slice(3).map((e) => JSON.stringify(e));
    const file = enc(`\ufeff${pretty.join('\n')}\n${compact.join('')}\n`);
    // Act
    const summary = await run(sink, file);
    // Assess
    expect(summary.bom).toBe(true);
    expect(summary.pieces).toBe(6);
    expect(summary.eventsWritten).toBe(6);
    expect(summary.quarantined).toEqual({});
    const { digests } = await lakeRows(sink);
    expect(digests).toEqual(new Set([...pretty, ...compact].map(sha256)));
  });
});

describe('import: frozen days', () => {
  it('puts events of a day compaction froze under late/, where readers find them at once', async () => {
    // Prepare: the day is frozen (its freeze record is in the lake, as `okta-lake compact` writes it)
    const { dir, sink } = newLake();
    await freezeDay(sink, ORG, '2024-05-01', Date.parse('2024-05-03T00:00:00.000Z'));
    const texts = events(4, 9, '2024-05-01T23:57:00.000Z').map((e) => JSON.stringify(e));
    // Act
    const summary = await run(sink, enc(texts.join('\n')));
    // Assess: 05-01's events under late/, 05-02's under events/
    expect(summary.eventsWritten).toBe(4);
    const keys = await sink.list('');
    expect(keys.filter((k) => k.endsWith('.parquet')).map((k) => k.split('/').slice(0, 3).join('/')).sort()).toEqual([
      `events/org=${ORG}/dt=2024-05-02`,
      `late/org=${ORG}/dt=2024-05-01`,
    ]);
    const lake = await openLake(dir);
    try {
      const reader = await lake.connection.runAndReadAll('SELECT count(*)::INTEGER AS n, count(DISTINCT uuid)::INTEGER AS d FROM okta_system_log');
      expect(reader.getRowObjectsJS()).toEqual([{ n: 4, d: 4 }]);
    } finally {
      lake.close();
    }
  });
});
