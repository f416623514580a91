/**
 * The scheduled detections in the soak's loop, and the attacks planted for them.
 *
 * Planted attacks: the demo's four (lib/demo/scenarios.ts, with its benign look-alikes), each found
 * by one scheduled detection (`FOUND_BY`). Two of them have their decisive event served late
 * (`LATE_PLAN`): Okta withholds it until after the ingestion read its window, so only the sweep
 * recovers it, and only the late-evidence log (or a lookback still reaching back) gets it evaluated.
 *
 * Detections: every scheduled detection of athena-queries/, each on its own schedule (checked every
 * `tickMs` of simulated time, after the scheduled invocation), run by `detectLake` with DuckDB on the
 * lake folder, with cursors, suppression and the late-evidence log the sweep records into kept in
 * memory for the whole soak, the ingestion watermark read from the soak's watermark store, and the
 * simulated clock. The cursors start at the first event, so every event is evaluated. The detections
 * get no faults of their own; a kill of the ingestion leaves the lake as it is, and the next
 * detection run reads whatever it holds.
 */
import { FOUND_BY, values } from '../testkit/planted';
import { mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Alert, DetectionResult } from '../lib/core/detect/evaluate';
import { MemoryCursorStore } from '../lib/core/detect/memory-cursor-store';
import { MemorySuppressionStore } from '../lib/core/detect/memory-suppression-store';
import type { ResultRow, WatermarkReader } from '../lib/core/detect/ports';
import { detectLake, openLake, type Lake } from '../lib/core/hunt';
import { MemoryLateEvidenceLog, type LateEvidenceLog } from '../lib/core/late-evidence';
import type { Clock } from '../lib/core/ports';
import { loadQueries, type QueryDefinition } from '../lib/core/queries';
import type { AttackKind, OktaEvent, PlantedAttack } from '../lib/demo/generate';
import { HOUR, MINUTE } from '../lib/core/time';

/**
 * The attacks whose decisive event Okta serves late: visible `lateByMs` after its `published` (or
 * after the first scheduled run, for an event of the initial backlog), when the ingestion has read
 * its window.
 * - The impersonation's `initiate` (the one event its detection reports) 3 h late: after the 1 h
 *   sweep line re-read its hour, so the 24 h line recovers it, far behind every cursor.
 * - The takeover's factor reset (without it the later sign-in is no finding) 40 min late: the 1 h
 *   line recovers it, while the 1-day lookback of its hourly detection still covers it.
 */
export const LATE_PLAN: Readonly<Partial<Record<AttackKind, { readonly eventType: string; readonly lateByMs: number }>>> = {
  'support-impersonation': { eventType: 'user.session.impersonation.initiate', lateByMs: 3 * HOUR },
  'mfa-reset-takeover': { eventType: 'user.mfa.factor.reset_all', lateByMs: 40 * MINUTE },
};

/** What the soak keeps of one planted attack while it serves the events. */
interface TrackedAttack {
  readonly attack: PlantedAttack;
  readonly uuids: Set<string>;
  /**
   * Identifiers of its events a finding may carry: uuids, session ids, and the client addresses of
   * the events its actor or target acted in (not those of an admin it fooled, who works from the
   * office every day).
   */
  readonly ids: Set<string>;
  firstMs: number;
  lastMs: number;
  late?: { uuid: string; eventType: string; publishedMs: number; visibleAtMs: number };
}

/** The planted attacks, filled in as the soak serves their events. */
export class PlantedAttacks {
  readonly tracked: TrackedAttack[];
  private readonly byUuid = new Map<string, TrackedAttack>();

  /** `firstRunMs`: when the first scheduled run starts (a late event of the backlog is late from there). */
  constructor(planted: readonly PlantedAttack[], private readonly firstRunMs: number) {
    this.tracked = planted.map((attack) => ({ attack, uuids: new Set(attack.uuids), ids: new Set(attack.uuids), firstMs: Infinity, lastMs: -Infinity }));
    for (const t of this.tracked) for (const uuid of t.uuids) this.byUuid.set(uuid, t);
  }

  /** Notes a served event; returns when it becomes visible if it is an attack's late decisive event. */
  observe(event: OktaEvent, publishedMs: number): number | undefined {
    const t = this.byUuid.get(event.uuid);
    if (t === undefined) return undefined;
    t.firstMs = Math.min(t.firstMs, publishedMs);
    t.lastMs = Math.max(t.lastMs, publishedMs);
    const session = event.authenticationContext?.externalSessionId;
    if (session && session !== 'unknown') t.ids.add(session);
    const ip = event.client?.ipAddress;
    const own = event.actor.alternateId === t.attack.actor || event.actor.alternateId === t.attack.target;
    if (ip && ip !== 'null' && own) t.ids.add(ip);
    const plan = LATE_PLAN[t.attack.kind];
    if (plan === undefined || t.late !== undefined || event.eventType !== plan.eventType) return undefined;
    const visibleAtMs = Math.max(publishedMs, this.firstRunMs) + plan.lateByMs;
    t.late = { uuid: event.uuid, eventType: event.eventType, publishedMs, visibleAtMs };
    return visibleAtMs;
  }
}

