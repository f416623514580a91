/**
 * The soak: an org's System Log served by the mock Okta with every fault mixed in, ingested by
 * scheduled-style runs (a simulated clock advancing in steps, each run with a time budget, then the
 * reconciliation sweep when it caught up), until the ingestion has caught up and both sweep lines
 * have passed the last event; then the lake is audited against what was served.
 *
 * Time: one `ManualClock` drives the mock Okta (rate-limit windows, late events becoming visible),
 * the client (rate-limit waits and backoffs cost no real time), leases and the time budgets. Every
 * request to Okta costs `requestCostMs` of simulated time, so a run's budget runs out after a
 * realistic number of pages. Connection stalls cost real time (the client's request timeout).
 *
 * Faults (seeded): per Okta request a 429 burst, a 5xx, a connection reset, a stall, a truncated
 * page, a malformed page or a `next` link to another host; per PutObject a failure or a kill; per
 * watermark-store operation a failure, a failure after the write took effect, or a kill before or
 * after it; and kills while fetching. Each kind is also forced once early, so that every kind
 * occurs in every soak, however short. A killed run never releases its lease; later runs find it
 * held until it expires, as they would after a real crash.
 *
 * Late events: `lateShare` of the events become visible only U(0, maxLate) after their `published`.
 *
 * Detections (./soak-detections.ts): the demo's four attacks are planted among the events (two of
 * them with their decisive event served late, so that only the sweep recovers it), and every
 * scheduled detection runs on its schedule in the loop, with DuckDB on the lake folder, from
 * cursors at the first event up to the ingestion watermark the store holds, re-evaluating the late
 * evidence the sweep records. The soak ends when the detections have also caught up; each planted
 * attack must have been alerted exactly once.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ForeignLinkError, OktaRequestError } from '../lib/core/okta/errors';
import { OktaLogClient, RETRY_CAUSES, type RetryCause } from '../lib/core/okta/client';
import { SswsToken } from '../lib/core/okta/credentials';
import { parseOrg } from '../lib/core/okta/org';
import { seededRandom } from '../lib/core/fixtures';
import { IngestError, type IngestOutcome } from '../lib/core/ingest/ingest';
import { SinkLakeIndex } from '../lib/core/lake/lake-index';
import { ReconcileError } from '../lib/core/ingest/reconcile';
import { DEFAULT_SWEEP_OFFSETS_MS } from '../lib/core/sweep-lines';
import type { LakeSink, Reporter, WatermarkStore } from '../lib/core/ports';
import { runScheduledInvocation } from '../lib/core/ingest/invocation';
import { ManualClock, budgetOn } from '../testkit/clock';
import {
  FaultInjector,
  InjectedSinkError,
  InjectedStoreError,
  SimulatedCrash,
  isLeaseLost,
  isSimulatedCrash,
  type FaultPlan,
  type SinkFault,
  type StoreCall,
  type StoreFault,
} from '../testkit/faults';
import { auditLake } from '../testkit/lake-audit';
import { DuckDbParquetWriter } from '../lib/core/writer/parquet-writer';
import { ATTACK_KINDS, iterateOrgEvents } from '../lib/demo/generate';
import { LocalSink } from '../lib/adapters/local-sink';
import type { WatermarkReader } from '../lib/core/detect/ports';
import { formatDelay } from '../lib/core/detect/message';
import { ConfigError } from '../lib/core/errors';
import { PlantedAttacks, SoakDetections, detectionReport, detectionsPassed, type SoakDetectionReport } from './soak-detections';
import { startMockOkta, type MockEvent, type MockFaultKind, type MockRequestInfo } from '../lib/mock-okta';
import { HOUR, MINUTE } from '../lib/core/time';

const TOKEN = 'soak-token-not-a-secret';

export interface SoakOptions {
  /** Events served (at least). @default 100,000 */
  readonly events?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Hours the events are spread over. @default 12 */
  readonly hours?: number;
  /** Share of events recorded late. @default 0.01 */
  readonly lateShare?: number;
  /** Longest delay of a late event. @default 10 minutes */
  readonly maxLateMs?: number;
  /** Time between scheduled runs. @default 5 minutes */
  readonly scheduleMs?: number;
  /** Simulated time budget of one run (a Lambda's timeout) and the margin it stops at. @default 60 s and 10 s */
  readonly budgetMs?: number;
  readonly marginMs?: number;
  /** The first run starts this long after the first event (a backlog to catch up). @default 6 hours */
  readonly backlogMs?: number;
  /** Simulated time each request to Okta takes. @default 1000 ms */
  readonly requestCostMs?: number;
  /** The org's rate limit per minute (Workforce Identity: 120). @default 120 */
  readonly rateLimitPerMinute?: number;
  /** Multiplies every fault probability (0: no faults). @default 1 */
  readonly faultScale?: number;
  /** Sweep offsets. @default 1 hour and 24 hours */
  readonly offsetsMs?: readonly number[];
  /** Events per page (`limit`); smaller pages give a small soak more pages with next links. @default 1000 */
  readonly pageSize?: number;
  /** Real-time timeout of one Okta request (what a stall costs). @default 2000 ms */
  readonly requestTimeoutMs?: number;
  /** The lake and the watermark store under test (a folder and files, or S3 and DynamoDB). */
  readonly sink: LakeSink;
  readonly store: WatermarkStore;
  /**
   * Reads the ingestion watermark from the store's state, for the detections (the file store itself,
   * or `DynamoDbWatermarkReader` on the store's table).
   */
  readonly watermarks: WatermarkReader;
  /**
   * The folder DuckDB reads for the detections: the lake folder, or a local copy of every object
   * the sink stores (testkit/mirror-sink.ts). @default the sink's folder, when it is a LocalSink
   */
  readonly lakeDir?: string;
  /** Simulated time between two checks for detections due (each runs on its own schedule). @default 15 minutes */
  readonly detectEveryMs?: number;
  /** How to describe the lake in the report. @default the sink's location */
  readonly lakeDescription?: string;
  /** Folder for DuckDB's temporary files. @default the system's */
  readonly tmpDir?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** What a soak found. Counts are of events unless said otherwise. */
