/**
 * What "every event evaluated, however late" costs in Athena queries: the runner's own planning
 * (lib/core/detect/plan.ts, the same functions the Lambda calls) driven over simulated days on a
 * simulated clock, for every scheduled detection of athena-queries/:
 *
 * - a normal day: ingestion every 5 minutes (watermark 5 minutes behind), each detection on its
 *   schedule;
 * - a day with a 6-hour ingestion outage (a revoked credential fixed the next morning): the
 *   watermark stands still, then jumps;
 * - a day with 1% late events at 100,000 events a day, as the reconciliation sweep finds them: each
 *   late event arrives U(5 min, 2 h) after it was published (Okta's "some events may be delayed"),
 *   so the 1-hour sweep line recovers the ones under about 1 h 5 min and the 24-hour line the rest;
 *   each swept 1-hour window that recovered something records one late range (the span of what it
 *   recovered), as reconcile() does.
 *
 * Athena bills at least 10 MB per query (https://aws.amazon.com/athena/pricing/: "rounded up to the
 * nearest megabyte, with a 10 MB minimum per query"), and the detections read far less per
 * evaluation on a small org (bench/results.md, "Detection cost"), so the monthly figure counts the
 * minimum: queries x 10 MB x $5 per TB. It is an estimate of the query count, which is what changes.
 *
 *   npx tsx bench/detection-evaluations.ts [--report bench/evaluations.md]
 */
import { writeFileSync } from 'node:fs';
import { seededRandom } from '../lib/core/fixtures';
import { advanceCursor, interleave, planOrg, type DetectionTiming } from '../lib/core/detect/plan';
import type { EvaluationCursor } from '../lib/core/detect/ports';
import { appendLateRange, EMPTY_LATE_LOG, type LateLog } from '../lib/core/late-evidence';
import { loadQueries } from '../lib/core/queries';
import { DAY, HOUR, MINUTE } from '../lib/core/time';

const T0 = Date.parse('2026-11-02T00:00:00.000Z');
const MAX_EVALUATIONS_PER_RUN = 48;
const MIN_BILLED_BYTES = 10 * 1_000_000;
const USD_PER_BYTE = 5 / 1e12;

interface Detection extends DetectionTiming {
  readonly id: string;
}

export interface ScenarioResult {
  readonly name: string;
  /** Evaluations (Athena queries) over all detections in the simulated day. */
  readonly queries: number;
  /** Of which re-evaluations of late evidence. */
  readonly lateQueries: number;
  /** Late ranges recorded in the day. */
  readonly lateRanges: number;
  /** Longest detection lag seen after any run: watermark minus cursor, or the oldest late range's wait. */
  readonly maxLagMs: number;
  /** Late ranges some detection had not re-evaluated at the end of the simulation. */
  readonly lateRangesWaitingAtEnd: number;
  /** When the outage's last evaluation ran, for the outage scenario. */
  readonly caughtUpAfterMs?: number;
}

interface Scenario {
  readonly name: string;
  /** The ingestion watermark at wall-clock `t`. */
  watermark(t: number): number;
  /** Late evidence recorded at wall-clock `t` (the sweeps after the ingestion run at `t`). */
  lateAt?(t: number): { fromMs: number; toMs: number; maxDelayMs: number }[];
}

function simulate(detections: readonly Detection[], scenario: Scenario, days = 1): ScenarioResult {
  let lateLog: LateLog = EMPTY_LATE_LOG;
  let lateRanges = 0;
  const cursors = new Map<string, EvaluationCursor>();
  // Every detection starts the day caught up.
  for (const d of detections) cursors.set(d.id, { evaluatedThroughMs: scenario.watermark(T0), lateSeq: 0 });
  let queries = 0;
  let lateQueries = 0;
  let maxLagMs = 0;
  for (let t = T0 + 5 * MINUTE; t <= T0 + days * DAY; t += 5 * MINUTE) {
    for (const late of scenario.lateAt?.(t) ?? []) {
      lateLog = appendLateRange(lateLog, late, t);
      lateRanges++;
    }
    const w = scenario.watermark(t);
    for (const d of detections) {
      if ((t - T0) % d.scheduleMs !== 0) continue;
      const cursor = cursors.get(d.id)!;
      const plan = planOrg({ org: 'acme.okta.com', timing: d, watermarkMs: w, stored: { cursor, version: 1 }, lateLog, initialBackfillMs: 0 });
      let next = plan.cursor;
      for (const { evaluation } of interleave([plan], MAX_EVALUATIONS_PER_RUN)) {
        queries++;
        if (evaluation.kind === 'late') lateQueries++;
        next = advanceCursor(next, evaluation);
      }
      cursors.set(d.id, next);
      const waiting = lateLog.ranges.filter((r) => r.seq > next.lateSeq && r.fromMs <= next.evaluatedThroughMs);
      const lateWaitMs = waiting.length === 0 ? 0 : t - Math.min(...waiting.map((r) => r.recordedAtMs));
      maxLagMs = Math.max(maxLagMs, w - next.evaluatedThroughMs, lateWaitMs);
    }
  }
  const end = [...cursors.values()];
  const lateRangesWaitingAtEnd = new Set(end.flatMap((c) => lateLog.ranges.filter((r) => r.seq > c.lateSeq && r.fromMs <= c.evaluatedThroughMs).map((r) => r.seq))).size;
  return { name: scenario.name, queries, lateQueries, lateRanges, maxLagMs, lateRangesWaitingAtEnd };
}

/** Ingestion every 5 minutes, windows closing 5 minutes before the run. */
const onTime = (t: number): number => Math.floor((t - 5 * MINUTE) / (5 * MINUTE)) * 5 * MINUTE;

