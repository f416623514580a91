/**
 * Shared set-up of the reconciliation and fault tests: a simulated org whose mock Okta serves
 * events (some of them late) on loopback with a manual clock, the real Okta client, the DuckDB
 * writer, a lake index, and a scheduler that runs the ingestion (and the sweep) every few minutes
 * of simulated time.
 */
import { expect } from 'vitest';
import { OktaLogClient, type OktaLogClientOptions } from '../../lib/core/okta/client';
import { SswsToken } from '../../lib/core/okta/credentials';
import { parseOrg, type OktaOrg } from '../../lib/core/okta/org';
import { SinkLakeIndex } from '../../lib/core/lake/lake-index';
import type { IngestOptions } from '../../lib/core/ingest/ingest';
import type { LakeSink, LogPageSource, Reporter, WatermarkStore } from '../../lib/core/ports';
import { runScheduledInvocation, type ScheduledInvocationResult, type ScheduledSweepOptions } from '../../lib/core/ingest/invocation';
import { ManualClock, budgetOn } from '../../testkit/clock';
import { auditLake, sha256, type LakeAudit } from '../../testkit/lake-audit';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { startMockOkta, type MockEvent, type MockOkta, type MockOktaOptions, type MockRequestInfo } from '../../lib/mock-okta';
import { HOUR, MINUTE } from '../../lib/core/time';
export { HOUR, MINUTE } from '../../lib/core/time';

export const T0 = Date.parse('2024-05-01T00:00:00.000Z');
export const TOKEN = 'faults-test-token-not-a-secret';

export interface Scenario {
  readonly events: MockEvent[];
  /** uuid -> exact text served. */
  readonly texts: Map<string, string>;
  /** uuids of the events that become visible only some minutes after they were published. */
  readonly late: Set<string>;
}

/**
 * One event every `stepMs` from `startMs` for `count` events; every `lateEvery`-th one becomes
 * visible `lateByMs` after it was published.
 */
export function scenario(o: { count: number; startMs?: number; stepMs: number; lateEvery?: number; lateByMs?: number }): Scenario {
  const start = o.startMs ?? T0;
  const events: MockEvent[] = [];
  const texts = new Map<string, string>();
  const late = new Set<string>();
  for (let i = 0; i < o.count; i++) {
    const publishedMs = start + i * o.stepMs;
    const uuid = `ev-${String(i).padStart(6, '0')}`;
    const text = eventText(i, uuid, publishedMs);
    const isLate = o.lateEvery !== undefined && i % o.lateEvery === o.lateEvery - 1;
    if (isLate) late.add(uuid);
    events.push({ uuid, publishedMs, text, ...(isLate ? { visibleAtMs: publishedMs + (o.lateByMs ?? 8 * MINUTE) } : {}) });
    texts.set(uuid, text);
  }
  return { events, texts, late };
}

/** The JSON text of the `i`-th event of a scenario (a sign-in, with quotes and brackets in a string). */
export function eventText(i: number, uuid: string | undefined, publishedMs: number): string {
  return JSON.stringify({
    uuid,
    published: new Date(publishedMs).toISOString(),
    eventType: i % 7 === 0 ? 'user.authentication.auth_via_mfa' : 'user.session.start',
    version: '0',
    severity: 'INFO',
    displayMessage: `User login to Okta #${i}, "quoted", [bracket]`,
    actor: { id: `00u${i % 13}`, type: 'User', alternateId: `user${i % 13}@example.com`, displayName: 'A User', detailEntry: null },
    client: { ipAddress: '198.51.100.7', zone: 'null', userAgent: null, device: 'Computer', id: null, geographicalContext: null },
    outcome: { result: 'SUCCESS', reason: null },
    target: null,
  });
}

/** Each expected uuid exactly once in the lake's Parquet objects, `raw` byte for byte the text served, nothing else. */
export async function expectExactLake(sink: LakeSink, expected: readonly string[], texts: ReadonlyMap<string, string>): Promise<LakeAudit> {
  const audit = await auditLake(sink);
  expect(audit.rows).toBe(expected.length);
  expect([...audit.byUuid.keys()].sort()).toEqual([...expected].sort());
  for (const [uuid, e] of audit.byUuid) expect(e.rawSha256, uuid).toBe(sha256(texts.get(uuid) ?? ''));
  return audit;
}

