/**
 * A lake holding Parquet files written before the schema gained Okta's securityContext.ipDetails,
 * .risk, .userBehaviors, request.ipChain[].ipDetails and target[].changeDetails (the writer of
 * commit b06635a) next to files written now: the local hunting view reads both, the old rows with
 * the new fields NULL and the new rows with their values, whichever file DuckDB lists first; a
 * lake of old files only still has the new columns (NULL), so the detections that read them run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLake, type Lake } from '../../lib/core/hunt';
import { eventObjectKey, partitionOf } from '../../lib/core/layout';
import { LOG_EVENT_COLUMNS } from '../../lib/core/schema';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { MINUTE, PLACES, TestLake, oktaEvent, person, target, type OktaEventJson } from '../detections/support';

const ORG = 'acme.okta.com';
const AT = Date.parse('2024-05-01T12:00:00.000Z');

/** The previous writer's types of the three columns that gained fields (duckDbType at b06635a). */
const OLD_TYPES: Readonly<Record<string, string>> = {
  securityContext: 'STRUCT("asNumber" BIGINT, "asOrg" VARCHAR, "isp" VARCHAR, "domain" VARCHAR, "isProxy" BOOLEAN)',
  request:
    'STRUCT("ipChain" STRUCT("ip" VARCHAR, "geographicalContext" STRUCT("city" VARCHAR, "state" VARCHAR, "country" VARCHAR, "postalCode" VARCHAR, "geolocation" STRUCT("lat" DOUBLE, "lon" DOUBLE)), "version" VARCHAR, "source" VARCHAR)[])',
  target: 'STRUCT("id" VARCHAR, "type" VARCHAR, "alternateId" VARCHAR, "displayName" VARCHAR, "detailEntry" MAP(VARCHAR, VARCHAR))[]',
};

const GEO = { city: 'VARCHAR', state: 'VARCHAR', country: 'VARCHAR', postalCode: 'VARCHAR', geolocation: { lat: 'DOUBLE', lon: 'DOUBLE' } };
/** The previous writer's json_transform structures of those columns (checked against OLD_TYPES below). */
const OLD_STRUCTURES: Readonly<Record<string, unknown>> = {
  securityContext: { asNumber: 'BIGINT', asOrg: 'VARCHAR', isp: 'VARCHAR', domain: 'VARCHAR', isProxy: 'BOOLEAN' },
  request: { ipChain: [{ ip: 'VARCHAR', geographicalContext: GEO, version: 'VARCHAR', source: 'VARCHAR' }] },
  target: [{ id: 'VARCHAR', type: 'VARCHAR', alternateId: 'VARCHAR', displayName: 'VARCHAR', detailEntry: 'MAP(VARCHAR, VARCHAR)' }],
};

/** A sign-in through Tor with an Okta risk, and a policy rule change, both with the new fields. */
function events(uuidPrefix: string, at: number): OktaEventJson[] {
  const from = PLACES.amsterdamProxy();
  const signIn = oktaEvent({ eventType: 'user.session.start', at, from, actor: person('val.vpn'), session: '102evolve' });
  const ipDetails = { asNumber: from.asNumber, asOrg: from.asOrg, domain: from.domain, isp: from.isp, ipServiceCategories: [{ isAnonymous: true, operator: 'Tor Project', type: 'Tor' }] };
  const rule = { ...target('PolicyRule', 'Require MFA'), changeDetails: { from: { status: 'ACTIVE' }, to: { status: 'INACTIVE' } } };
  return [
    {
      ...signIn,
      uuid: `${uuidPrefix}-sign-in`,
      securityContext: { ...signIn.securityContext, ipDetails, risk: { level: 'HIGH', previousLevel: 'LOW', detectionName: 'Session Influenced User Risk', issuer: 'OKTA', reasons: ['Associated sessionId is suspected to be hijacked'] }, userBehaviors: [{ id: 'abh1', name: 'New IP', result: 'POSITIVE' }] },
      request: { ipChain: (signIn.request?.ipChain ?? []).map((ip) => ({ ...ip, ipDetails })) },
    } as OktaEventJson,
    { ...oktaEvent({ eventType: 'policy.rule.update', at: at + MINUTE, actor: person('alex.admin'), target: [rule] }), uuid: `${uuidPrefix}-rule` },
  ];
}

