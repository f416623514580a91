import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventObjectKey, quarantineObjectKey } from '../../lib/core/layout';
import type { PageWriteInput, PageWriteResult } from '../../lib/core/ports';
import { LOG_EVENT_COLUMNS, duckDbType } from '../../lib/core/schema';
import { fixtureEvent, fixtureEvents, fixturePage, type JsonObject } from '../../lib/core/fixtures';
import {
  DuckDbParquetWriter,
  InvalidPageInputError,
  MalformedPageError,
  type QuarantineLine,
} from '../../lib/core/writer/parquet-writer';
import { arrayPage, epochMicros, expectedRow, openParquetReader, type Json, type ParquetReader } from './support';

const ORG = 'acme.okta.com';
const NAME = 'w20240131T230000.000Z-20240201T010000.000Z-p00000';
const INGESTED_AT = new Date('2024-03-01T12:34:56.789Z');

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

const pageInput = (body: string, extra: Partial<PageWriteInput> = {}): PageWriteInput => ({
  org: ORG,
  body,
  format: 'array',
  name: NAME,
  ingestedAt: INGESTED_AT,
  ...extra,
});

const quarantineLines = (result: PageWriteResult): QuarantineLine[] => {
  const text = Buffer.from(result.quarantine?.body ?? new Uint8Array()).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as QuarantineLine);
};

