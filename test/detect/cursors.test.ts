/**
 * Evaluation cursors: every stored event is evaluated by every scheduled detection, however late it
 * arrived, and alerted once. The real SQL of athena-queries/ runs on real Parquet (DuckDB, the same
 * evaluation loop the deployed runner uses); only where the ingestion watermark stands, and when
 * rows arrived (`ingested_at`), are set by each test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateSchedule } from '../../lib/core/detect/evaluate';
import { MemoryCursorStore } from '../../lib/core/detect/memory-cursor-store';
import { MemorySuppressionStore } from '../../lib/core/detect/memory-suppression-store';
import { advanceCursor, interleave, planOrg, stepInstants } from '../../lib/core/detect/plan';
import type { WatermarkReader } from '../../lib/core/detect/ports';
import { LakeEngine, detectLake, localDetectionInput, type Lake } from '../../lib/core/hunt';
import { EMPTY_LATE_LOG, MemoryLateEvidenceLog, appendLateRange } from '../../lib/core/late-evidence';
import { loadQueries, type QueryDefinition } from '../../lib/core/queries';
import { SCENARIOS } from '../detections/scenarios';
import { HOUR, MINUTE, TestLake, type OktaEventJson } from '../detections/support';

const QUERIES = loadQueries();
const query = (id: string): QueryDefinition => QUERIES.find((q) => q.id === id)!;
const T0 = Date.parse('2026-11-20T12:00:00.000Z');
const ORG = 'acme.okta.com';
const OTHER = 'globex.okta.com';

class Watermarks implements WatermarkReader {
  readonly at = new Map<string, number>();
  async watermark(org: string): Promise<number | undefined> {
    return this.at.get(org);
  }
}

interface Harness {
  lake: TestLake;
  open: Lake;
  watermarks: Watermarks;
  cursors: MemoryCursorStore;
  late: MemoryLateEvidenceLog;
  suppression: MemorySuppressionStore;
  now: number;
}

let h: Harness;

beforeEach(async () => {
  const lake = await TestLake.create();
  h = {
    lake,
    open: await lake.open(),
    watermarks: new Watermarks(),
    cursors: new MemoryCursorStore(),
    late: new MemoryLateEvidenceLog(),
    suppression: new MemorySuppressionStore(),
    now: T0,
  };
});

afterEach(async () => {
  h.open.close();
  await h.lake.close();
});

/** One scheduled run of `queries` at wall-clock `h.now`, as the deployed runner does it. */
async function run(queries: readonly QueryDefinition[], orgs: readonly string[] = [ORG], runId = `run-${h.now}`) {
  return detectLake(h.open, {
    queries,
    orgs,
    cursors: h.cursors,
    lateEvidence: h.late,
    suppression: h.suppression,
    watermarks: h.watermarks,
    clock: { now: () => h.now, sleep: async () => undefined },
    runId,
    maxEvaluationsPerRun: 1_000,
    initialBackfillMs: HOUR,
  });
}

const alertsOf = (results: Awaited<ReturnType<typeof run>>) => results.flatMap((r) => r.result.alerts.map((a) => ({ id: r.query.id, ...a })));

