import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectionCost, logicalPath, partitionsOfRun, type DetectionCostReport } from '../../bench/detection-cost';
import { openDuckDb } from '../../lib/core/writer/duckdb';
import { HOUR, MINUTE, PLACES, SYSTEM, TestLake, oktaEvent, person, target, userTarget, type OktaEventJson } from '../detections/support';

const DAY = '2024-05-01';
const START = Date.parse(`${DAY}T09:00:00.000Z`);

describe('detection cost figures', () => {
  let lake: TestLake;
  let events: OktaEventJson[];
  let report: DetectionCostReport;
  /** Compressed bytes of the given leaf columns per hour partition, straight from parquet_metadata. */
  let bytesByHour: (columns: readonly string[]) => Promise<Map<string, number>>;
  let close: () => void;

  beforeAll(async () => {
    // Prepare: three busy hours of a day, heavier in the middle one.
    lake = await TestLake.create();
    events = [];
    for (const [hour, n] of [[0, 60], [1, 150], [2, 90]] as const) {
      for (let i = 0; i < n; i++) {
        const at = START + hour * HOUR + i * 20_000;
        events.push(
          i % 10 === 0
            ? oktaEvent({ eventType: 'user.account.update_password', at, actor: SYSTEM, from: null, target: [target('AppInstance', 'Okta'), userTarget(person(`u${i}.x`))] })
            : oktaEvent({ eventType: 'user.session.start', at, actor: person(`u${i}.x`), from: PLACES.sfHome(), session: `102s${i}`, debugData: { behaviors: '{New IP=NEGATIVE}' } }),
        );
      }
    }
    await lake.add('acme.okta.com', events);
    const db = await openDuckDb();
    close = () => db.close();
    bytesByHour = async (columns) => {
      const glob = join(lake.dir, 'events', '**', '*.parquet');
      const rows = (await db.connection.runAndReadAll(`SELECT file_name, path_in_schema, total_compressed_size FROM parquet_metadata('${glob}')`)).getRowObjectsJS();
      const out = new Map<string, number>();
      for (const r of rows) {
        if (!columns.includes(logicalPath(String(r.path_in_schema)))) continue;
        const hour = /hour=(\d\d)/.exec(String(r.file_name))?.[1] as string;
        out.set(hour, (out.get(hour) ?? 0) + Number(r.total_compressed_size));
      }
      return out;
    };
    // Act
    report = await detectionCost(lake.dir, { day: DAY });
  }, 120_000);

  afterAll(async () => {
    close?.();
    await lake?.close();
  });

  const figure = (id: string) => {
    const f = report.detections.find((d) => d.id === id);
    if (!f) throw new Error(`no figure for ${id}`);
    return f;
  };

  it('measures the day against the bytes of its events’ JSON text', () => {
    expect(report.day).toBe(DAY);
    expect(report.events).toBe(events.length);
    expect(report.rawJsonBytes).toBe(events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0));
    expect(report.goal).toBe(0.03);
  });

  it('lists the leaf columns a detection reads, whole nested values where it reads them whole', () => {
    expect(figure('admin-role-granted').columns).toEqual([
      'actor.alternateId',
      'client.ipAddress',
      'debugContext.debugData.key',
      'debugContext.debugData.value',
      'eventType',
      'published',
      'target.alternateId',
      // target[].changeDetails (JSON text) is part of every target element, read whole by filter().
      'target.changeDetails.from',
      'target.changeDetails.to',
      'target.detailEntry.key',
      'target.detailEntry.value',
      'target.displayName',
      'target.id',
      'target.type',
      'uuid',
    ]);
    for (const d of report.detections) expect(d.columns).not.toContain('raw');
  });

  it('counts the worst run of an hourly-filtered detection: the two hour partitions with the most bytes, per read', async () => {
    for (const id of ['admin-role-granted', 'success-after-credential-attack']) {
      const f = figure(id);
      const h = await bytesByHour(f.columns);
      const worstPair = Math.max((h.get('09') ?? 0) + (h.get('10') ?? 0), (h.get('10') ?? 0) + (h.get('11') ?? 0));
      expect(f.bytesPerRun, id).toBe(f.scans * worstPair);
      expect(f.runsPerDay).toBe(96);
      expect(f.shareOfJson).toBeCloseTo(f.bytesPerRun / report.rawJsonBytes, 12);
    }
    expect(figure('success-after-credential-attack').scans).toBe(3);
    expect(figure('mfa-push-bombing').scans).toBe(1);
  });

  it('counts the whole day for a detection that looks back a day', async () => {
    const f = figure('impossible-travel');
    const h = await bytesByHour(f.columns);
    expect(f.bytesPerRun).toBe([...h.values()].reduce((a, b) => a + b, 0));
    expect(f.runsPerDay).toBe(24);
  });

  it('maps Parquet paths and run partitions as Athena reads them', () => {
    expect(logicalPath('target, list, element, alternateId')).toBe('target.alternateId');
    expect(logicalPath('debugContext, debugData, key_value, value')).toBe('debugContext.debugData.value');
    expect(partitionsOfRun(Date.parse('2024-05-01T12:30:00Z'), HOUR, true)).toEqual(['2024-05-01/11', '2024-05-01/12']);
    expect(partitionsOfRun(Date.parse('2024-05-01T00:10:00Z'), 30 * MINUTE, true)).toEqual(['2024-04-30/23', '2024-05-01/00']);
    expect(partitionsOfRun(Date.parse('2024-05-01T12:30:00Z'), 2 * 24 * HOUR, false)).toEqual(['2024-04-29', '2024-04-30', '2024-05-01']);
  });
});