describe('DuckDbParquetWriter: file schema', () => {
  it('writes exactly LOG_EVENT_COLUMNS with the DuckDB types generated from schema.ts', async () => {
    // Prepare
    const body = fixturePage([fixtureEvent(1)]);
    // Act
    const result = await writer.writePage(pageInput(body));
    const described = await reader.query(result.objects[0], 'DESCRIBE SELECT * FROM read_parquet($file)');
    // Assess
    expect(described.map((r) => r.column_name)).toEqual(LOG_EVENT_COLUMNS.map((c) => c.name));
    const normalise = (t: string): string => t.replace(/"/g, '').replace(/\s+/g, ' ');
    expect(described.map((r) => normalise(String(r.column_type)))).toEqual(
      LOG_EVENT_COLUMNS.map((c) => normalise(duckDbType(c.type))),
    );
  });

  it('uses 3-level LISTs, standard MAPs, a UTC-local TIMESTAMP_MICROS and no partition columns', async () => {
    // Prepare
    const body = fixturePage([fixtureEvent(2)]);
    // Act
    const result = await writer.writePage(pageInput(body));
    const schema = await reader.query(
      result.objects[0],
      'SELECT name, repetition_type, converted_type, logical_type, num_children FROM parquet_schema($file)',
    );
    // Assess
    const at = (name: string, after = 0): Record<string, Json> => {
      const i = schema.findIndex((r, k) => k >= after && r.name === name);
      expect(i, `column ${name}`).toBeGreaterThanOrEqual(0);
      return { ...schema[i], index: i };
    };
    for (const listColumn of ['target', 'ipChain']) {
      const list = at(listColumn);
      expect(list.converted_type).toBe('LIST');
      const middle = schema[Number(list.index) + 1];
      expect(middle).toMatchObject({ name: 'list', repetition_type: 'REPEATED', num_children: '1' });
      expect(schema[Number(list.index) + 2].name).toBe('element');
    }
    for (const mapColumn of ['debugData', 'detailEntry', 'detail']) {
      const map = at(mapColumn);
      expect(map.converted_type).toBe('MAP');
      expect(schema[Number(map.index) + 1]).toMatchObject({ name: 'key_value', repetition_type: 'REPEATED', num_children: '2' });
      expect(schema[Number(map.index) + 2]).toMatchObject({ name: 'key', repetition_type: 'REQUIRED' });
      expect(schema[Number(map.index) + 3]).toMatchObject({ name: 'value', repetition_type: 'OPTIONAL' });
    }
    expect(String(at('published').logical_type)).toMatch(/isAdjustedToUTC=0.*MICROS=MicroSeconds/);
    expect(schema.map((r) => r.name)).not.toContain('dt');
    expect(schema.map((r) => r.name)).not.toContain('hour');
    expect(schema.map((r) => r.name)).not.toContain('org');
  });
});

describe('DuckDbParquetWriter: round trip', () => {
  it('stores every typed field of schema-filled fixtures and the exact element text as raw', async () => {
    // Prepare
    const events = fixtureEvents(40, { seed: 7, start: '2024-01-31T23:10:00.000Z', spacingMs: 1_000 });
    const texts = events.map((e) => JSON.stringify(e));
    // Act
    const result = await writer.writePage(pageInput(arrayPage(texts)));
    const rows = await reader.rows(result.objects);
    // Assess
    expect(result).toMatchObject({ eventsWritten: 40, eventsQuarantined: 0, duplicatesDropped: 0, outsideWindow: 0 });
    expect(rows).toEqual(events.map((e, i) => expectedRow(e, texts[i], INGESTED_AT)));
  });

  it('keeps raw byte for byte: whitespace, unicode, escapes, a 120 KB string, unknown fields, 1.0 and 1e5', async () => {
    // Prepare
    const big = 'x'.repeat(120 * 1024);
    const texts = [
      `{ "uuid" : "u-1",\n\t"published":"2024-01-31T23:00:00.000Z",  "displayMessage": "Zoë — 日本語 🚀" }`,
      `{"uuid":"u-2","published":"2024-01-31T23:00:01.000Z","displayMessage":"caf\\u00e9 \\ud83d\\ude80 \\"q\\" \\\\ \\/"}`,
      `{"uuid":"u-3","published":"2024-01-31T23:00:02.000Z","displayMessage":"${big}"}`,
      `{"uuid":"u-4","published":"2024-01-31T23:00:03.000Z","authenticatorContext":{"authenticatorKey":"okta_verify","nested":[1,{"deep":true}]},"newTopLevel":42}`,
      `{"uuid":"u-5","published":"2024-01-31T23:00:04.000Z","securityContext":{"asNumber":1.0},"client":{"geographicalContext":{"geolocation":{"lat":1e5,"lon":-0.0}}},"displayMessage":1.0,"severity":1e5}`,
    ];
    // Act
    const result = await writer.writePage(pageInput(arrayPage(texts, ' ,\n  ')));
    const rows = await reader.rows(result.objects);
    // Assess
    expect(rows.map((r) => r.raw)).toEqual(texts);
    expect(rows.map((r) => r.displayMessage)).toEqual(['Zoë — 日本語 🚀', 'café 🚀 "q" \\ /', big, null, '1.0']);
    expect(rows[4].severity).toBe('100000.0');
    expect(rows[4].securityContext).toMatchObject({ asNumber: '1' });
    expect(rows[4].client).toMatchObject({ geographicalContext: { geolocation: { lat: 100000, lon: -0 } } });
  });

  it("fills Okta's documented securityContext, ipChain and changeDetails fields from real-shaped JSON, objects as JSON text", async () => {
    // Prepare: shapes of management.yaml's LogSecurityContext, LogIpAddress and LogTarget, with a
    // pretty-printed changeDetails holding a JSON string and nested objects, one target whose
    // changeDetails.from is a bare string, and one where it is null.
    const texts = [
      `{"uuid":"n-1","published":"2024-01-31T23:00:00.000Z",
        "securityContext":{"asNumber":9009,"asOrg":"m247","isp":"m247 ltd","domain":"m247.com","isProxy":true,
          "ipDetails":{"asNumber":"9009","asOrg":"m247","domain":"m247.com","isp":"m247 ltd",
            "ipServiceCategories":[{"isAnonymous":true,"operator":"NordVPN","type":"VPN"},{"isAnonymous":"false","operator":null,"type":"Residential Proxy"}]},
          "risk":{"level":"HIGH","previousLevel":"LOW","detectionName":"Session Influenced User Risk","issuer":"OKTA","reasons":["Associated sessionId is suspected to be hijacked"]},
          "userBehaviors":[{"id":"abh1","name":"New IP","result":"POSITIVE"}]},
        "request":{"ipChain":[{"ip":"198.51.100.23","version":"V4","source":null,
          "ipDetails":{"asNumber":9009,"ipServiceCategories":[{"isAnonymous":true,"operator":"Tor Project","type":"Tor"}]}}]},
        "target":[{"id":"0pr1","type":"PolicyRule","alternateId":"unknown","displayName":"Require MFA","detailEntry":null,
          "changeDetails":{"from": { "policyRuleActionJson" : "{\\"appSignOn\\":{\\"verificationMethod\\":{\\"factorMode\\":\\"2FA\\"}}}", "n": 1, "list": [true, null] },
                           "to":{"policyRuleActionJson":"{\\"appSignOn\\":{\\"verificationMethod\\":{\\"factorMode\\":\\"1FA\\"}}}"}}},
          {"id":"0pr2","type":"PolicyRule","changeDetails":{"from":"ACTIVE","to":null}},
          {"id":"0pr3","type":"PolicyRule"}]}`,
      `{"uuid":"n-2","published":"2024-01-31T23:00:01.000Z","securityContext":{"asNumber":7922,"ipDetails":null,"risk":{"reasons":"not a list"},"userBehaviors":[]}}`,
    ];
    // Act
    const result = await writer.writePage(pageInput(arrayPage(texts, ',\n')));
    const rows = await reader.rows(result.objects);
    // Assess
    expect(rows.map((r) => r.raw)).toEqual(texts);
    expect(rows[0].securityContext).toEqual({
      asNumber: '9009',
      asOrg: 'm247',
      isp: 'm247 ltd',
      domain: 'm247.com',
      isProxy: true,
      ipDetails: {
        asNumber: '9009',
        asOrg: 'm247',
        domain: 'm247.com',
        isp: 'm247 ltd',
        ipServiceCategories: [
          { isAnonymous: true, operator: 'NordVPN', type: 'VPN' },
          { isAnonymous: false, operator: null, type: 'Residential Proxy' },
        ],
      },
      risk: { level: 'HIGH', previousLevel: 'LOW', detectionName: 'Session Influenced User Risk', issuer: 'OKTA', reasons: ['Associated sessionId is suspected to be hijacked'] },
      userBehaviors: [{ id: 'abh1', name: 'New IP', result: 'POSITIVE' }],
    });
    expect(rows[0].request).toMatchObject({
      ipChain: [{ ip: '198.51.100.23', ipDetails: { asNumber: '9009', asOrg: null, ipServiceCategories: [{ isAnonymous: true, operator: 'Tor Project', type: 'Tor' }] } }],
    });
    const targets = rows[0].target as Record<string, Json>[];
    expect(targets.map((t) => t.changeDetails)).toEqual([
      {
        from: '{"policyRuleActionJson":"{\\"appSignOn\\":{\\"verificationMethod\\":{\\"factorMode\\":\\"2FA\\"}}}","n":1,"list":[true,null]}',
        to: '{"policyRuleActionJson":"{\\"appSignOn\\":{\\"verificationMethod\\":{\\"factorMode\\":\\"1FA\\"}}}"}',
      },
      { from: '"ACTIVE"', to: null },
      null,
    ]);
    // The JSON text is what Athena's json_extract_scalar reads: the nested rule actions come back.
    const [extracted] = await reader.query(
      result.objects[0],
      `SELECT json_extract_string(json_extract_string(target[1].changeDetails."from", '$.policyRuleActionJson'), '$.appSignOn.verificationMethod.factorMode') AS f FROM read_parquet($file) WHERE uuid = 'n-1'`,
    );
    expect(extracted).toEqual({ f: '2FA' });
    expect(rows[1].securityContext).toEqual({
      asNumber: '7922',
      asOrg: null,
      isp: null,
      domain: null,
      isProxy: null,
      ipDetails: null,
      risk: { level: null, previousLevel: null, detectionName: null, issuer: null, reasons: null },
      userBehaviors: [],
    });
  });

  it('reads JSON Lines pages the same way', async () => {
    // Prepare
    const events = fixtureEvents(3, { seed: 70, start: '2024-01-31T23:20:00.000Z' });
    const texts = events.map((e) => JSON.stringify(e));
    const body = `${texts[0]}\n\n${texts[1]}\r\n${texts[2]}\n`;
    // Act
    const result = await writer.writePage(pageInput(body, { format: 'newline_delimited' }));
    const rows = await reader.rows(result.objects);
    // Assess
    expect(result.eventsWritten).toBe(3);
    expect(rows).toEqual(events.map((e, i) => expectedRow(e, texts[i], INGESTED_AT)));
  });

  it('returns no objects for an empty page', async () => {
    // Act
    const result = await writer.writePage(pageInput('[ ]'));
    // Assess
    expect(result).toEqual({
      objects: [],
      quarantine: undefined,
      eventsWritten: 0,
      eventsQuarantined: 0,
      duplicatesDropped: 0,
      outsideWindow: 0,
    });
  });
});

describe('DuckDbParquetWriter: partitions', () => {
  it('puts 23:59:59.999 and the next 00:00:00.000 into different dt/hour objects, sorted by published', async () => {
    // Prepare: out of order on purpose, with a tie broken by page position
    const at = (uuid: string, published: string): JsonObject => fixtureEvent(uuid.length, { uuid, published });
    const events = [
      at('d', '2024-02-01T00:00:00.000Z'),
      at('b', '2024-01-31T23:59:59.999Z'),
      at('a', '2024-01-31T23:00:00.000Z'),
      at('e', '2024-02-01T00:59:59.999Z'),
      at('c', '2024-01-31T23:59:59.999Z'),
      at('f', '2024-02-01T01:00:00.000Z'),
    ];
    // Act
    const result = await writer.writePage(pageInput(fixturePage(events)));
    // Assess
    expect(result.objects.map((o) => [o.key, o.events])).toEqual([
      [eventObjectKey(ORG, { dt: '2024-01-31', hour: '23' }, NAME), 3],
      [eventObjectKey(ORG, { dt: '2024-02-01', hour: '00' }, NAME), 2],
      [eventObjectKey(ORG, { dt: '2024-02-01', hour: '01' }, NAME), 1],
    ]);
    const perObject = await Promise.all(result.objects.map((o) => reader.rows([o])));
    expect(perObject.map((rows) => rows.map((r) => r.uuid))).toEqual([['a', 'b', 'c'], ['d', 'e'], ['f']]);
    expect(result).toMatchObject({
      eventsWritten: 6,
      minPublished: '2024-01-31T23:00:00.000Z',
      maxPublished: '2024-02-01T01:00:00.000Z',
    });
  });
});

describe('DuckDbParquetWriter: quarantine', () => {
  it('sets aside non-objects, missing uuids and unplaceable times, byte for byte, and writes the rest', async () => {
    // Prepare
    const good = JSON.stringify(fixtureEvent(3, { uuid: 'good', published: '2024-01-31T23:30:00.000Z' }));
    const pretty = '{\n  "published": "2024-01-31T23:30:00.000Z",\n\t"displayMessage": "no uuid é \\u00e9"\r\n}';
    const texts = [
      '42',
      '"just a string"',
      '[1, 2]',
      'null',
      'true',
      pretty,
      '{"uuid":"","published":"2024-01-31T23:30:00.000Z"}',
      '{"uuid":12345,"published":"2024-01-31T23:30:00.000Z"}',
      good,
      '{"uuid":"no-time"}',
      '{"uuid":"bad-time","published":"yesterday"}',
      '{"uuid":"impossible","published":"2017-09-31T22:23:07.777Z"}',
      '{"uuid":"date-only","published":"2024-01-31"}',
      '{"uuid":"numeric-time","published":1706743800000}',
    ];
    // Act
    const result = await writer.writePage(pageInput(arrayPage(texts)));
    // Assess
    expect(result.eventsWritten).toBe(1);
    expect(result.eventsQuarantined).toBe(texts.length - 1);
    expect(result.quarantine?.key).toBe(quarantineObjectKey(ORG, '2024-03-01', NAME));
    expect(result.quarantine?.events).toBe(texts.length - 1);
    const lines = quarantineLines(result);
    expect(lines.map((l) => l.raw)).toEqual(texts.filter((t) => t !== good));
    expect(lines.map((l) => [l.index, l.reason])).toEqual([
      [0, 'not_an_object'],
      [1, 'not_an_object'],
      [2, 'not_an_object'],
      [3, 'not_an_object'],
      [4, 'not_an_object'],
      [5, 'missing_uuid'],
      [6, 'missing_uuid'],
      [7, 'missing_uuid'],
      [9, 'invalid_published'],
      [10, 'invalid_published'],
      [11, 'invalid_published'],
      [12, 'invalid_published'],
      [13, 'invalid_published'],
    ]);
    expect(Buffer.from(lines[5].raw, 'utf8').equals(Buffer.from(pretty, 'utf8'))).toBe(true);
    const rows = await reader.rows(result.objects);
    expect(rows.map((r) => r.raw)).toEqual([good]);
  });

  it('quarantines an element DuckDB cannot read (lone surrogate escape) and keeps the rest of the page', async () => {
    // Prepare
    const lone = '{"uuid":"lone","published":"2024-01-31T23:30:00.000Z","displayMessage":"bad \\ud800 text"}';
    const ok1 = JSON.stringify(fixtureEvent(11, { uuid: 'ok-1', published: '2024-01-31T23:30:01.000Z' }));
    const ok2 = JSON.stringify(fixtureEvent(12, { uuid: 'ok-2', published: '2024-01-31T23:30:02.000Z' }));
    // Act
    const arrayResult = await writer.writePage(pageInput(arrayPage([ok1, lone, ok2])));
    const linesResult = await writer.writePage(pageInput([ok1, lone, ok2].join('\n'), { format: 'newline_delimited' }));
    // Assess
    for (const result of [arrayResult, linesResult]) {
      expect(result).toMatchObject({ eventsWritten: 2, eventsQuarantined: 1 });
      expect(quarantineLines(result)).toEqual([{ reason: 'invalid_unicode', index: 1, raw: lone }]);
      expect((await reader.rows(result.objects)).map((r) => r.raw)).toEqual([ok1, ok2]);
    }
  });
});

describe('DuckDbParquetWriter: dedupe and window', () => {
  it('keeps the first of repeated uuids and counts the rest', async () => {
    // Prepare
    const texts = ['first', 'second', 'third'].map((m, i) =>
      JSON.stringify(fixtureEvent(i, { uuid: 'same', published: '2024-01-31T23:40:00.000Z', displayMessage: m })),
    );
    texts.push(JSON.stringify(fixtureEvent(9, { uuid: 'other', published: '2024-01-31T23:40:00.000Z' })));
    // Act
    const result = await writer.writePage(pageInput(arrayPage(texts)));
    const rows = await reader.rows(result.objects);
    // Assess
    expect(result).toMatchObject({ eventsWritten: 2, duplicatesDropped: 2 });
    expect(rows.map((r) => [r.uuid, r.displayMessage])).toEqual([
      ['same', 'first'],
      ['other', expect.any(String)],
    ]);
  });

  it('decides repeats before the window: a uuid first seen outside the window is not written from a later copy', async () => {
    // Prepare: the first copy is after `until`, a later copy of the same uuid is inside it
    const until = '2024-02-01T00:00:00.000Z';
    const events = [
      fixtureEvent(1, { uuid: 'kept', published: '2024-01-31T23:10:00.000Z' }),
      fixtureEvent(2, { uuid: 'moved', published: '2024-02-01T00:10:00.000Z' }),
      fixtureEvent(3, { uuid: 'moved', published: '2024-01-31T23:20:00.000Z' }),
      fixtureEvent(4, { uuid: 'kept', published: '2024-01-31T23:30:00.000Z' }),
    ];
    // Act
    const result = await writer.writePage(pageInput(fixturePage(events), { until }));
    const rows = await reader.rows(result.objects);
    // Assess
    expect(result).toMatchObject({ eventsWritten: 1, outsideWindow: 1, duplicatesDropped: 2 });
    expect(rows.map((r) => [r.uuid, r.published])).toEqual([['kept', epochMicros('2024-01-31T23:10:00.000Z')]]);
  });

  it('leaves out events published at or after until, and counts them', async () => {
    // Prepare
    const until = '2024-02-01T00:00:00.000Z';
    const events = [
      fixtureEvent(1, { uuid: 'in', published: '2024-01-31T23:59:59.999Z' }),
      fixtureEvent(2, { uuid: 'at', published: until }),
      fixtureEvent(3, { uuid: 'after', published: '2024-02-01T05:00:00.000Z' }),
      fixtureEvent(4, { uuid: 'offset-at', published: '2024-02-01T01:00:00.000+01:00' }),
    ];
    // Act
    const result = await writer.writePage(pageInput(fixturePage(events), { until }));
    const rows = await reader.rows(result.objects);
    // Assess
    expect(result).toMatchObject({ eventsWritten: 1, outsideWindow: 3, maxPublished: '2024-01-31T23:59:59.999Z' });
    expect(rows.map((r) => r.uuid)).toEqual(['in']);
  });
});

describe('DuckDbParquetWriter: malformed pages and input', () => {
  const valid = fixturePage(fixtureEvents(2, { start: '2024-01-31T23:00:00.000Z' }));

  it.each([
    ['truncated array', valid.slice(0, valid.length - 40), 'array'],
    ['empty body', '  \n', 'array'],
    ['an object, not an array', JSON.stringify(fixtureEvent(1)), 'array'],
    ['text after the array', `${valid} trailing`, 'array'],
    ['a broken JSON line', `${JSON.stringify(fixtureEvent(1))}\n{"uuid": "x", `, 'newline_delimited'],
  ] as const)('throws MalformedPageError with a cause for %s', async (_label, body, format) => {
    // Act
    const attempt = writer.writePage(pageInput(body, { format }));
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(MalformedPageError);
    const error = (await attempt.then(
      () => undefined,
      (e: unknown) => e,
    )) as MalformedPageError;
    expect(error.name).toBe('MalformedPageError');
    if (body.trim() !== '') expect(error.cause).toBeDefined();
  });

  it('still writes pages after a malformed one', async () => {
    // Prepare
    await writer.writePage(pageInput('[{"uuid":')).catch(() => undefined);
    // Act
    const result = await writer.writePage(pageInput(valid));
    // Assess
    expect(result.eventsWritten).toBe(2);
  });

  it.each([
    ['org', { org: 'Not A Host' }, /org label/],
    ['name', { name: '../escape' }, /object name/],
    ['until', { until: 'tomorrow' }, /until/],
    ['ingestedAt', { ingestedAt: new Date(Number.NaN) }, /ingestedAt/],
  ] as const)('rejects an invalid %s with InvalidPageInputError', async (_field, extra, message) => {
    // Act
    const attempt = writer.writePage(pageInput(valid, extra as Partial<PageWriteInput>));
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidPageInputError);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('DuckDbParquetWriter: calls', () => {
  it('serialises concurrent writePage calls and gives each its own result', async () => {
    // Prepare
    const pages = ['2024-01-30', '2024-01-31', '2024-02-01'].map((day, k) =>
      fixtureEvents(5, { seed: 100 * k, start: `${day}T10:00:00.000Z` }).map((e) => JSON.stringify(e)),
    );
    // Act
    const results = await Promise.all(pages.map((texts) => writer.writePage(pageInput(arrayPage(texts)))));
    // Assess
    expect(results.map((r) => r.objects.map((o) => o.key))).toEqual([
      [eventObjectKey(ORG, { dt: '2024-01-30', hour: '10' }, NAME)],
      [eventObjectKey(ORG, { dt: '2024-01-31', hour: '10' }, NAME)],
      [eventObjectKey(ORG, { dt: '2024-02-01', hour: '10' }, NAME)],
    ]);
    for (const [k, r] of results.entries()) {
      expect((await reader.rows(r.objects)).map((row) => row.raw)).toEqual(pages[k]);
    }
  });

  it('refuses writePage after close', async () => {
    // Prepare
    const own = await DuckDbParquetWriter.open();
    await own.close();
    // Act
    const attempt = own.writePage(pageInput('[]'));
    // Assess
    await expect(attempt).rejects.toThrow(/after close/);
  });
});

describe('DuckDbParquetWriter: page sizes and threads', () => {
  it('writes a 1,000-event page with five 120 KB events under the default memory limit, then a small page from its own bytes only', async () => {
    // Prepare: the large page first, so the small one is encoded into the buffer the large one grew
    const big = new Set([3, 250, 500, 750, 996]);
    const events = fixtureEvents(1000, { seed: 21, start: '2024-01-31T22:00:00.000Z', spacingMs: 3_000 }).map((e, i) =>
      big.has(i) ? { ...e, displayMessage: `${i}:${'é'.repeat(60 * 1024)}` } : e,
    );
    const texts = events.map((e) => JSON.stringify(e));
    const small = fixtureEvents(3, { seed: 22, start: '2024-01-31T22:30:00.000Z' }).map((e) => JSON.stringify(e));
    // Act
    const large = await writer.writePage(pageInput(arrayPage(texts)));
    const after = await writer.writePage(pageInput(arrayPage(small)));
    const rows = await reader.rows(large.objects);
    // Assess
    expect(Buffer.byteLength(texts[3])).toBeGreaterThan(120 * 1024);
    expect(large).toMatchObject({ eventsWritten: 1000, eventsQuarantined: 0, duplicatesDropped: 0 });
    expect(rows.map((r) => r.raw)).toEqual(texts);
    expect(rows.filter((r) => String(r.displayMessage).length > 60 * 1024).map((r) => String(r.displayMessage).split(':')[0])).toEqual(
      ['3', '250', '500', '750', '996'],
    );
    expect(after).toMatchObject({ eventsWritten: 3, eventsQuarantined: 0 });
    expect((await reader.rows(after.objects)).map((r) => r.raw)).toEqual(small);
  });

  it('writes the same files when DuckDB may use several threads', async () => {
    // Prepare
    const own = await DuckDbParquetWriter.open({ threads: 2 });
    const events = fixtureEvents(60, { seed: 31, start: '2024-01-31T23:40:00.000Z', spacingMs: 60_000 });
    const texts = events.map((e) => JSON.stringify(e));
    try {
      // Act
      const result = await own.writePage(pageInput(arrayPage(texts)));
      const rows = await reader.rows(result.objects);
      // Assess
      expect(result.objects.map((o) => o.key)).toEqual([
        eventObjectKey(ORG, { dt: '2024-01-31', hour: '23' }, NAME),
        eventObjectKey(ORG, { dt: '2024-02-01', hour: '00' }, NAME),
      ]);
      expect(rows).toEqual(events.map((e, i) => expectedRow(e, texts[i], INGESTED_AT)));
    } finally {
      await own.close();
    }
  });
});

describe('DuckDbParquetWriter: timestamps', () => {
  it('stores published (UTC) truncated to milliseconds, as Athena reads it (timestamp(3)), and keeps the digits in raw', async () => {
    // Prepare: an exported event with microseconds
    const published = '2024-01-31T23:15:00.123456Z';
    const text = JSON.stringify(fixtureEvent(1, { published }));
    // Act
    const result = await writer.writePage(pageInput(arrayPage([text])));
    const [row] = await reader.rows(result.objects);
    // Assess
    expect(row.published).toBe(epochMicros('2024-01-31T23:15:00.123Z'));
    expect(row.raw).toBe(text);
    expect(row.ingested_at).toBe(epochMicros(INGESTED_AT.toISOString()));
    expect(result).toMatchObject({ minPublished: '2024-01-31T23:15:00.123Z', maxPublished: '2024-01-31T23:15:00.123Z' });
  });

  it('truncates, never rounds up: 23:59:59.9999996 stays in its day and hour, and in page order with an equal millisecond', async () => {
    // Prepare: two events in the same millisecond, the later one first in the page
    const late = JSON.stringify(fixtureEvent(1, { published: '2024-01-31T23:59:59.9999996Z' }));
    const early = JSON.stringify(fixtureEvent(2, { published: '2024-01-31T23:59:59.999001Z' }));
    // Act
    const result = await writer.writePage(pageInput(arrayPage([late, early])));
    const rows = await reader.rows(result.objects);
    // Assess
    expect(result.objects.map((o) => o.key)).toEqual([eventObjectKey(ORG, { dt: '2024-01-31', hour: '23' }, NAME)]);
    expect(rows.map((r) => [r.published, r.raw])).toEqual([
      [epochMicros('2024-01-31T23:59:59.999Z'), late],
      [epochMicros('2024-01-31T23:59:59.999Z'), early],
    ]);
  });
});

describe('DuckDbParquetWriter: events outside the query bounds', () => {
  it('quarantines events published outside `accept`, verbatim, and writes the others', async () => {
    // Prepare: a page of the query [2024-01-31T23:00, 2024-02-01T01:00) with a 2021 event and a 2030 event in it
    const inside = fixtureEvent(1, { published: '2024-01-31T23:30:00.000Z' });
    const past = fixtureEvent(2, { published: '2021-06-01T00:00:00.000Z' });
    const future = fixtureEvent(3, { published: '2030-01-01T00:00:00.000Z' });
    const body = fixturePage([inside, past, future]);
    // Act
    const result = await writer.writePage(
      pageInput(body, { until: '2024-02-01T01:00:00.000Z', accept: { from: '2024-01-31T22:59:59.000Z', to: '2024-02-01T01:00:01.000Z' } }),
    );
    // Assess
    expect(result.eventsWritten).toBe(1);
    expect(result.objects.map((o) => o.key)).toEqual([eventObjectKey(ORG, { dt: '2024-01-31', hour: '23' }, NAME)]);
    expect(result.eventsQuarantined).toBe(2);
    expect(quarantineLines(result)).toEqual([
      { reason: 'outside_window', index: 1, raw: JSON.stringify(past) },
      { reason: 'outside_window', index: 2, raw: JSON.stringify(future) },
    ]);
    expect(result.minPublished).toBe('2024-01-31T23:30:00.000Z');
    expect(result.maxPublished).toBe('2024-01-31T23:30:00.000Z');
  });

  it('refuses an accept range that is not two instants in order', async () => {
    const body = fixturePage([fixtureEvent(1)]);
    await expect(writer.writePage(pageInput(body, { accept: { from: '2024-02-01T00:00:00Z', to: '2024-01-01T00:00:00Z' } }))).rejects.toBeInstanceOf(InvalidPageInputError);
  });
});

describe('DuckDbParquetWriter: elements without a uuid at the window end', () => {
  it('leaves an element without a uuid published at or after `until` to the next window instead of quarantining it', async () => {
    // Prepare: window queries overlap by a second, so the element is in two windows' pages
    const inside = fixtureEvent(1, { published: '2024-01-31T23:30:00.000Z' });
    const noUuidLater = JSON.stringify({ published: '2024-02-01T01:00:00.500Z', eventType: 'user.session.start' });
    const noUuidInside = JSON.stringify({ published: '2024-01-31T23:40:00.000Z', eventType: 'user.session.start' });
    const body = `[${JSON.stringify(inside)},${noUuidLater},${noUuidInside}]`;
    // Act
    const result = await writer.writePage(
      pageInput(body, { until: '2024-02-01T01:00:00.000Z', accept: { from: '2024-01-31T22:59:59.000Z', to: '2024-02-01T01:00:01.000Z' } }),
    );
    // Assess
    expect(result.eventsWritten).toBe(1);
    expect(result.outsideWindow).toBe(1);
    expect(quarantineLines(result)).toEqual([{ reason: 'missing_uuid', index: 2, raw: noUuidInside }]);
  });
});
