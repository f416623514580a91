/**
 * `okta-lake detect` on a lake whose simulated day (lib/demo/generate.ts: benign traffic, near
 * misses, the seed's four planted attacks) was imported 4 hours after the fact: a single run at
 * wall-clock time finds every planted attack and nothing else, says how late it came, keeps its
 * cursors and alerted findings in the lake's state folder, and a second run prints nothing new.
 * (`okta-lake hunt --all` at that moment, a 1-hour lookback from now, finds none of them.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsAsResults, detectCommand, detectLocal } from '../../lib/cli/detect-command';
import { huntAll } from '../../lib/cli/hunt-command';
import type { LocalDetection } from '../../lib/core/hunt';
import { generateOrgDay, type GeneratedOrg, type OktaEvent } from '../../lib/demo/generate';
import { HOUR, TestLake, type OktaEventJson } from '../detections/support';
import { FOUND_BY, identifiers, values } from '../../testkit/planted';

const START = Date.parse('2024-06-03T00:00:00.000Z');
const END = START + 24 * HOUR;
const IMPORTED = END + 4 * HOUR;
const ORG = 'acme.okta.com';
describe('okta-lake detect on a lake imported 4 hours after the fact', () => {
  let org: GeneratedOrg;
  let lake: TestLake;
  let first: LocalDetection[];
  let second: LocalDetection[];

  beforeAll(async () => {
    org = generateOrgDay({ seed: 42, start: new Date(START), hours: 24, events: 2_000 });
    lake = await TestLake.create();
    for (let i = 0; i < org.events.length; i += 1000) {
      await lake.write(ORG, { events: org.events.slice(i, i + 1000) as unknown as OktaEventJson[], ingestedAt: IMPORTED });
    }
    first = await detectLocal(lake.dir, { now: () => IMPORTED + 60_000 });
    second = await detectLocal(lake.dir, { now: () => IMPORTED + 16 * 60_000 });
  }, 300_000);

  afterAll(async () => {
    await lake?.close();
  });

  it('finds every planted attack with its detection, where a hunt at that moment misses some', async () => {
    const byUuid = new Map(org.events.map((e) => [e.uuid, e]));
    const results = alertsAsResults(first);
    for (const attack of org.planted) {
      const ids = identifiers(attack.uuids.map((u) => byUuid.get(u) as OktaEvent));
      const result = results.find((r) => r.id === FOUND_BY[attack.kind]);
      expect(result?.findings.some((row) => values(row).some((v) => ids.has(v))), `${attack.kind} found by ${FOUND_BY[attack.kind]}`).toBe(true);
    }
    // A hunt at that moment reads each detection's lookback back from now: the 1-hour ones are long past.
    const atThatMoment = await huntAll(lake.dir, { now: new Date(IMPORTED + 60_000) });
    const missed = org.planted.filter((attack) => {
      const ids = identifiers(attack.uuids.map((u) => byUuid.get(u) as OktaEvent));
      return !atThatMoment.find((r) => r.id === FOUND_BY[attack.kind])?.findings.some((row) => values(row).some((v) => ids.has(v)));
    });
    expect(missed.map((a) => a.kind)).toEqual(expect.arrayContaining(['mfa-push-bombing', 'support-impersonation']));
  });

  it('reports nothing that does not belong to a planted attack', () => {
    const byUuid = new Map(org.events.map((e) => [e.uuid, e]));
    const planted = identifiers(org.planted.flatMap((p) => p.uuids.map((u) => byUuid.get(u) as OktaEvent)));
    const unrelated = alertsAsResults(first).flatMap((r) => r.findings.filter((row) => !values(row).some((v) => planted.has(v))).map((row) => ({ id: r.id, row })));
    expect(unrelated).toEqual([]);
  });

  it('says when each finding was evaluated and that it came after the fact', () => {
    const rows = alertsAsResults(first).flatMap((r) => r.findings);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(Date.parse(String(row.evaluated_at))).toBeLessThanOrEqual(END);
      expect(String(row.alerted)).toMatch(/after the fact$/);
    }
  });

  it('keeps its state in the lake and prints nothing new on a second run', async () => {
    expect(existsSync(join(lake.dir, '_state', 'detect', 'cursors', ORG))).toBe(true);
    expect(second.flatMap((d) => d.result.alerts)).toEqual([]);
    const out: string[] = [];
    const io = { env: {}, stdout: { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream, stderr: { write: () => true } as unknown as NodeJS.WritableStream };
    expect(await detectCommand(['--lake', lake.dir, '--format', 'json'], io)).toBe(0);
    const printed = JSON.parse(out.join('')) as { id: string; count: number }[];
    expect(printed.every((r) => r.count === 0)).toBe(true);
    expect(printed.map((r) => r.id)).toContain('mfa-push-bombing');
  });
});