describe('the plan', () => {
  it('steps from the cursor to the watermark, never past it, at most one schedule apart', () => {
    expect(stepInstants(0, 40, 15)).toEqual([15, 30, 40]);
    expect(stepInstants(0, 30, 15)).toEqual([15, 30]);
    expect(stepInstants(10, 10, 15)).toEqual([]);
    const plan = planOrg({ org: ORG, timing: { scheduleMs: 15, lookbackMs: 60 }, watermarkMs: 100, stored: { cursor: { evaluatedThroughMs: 40, lateSeq: 0 }, version: 3 }, lateLog: EMPTY_LATE_LOG, initialBackfillMs: 60 });
    expect(plan.evaluations.map((e) => e.atMs)).toEqual([55, 70, 85, 100]);
    expect(plan.evaluations.every((e) => e.atMs <= 100)).toBe(true);
  });

  it('re-evaluates a late range from its first event to its last plus the lookback, as far as the cursor', () => {
    const log = appendLateRange(EMPTY_LATE_LOG, { fromMs: 100, toMs: 110, maxDelayMs: 5 }, 1_000);
    const plan = planOrg({ org: ORG, timing: { scheduleMs: 15, lookbackMs: 30 }, watermarkMs: 500, stored: { cursor: { evaluatedThroughMs: 500, lateSeq: 0 }, version: 1 }, lateLog: log, initialBackfillMs: 0 });
    expect(plan.evaluations.map((e) => [e.kind, e.atMs])).toEqual([['late', 100], ['late', 115], ['late', 130], ['late', 140]]);
    // The cursor moves past the range only with its last instant.
    let cursor = plan.cursor;
    for (const e of plan.evaluations.slice(0, 2)) cursor = advanceCursor(cursor, e);
    expect(cursor).toEqual({ evaluatedThroughMs: 500, lateSeq: 0, lateProgress: { seq: 1, throughMs: 115 } });
    const resumed = planOrg({ org: ORG, timing: { scheduleMs: 15, lookbackMs: 30 }, watermarkMs: 500, stored: { cursor, version: 2 }, lateLog: log, initialBackfillMs: 0 });
    expect(resumed.evaluations.map((e) => e.atMs)).toEqual([130, 140]);
    for (const e of resumed.evaluations) cursor = advanceCursor(cursor, e);
    expect(cursor).toEqual({ evaluatedThroughMs: 500, lateSeq: 1 });
  });

  it('leaves late evidence after the cursor to the schedule', () => {
    const log = appendLateRange(EMPTY_LATE_LOG, { fromMs: 600, toMs: 610, maxDelayMs: 5 }, 1_000);
    const plan = planOrg({ org: ORG, timing: { scheduleMs: 15, lookbackMs: 30 }, watermarkMs: 620, stored: { cursor: { evaluatedThroughMs: 590, lateSeq: 0 }, version: 1 }, lateLog: log, initialBackfillMs: 0 });
    expect(plan.evaluations.map((e) => [e.kind, e.atMs])).toEqual([['schedule', 605], ['schedule', 620]]);
    expect(plan.cursor.lateSeq).toBe(1);
  });

  it('gives each org its next evaluation before any org gets a second', () => {
    const timing = { scheduleMs: 15, lookbackMs: 60 };
    const behind = planOrg({ org: OTHER, timing, watermarkMs: 1_000, stored: { cursor: { evaluatedThroughMs: 0, lateSeq: 0 }, version: 1 }, lateLog: EMPTY_LATE_LOG, initialBackfillMs: 0 });
    const current = planOrg({ org: ORG, timing, watermarkMs: 1_000, stored: { cursor: { evaluatedThroughMs: 985, lateSeq: 0 }, version: 1 }, lateLog: EMPTY_LATE_LOG, initialBackfillMs: 0 });
    const picked = interleave([behind, current], 3);
    expect(picked.map((p) => [p.org, p.evaluation.atMs])).toEqual([[OTHER, 15], [ORG, 1_000], [OTHER, 30]]);
  });
});

