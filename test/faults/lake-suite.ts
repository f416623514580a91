/**
 * The set-up shared by the fault suites that ingest one scenario into a fresh local lake per test
 * (edges, oversize): 600 events one every 11 s from T0 (to 01:50), the world started at T0 + 3 h
 * with 50-event pages, and ingestion from `sinceMs` in windows of an hour.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { LocalSink } from '../../lib/adapters/local-sink';
import type { OktaLogClientOptions } from '../../lib/core/okta/client';
import type { MockOktaOptions } from '../../lib/mock-okta';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import { HOUR, T0, ingestOptionsFor, scenario, startWorld, type Scenario, type World } from './support';

/** What a suite's tests use, given once the world is started. */
export interface LakeSuite {
  readonly sc: Scenario;
  readonly world: World;
  /** The uuids published from `sinceMs` on: what the lake must hold. */
  readonly expected: string[];
}

/**
 * Registers the suite's hooks in the calling `describe` (start the world before all, clear the log
 * hook after each test, stop it and remove the lakes after all), calls `ready` once the world is
 * started, and returns `lake()`: a fresh lake (local sink, watermark store) and its ingestion options.
 */
export function lakeSuite(
  name: string,
  o: { readonly sinceMs: number; readonly mock?: Partial<MockOktaOptions>; readonly client?: Partial<OktaLogClientOptions> },
  ready: (suite: LakeSuite) => void,
): { lake(): Promise<{ sink: LocalSink; store: MemoryWatermarkStore; options: ReturnType<typeof ingestOptionsFor> }> } {
  let world: World | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    const sc = scenario({ count: 600, stepMs: 11_000 });
    const expected = sc.events.filter((e) => e.publishedMs >= o.sinceMs).map((e) => e.uuid);
    const placeholder = new LocalSink({ root: await mkdtemp(join(tmpdir(), `${name}-unused-`)), fsync: false });
    world = await startWorld({
      events: sc.events,
      sink: placeholder,
      clockStartMs: T0 + 3 * HOUR,
      pageSize: 50,
      ...(o.mock ? { mock: o.mock } : {}),
      ...(o.client ? { client: o.client } : {}),
    });
    ready({ sc, world, expected });
  });

  afterEach(() => world?.setLogHook(undefined));

  afterAll(async () => {
    await world?.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  return {
    async lake() {
      if (world === undefined) throw new Error('lake() before the suite started its world');
      const root = await mkdtemp(join(tmpdir(), `${name}-lake-`));
      dirs.push(root);
      const sink = new LocalSink({ root, fsync: false });
      const store = new MemoryWatermarkStore();
      return { sink, store, options: ingestOptionsFor(world, sink, store, o.sinceMs) };
    },
  };
}