export interface SoakReport {
  readonly options: {
    readonly events: number;
    readonly seed: number;
    readonly hours: number;
    readonly lateShare: number;
    readonly maxLateMs: number;
    readonly scheduleMs: number;
    readonly budgetMs: number;
    readonly requestCostMs: number;
    readonly rateLimitPerMinute: number;
    readonly faultScale: number;
    readonly pageSize: number;
    readonly offsetsMs: readonly number[];
    readonly sink: string;
  };
  readonly served: number;
  readonly lateServed: number;
  readonly inLake: number;
  readonly distinctInLake: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Lake rows whose `raw` differs from what Okta served. */
  readonly rawMismatches: number;
  /** Lake rows whose uuid Okta never served. */
  readonly unexpected: number;
  readonly quarantinedEvents: number;
  readonly quarantinedPages: number;
  /** Events in objects the sweep wrote (`-late-`): what it recovered. */
  readonly lateRecovered: number;
  /**
   * The sum of the sweeps' own counts (the `LateEventsRecovered` metric). Lower than `lateRecovered`
   * when a sweep failed after writing late events (its count is lost; the next sweep finds them present).
   */
  readonly lateRecoveredReported: number;
  /** Of those, events that were not late (they would mean the ingestion lost them; a page quarantined whole explains them). */
  readonly recoveredNotLate: number;
  /** Late events that the ingestion itself picked up (they became visible before their window was read). */
  readonly lateIngestedDirectly: number;
  readonly lateMissing: number;
  readonly runs: Readonly<Record<string, number>>;
  /** Failed runs by what failed them. */
  readonly failures: Readonly<Record<string, number>>;
  readonly clientRetries: Readonly<Record<RetryCause, number>>;
  readonly malformedRefetches: number;
  /** Pages an earlier attempt stored without a checkpoint, read again against the lake. */
  readonly retriedPages: number;
  /** Of those, pages that brought events the earlier attempt had not stored. */
  readonly retriedPagesDiffering: number;
  readonly faultsInjected: Readonly<Record<string, number>>;
  readonly oktaRequests: number;
  readonly pagesServed: number;
  readonly eventDeliveries: number;
  readonly sweepWindows: number;
  /** Duplicate rows the sweeps saw in the windows they swept (they report, cannot remove). */
  readonly sweepDuplicatesFound: number;
  /** The scheduled detections run in the loop, and how each planted attack was alerted. */
  readonly detection: SoakDetectionReport;
  readonly simulatedHours: number;
  readonly wallMs: number;
  readonly peakRssMb: number;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const iso = (ms: number): string => new Date(ms).toISOString();

/** Per-call fault probabilities at `faultScale` 1. */
const OKTA_FAULTS: readonly [MockFaultKind | 'foreign', number][] = [
  ['429', 0.01],
  ['5xx', 0.015],
  ['reset', 0.005],
  ['stall', 0.002],
  ['truncated', 0.01],
  ['malformed', 0.01],
  ['foreign', 0.003],
];
const PUT_FAULTS: readonly [SinkFault, number][] = [
  ['fail', 0.005],
  ['kill', 0.002],
];
const STORE_FAULTS: Readonly<Record<StoreCall['op'], readonly [StoreFault, number][]>> = {
  acquire: [
    ['fail', 0.004],
    ['kill-after-write', 0.002],
  ],
  checkpoint: [
    ['fail', 0.004],
    ['fail-after-write', 0.003],
    ['kill', 0.003],
    ['kill-after-write', 0.002],
  ],
  release: [['fail', 0.004]],
};
const FETCH_KILL = 0.002;

function pick<K>(rng: () => number, table: readonly [K, number][], scale: number): K | undefined {
  let r = rng();
  for (const [kind, p] of table) {
    if (r < p * scale) return kind;
    r -= p * scale;
  }
  return undefined;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const wallStart = performance.now();
  const events = o.events ?? 100_000;
  const seed = o.seed ?? 1;
  const hours = o.hours ?? 12;
  const lateShare = o.lateShare ?? 0.01;
  const maxLateMs = o.maxLateMs ?? 10 * MINUTE;
  const scheduleMs = o.scheduleMs ?? 5 * MINUTE;
  const budgetMs = o.budgetMs ?? 60_000;
  const marginMs = o.marginMs ?? 10_000;
  const backlogMs = o.backlogMs ?? 6 * HOUR;
  const requestCostMs = o.requestCostMs ?? 1_000;
  const rateLimitPerMinute = o.rateLimitPerMinute ?? 120;
  const faultScale = o.faultScale ?? 1;
  const offsetsMs = o.offsetsMs ?? DEFAULT_SWEEP_OFFSETS_MS;
  const log = o.log ?? (() => undefined);
  let peakRss = process.memoryUsage().rss;
  const sampleRss = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };

  const lakeDir = o.lakeDir ?? (o.sink instanceof LocalSink ? o.sink.location : undefined);
  if (lakeDir === undefined) throw new ConfigError('the soak needs lakeDir (a folder DuckDB reads) when the sink is not a LocalSink');

  // The org's events, with the planted attacks and their benign look-alikes; 1% of them late, and
  // the decisive events of the attacks of LATE_PLAN served late on purpose.
  const rng = seededRandom(seed);
  const start = Date.parse('2024-06-03T00:00:00.000Z');
  const served: MockEvent[] = [];
  const digests = new Map<string, string>();
  const late = new Set<string>();
  const org0 = iterateOrgEvents(events, { seed, start: new Date(start), hours, attacks: [...ATTACK_KINDS], nearMisses: true });
  const planted = new PlantedAttacks(org0.planted, start + backlogMs);
  for (const e of org0.events) {
    const text = JSON.stringify(e);
    const publishedMs = Date.parse(e.published);
    let isLate = rng() < lateShare;
    let visibleAtMs = isLate ? publishedMs + Math.floor(rng() * maxLateMs) : undefined;
    const plantedLate = planted.observe(e, publishedMs);
    if (plantedLate !== undefined) {
      isLate = true;
      visibleAtMs = plantedLate;
    }
    if (isLate) late.add(e.uuid);
    served.push({ uuid: e.uuid, publishedMs, text, ...(visibleAtMs !== undefined ? { visibleAtMs } : {}) });
    digests.set(e.uuid, sha256(text));
  }
  const lastPublished = served.reduce((m, e) => Math.max(m, e.publishedMs), 0);
  log(`generated ${served.length} events (${late.size} late) over ${hours} h, ${digests.size} distinct uuids, ${org0.planted.length} planted attacks`);
  sampleRss();

  // Faults: drawn per call, and each kind forced once early.
  const faultRng = seededRandom(seed ^ 0x5eed);
  const forceAt = (range: number): number => 1 + Math.floor(faultRng() * range);
  const forcedOkta = new Map<number, MockFaultKind | 'foreign'>();
  for (const [kind] of OKTA_FAULTS) {
    let n = forceAt(150);
    while (forcedOkta.has(n)) n++;
    forcedOkta.set(n, kind);
  }
  const forcedPut = new Map<number, SinkFault>(PUT_FAULTS.map(([kind]) => [forceAt(40), kind] as const));
  const forcedStore = new Map<string, StoreFault>();
  for (const [op, table] of Object.entries(STORE_FAULTS)) {
    for (const [kind] of table) {
      let n = forceAt(op === 'checkpoint' ? 60 : 150);
      while (forcedStore.has(`${op}:${n}`)) n++;
      forcedStore.set(`${op}:${n}`, kind);
    }
  }
  const forcedFetch = forceAt(200);
  // A drawn foreign-link fault stays armed until a page with a next link carries it (and is refused).
  let foreignArmed = false;
  let foreignRefused = 0;
  let pendingBurst = 0;