describe('scheduled detections on what the lake holds', () => {
  it('alerts exactly once on an attack inside a 3-hour ingestion outage, at the first run after the catch-up', async () => {
    const admin = [query('admin-role-granted')];
    h.watermarks.at.set(ORG, T0);
    expect(alertsOf(await run(admin))).toEqual([]);
    // Okta answers 429 for 3 hours; then one ingestion run writes the whole outage at once.
    const attack = SCENARIOS.find((s) => s.id === 'admin-role-granted')!.fires(T0 + 2 * HOUR);
    const caughtUp = T0 + 3 * HOUR + 5 * MINUTE;
    await h.lake.write(ORG, { events: attack.events, ingestedAt: caughtUp });
    // Detection runs during the outage see no new watermark and evaluate nothing.
    for (h.now = T0 + 15 * MINUTE; h.now < caughtUp; h.now += 15 * MINUTE) {
      const [r] = await run(admin);
      expect(r.result.evaluations).toBe(0);
    }
    h.watermarks.at.set(ORG, T0 + 3 * HOUR);
    h.now = caughtUp + 10 * MINUTE;
    const [first] = await run(admin);
    expect(first.result.evaluations).toBe(12);
    // Each grant is alerted by the first evaluation whose window holds it, and by no other.
    const alerted = first.result.alerts.flatMap((a) => a.findings.map((f) => f.event_uuid));
    expect([...alerted].sort()).toEqual(attack.events.map((e) => e.uuid).sort());
    expect(first.result.alerts.every((a) => a.delayMs > HOUR && a.kind === 'schedule')).toBe(true);
    expect(first.result.orgs[0]).toMatchObject({ org: ORG, lagMs: 0 });
    // Later runs repeat nothing, however often they run.
    for (let i = 0; i < 4; i++) {
      h.now += 15 * MINUTE;
      h.watermarks.at.set(ORG, h.now - 10 * MINUTE);
      expect(alertsOf(await run(admin))).toEqual([]);
    }
  });

  it('alerts when an event recovered by the 24-hour sweep completes an attack', async () => {
    const bombing = [query('mfa-push-bombing')];
    const fired = SCENARIOS.find((s) => s.id === 'mfa-push-bombing')!.fires(T0);
    // Session 2: three pushes and one denial; the denial is what Okta recorded late.
    const session2 = fired.events.filter((e: OktaEventJson) => e.authenticationContext?.externalSessionId === '102bombSession0000000000002');
    const denial = session2.find((e) => e.eventType === 'user.mfa.okta_verify.deny_push')!;
    await h.lake.write(ORG, { events: session2.filter((e) => e !== denial), ingestedAt: T0 + 5 * MINUTE });
    h.watermarks.at.set(ORG, T0 - 2 * HOUR);
    await run(bombing);
    h.now = T0 + 15 * MINUTE;
    h.watermarks.at.set(ORG, T0 + 5 * MINUTE);
    expect(alertsOf(await run(bombing))).toEqual([]);
    // A day later the sweep writes the denial and records the late evidence.
    h.now = T0 + 24 * HOUR + 10 * MINUTE;
    h.watermarks.at.set(ORG, T0 + 24 * HOUR);
    await run(bombing); // the schedule moves on past the sweep's window first
    await h.lake.write(ORG, { events: [denial], ingestedAt: h.now });
    await h.late.record(ORG, { fromMs: Date.parse(denial.published), toMs: Date.parse(denial.published), maxDelayMs: h.now - Date.parse(denial.published) }, h.now);
    h.now += 15 * MINUTE;
    const [late] = await run(bombing);
    expect(late.result.alerts).toHaveLength(1);
    expect(late.result.alerts[0]).toMatchObject({ kind: 'late', org: ORG });
    expect(late.result.alerts[0].evidenceDelayMs).toBeGreaterThan(24 * HOUR);
    expect(late.result.alerts[0].findings.map((f) => f.session_id)).toEqual(['102bombSession0000000000002']);
    h.now += 15 * MINUTE;
    expect(alertsOf(await run(bombing))).toEqual([]);
  });

  it("keeps a healthy org's pace while another org's credential is revoked for 6 hours", async () => {
    const admin = [query('admin-role-granted')];
    h.watermarks.at.set(ORG, T0);
    h.watermarks.at.set(OTHER, T0);
    await run(admin, [ORG, OTHER]);
    const attackA = SCENARIOS.find((s) => s.id === 'admin-role-granted')!.fires(T0 + 3 * HOUR);
    const attackB = SCENARIOS.find((s) => s.id === 'admin-role-granted')!.fires(T0 + 2 * HOUR);
    await h.lake.write(ORG, { events: attackA.events, ingestedAt: T0 + 3 * HOUR });
    const alertedAt: Record<string, number> = {};
    let otherFixed = false;
    for (h.now = T0 + 15 * MINUTE; h.now <= T0 + 7 * HOUR; h.now += 15 * MINUTE) {
      h.watermarks.at.set(ORG, h.now - 10 * MINUTE); // healthy
      if (h.now >= T0 + 6 * HOUR + 10 * MINUTE) {
        // Fixed: the first run after writes the 6 hours at once.
        if (!otherFixed) await h.lake.write(OTHER, { events: attackB.events, ingestedAt: h.now - 5 * MINUTE });
        otherFixed = true;
        h.watermarks.at.set(OTHER, h.now - 10 * MINUTE);
      }
      for (const a of alertsOf(await run(admin, [ORG, OTHER]))) alertedAt[a.org] ??= h.now;
    }
    // The healthy org's attack is alerted within a run or two of its arrival, not after the other org's outage.
    expect(alertedAt[ORG]).toBeLessThanOrEqual(T0 + 3 * HOUR + 30 * MINUTE);
    expect(alertedAt[OTHER]).toBeGreaterThanOrEqual(T0 + 6 * HOUR);
    expect(Object.keys(alertedAt).sort()).toEqual([OTHER, ORG].sort());
  });

  it('alerts once when two invocations run at the same time, or one is retried', async () => {
    const admin = query('admin-role-granted');
    const attack = SCENARIOS.find((s) => s.id === 'admin-role-granted')!.fires(T0 + HOUR);
    h.watermarks.at.set(ORG, T0);
    await run([admin]);
    await h.lake.write(ORG, { events: attack.events, ingestedAt: T0 + HOUR });
    h.watermarks.at.set(ORG, T0 + HOUR);
    h.now = T0 + HOUR + 10 * MINUTE;
    // Two concurrent invocations (each with its own engine on its own connection would race the
    // same way; one lake connection runs one query at a time, so they interleave at every await).
    const input = localDetectionInput(admin);
    const evaluateOnce = (runId: string) =>
      evaluateSchedule(
        { input, sql: admin.sql, queryName: admin.id, timing: { scheduleMs: input.scheduleMs, lookbackMs: input.lookbackMs } },
        {
          engine: new LakeEngine(h.open),
          notifier: { publish: async () => ({ messageId: runId }) },
          suppression: h.suppression,
          cursors: h.cursors,
          watermarks: h.watermarks,
          lateEvidence: h.late,
          orgs: [ORG],
          clock: { now: () => h.now, sleep: async () => undefined },
          runId,
        },
      );
    await h.open.refresh();
    const [a, b] = await Promise.all([evaluateOnce('invocation-a'), evaluateOnce('invocation-b')]);
    expect(a.newFindings + b.newFindings).toBe(2);
    expect([a, b].filter((r) => r.published)).toHaveLength(1);
    // A retry of the invocation that lost the race (same run id), and a later run: nothing more.
    const loser = a.published ? 'invocation-b' : 'invocation-a';
    expect((await evaluateOnce(loser)).newFindings).toBe(0);
    h.now += 15 * MINUTE;
    expect((await evaluateOnce('invocation-c')).newFindings).toBe(0);
  });
});
