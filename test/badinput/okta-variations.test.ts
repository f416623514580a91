/**
 * Every variation of real Okta events this project has recorded, one row each (the row quotes the
 * observation as its `note`), served by the mock Okta and ingested through the whole
 * pipeline: the Okta client, `runIngest`, the DuckDB writer and a sink. Each event must come out
 * exactly once, in the lake with `raw` byte for byte as served, or in quarantine verbatim with the
 * reason; and the typed columns must answer the question the notes say a hunt asks of them.
 * (The writer's own, column-by-column table is test/writer/variations.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIngest, type IngestResult } from '../../lib/core/ingest/ingest';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import { OktaLogClient } from '../../lib/core/okta/client';
import { SswsToken } from '../../lib/core/okta/credentials';
import { parseOrg } from '../../lib/core/okta/org';
import { auditLake, type LakeAudit } from '../../testkit/lake-audit';
import { openDuckDb, type OpenDuckDb } from '../../lib/core/writer/duckdb';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { generateEvents } from '../../lib/demo/generate';
import { startMockOkta, type MockEvent, type MockOkta } from '../../lib/mock-okta';
import { MemorySink } from '../../testkit/fakes';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Event = Record<string, unknown> & { debugContext: { debugData: Record<string, unknown> } | null };

interface Variation {
  /** The observation about real Okta events the row checks, quoted. */
  readonly note: string;
  /** Changes a realistic user sign-in event (a deep copy), or returns the exact text to serve. */
  readonly change: (e: Event) => void | string;
  /** A DuckDB expression over the row's columns and the value it must have (DuckDB JSON form)... */
  readonly sql?: string;
  readonly value?: Json;
  /** ...or the quarantine reason, when the event cannot be placed. */
  readonly quarantine?: 'missing_uuid' | 'invalid_published';
}

const dd = (e: Event): Record<string, unknown> => {
  if (!e.debugContext) e.debugContext = { debugData: {} };
  return e.debugContext.debugData;
};
const set = (e: Event, path: string, value: unknown): void => {
  const parts = path.split('.');
  let node = e as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
};