describe('a lake with Parquet files written before the new fields, next to new ones', () => {
  let mixed: TestLake;
  let oldOnly: TestLake;
  let writer: DuckDbParquetWriter;
  let mixedLake: Lake;
  let oldLake: Lake;

  /**
   * Writes `page` with today's writer, then rewrites the file as the previous writer wrote it:
   * every column the same, except the three that gained fields, which are read from `raw` with
   * their previous types (json_transform, as the previous writer did).
   */
  async function writeOld(dir: string, page: OktaEventJson[], name: string): Promise<string> {
    const result = await writer.writePage({ org: ORG, body: JSON.stringify(page), format: 'array', name: `${name}-new`, ingestedAt: new Date(AT) });
    const [object] = result.objects;
    const fresh = join(dir, `${name}.tmp.parquet`);
    writeFileSync(fresh, object.body);
    const file = join(dir, eventObjectKey(ORG, partitionOf(AT), name));
    mkdirSync(join(file, '..'), { recursive: true });
    const lake = await openLake(dir);
    try {
      const columns = LOG_EVENT_COLUMNS.map((c) => {
        const old = OLD_TYPES[c.name];
        return old === undefined ? `"${c.name}"` : `json_transform(raw, '${JSON.stringify({ [c.name]: OLD_STRUCTURES[c.name] })}')."${c.name}" AS "${c.name}"`;
      });
      await lake.connection.run(`COPY (SELECT ${columns.join(', ')} FROM read_parquet('${fresh}')) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
      for (const [name, type] of Object.entries(OLD_TYPES)) {
        const [[inFile, old]] = (await lake.connection.runAndReadAll(`SELECT typeof("${name}"), typeof(CAST(NULL AS ${type})) FROM read_parquet('${file}') LIMIT 1`)).getRows();
        expect(inFile, `the old file's ${name}`).toBe(old);
      }
    } finally {
      lake.close();
      rmSync(fresh);
    }
    return file;
  }

  beforeAll(async () => {
    // Prepare: old files named to sort first (DuckDB's listing order), then new ones.
    writer = await DuckDbParquetWriter.open();
    mixed = await TestLake.create();
    oldOnly = await TestLake.create();
    await writeOld(mixed.dir, events('old', AT), 'a-old');
    await mixed.write(ORG, { events: events('new', AT + 10 * MINUTE), name: 'z-new' });
    await writeOld(oldOnly.dir, events('old', AT), 'a-old');
    mixedLake = await mixed.open();
    oldLake = await oldOnly.open();
  }, 60_000);

  afterAll(async () => {
    mixedLake?.close();
    oldLake?.close();
    await writer?.close();
    await mixed?.close();
    await oldOnly?.close();
  });

  const NEW_FIELDS = `SELECT uuid,
      securityContext.asNumber AS as_number,
      securityContext.isProxy AS is_proxy,
      element_at(securityContext.ipDetails.ipServiceCategories, 1).type AS category,
      securityContext.risk.level AS risk_level,
      securityContext.risk.detectionName AS detection,
      element_at(securityContext.userBehaviors, 1).name AS behavior,
      element_at(request.ipChain, 1).ip AS chain_ip,
      element_at(element_at(request.ipChain, 1).ipDetails.ipServiceCategories, 1).operator AS chain_operator,
      element_at(target, 1).displayName AS target_name,
      element_at(target, 1).changeDetails."to" AS change_to
    FROM okta_system_log ORDER BY uuid`;
  const query = async (lake: Lake): Promise<Record<string, unknown>[]> => (await lake.connection.runAndReadAll(NEW_FIELDS)).getRowObjectsJS();

  it('reads the new fields of old rows as NULL and of new rows with their values, the old fields of both', async () => {
    // Act
    const rows = await query(mixedLake);
    // Assess
    const none = { category: null, risk_level: null, detection: null, behavior: null, chain_operator: null, change_to: null };
    expect(rows).toEqual([
      { uuid: 'new-rule', as_number: 7922n, is_proxy: false, ...none, chain_ip: PLACES.sfHome().ip, target_name: 'Require MFA', change_to: '{"status":"INACTIVE"}' },
      {
        uuid: 'new-sign-in',
        as_number: 9009n,
        is_proxy: true,
        category: 'Tor',
        risk_level: 'HIGH',
        detection: 'Session Influenced User Risk',
        behavior: 'New IP',
        chain_ip: PLACES.amsterdamProxy().ip,
        chain_operator: 'Tor Project',
        target_name: null,
        change_to: null,
      },
      { uuid: 'old-rule', as_number: 7922n, is_proxy: false, ...none, chain_ip: PLACES.sfHome().ip, target_name: 'Require MFA' },
      { uuid: 'old-sign-in', as_number: 9009n, is_proxy: true, ...none, chain_ip: PLACES.amsterdamProxy().ip, target_name: null },
    ]);
  });

  it('has the new columns, NULL, in a lake of old files only', async () => {
    // Act
    const rows = await query(oldLake);
    // Assess
    expect(rows.map((r) => [r.uuid, r.category, r.risk_level, r.change_to])).toEqual([
      ['old-rule', null, null, null],
      ['old-sign-in', null, null, null],
    ]);
  });
});