/** One alert of the soak: what `evaluateSchedule` published, and when (simulated). */
export interface SoakAlert {
  readonly query: QueryDefinition;
  readonly alert: Alert;
  readonly alertedAtMs: number;
}

export interface SoakDetectionsOptions {
  /** The lake folder DuckDB reads (the one holding `events/`). */
  readonly lakeDir: string;
  readonly org: string;
  /** The cursors start here (the first event's time). */
  readonly startMs: number;
  readonly clock: Clock;
  readonly watermarks: WatermarkReader;
  /** How often (simulated) the detections due are run. @default 15 minutes */
  readonly tickMs?: number;
  /**
   * Evaluations per detection run. The deployed default (12) falls further behind the more late
   * ranges wait: a waiting range's re-evaluation reaches up to the cursor, which the schedule keeps
   * moving (lib/core/detect/plan.ts, planOrg), so at 1% late events the 1-day detections never
   * catch up. @default no limit (as `okta-lake detect` runs)
   */
  readonly maxEvaluationsPerRun?: number;
  readonly tmpDir?: string;
}

/** The detection loop of the soak (see the module comment). */
export class SoakDetections {
  readonly queries: QueryDefinition[];
  readonly tickMs: number;
  readonly alerts: SoakAlert[] = [];
  readonly outcomes: Record<string, number> = {};
  readonly failures: string[] = [];
  /** The log the sweep records into (pass as the sweep's `lateEvidence`). */
  readonly lateEvidence: LateEvidenceLog;
  ticks = 0;
  runs = 0;
  evaluations = 0;
  lateRangesRecorded = 0;
  wallMs = 0;
  private lastLateRecordMs = -Infinity;
  private nextTickMs: number;
  private readonly due = new Map<string, number>();
  private readonly last = new Map<string, { atMs: number; result: DetectionResult }>();
  private readonly cursors = new MemoryCursorStore();
  private readonly suppression = new MemorySuppressionStore();

  private constructor(
    private readonly lake: Lake,
    private readonly o: SoakDetectionsOptions,
  ) {
    this.queries = loadQueries().filter((q) => q.kind === 'detection' && q.scheduleMinutes !== undefined);
    this.tickMs = o.tickMs ?? 15 * MINUTE;
    this.nextTickMs = o.clock.now();
    for (const q of this.queries) this.due.set(q.id, this.nextTickMs);
    const log = new MemoryLateEvidenceLog();
    this.lateEvidence = {
      record: async (org, evidence, nowMs) => {
        await log.record(org, evidence, nowMs);
        this.lateRangesRecorded++;
        this.lastLateRecordMs = o.clock.now();
      },
      lateLog: (org) => log.lateLog(org),
    };
  }

  static async open(o: SoakDetectionsOptions): Promise<SoakDetections> {
    mkdirSync(o.lakeDir, { recursive: true });
    const lake = await openLake(o.lakeDir, { duckdb: { threads: 2, memoryLimit: '512MB', ...(o.tmpDir ? { tmpDir: o.tmpDir } : {}) } });
    const d = new SoakDetections(lake, o);
    for (const q of d.queries) await d.cursors.write(o.org, q.id, { evaluatedThroughMs: o.startMs, lateSeq: 0 }, 0, o.clock.now());
    return d;
  }

