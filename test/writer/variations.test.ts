/**
 * The variations real Okta events show (see the project's notes on the System Log), one row each,
 * written in one page and checked column by column after a Parquet round trip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEvent, mergeOverrides, type FixtureOverrides } from '../../lib/core/fixtures';
import type { PageWriteResult } from '../../lib/core/ports';
import { DuckDbParquetWriter, type QuarantineLine } from '../../lib/core/writer/parquet-writer';
import { arrayPage, epochMicros, openParquetReader, type Json, type ParquetReader } from './support';

interface Variation {
  readonly name: string;
  /** Deep-merged into a fixture event (uuid and published are set by the test unless given). */
  readonly overrides?: FixtureOverrides;
  /** A member's exact JSON text, added at the end of the event (delete that key in `overrides`). */
  readonly splice?: string;
  /** Dotted path into the stored row, and the value expected there (DuckDB JSON form). */
  readonly path: string;
  readonly expected: Json;
}

const PUBLISHED = '2024-05-05T05:05:05.005Z';

const VARIATIONS: readonly Variation[] = [
  { name: 'target null', overrides: { target: null }, path: 'target', expected: null },
  { name: 'target empty', overrides: { target: [] }, path: 'target', expected: [] },
  { name: 'target with a null element', overrides: { target: [null] }, path: 'target', expected: [null] },
  {
    name: 'client {}',
    overrides: { client: undefined },
    splice: '"client":{}',
    path: 'client',
    expected: { userAgent: null, zone: null, device: null, id: null, ipAddress: null, geographicalContext: null },
  },
  {
    name: 'client all nulls',
    overrides: { client: { userAgent: null, zone: null, device: null, id: null, ipAddress: null, geographicalContext: null } },
    path: 'client',
    expected: { userAgent: null, zone: null, device: null, id: null, ipAddress: null, geographicalContext: null },
  },
  { name: 'client.ipAddress "null" stays text', overrides: { client: { ipAddress: 'null' } }, path: 'client.ipAddress', expected: 'null' },
  { name: 'client.zone "null" stays text', overrides: { client: { zone: 'null' } }, path: 'client.zone', expected: 'null' },
  { name: 'geographicalContext null', overrides: { client: { geographicalContext: null } }, path: 'client.geographicalContext', expected: null },
  { name: 'externalSessionId "unknown"', overrides: { authenticationContext: { externalSessionId: 'unknown' } }, path: 'authenticationContext.externalSessionId', expected: 'unknown' },
  { name: 'debugContext null', overrides: { debugContext: null }, path: 'debugContext', expected: null },
  { name: 'debugContext {}', overrides: { debugContext: undefined }, splice: '"debugContext":{}', path: 'debugContext', expected: { debugData: null } },
  { name: 'debugData {}', overrides: { debugContext: undefined }, splice: '"debugContext":{"debugData":{}}', path: 'debugContext.debugData', expected: [] },
  { name: 'ipChain []', overrides: { request: { ipChain: [] } }, path: 'request.ipChain', expected: [] },
  { name: 'asNumber integer', overrides: { securityContext: { asNumber: 15169 } }, path: 'securityContext.asNumber', expected: '15169' },
  { name: 'asNumber numeric string', overrides: { securityContext: { asNumber: '15169' } }, path: 'securityContext.asNumber', expected: '15169' },
  { name: 'asNumber not a number', overrides: { securityContext: { asNumber: 'AS15169' } }, path: 'securityContext.asNumber', expected: null },
  { name: 'asNumber too large', overrides: { securityContext: { asNumber: '99999999999999999999999' } }, path: 'securityContext.asNumber', expected: null },
  { name: 'isProxy boolean', overrides: { securityContext: { isProxy: true } }, path: 'securityContext.isProxy', expected: true },
  { name: 'isProxy "true"', overrides: { securityContext: { isProxy: 'true' } }, path: 'securityContext.isProxy', expected: true },
  { name: 'isProxy "false"', overrides: { securityContext: { isProxy: 'false' } }, path: 'securityContext.isProxy', expected: false },
  { name: 'version number', overrides: { version: 0 }, path: 'version', expected: '0' },
  { name: 'postalCode number', overrides: { client: { geographicalContext: { postalCode: 94107 } } }, path: 'client.geographicalContext.postalCode', expected: '94107' },
  { name: 'geolocation integers', overrides: { client: { geographicalContext: { geolocation: { lat: 52, lon: -13 } } } }, path: 'client.geographicalContext.geolocation', expected: { lat: 52, lon: -13 } },
  { name: 'geolocation floats', overrides: { client: { geographicalContext: { geolocation: { lat: 52.5196, lon: 13.4069 } } } }, path: 'client.geographicalContext.geolocation', expected: { lat: 52.5196, lon: 13.4069 } },
  { name: 'geolocation numeric strings', overrides: { client: { geographicalContext: { geolocation: { lat: '52.5', lon: 'east' } } } }, path: 'client.geographicalContext.geolocation', expected: { lat: 52.5, lon: null } },
  { name: 'authenticationStep as string', overrides: { authenticationContext: { authenticationStep: '0' } }, path: 'authenticationContext.authenticationStep', expected: 0 },
  {
    name: 'debugData non-string values',
    overrides: { debugContext: undefined },
    splice: '"debugContext":{"debugData":{"responseTime":269,"threatSuspected":false,"risk":{"level":"LOW"},"tunnels":[1,"x"],"ratio":1.5,"gone":null,"text":"s"}}',
    path: 'debugContext.debugData',
    expected: [
      { key: 'responseTime', value: '269' },
      { key: 'threatSuspected', value: 'false' },
      { key: 'risk', value: '{"level":"LOW"}' },
      { key: 'tunnels', value: '[1,"x"]' },
      { key: 'ratio', value: '1.5' },
      { key: 'gone', value: null },
      { key: 'text', value: 's' },
    ],
  },
  { name: 'debugData string risk kept as is', overrides: { debugContext: undefined }, splice: '"debugContext":{"debugData":{"risk":"{level=LOW}"}}', path: 'debugContext.debugData', expected: [{ key: 'risk', value: '{level=LOW}' }] },
  { name: 'number where a string is expected', overrides: { displayMessage: 12 }, path: 'displayMessage', expected: '12' },
  { name: 'boolean where a string is expected', overrides: { severity: true }, path: 'severity', expected: 'true' },
  { name: 'object where a string is expected', overrides: { outcome: { reason: { code: 7 } } }, path: 'outcome.reason', expected: '{"code":7}' },
  {
    name: 'string where a struct is expected',
    overrides: { actor: 'system' },
    path: 'actor',
    expected: { id: null, type: null, alternateId: null, displayName: null, detailEntry: null },
  },
  { name: 'object where a list is expected', overrides: { target: { id: 'x' } }, path: 'target', expected: null },
  { name: 'string where a map is expected', overrides: { transaction: { detail: 'n/a' } }, path: 'transaction.detail', expected: null },
  { name: 'unknown fields are ignored in typed columns', overrides: { authenticatorContext: { key: 'v' }, outcome: { extra: 1 } }, path: 'outcome', expected: { result: 'SUCCESS', reason: 'r' } },
  { name: 'published with one fractional digit', overrides: { published: '2024-05-05T05:05:05.1Z' }, path: 'published', expected: epochMicros('2024-05-05T05:05:05.100Z') },
  { name: 'published with no fraction', overrides: { published: '2024-05-05T05:05:05Z' }, path: 'published', expected: epochMicros('2024-05-05T05:05:05.000Z') },
  { name: 'published with nanoseconds, truncated to milliseconds', overrides: { published: '2024-05-05T05:05:05.123456789Z' }, path: 'published', expected: epochMicros('2024-05-05T05:05:05.123Z') },
  { name: 'published with +02:00', overrides: { published: '2024-05-05T07:05:05.005+02:00' }, path: 'published', expected: epochMicros(PUBLISHED) },
  { name: 'published with -0530', overrides: { published: '2024-05-04T23:35:05.005-0530' }, path: 'published', expected: epochMicros(PUBLISHED) },
  { name: 'published without zone is UTC', overrides: { published: '2024-05-05T05:05:05.005' }, path: 'published', expected: epochMicros(PUBLISHED) },
  { name: 'published lower-case t and z', overrides: { published: '2024-05-05t05:05:05.005z' }, path: 'published', expected: epochMicros(PUBLISHED) },
];