  const clock = new ManualClock(start + backlogMs);
  const mock = await startMockOkta({
    events: served,
    apiToken: TOKEN,
    rateLimitPerMinute,
    clock,
    onLogRequest: (info: MockRequestInfo) => {
      clock.advance(requestCostMs);
      mock.faults.foreignNextLink = foreignArmed;
      if (faultScale === 0) return undefined;
      if (pendingBurst > 0) {
        pendingBurst--;
        return '429';
      }
      const kind = forcedOkta.get(info.n) ?? pick(faultRng, OKTA_FAULTS, faultScale);
      if (kind === undefined) return undefined;
      if (kind === 'foreign') {
        foreignArmed = true;
        mock.faults.foreignNextLink = true;
        return undefined;
      }
      if (kind === '429') pendingBurst = Math.floor(faultRng() * 4);
      return kind;
    },
  });
  served.length = 0; // the mock keeps its own sorted copy

  const plan: FaultPlan =
    faultScale === 0
      ? {}
      : {
          put: ({ n }) => forcedPut.get(n) ?? pick(faultRng, PUT_FAULTS, faultScale),
          store: ({ op, n }) => forcedStore.get(`${op}:${n}`) ?? pick(faultRng, STORE_FAULTS[op], faultScale),
          fetch: ({ n }) => (n === forcedFetch || faultRng() < FETCH_KILL * faultScale ? 'kill' : undefined),
        };
  const faults = new FaultInjector(plan);

  const org = parseOrg(mock.origin, { allowInsecureLoopback: true });
  const client = new OktaLogClient({
    org,
    credentials: new SswsToken(TOKEN),
    clock,
    requestTimeoutMs: o.requestTimeoutMs ?? 2_000,
    pageSize: o.pageSize ?? 1000,
    random: seededRandom(seed ^ 0x7a11),
  });
  const writer = await DuckDbParquetWriter.open(o.tmpDir ? { tmpDir: o.tmpDir } : {});
  const index = await SinkLakeIndex.open({ sink: o.sink, ...(o.tmpDir ? { tmpDir: o.tmpDir } : {}) });
  const detections = await SoakDetections.open({
    lakeDir,
    org: org.host,
    startMs: start,
    clock,
    watermarks: o.watermarks,
    ...(o.detectEveryMs !== undefined ? { tickMs: o.detectEveryMs } : {}),
    ...(o.tmpDir ? { tmpDir: o.tmpDir } : {}),
  });

  const runs: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const bump = (m: Record<string, number>, k: string): void => {
    m[k] = (m[k] ?? 0) + 1;
  };
  let malformedRefetches = 0;
  let retriedPages = 0;
  let retriedPagesDiffering = 0;
  let lateRecoveredReported = 0;
  let sweepWindows = 0;
  let sweepDuplicatesFound = 0;
  const reporter: Reporter = {
    info: () => undefined,
    warn: (message) => {
      if (message === 'page is not valid JSON; fetching it again') malformedRefetches++;
    },
  };

  // Done when the ingestion is past the last event and every line has swept the hour holding it.
  const lastHourEnd = Math.ceil((lastPublished + 1) / HOUR) * HOUR;
  const lines = new Map<number, number>(offsetsMs.map((off) => [off, Number.NEGATIVE_INFINITY]));
  let watermark = Number.NEGATIVE_INFINITY;
  const maxRuns = Math.ceil((backlogMs + hours * HOUR + Math.max(...offsetsMs) + 8 * HOUR) / scheduleMs) + 200;
  let ingestDoneAt: number | undefined;