export interface World {
  readonly mock: MockOkta;
  readonly clock: ManualClock;
  readonly org: OktaOrg;
  readonly client: OktaLogClient;
  readonly writer: DuckDbParquetWriter;
  readonly index: SinkLakeIndex;
  /** Sets (or clears) the mock's per-request hook (see `MockOktaOptions.onLogRequest`). */
  setLogHook(hook: MockOktaOptions['onLogRequest']): void;
  close(): Promise<void>;
}

/** Starts the mock Okta (on the manual clock), the client, the writer and a lake index over `sink`. */
export async function startWorld(o: {
  events: readonly MockEvent[];
  sink: LakeSink;
  clockStartMs: number;
  pageSize?: number;
  mock?: Partial<MockOktaOptions>;
  requestTimeoutMs?: number;
  /** Options of the Okta client on top of the fault tests' own (e.g. `maxPageBytes`). */
  client?: Partial<OktaLogClientOptions>;
}): Promise<World> {
  const clock = new ManualClock(o.clockStartMs);
  let hook: MockOktaOptions['onLogRequest'];
  const mock = await startMockOkta({
    events: o.events,
    apiToken: TOKEN,
    rateLimitPerMinute: 100_000,
    clock,
    onLogRequest: (info: MockRequestInfo) => hook?.(info),
    ...o.mock,
  });
  const org = parseOrg(mock.origin, { allowInsecureLoopback: true });
  const client = new OktaLogClient({
    org,
    credentials: new SswsToken(TOKEN),
    clock,
    pageSize: o.pageSize ?? 1000,
    backoffBaseMs: 10,
    backoffCapMs: 100,
    rateLimitJitterMs: 0,
    requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
    ...o.client,
  });
  const writer = await DuckDbParquetWriter.open({});
  const index = await SinkLakeIndex.open({ sink: o.sink });
  return {
    mock,
    clock,
    org,
    client,
    writer,
    index,
    setLogHook: (h) => {
      hook = h;
    },
    close: async () => {
      await writer.close();
      await index.close();
      await mock.stop();
    },
  };
}

/**
 * The options of one ingestion run of `world` into `sink`/`store` from `sinceMs`, as the fault tests
 * run it (5-minute settle lag, 1-hour windows), with `extra` on top.
 */
export function ingestOptionsFor(world: World, sink: LakeSink, store: WatermarkStore, sinceMs: number) {
  return (owner: string, extra: Partial<IngestOptions> = {}): IngestOptions => ({
    org: world.org.host,
    source: world.client,
    writer: world.writer,
    sink,
    store,
    owner,
    clock: world.clock,
    since: new Date(sinceMs).toISOString(),
    settleLagMs: 5 * MINUTE,
    maxWindowMs: HOUR,
    ...extra,
  });
}

export interface ScheduleOptions {
  readonly world: World;
  readonly sink: LakeSink;
  readonly store: WatermarkStore;
  /** Source to use instead of the world's client (e.g. a fault-injecting wrapper). */
  readonly source?: LogPageSource;
  readonly since: string;
  /** Run every `everyMs` from now until the clock passes `untilMs`. */
  readonly everyMs: number;
  readonly untilMs: number;
  /** The sweep, or false for ingestion only. @default false */
  readonly reconcile?: false | Partial<ScheduledSweepOptions>;
  readonly ingest?: Partial<IngestOptions>;
  readonly budgetMs?: number;
  readonly reporter?: Reporter;
  /** Called before each run (e.g. to revive a killed process). */
  readonly beforeRun?: (n: number) => void;
}

/** Runs scheduled invocations until the clock passes `untilMs`; returns every run's result. */
export async function runSchedule(o: ScheduleOptions): Promise<ScheduledInvocationResult[]> {
  const results: ScheduledInvocationResult[] = [];
  const { world } = o;
  for (let n = 1; world.clock.now() <= o.untilMs; n++) {
    o.beforeRun?.(n);
    results.push(
      await runScheduledInvocation({
        ingest: {
          org: world.org.host,
          source: o.source ?? world.client,
          writer: world.writer,
          sink: o.sink,
          store: o.store,
          owner: `run-${n}`,
          clock: world.clock,
          since: o.since,
          settleLagMs: 5 * MINUTE,
          maxWindowMs: HOUR,
          ...(o.reporter ? { reporter: o.reporter } : {}),
          ...o.ingest,
        },
        ...(o.reconcile ? { sweep: { index: world.index, ...o.reconcile } } : {}),
        ...(o.budgetMs !== undefined ? { timeBudget: budgetOn(world.clock, o.budgetMs, 1_000) } : {}),
      }),
    );
    world.clock.advance(o.everyMs);
  }
  return results;
}