const VARIATIONS: readonly Variation[] = [
  { note: '`debugContext.debugData` is almost always string to string', change: (e) => void (dd(e).requestUri = '/idp/idx/identify'), sql: "debugContext.debugData['requestUri']", value: '/idp/idx/identify' },
  { note: 'values that are numbers or booleans arrive as strings (`"threatSuspected":"false"`)', change: (e) => void (dd(e).threatSuspected = 'false'), sql: "debugContext.debugData['threatSuspected']", value: 'false' },
  { note: '(and a boolean that arrives as a boolean reads the same)', change: (e) => void (dd(e).threatSuspected = false), sql: "debugContext.debugData['threatSuspected']", value: 'false' },
  { note: '(and a number that arrives as a number)', change: (e) => void (dd(e).tokenLifetimeSeconds = 3600), sql: "debugContext.debugData['tokenLifetimeSeconds']::INTEGER", value: 3600 },
  {
    note: '`behaviors` and `risk` look like `"{New IP=POSITIVE, New Device=NEGATIVE}"`',
    change: (e) => {
      dd(e).behaviors = '{New Geo-Location=NEGATIVE, New Device=POSITIVE, New IP=POSITIVE}';
      dd(e).risk = '{reasons=Anomalous Device, level=MEDIUM}';
    },
    sql: "[debugContext.debugData['behaviors'] LIKE '%New IP=POSITIVE%', debugContext.debugData['risk'] LIKE '%level=MEDIUM%']",
    value: [true, true],
  },
  {
    note: '`logOnlySecurityData` ... JSON text',
    change: (e) => void (dd(e).logOnlySecurityData = '{"risk":{"level":"LOW"},"behaviors":{"New IP":"NEGATIVE"}}'),
    sql: "json_extract_string(debugContext.debugData['logOnlySecurityData'], '$.risk.level')",
    value: 'LOW',
  },
  {
    note: '`tunnels` ... JSON text',
    change: (e) => void (dd(e).tunnels = '[{"anonymous":true,"operator":"NordVPN","type":"VPN"}]'),
    sql: "json_extract_string(debugContext.debugData['tunnels'], '$[0].type')",
    value: 'VPN',
  },
  {
    note: '`device_integrator` ... JSON text',
    change: (e) => void (dd(e).device_integrator = '{"key":"jamf","value":"managed"}'),
    sql: "json_extract_string(debugContext.debugData['device_integrator'], '$.key')",
    value: 'jamf',
  },
  { note: 'rarely a value is an object', change: (e) => void (dd(e).detail = { a: 1, b: [true] }), sql: "debugContext.debugData['detail']", value: '{"a":1,"b":[true]}' },
  { note: '(rarely a value is) a list', change: (e) => void (dd(e).list = [1, 'two']), sql: "debugContext.debugData['list']", value: '[1,"two"]' },
  { note: '`target` is `null` in many events rather than `[]`', change: (e) => void (e.target = null), sql: 'target IS NULL', value: true },
  {
    note: "find the affected user by looking through `target` for `type = 'User'`, never by taking the first element",
    change: (e) =>
      void (e.target = [
        { id: '0oa1', type: 'AppInstance', alternateId: 'Zoom', displayName: 'Zoom', detailEntry: { signOnModeType: 'SAML_2_0' } },
        { id: '00u9', type: 'User', alternateId: 'victim@acme.example', displayName: 'Victim', detailEntry: null },
      ]),
    sql: "[target[1].type, list_filter(target, t -> t.type = 'User')[1].alternateId]",
    value: ['AppInstance', 'victim@acme.example'],
  },
  { note: '`client` can be `{}`', change: (e) => void (e.client = {}), sql: 'client.ipAddress IS NULL AND client.userAgent IS NULL', value: true },
  {
    note: '`client` can be ... all nulls',
    change: (e) => void (e.client = { userAgent: null, zone: null, device: null, id: null, ipAddress: null, geographicalContext: null }),
    sql: 'client.ipAddress IS NULL AND client.geographicalContext IS NULL',
    value: true,
  },
  { note: '`client.geographicalContext` is often null', change: (e) => set(e, 'client.geographicalContext', null), sql: 'client.geographicalContext IS NULL', value: true },
  { note: '`client.zone` ... can be the literal string `"null"`', change: (e) => set(e, 'client.zone', 'null'), sql: 'client.zone', value: 'null' },
  { note: 'even `ipAddress` can be the literal string `"null"`', change: (e) => set(e, 'client.ipAddress', 'null'), sql: 'client.ipAddress', value: 'null' },
  { note: '`externalSessionId` can be `"unknown"`', change: (e) => set(e, 'authenticationContext.externalSessionId', 'unknown'), sql: 'authenticationContext.externalSessionId', value: 'unknown' },
  { note: '`debugContext` can be null', change: (e) => void (e.debugContext = null), sql: 'debugContext IS NULL', value: true },
  { note: '`debugContext` can be ... `{}`', change: (e) => void ((e as Record<string, unknown>).debugContext = {}), sql: 'debugContext.debugData IS NULL', value: true },
  { note: '`request.ipChain` can be `[]`', change: (e) => set(e, 'request.ipChain', []), sql: 'len(request.ipChain)::INTEGER', value: 0 },
  { note: '`securityContext.asNumber` is an integer', change: (e) => set(e, 'securityContext.asNumber', 15169), sql: 'securityContext.asNumber = 15169', value: true },
  { note: '`isProxy` a boolean', change: (e) => set(e, 'securityContext.isProxy', true), sql: 'securityContext.isProxy', value: true },
  { note: 'some exports carry `version` ... as numbers', change: (e) => void (e.version = 0), sql: 'version', value: '0' },
  { note: 'some exports carry ... `postalCode` as numbers', change: (e) => set(e, 'client.geographicalContext.postalCode', 94107), sql: 'client.geographicalContext.postalCode', value: '94107' },
  {
    note: '`geolocation.lat/lon` are floats',
    change: (e) => set(e, 'client.geographicalContext.geolocation', { lat: 37.7749, lon: -122.4194 }),
    sql: '[client.geographicalContext.geolocation.lat, client.geographicalContext.geolocation.lon]',
    value: [37.7749, -122.4194],
  },
  {
    note: '`geolocation.lat/lon` are ... integers',
    change: (e) => set(e, 'client.geographicalContext.geolocation', { lat: 52, lon: 13 }),
    sql: '[client.geographicalContext.geolocation.lat, client.geographicalContext.geolocation.lon]',
    value: [52, 13],
  },
  { note: '`published` is ISO-8601 UTC, normally with milliseconds', change: () => undefined, sql: "strftime(published, '%S.%f')", value: '@ms' },
  { note: 'some have fewer fractional digits', change: (e) => void (e.published = String(e.published).replace(/\.(\d)\d\dZ$/, '.$1Z')), sql: "strftime(published, '%S.%f')", value: '@tenths' },
  { note: '(and some none at all)', change: (e) => void (e.published = String(e.published).replace(/\.\d+Z$/, 'Z')), sql: "strftime(published, '%S.%f')", value: '@seconds' },
  {
    note: "Okta's own documentation shows an impossible date (`2017-09-31T22:23:07.777Z`) ... an event that cannot be placed in time is still kept",
    change: (e) => void (e.published = '2017-09-31T22:23:07.777Z'),
    quarantine: 'invalid_published',
  },
  {
    note: '`system@okta.com` (actor type `SystemPrincipal`, all client fields null) does a lot of routine work',
    change: (e) => {
      e.actor = { id: '0oa0', type: 'SystemPrincipal', alternateId: 'system@okta.com', displayName: 'Okta System', detailEntry: null };
      e.client = { userAgent: null, zone: null, device: null, id: null, ipAddress: null, geographicalContext: null };
    },
    sql: "actor.alternateId = 'system@okta.com' AND actor.type = 'SystemPrincipal' AND client.ipAddress IS NULL",
    value: true,
  },
  {
    note: "real support actions also carry `transaction.id = 'unknown'` and no user agent or geography",
    change: (e) => {
      set(e, 'transaction.id', 'unknown');
      set(e, 'client.userAgent', null);
      set(e, 'client.geographicalContext', null);
    },
    sql: "transaction.id = 'unknown' AND client.userAgent IS NULL AND client.geographicalContext IS NULL",
    value: true,
  },
  {
    note: "the factor is the exact key `debugData.factor = 'OKTA_VERIFY_PUSH'`; `core.user.factor.attempt_fail` is a `legacyEventType`; denials as `pushOnlyResponseType = 'OV_RESPONSE_DENY'`",
    change: (e) => {
      e.eventType = 'user.authentication.auth_via_mfa';
      e.legacyEventType = 'core.user.factor.attempt_fail';
      set(e, 'outcome', { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' });
      dd(e).factor = 'OKTA_VERIFY_PUSH';
      dd(e).pushOnlyResponseType = 'OV_RESPONSE_DENY';
    },
    sql: "[legacyEventType, outcome.reason, debugContext.debugData['factor'], debugContext.debugData['pushOnlyResponseType']]",
    value: ['core.user.factor.attempt_fail', 'INVALID_CREDENTIALS', 'OKTA_VERIFY_PUSH', 'OV_RESPONSE_DENY'],
  },
  { note: 'Okta adds fields over time (`authenticationContext.rootSessionId`...', change: (e) => set(e, 'authenticationContext.rootSessionId', 'idxRootSession42'), sql: 'authenticationContext.rootSessionId', value: 'idxRootSession42' },
  {
    note: '... `authenticatorContext` ...), so nothing may be dropped because the schema does not know it yet',
    change: (e) => void (e.authenticatorContext = { authenticatorKey: 'okta_verify', callerMethod: 'Push' }),
    sql: "json_extract_string(raw, '$.authenticatorContext.authenticatorKey')",
    value: 'okta_verify',
  },
  {
    note: '... `device`)',
    change: (e) => void (e.device = { id: 'guo1', name: 'MacBook', os_platform: 'OSX', os_version: '14.4', managed: true, registered: true, device_integrator: null, disk_encryption_type: 'ALL_INTERNAL_VOLUMES', screen_lock_type: 'BIOMETRIC', jailbreak: false, secure_hardware_present: true }),
    sql: '[device.os_platform, device.managed::VARCHAR]',
    value: ['OSX', 'true'],
  },
  {
    note: '(a field Okta adds tomorrow, anywhere, with any value)',
    change: (e) => void (e.fieldFromTomorrow = { nested: ['ünïcödé ✓', 1.5e300, null] }),
    sql: "json_extract(raw, '$.fieldFromTomorrow.nested[1]')::DOUBLE",
    value: 1.5e300,
  },
  { note: 'Treat `uuid` as the identity of an event everywhere (an event without one is kept in quarantine)', change: (e) => void delete e.uuid, quarantine: 'missing_uuid' },
];

const TOKEN = 'variations-token';
/** Three hours ago, on the hour: Okta serves 90 days back at most. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;

describe('every recorded variation of real Okta events, through the whole pipeline', () => {
  let mock: MockOkta;
  let writer: DuckDbParquetWriter;
  let duck: OpenDuckDb;
  let dir: string;
  let sink: MemorySink;
  let result: IngestResult;
  let audit: LakeAudit;
  const texts: string[] = [];
  const uuids: string[] = [];
  const publishedMs: number[] = [];

  beforeAll(async () => {
    // A realistic sign-in with a client, geography, an ip chain and debug data, as the base.
    const base = generateEvents(400, { seed: 11, start: new Date(T0 - 86_400_000) }).find(
      (e) => e.actor.type === 'User' && e.client?.geographicalContext != null && (e.request?.ipChain?.length ?? 0) > 0 && e.debugContext != null,
    );
    if (!base) throw new Error('no suitable base event');
    VARIATIONS.forEach((v, i) => {
      const at = T0 + i * 60_000 + 123;
      const e = JSON.parse(JSON.stringify(base)) as Event;
      e.uuid = `variation-${String(i).padStart(2, '0')}`;
      e.published = new Date(at).toISOString();
      const replaced = v.change(e);
      texts.push(typeof replaced === 'string' ? replaced : JSON.stringify(e));
      uuids.push(`variation-${String(i).padStart(2, '0')}`);
      publishedMs.push(at);
    });
    const served: MockEvent[] = texts.map((text, i) => ({ uuid: uuids[i], publishedMs: publishedMs[i], text }));
    mock = await startMockOkta({ events: served, apiToken: TOKEN });
    const org = parseOrg(mock.origin, { allowInsecureLoopback: true });
    writer = await DuckDbParquetWriter.open({});
    sink = new MemorySink();
    result = await runIngest({
      org: org.host,
      source: new OktaLogClient({ org, credentials: new SswsToken(TOKEN), pageSize: 10 }),
      writer,
      sink,
      store: new MemoryWatermarkStore(),
      owner: 'variations',
      since: new Date(T0).toISOString(),
      until: new Date(T0 + VARIATIONS.length * 60_000).toISOString(),
    });
    audit = await auditLake(sink);
    // The typed columns, for the hunts' questions.
    dir = mkdtempSync(join(tmpdir(), 'okta-lake-variations-'));
    duck = await openDuckDb({ tmpDir: join(dir, 'duckdb') });
    const files = [...sink.objects].filter(([k]) => k.endsWith('.parquet')).map(([, body], i) => {
      const file = join(dir, `${i}.parquet`);
      writeFileSync(file, body);
      return `'${file}'`;
    });
    await duck.connection.run(`CREATE VIEW lake AS SELECT * FROM read_parquet([${files.join(',')}])`);
  });

  afterAll(async () => {
    await writer?.close();
    duck?.close();
    await mock?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads every variation in one run, several pages, quarantining only the events that cannot be placed', () => {
    const quarantined = VARIATIONS.filter((v) => v.quarantine).length;
    expect(result.outcome).toBe('caught-up');
    expect(result.pages).toBeGreaterThan(3);
    expect(result.eventsWritten).toBe(VARIATIONS.length - quarantined);
    expect(result.eventsQuarantined).toBe(quarantined);
    expect(audit.rows).toBe(VARIATIONS.length - quarantined);
  });

  it.each(VARIATIONS.map((v, i) => [v.note, i] as const))('%s', async (_note, i) => {
    const v = VARIATIONS[i];
    const inLake = audit.byUuid.get(uuids[i]);
    const inQuarantine = audit.quarantined.filter((q) => q.raw === texts[i]);
    if (v.quarantine) {
      // Kept verbatim, once, with the reason; not in the lake.
      expect(inLake).toBeUndefined();
      expect(inQuarantine.map((q) => q.reason)).toEqual([v.quarantine]);
      return;
    }
    expect(inQuarantine).toEqual([]);
    expect(inLake?.count).toBe(1);
    const rows = (await duck.connection.runAndReadAll(`SELECT raw, (${v.sql}) AS v FROM lake WHERE uuid = '${uuids[i]}'`)).getRowObjectsJson();
    expect(rows).toHaveLength(1);
    expect(rows[0].raw).toBe(texts[i]);
    const ms = new Date(publishedMs[i]).toISOString();
    const expected =
      v.value === '@ms' ? `${ms.slice(17, 23)}000` : v.value === '@tenths' ? `${ms.slice(17, 21)}00000` : v.value === '@seconds' ? `${ms.slice(17, 19)}.000000` : v.value;
    expect(rows[0].v).toEqual(expected);
  });
});