  try {
    for (let n = 1; ; n++) {
      if (n > maxRuns) throw new Error(`soak did not finish within ${maxRuns} runs`);
      faults.revive();
      const result = await runScheduledInvocation({
        ingest: {
          org: org.host,
          source: faults.source(client),
          writer,
          sink: faults.sink(o.sink),
          store: faults.store(o.store),
          owner: `run-${n}`,
          clock,
          reporter,
          since: iso(start),
          settleLagMs: 5 * MINUTE,
          maxWindowMs: HOUR,
        },
        sweep: { index, offsetsMs, lateEvidence: detections.lateEvidence },
        timeBudget: budgetOn(clock, budgetMs, marginMs),
      });
      if (result.error !== undefined) {
        bump(runs, `failed in ${result.failedIn}`);
        // A killed process may surface a later call's error first (e.g. a page fetched ahead was the one killed).
        bump(failures, faults.dead ? `killed ${faults.kills[faults.kills.length - 1]}` : classify(result.error));
        if (causes(result.error).some((e) => e instanceof ForeignLinkError)) {
          foreignArmed = false;
          foreignRefused++;
        }
      } else {
        bump(runs, result.ingest!.outcome satisfies IngestOutcome);
        if (result.reconcile) bump(runs, `sweep ${result.reconcile.outcome}`);
      }
      retriedPages += result.ingest?.retriedPages ?? 0;
      retriedPagesDiffering += result.ingest?.retriedPagesDiffering ?? 0;
      if (result.ingest?.watermark) watermark = Math.max(watermark, Date.parse(result.ingest.watermark));
      if (result.reconcile) {
        lateRecoveredReported += result.reconcile.lateEvents;
        sweepWindows += result.reconcile.windows;
        sweepDuplicatesFound += result.reconcile.duplicatesFound;
        malformedRefetches += result.reconcile.malformedRefetches;
        for (const line of result.reconcile.lines) {
          if (line.sweptUntil) lines.set(line.offsetMs, Math.max(lines.get(line.offsetMs) ?? 0, Date.parse(line.sweptUntil)));
        }
      }
      await detections.tick();
      if (n % 50 === 0) {
        sampleRss();
        log(
          `run ${n}: clock ${iso(clock.now())}, watermark ${Number.isFinite(watermark) ? iso(watermark) : '-'}, ` +
            `lines ${[...lines].map(([off, t]) => `${off / HOUR}h:${Number.isFinite(t) ? iso(t).slice(5, 16) : '-'}`).join(' ')}, ` +
            `late events recovered (reported) ${lateRecoveredReported}, kills ${faults.kills.length}, ` +
            `detection evaluations ${detections.evaluations}, alerts ${detections.alerts.length}` +
            (ingestDoneAt !== undefined ? `, detections not caught up: ${detections.unsettled(ingestDoneAt).join('; ') || 'none'}` : ''),
        );
      }
      if (ingestDoneAt === undefined && watermark > lastPublished && [...lines.values()].every((t) => t >= lastHourEnd)) ingestDoneAt = clock.now();
      // Done when the detections have caught up too; they get 12 simulated hours for it.
      if (ingestDoneAt !== undefined && (detections.settled(ingestDoneAt) || clock.now() >= ingestDoneAt + 12 * HOUR)) break;
      clock.advance(scheduleMs);
    }

    // Audit the lake against what was served.
    sampleRss();
    const audit = await auditLake(o.sink, o.tmpDir ? { tmpDir: o.tmpDir } : {});
    sampleRss();
    let lost = 0;
    let duplicated = 0;
    let rawMismatches = 0;
    let unexpected = 0;
    let recoveredNotLate = 0;
    let lateRecoveredInLake = 0;
    let lateMissing = 0;
    for (const [uuid, digest] of digests) {
      const got = audit.byUuid.get(uuid);
      if (!got) {
        lost++;
        if (late.has(uuid)) lateMissing++;
        continue;
      }
      if (got.rawSha256 !== digest) rawMismatches++;
      if (got.keys.some((k) => k.includes('-late-'))) {
        if (late.has(uuid)) lateRecoveredInLake++;
        else recoveredNotLate++;
      }
    }
    for (const [uuid, got] of audit.byUuid) {
      duplicated += got.count - 1;
      if (!digests.has(uuid)) unexpected += got.count;
    }
    const stats = mock.stats;
    const detection = detectionReport(
      detections,
      planted,
      (uuid) => audit.byUuid.get(uuid)?.keys.some((k) => k.includes('-late-')) ?? false,
      ingestDoneAt === undefined ? ['the ingestion never finished'] : detections.unsettled(ingestDoneAt),
    );
    return {
      options: {
        events,
        seed,
        hours,
        lateShare,
        maxLateMs,
        scheduleMs,
        budgetMs,
        requestCostMs,
        rateLimitPerMinute,
        faultScale,
        pageSize: o.pageSize ?? 1000,
        offsetsMs: [...offsetsMs],
        sink: o.lakeDescription ?? o.sink.location,
      },
      served: digests.size,
      lateServed: late.size,
      inLake: audit.rows,
      distinctInLake: audit.byUuid.size,
      lost,
      duplicated,
      rawMismatches,
      unexpected,
      quarantinedEvents: audit.quarantined.filter((q) => q.reason !== 'page').length,
      quarantinedPages: audit.quarantined.filter((q) => q.reason === 'page').length,
      lateRecovered: lateRecoveredInLake + recoveredNotLate,
      lateRecoveredReported,
      recoveredNotLate,
      lateIngestedDirectly: late.size - lateMissing - lateRecoveredInLake,
      lateMissing,
      runs,
      failures,
      clientRetries: Object.fromEntries(RETRY_CAUSES.map((c) => [c, client.stats.retries[c]])) as Record<RetryCause, number>,
      malformedRefetches,
      retriedPages,
      retriedPagesDiffering,
      faultsInjected: {
        ...Object.fromEntries(Object.entries(stats.faultsInjected).filter(([, v]) => v > 0).map(([k, v]) => [`okta:${k}`, v])),
        'okta:foreign-next-link': foreignRefused,
        ...faults.injected,
      },
      oktaRequests: stats.logRequests,
      pagesServed: stats.pagesServed,
      eventDeliveries: stats.eventsServed,
      sweepWindows,
      sweepDuplicatesFound,
      detection,
      simulatedHours: (clock.now() - (start + backlogMs)) / HOUR,
      wallMs: performance.now() - wallStart,
      peakRssMb: Math.round(peakRss / 2 ** 20),
    };
  } finally {
    detections.close();
    await index.close();
    await writer.close();
    await mock.stop();
  }
}