function lateEvents(eventsPerDay: number, share: number, seed: number): { publishedMs: number; delayMs: number }[] {
  const random = seededRandom(seed);
  const out: { publishedMs: number; delayMs: number }[] = [];
  const late = Math.round(eventsPerDay * share);
  for (let i = 0; i < late; i++) out.push({ publishedMs: T0 + random() * DAY, delayMs: 5 * MINUTE + random() * (2 * HOUR - 5 * MINUTE) });
  return out;
}

/** The ranges the sweep lines record: per swept 1-hour window, the span of what it recovered. */
function sweepRanges(events: readonly { publishedMs: number; delayMs: number }[]): Map<number, { fromMs: number; toMs: number; maxDelayMs: number }[]> {
  const at = new Map<number, { fromMs: number; toMs: number; maxDelayMs: number }[]>();
  for (const offset of [HOUR, DAY]) {
    const byWindow = new Map<number, { publishedMs: number; delayMs: number }[]>();
    for (const e of events) {
      const window = Math.floor(e.publishedMs / HOUR) * HOUR;
      // The line sweeps [window, window + 1 h) once the watermark is past window + 1 h + offset.
      const sweptAt = Math.ceil((window + HOUR + offset + 5 * MINUTE) / (5 * MINUTE)) * 5 * MINUTE;
      const arrived = e.publishedMs + e.delayMs;
      const readByIngestion = arrived <= e.publishedMs + 5 * MINUTE;
      const readByShorterLine = offset === DAY && arrived <= Math.ceil((window + 2 * HOUR + 5 * MINUTE) / (5 * MINUTE)) * 5 * MINUTE;
      if (readByIngestion || readByShorterLine || arrived > sweptAt) continue;
      byWindow.set(sweptAt, [...(byWindow.get(sweptAt) ?? []), e]);
    }
    for (const [sweptAt, es] of byWindow) {
      const fromMs = Math.min(...es.map((e) => e.publishedMs));
      at.set(sweptAt, [...(at.get(sweptAt) ?? []), { fromMs, toMs: Math.max(...es.map((e) => e.publishedMs)), maxDelayMs: sweptAt - fromMs }]);
    }
  }
  return at;
}

export function detectionEvaluations(): { detections: number; results: ScenarioResult[] } {
  const detections: Detection[] = loadQueries()
    .filter((q) => q.scheduleMinutes !== undefined)
    .map((q) => ({ id: q.id, scheduleMs: q.scheduleMinutes! * MINUTE, lookbackMs: q.lookbackMs }));
  const normal = simulate(detections, { name: 'normal day', watermark: onTime });
  const outageStart = T0 + 2 * HOUR;
  const outageEnd = outageStart + 6 * HOUR;
  const outage = simulate(detections, { name: 'a 6-hour ingestion outage', watermark: (t) => (t >= outageStart && t < outageEnd ? onTime(outageStart) : onTime(t)) });
  // Two days, so that the 24-hour line's ranges of the first day are recorded and re-evaluated.
  const ranges = sweepRanges(lateEvents(100_000, 0.01, 7));
  const late = simulate(detections, { name: '1% late events (100,000 a day)', watermark: onTime, lateAt: (t) => ranges.get(t) ?? [] }, 2);
  const normal2 = simulate(detections, { name: 'normal, 2 days', watermark: onTime }, 2);
  return {
    detections: detections.length,
    results: [normal, outage, { ...late, name: late.name, queries: late.queries - normal2.queries + normal.queries, lateQueries: late.lateQueries }],
  };
}

/** The command named in the report (`npm run bench` writes the same file). */
export const EVALUATIONS_COMMAND = 'npx tsx bench/detection-evaluations.ts --report bench/evaluations.md';

export function evaluationsMarkdown(r: ReturnType<typeof detectionEvaluations>, command: string): string {
  const base = r.results[0].queries;
  const usd = (q: number): string => `$${(q * MIN_BILLED_BYTES * USD_PER_BYTE * 30).toFixed(2)}`;
  const h = (ms: number): string => `${(ms / HOUR).toFixed(1)} h`;
  return [
    '# Detection evaluations: what "every event evaluated, however late" costs',
    '',
    `Made by \`${command}\`, also written by \`npm run bench\`: a deterministic simulation with the runner's own planning (lib/core/detect/plan.ts).`,
    `${r.detections} scheduled detections, at most ${MAX_EVALUATIONS_PER_RUN} evaluations per run; Athena's 10 MB minimum per query.`,
    '',
    '| scenario | queries a day | extra vs normal | of which late-evidence re-evaluations | late ranges | longest detection lag | late ranges still waiting at the end | a month of such days (10 MB minimum, $5/TB) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.results.map(
      (s) =>
        `| ${s.name} | ${s.queries.toLocaleString('en-US')} | ${(s.queries - base).toLocaleString('en-US')} | ${s.lateQueries.toLocaleString('en-US')} | ${s.lateRanges} | ${h(s.maxLagMs)} | ${s.lateRangesWaitingAtEnd} | ${usd(s.queries)} |`,
    ),
    '',
    'The outage costs no extra query: its steps are evaluated once, after the catch-up, instead of on time.',
    'The detection lag is the longest wait after any run: watermark minus cursor, or how long the oldest late range not yet re-evaluated had waited (what the DetectionLagSeconds alarm watches).',
    'The late events cost one re-evaluation of every step whose window holds one of them, for every detection (a detection with a 1-day lookback re-evaluates up to a day of hourly steps per range).',
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('detection-evaluations.ts')) {
  const r = detectionEvaluations();
  const reportAt = process.argv.indexOf('--report');
  const text = evaluationsMarkdown(r, EVALUATIONS_COMMAND);
  if (reportAt > 0) writeFileSync(process.argv[reportAt + 1], text);
  process.stdout.write(text);
}