const QUARANTINED: readonly { name: string; published: string }[] = [
  { name: 'impossible date', published: '2017-09-31T22:23:07.777Z' },
  { name: 'hour 25', published: '2024-05-05T25:05:05.005Z' },
  { name: 'no seconds', published: '2024-05-05T05:05Z' },
  { name: 'free text', published: 'May 5th' },
  { name: 'beyond year 9999 once the offset is applied', published: '9999-12-31T23:30:00.000-01:00' },
  { name: 'year 0000', published: '0000-06-01T00:00:00.000Z' },
];

let writer: DuckDbParquetWriter;
let reader: ParquetReader;
let result: PageWriteResult;
let rowsByUuid: Map<string, Record<string, Json>>;

const uuidOf = (name: string): string => `var-${name.replace(/[^a-z0-9]+/gi, '-')}`;

beforeAll(async () => {
  writer = await DuckDbParquetWriter.open();
  reader = await openParquetReader();
  const texts: string[] = [];
  VARIATIONS.forEach((v, i) => {
    const base = fixtureEvent(i, { published: PUBLISHED, uuid: uuidOf(v.name), outcome: { result: 'SUCCESS', reason: 'r' } });
    const text = JSON.stringify(mergeOverrides(base, v.overrides ?? {}));
    texts.push(v.splice ? `${text.slice(0, -1)},${v.splice}}` : text);
  });
  for (const q of QUARANTINED) texts.push(JSON.stringify(fixtureEvent(1, { uuid: uuidOf(q.name), published: q.published })));
  result = await writer.writePage({ org: 'acme.okta.com', body: arrayPage(texts), format: 'array', name: 'variations', ingestedAt: new Date() });
  const rows = await reader.rows(result.objects);
  rowsByUuid = new Map(rows.map((r) => [String(r.uuid), r]));
});

afterAll(async () => {
  await writer?.close();
  reader?.close();
});

function at(row: Record<string, Json>, path: string): Json | undefined {
  let v: Json | undefined = row;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = v[part];
  }
  return v;
}

describe('DuckDbParquetWriter: variations seen in real Okta events', () => {
  it('writes every variation and quarantines only the unplaceable times', () => {
    expect(result.eventsWritten).toBe(VARIATIONS.length);
    expect(result.eventsQuarantined).toBe(QUARANTINED.length);
  });

  it.each(VARIATIONS.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const row = rowsByUuid.get(uuidOf(v.name));
    expect(row, 'row written').toBeDefined();
    expect(at(row as Record<string, Json>, v.path)).toEqual(v.expected);
  });

  it.each(QUARANTINED.map((q) => [q.name, q] as const))('quarantines published: %s', (_name, q) => {
    const lines = Buffer.from(result.quarantine?.body ?? new Uint8Array())
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as QuarantineLine);
    const line = lines.find((l) => (JSON.parse(l.raw) as { uuid: string }).uuid === uuidOf(q.name));
    expect(line?.reason).toBe('invalid_published');
    expect(rowsByUuid.has(uuidOf(q.name))).toBe(false);
  });
});
