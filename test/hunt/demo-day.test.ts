/**
 * The scheduled detections on a simulated org's day (lib/demo/generate.ts: benign traffic, near
 * misses and the seed's four planted attacks), written by the project's writer and hunted as the
 * deployment would have run them (the deployment replayed over the day, each run seeing what had
 * arrived by then): every planted attack is
 * found, and every finding belongs to a planted attack. The same lake gives the cost figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectionCost, type DetectionCostReport } from '../../bench/detection-cost';
import { huntAll } from '../../lib/cli/hunt-command';
import type { HuntResult as DetectionResult } from '../../lib/core/hunt';
import { generateOrgDay, type GeneratedOrg, type OktaEvent } from '../../lib/demo/generate';
import { HOUR, TestLake, type OktaEventJson } from '../detections/support';
import { FOUND_BY, identifiers, values } from '../../testkit/planted';

const START = Date.parse('2024-06-03T00:00:00.000Z');
const ORG = 'acme.okta.com';

describe('scheduled detections on a simulated day', () => {
  let org: GeneratedOrg;
  let lake: TestLake;
  let results: DetectionResult[];
  let cost: DetectionCostReport;

  beforeAll(async () => {
    // Prepare
    org = generateOrgDay({ seed: 42, start: new Date(START), hours: 24, events: 4_000 });
    lake = await TestLake.create();
    // Written as the ingestion writes them: each hour's events 5 minutes after the hour closed.
    const byHour = new Map<number, OktaEvent[]>();
    for (const e of org.events) {
      const hour = Math.floor(Date.parse(e.published) / HOUR);
      byHour.set(hour, [...(byHour.get(hour) ?? []), e]);
    }
    for (const [hour, events] of byHour) {
      await lake.write(ORG, { events: events as unknown as OktaEventJson[], ingestedAt: (hour + 1) * HOUR + 5 * 60_000 });
    }
    // Act
    results = await huntAll(lake.dir, { since: new Date(START), now: new Date(START + 24 * HOUR), stepMinutes: 60 });
    cost = await detectionCost(lake.dir, { day: '2024-06-03' });
  }, 300_000);

  afterAll(async () => {
    await lake?.close();
  });

  it('plants the four attacks of the seed', () => {
    expect(org.planted.map((p) => p.kind).sort()).toEqual(Object.keys(FOUND_BY).sort());
  });

  it('finds every planted attack with its detection', () => {
    const byUuid = new Map(org.events.map((e) => [e.uuid, e]));
    for (const attack of org.planted) {
      const ids = identifiers(attack.uuids.map((u) => byUuid.get(u) as OktaEvent));
      const result = results.find((r) => r.id === FOUND_BY[attack.kind]);
      expect(result?.findings.some((row) => values(row).some((v) => ids.has(v))), `${attack.kind} found by ${FOUND_BY[attack.kind]}`).toBe(true);
    }
  });

  it('reports nothing that does not belong to a planted attack (benign traffic and near misses stay quiet)', () => {
    const byUuid = new Map(org.events.map((e) => [e.uuid, e]));
    const planted = identifiers(org.planted.flatMap((p) => p.uuids.map((u) => byUuid.get(u) as OktaEvent)));
    const unrelated = results.flatMap((r) => r.findings.filter((row) => !values(row).some((v) => planted.has(v))).map((row) => ({ id: r.id, row })));
    expect(unrelated).toEqual([]);
  });

  it('reports the MFA-reset takeover with the help-desk admin and the attacker\'s address, and not the help-desk near miss', () => {
    const byUuid = new Map(org.events.map((e) => [e.uuid, e]));
    const takeover = org.planted.find((p) => p.kind === 'mfa-reset-takeover');
    const [reset, ...after] = (takeover?.uuids ?? []).map((u) => byUuid.get(u) as OktaEvent);
    const attackerIp = after.find((e) => e.eventType === 'user.session.start')?.client?.ipAddress;
    const nearMiss = org.nearMisses.find((n) => n.kind === 'help-desk-factor-reset');
    const rows = results.find((r) => r.id === 'mfa-reset-then-new-place-sign-in')?.findings ?? [];
    expect(rows).toContainEqual(
      expect.objectContaining({ user_login: takeover?.target, reset_by: reset?.actor.alternateId, reset_type: 'user.mfa.factor.reset_all', src_ip: attackerIp, country: 'France' }),
    );
    expect(rows.find((r) => r.user_login === takeover?.target && r.src_ip === attackerIp)?.last_known_sign_in_at, 'the victim signed in earlier that day').not.toBeNull();
    expect(nearMiss?.target).toBeDefined();
    expect(rows.filter((r) => r.user_login === nearMiss?.target)).toEqual([]);
  });

  it('reads at most 3% of the day’s JSON bytes per run for every scheduled detection', () => {
    expect(cost.events).toBe(org.events.length);
    const over = cost.detections.filter((d) => !d.withinGoal).map((d) => `${d.id}: ${(100 * d.shareOfJson).toFixed(2)}%`);
    expect(over).toEqual([]);
    expect(cost.detections.length).toBe(results.length);
  });
});