/** The error and its causes. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = error, d = 0; e !== undefined && d < 10; d++) {
    chain.push(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return chain;
}

/** What failed a run, for the report. */
function classify(error: unknown): string {
  if (isSimulatedCrash(error)) {
    for (let e: unknown = error; e instanceof Error; e = e.cause) {
      if (e instanceof SimulatedCrash) return `killed ${e.point}`;
    }
  }
  const chain = causes(error);
  if (chain.some((e) => e instanceof InjectedSinkError)) return 'PutObject failed';
  if (chain.some((e) => e instanceof InjectedStoreError)) {
    const e = chain.find((x) => x instanceof InjectedStoreError) as InjectedStoreError;
    return `UpdateItem failed (${/\((\w+) of/.exec(e.message)?.[1] ?? 'store'}${e.message.includes('after it took effect') ? ', after it took effect' : ''})`;
  }
  if (isLeaseLost(error)) return 'lease lost';
  if (chain.some((e) => e instanceof ForeignLinkError)) return 'next link to another host refused';
  if (chain.some((e) => e instanceof OktaRequestError)) return 'Okta retries exhausted';
  if (error instanceof ReconcileError || error instanceof IngestError) return `${error.name}: ${error.message.slice(0, 80)}`;
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 120)}` : String(error);
}

/** Nothing lost, doubled or changed, and no late event missing. */
export function completenessPassed(r: SoakReport): boolean {
  return r.lost === 0 && r.duplicated === 0 && r.rawMismatches === 0 && r.unexpected === 0 && r.lateMissing === 0;
}

/** The soak passed: complete, and every planted attack alerted exactly once. */
export function soakPassed(r: SoakReport): boolean {
  return completenessPassed(r) && detectionsPassed(r.detection);
}

/** The detections section of the report. */
function detectionMarkdown(d: SoakDetectionReport): string[] {
  const n = (x: number): string => x.toLocaleString('en-US');
  const t = (at: string): string => at.slice(0, 16).replace('T', ' ');
  const how = (p: SoakDetectionReport['planted'][number]): string => {
    const a = p.firstAlert;
    if (a === undefined) return 'never alerted';
    return a.kind === 'late' ? `late-evidence re-evaluation (evidence up to ${formatDelay(a.evidenceDelayMs ?? 0)} late)` : 'schedule';
  };
  const others = new Map<string, number>();
  for (const f of d.other) others.set(f.detectionId, (others.get(f.detectionId) ?? 0) + 1);
  const shown = d.other.slice(0, 30);
  return [
    '## Detections in the loop',
    '',
    `Every scheduled detection of athena-queries/ (${d.detections}) ran on its own schedule (checked every ${d.tickMs / MINUTE} min of simulated time, after the scheduled invocation), ` +
      'with DuckDB on the lake folder, from evaluation cursors at the first event up to the ingestion watermark the store held, re-evaluating the late evidence the sweep recorded, ' +
      'with no limit of evaluations per run (the deployed default of 12 never catches up at 1% late events: a waiting late range is re-evaluated up to the cursor, which the schedule keeps moving); ' +
      'cursors, suppression and the late-evidence log in memory for the whole soak. The demo\'s four attacks were planted among the events (with its benign look-alikes); ' +
      'two of them had their decisive event served late by Okta (withheld until after the ingestion had read its window).',
    '',
    `**${detectionsPassed(d) ? 'PASS' : 'FAIL'}**: ${d.planted.filter((p) => p.alertedOnce).length} of ${d.planted.length} planted attacks with every finding alerted exactly once ` +
      `(alert messages: ${d.planted.map((p) => `${p.kind} ${p.alerts}`).join(', ')}); ` +
      `findings alerted more than once ${n(d.repeatedFindings)}; failed detection runs ${n(d.failures.length)}; detections not caught up at the end ${n(d.unsettled.length)}; ` +
      `findings that belong to no planted attack ${n(d.other.length)}.`,
    '',
    'A finding is what the detection\'s `finding_key` identifies: the Okta-support reset reports each of its two events, and push bombing reports the session again, ' +
      'as a new finding, when an approval follows the denials (its key includes the severity, high then critical): each such finding must be alerted exactly once.',
    '',
    '| planted attack | detection | events (first, last published) | decisive event served late | alerted | first alert at (simulated) | after its last event | by |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...d.planted.map(
      (p) =>
        `| ${p.kind} | ${p.detectionId} | ${p.events} (${t(p.firstEventAt)}, ${t(p.lastEventAt)}) | ` +
        `${p.late ? `${p.late.eventType}, published ${t(p.late.publishedAt)}, visible ${t(p.late.visibleAt)}, ${p.late.recoveredBySweep ? 'recovered by the sweep' : 'NOT recovered by the sweep'}` : 'no'} | ` +
        `${p.alertedOnce ? 'once' : 'NOT once'}: ${p.findings.length} finding(s) ${p.findings.map((f) => `${f.alerted}×${f.severity ? ` ${f.severity}` : ''} (${f.kind === 'late' ? 'late re-evaluation' : 'schedule'} of ${t(f.evaluatedAt)}, at ${t(f.alertedAt)})`).join(', ')}, in ${p.alerts} alert(s) | ${p.firstAlert ? t(p.firstAlert.alertedAt) : '-'} | ` +
        `${p.firstAlert ? formatDelay(p.firstAlert.afterLastEventMs) : '-'} | ${how(p)} |`,
    ),
    '',
    ...(d.planted.some((p) => Object.keys(p.alsoAlertedBy).length > 0)
      ? [
          'Other detections that alerted on events of a planted attack (a finding with one of its uuids, sessions or attacker addresses):',
          '',
          ...d.planted
            .filter((p) => Object.keys(p.alsoAlertedBy).length > 0)
            .map((p) => `- ${p.kind}: ${Object.entries(p.alsoAlertedBy).map(([id, c]) => `${id} (${c} finding${c === 1 ? '' : 's'})`).join(', ')}`),
          '',
        ]
      : []),
    '| figure | value |',
    '| --- | --- |',
    `| detection runs (one detection at one check) | ${n(Object.values(d.runs).reduce((a, b) => a + b, 0))} (${Object.entries(d.runs).map(([k, v]) => `${k} ${n(v)}`).join(', ')}) |`,
    `| evaluations (queries run on DuckDB) | ${n(d.evaluations)} |`,
    `| late-evidence ranges the sweep recorded | ${n(d.lateRangesRecorded)} |`,
    `| alerts / findings alerted | ${n(d.alerts)} / ${n(d.findingsAlerted)} |`,
    `| findings alerted more than once | ${n(d.repeatedFindings)} |`,
    `| failed detection runs | ${n(d.failures.length)} |`,
    `| wall time in detection runs | ${(d.wallMs / 1000).toFixed(1)} s |`,
    '',
    '### Findings that belong to no planted attack',
    '',
    ...(d.other.length === 0
      ? ['None.']
      : [
          `${n(d.other.length)} finding(s) on the benign traffic: ${[...others].map(([id, c]) => `${id} ${n(c)}`).join(', ')}.`,
          '',
          '| detection | evaluated at | alerted at | by | summary |',
          '| --- | --- | --- | --- | --- |',
          ...shown.map((f) => `| ${f.detectionId} | ${t(f.evaluatedAt)} | ${t(f.alertedAt)} | ${f.kind} | ${f.summary.replace(/\|/g, '\\|')} |`),
          ...(d.other.length > shown.length ? ['', `(${n(d.other.length - shown.length)} more not shown.)`] : []),
        ]),
    ...(d.failures.length > 0 ? ['', '### Failed detection runs', '', ...d.failures.map((f) => `- ${f}`)] : []),
    ...(d.unsettled.length > 0 ? ['', '### Detections not caught up when the soak stopped', '', ...d.unsettled.map((f) => `- ${f}`)] : []),
    '',
  ];
}

/** The report as Markdown. */
export function soakMarkdown(r: SoakReport, commandLine: string): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const rows = (m: Readonly<Record<string, number>>): string[] =>
    Object.entries(m)
      .filter(([, v]) => v > 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `| ${k} | ${n(v)} |`);
  const planted = r.detection.planted;
  return [
    '# Soak: completeness and detections under faults',
    '',
    `Produced by \`${commandLine}\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.platform}/${process.arch}).`,
    '',
    `**${soakPassed(r) ? 'PASS' : 'FAIL'}**: lost ${n(r.lost)}, duplicated ${n(r.duplicated)}, raw mismatches ${n(r.rawMismatches)}, ` +
      `late events missing ${n(r.lateMissing)} of ${n(r.lateServed)}; ` +
      `planted attacks with every finding alerted exactly once ${planted.filter((p) => p.alertedOnce).length} of ${planted.length} ` +
      `(alert messages: ${planted.map((p) => `${p.kind} ${p.alerts}`).join(', ')}).`,
    '',
    '## Setup',
    '',
    `- ${n(r.options.events)} realistic events (seed ${r.options.seed}) over ${r.options.hours} h, served by the mock Okta on loopback; ` +
      `${(r.options.lateShare * 100).toFixed(1)}% of them late by U(0, ${r.options.maxLateMs / MINUTE} min).`,
    `- Scheduled runs every ${r.options.scheduleMs / MINUTE} min of simulated time, each with a ${r.options.budgetMs / 1000} s budget ` +
      `(every Okta request costs ${r.options.requestCostMs / 1000} s; pages of ${n(r.options.pageSize)}; rate limit ${r.options.rateLimitPerMinute}/min, half of it for this client); ` +
      `the first run starts with a backlog. After a run that caught up, the sweep (offsets ${r.options.offsetsMs.map((o) => `${o / HOUR} h`).join(', ')}).`,
    `- Lake: ${r.options.sink}. Fault probabilities ×${r.options.faultScale}; every fault kind is also forced once.`,
    `- Simulated time: ${r.simulatedHours.toFixed(1)} h. Wall time: ${(r.wallMs / 1000).toFixed(1)} s. Peak RSS: ${n(r.peakRssMb)} MB.`,
    '',
    '## Result',
    '',
    '| figure | value |',
    '| --- | --- |',
    `| events served (distinct uuids) | ${n(r.served)} |`,
    `| events in the lake (rows) | ${n(r.inLake)} |`,
    `| distinct uuids in the lake | ${n(r.distinctInLake)} |`,
    `| lost | ${n(r.lost)} |`,
    `| duplicated | ${n(r.duplicated)} |`,
    `| raw not byte-identical to what was served | ${n(r.rawMismatches)} |`,
    `| rows with a uuid never served | ${n(r.unexpected)} |`,
    `| quarantined events / whole pages | ${n(r.quarantinedEvents)} / ${n(r.quarantinedPages)} |`,
    `| late events served | ${n(r.lateServed)} |`,
    `| late events picked up by the ingestion itself | ${n(r.lateIngestedDirectly)} |`,
    `| events recovered by the sweep (in the objects it wrote) | ${n(r.lateRecovered)} |`,
    `| of those, events that were not late (a page kept whole in quarantine explains them) | ${n(r.recoveredNotLate)} |`,
    `| recovered, as the sweeps reported them (the LateEventsRecovered metric; a sweep that fails after writing loses its count) | ${n(r.lateRecoveredReported)} |`,
    `| late events missing | ${n(r.lateMissing)} |`,
    `| sweep windows / duplicate rows the sweeps saw in them | ${n(r.sweepWindows)} / ${n(r.sweepDuplicatesFound)} |`,
    `| pages stored by a killed attempt and read again against the lake (nothing overwritten) | ${n(r.retriedPages)} |`,
    `| of those, retried pages that brought events the killed attempt had not stored | ${n(r.retriedPagesDiffering)} |`,
    `| Okta requests / pages served / event deliveries (re-reads included) | ${n(r.oktaRequests)} / ${n(r.pagesServed)} / ${n(r.eventDeliveries)} |`,
    '',
    ...detectionMarkdown(r.detection),
    '## Runs',
    '',
    '| outcome | runs |',
    '| --- | --- |',
    ...rows(r.runs),
    '',
    '## Failed runs by cause (the next scheduled run retried)',
    '',
    '| cause | runs |',
    '| --- | --- |',
    ...rows(r.failures),
    '',
    '## Retries by cause (inside a run)',
    '',
    '| cause | retries |',
    '| --- | --- |',
    ...rows({ ...Object.fromEntries(Object.entries(r.clientRetries).map(([k, v]) => [`Okta client: ${k}`, v])), 'malformed page fetched again': r.malformedRefetches}),
    '',
    '## Faults injected',
    '',
    '| fault | count |',
    '| --- | --- |',
    ...rows(r.faultsInjected),
    '',
  ].join('\n');
}