  /** Runs the detections due, when a tick is due (call after every scheduled invocation). */
  async tick(): Promise<void> {
    const now = this.o.clock.now();
    if (now < this.nextTickMs) return;
    while (this.nextTickMs <= now) this.nextTickMs += this.tickMs;
    const due = this.queries.filter((q) => (this.due.get(q.id) as number) <= now);
    if (due.length === 0) return;
    for (const q of due) {
      let next = this.due.get(q.id) as number;
      while (next <= now) next += q.scheduleMinutes! * MINUTE;
      this.due.set(q.id, next);
    }
    this.ticks++;
    const started = performance.now();
    // The watermark as the store holds it at this check, read once for all the detections due.
    const read = new Map<string, Promise<number | undefined>>();
    const watermarks: WatermarkReader = {
      watermark: (org) => {
        if (!read.has(org)) read.set(org, this.o.watermarks.watermark(org));
        return read.get(org) as Promise<number | undefined>;
      },
    };
    try {
      const results = await detectLake(this.lake, {
        queries: due,
        orgs: [this.o.org],
        cursors: this.cursors,
        suppression: this.suppression,
        lateEvidence: this.lateEvidence,
        watermarks,
        clock: this.o.clock,
        runId: `detect-${this.ticks}`,
        maxEvaluationsPerRun: this.o.maxEvaluationsPerRun ?? Number.MAX_SAFE_INTEGER,
      });
      for (const { query, result } of results) {
        this.runs++;
        this.evaluations += result.evaluations;
        this.outcomes[result.outcome] = (this.outcomes[result.outcome] ?? 0) + 1;
        this.last.set(query.id, { atMs: now, result });
        for (const alert of result.alerts) this.alerts.push({ query, alert, alertedAtMs: now });
      }
    } catch (error) {
      this.failures.push(`${new Date(now).toISOString()}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    } finally {
      this.wallMs += performance.now() - started;
    }
  }

  /**
   * Every detection ran after `sinceMs` and after the last late range was recorded, evaluated up to
   * the watermark it read, and has no late range left.
   */
  settled(sinceMs: number): boolean {
    return this.unsettled(sinceMs).length === 0;
  }

  /** The detections not settled (see `settled`), each with why. */
  unsettled(sinceMs: number): string[] {
    const out: string[] = [];
    for (const q of this.queries) {
      const last = this.last.get(q.id);
      if (last === undefined) out.push(`${q.id}: never ran`);
      else if (last.atMs < sinceMs || last.atMs < this.lastLateRecordMs) out.push(`${q.id}: not run since ${new Date(Math.max(sinceMs, this.lastLateRecordMs)).toISOString()}`);
      else if (last.result.outcome !== 'caught-up') out.push(`${q.id}: ${last.result.outcome}`);
      else {
        const s = last.result.orgs.find((o) => o.lateRangesPending > 0 || (o.lagMs ?? 0) > 0);
        if (s) out.push(`${q.id}: ${s.lateRangesPending} late range(s) pending, ${Math.round((s.lagMs ?? 0) / 60_000)} min behind`);
      }
    }
    return out;
  }

  close(): void {
    this.lake.close();
  }
}

/** How one planted attack was alerted. */
export interface PlantedAttackOutcome {
  readonly kind: AttackKind;
  readonly detectionId: string;
  readonly events: number;
  readonly firstEventAt: string;
  readonly lastEventAt: string;
  /** Its decisive event, when Okta served it late. */
  readonly late?: { readonly eventType: string; readonly publishedAt: string; readonly visibleAt: string; readonly recoveredBySweep: boolean };
  /** Alerts (messages) of its detection that carried a finding of it. */
  readonly alerts: number;
  /** Distinct findings of it alerted (by the detection's finding_key), each with its alert count and severity. */
  readonly findings: readonly {
    readonly key: string;
    readonly alerted: number;
    readonly severity?: string;
    /** Its first alert: when (simulated), the instant evaluated, and by schedule or late re-evaluation. */
    readonly alertedAt: string;
    readonly evaluatedAt: string;
    readonly kind: Alert['kind'];
  }[];
  /** Every finding alerted exactly once, and at least one. */
  readonly alertedOnce: boolean;
  readonly firstAlert?: {
    /** When the detection run published it (simulated). */
    readonly alertedAt: string;
    readonly evaluatedAt: string;
    readonly kind: Alert['kind'];
    /** Alerted this long after the attack's last event was published. */
    readonly afterLastEventMs: number;
    /** For a late re-evaluation: how late the evidence reached the lake, at most. */
    readonly evidenceDelayMs?: number;
  };
  /** Findings of other detections that carry one of its identifiers. */
  readonly alsoAlertedBy: Readonly<Record<string, number>>;
}

/** A finding that belongs to no planted attack (benign traffic that fired a detection). */
export interface OtherFinding {
  readonly detectionId: string;
  readonly evaluatedAt: string;
  readonly alertedAt: string;
  readonly kind: Alert['kind'];
  readonly summary: string;
}

export interface SoakDetectionReport {
  readonly tickMs: number;
  readonly detections: number;
  readonly ticks: number;
  /** Detection runs (one detection, one tick) by outcome. */
  readonly runs: Readonly<Record<string, number>>;
  readonly evaluations: number;
  readonly lateRangesRecorded: number;
  readonly failures: readonly string[];
  /** Detections that had not caught up when the soak stopped waiting for them (each with why): must be none. */
  readonly unsettled: readonly string[];
  readonly alerts: number;
  readonly findingsAlerted: number;
  /** Findings (of any detection) alerted more than once: must be 0. */
  readonly repeatedFindings: number;
  readonly planted: readonly PlantedAttackOutcome[];
  readonly other: readonly OtherFinding[];
  /** Wall time spent in detection runs. */
  readonly wallMs: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const findingId = (query: QueryDefinition, row: ResultRow): string => `${query.id}|${query.findingKey.map((c) => row[c] ?? '').join('|')}`;

/** The detection part of the soak report; `recoveredBySweep(uuid)`: whether the lake holds that event in an object the sweep wrote. */
export function detectionReport(d: SoakDetections, planted: PlantedAttacks, recoveredBySweep: (uuid: string) => boolean, unsettled: readonly string[]): SoakDetectionReport {
  const times = new Map<string, number>();
  for (const { query, alert } of d.alerts) for (const row of alert.findings) times.set(findingId(query, row), (times.get(findingId(query, row)) ?? 0) + 1);

  const claimed = new Set<string>();
  const outcomes: PlantedAttackOutcome[] = planted.tracked.map((t) => {
    const detectionId = FOUND_BY[t.attack.kind];
    let alerts = 0;
    const findings = new Map<string, { severity?: string; alertedAt: string; evaluatedAt: string; kind: Alert['kind'] }>();
    let first: SoakAlert | undefined;
    const also: Record<string, number> = {};
    for (const a of d.alerts) {
      const own = a.query.id === detectionId;
      const rows = a.alert.findings.filter((row) => values(row).some((v) => t.ids.has(v)));
      if (rows.length === 0) continue;
      for (const row of rows) claimed.add(findingId(a.query, row));
      if (own) {
        alerts++;
        first ??= a;
        for (const row of rows) {
          const id = findingId(a.query, row);
          if (!findings.has(id)) findings.set(id, { ...(row.severity ? { severity: row.severity } : {}), alertedAt: iso(a.alertedAtMs), evaluatedAt: a.alert.evaluatedAt, kind: a.alert.kind });
        }
      } else {
        also[a.query.id] = (also[a.query.id] ?? 0) + rows.length;
      }
    }
    return {
      kind: t.attack.kind,
      detectionId,
      events: t.uuids.size,
      firstEventAt: iso(t.firstMs),
      lastEventAt: iso(t.lastMs),
      ...(t.late
        ? { late: { eventType: t.late.eventType, publishedAt: iso(t.late.publishedMs), visibleAt: iso(t.late.visibleAtMs), recoveredBySweep: recoveredBySweep(t.late.uuid) } }
        : {}),
      alerts,
      findings: [...findings].map(([key, f]) => ({ key, alerted: times.get(key) ?? 0, ...f })),
      alertedOnce: findings.size > 0 && [...findings.keys()].every((f) => times.get(f) === 1),
      ...(first
        ? {
            firstAlert: {
              alertedAt: iso(first.alertedAtMs),
              evaluatedAt: first.alert.evaluatedAt,
              kind: first.alert.kind,
              afterLastEventMs: first.alertedAtMs - t.lastMs,
              ...(first.alert.evidenceDelayMs !== undefined ? { evidenceDelayMs: first.alert.evidenceDelayMs } : {}),
            },
          }
        : {}),
      alsoAlertedBy: also,
    };
  });

  const other: OtherFinding[] = [];
  for (const { query, alert, alertedAtMs } of d.alerts) {
    for (const row of alert.findings) {
      if (claimed.has(findingId(query, row))) continue;
      const summary = row.summary ?? query.findingKey.map((c) => `${c}=${row[c] ?? ''}`).join(', ');
      other.push({ detectionId: query.id, evaluatedAt: alert.evaluatedAt, alertedAt: iso(alertedAtMs), kind: alert.kind, summary });
    }
  }
  return {
    tickMs: d.tickMs,
    detections: d.queries.length,
    ticks: d.ticks,
    runs: { ...d.outcomes },
    evaluations: d.evaluations,
    lateRangesRecorded: d.lateRangesRecorded,
    failures: [...d.failures],
    unsettled: [...unsettled],
    alerts: d.alerts.length,
    findingsAlerted: times.size,
    repeatedFindings: [...times.values()].filter((n) => n > 1).length,
    planted: outcomes,
    other,
    wallMs: d.wallMs,
  };
}

/** Every planted attack alerted, each of its findings exactly once; no finding alerted twice; no detection run failed. */
export function detectionsPassed(r: SoakDetectionReport): boolean {
  return r.failures.length === 0 && r.unsettled.length === 0 && r.repeatedFindings === 0 && r.planted.length > 0 && r.planted.every((p) => p.alertedOnce);
}
