/**
 * The compaction function: a thin composition root. `handler` builds its clients once per container
 * from the environment (`COMPACT_ENV`) and hands them to `createCompactHandler`, which runs one
 * invocation:
 *
 * - `{}` (the hourly schedule): `compactLake` over the closed days of every org, oldest first, no
 *   day started after the invocation's deadline minus `DEFAULT_SAFETY_MARGIN_MS` (the rest is left
 *   to the next run); a summary per day is logged (counts and keys, never event contents) and the
 *   metrics DaysCompacted, CompactionFailures, DaysDeferred and DaysWaiting emitted; then the view.
 * - `{ "viewOnly": true }`, or any event on the view function (`OKTA_LAKE_COMPACT_VIEW_ONLY=true`,
 *   the deployment trigger's): the view only.
 *
 * The view: the compaction state of every org (`compactedDaysOf`) made into the `CREATE OR REPLACE
 * VIEW` statement (`lakeViewSql`) and published through Athena (`AthenaViewPublisher`). A failure
 * to publish fails the invocation (the view in place stays correct, only slower: docs/compaction.md).
 *
 * DuckDB works in /tmp (the function's ephemeral storage) with `DUCKDB_MEMORY_LIMIT`.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaViewPublisher } from '../../lib/adapters/athena-view-publisher';
import { DynamoDbWatermarkReader } from '../../lib/adapters/dynamodb-watermark-reader';
import { createObservability, loggerReporter } from '../../lib/adapters/powertools-observability';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { COMPACT_METRICS, type CompactEvent } from '../../lib/config/compact-contract';
import { LAKE_TABLES, compactLake, compactedDaysOf, lakeViewSql, type CompactLakeResult, type DayOutcome, type ViewPublisher, type ViewPublishOutcome } from '../../lib/core/compact';
import type { WatermarkReader } from '../../lib/core/detect/ports';
import { ConfigError } from '../../lib/core/errors';
import { systemClock, type Clock, type LakeSink } from '../../lib/core/ports';
import type { DuckDbOptions } from '../../lib/core/writer/duckdb';
import { readCompactSettings, type CompactSettings } from './settings';

/** No day is started later than this before the invocation's deadline (a large day takes minutes). */
export const DEFAULT_SAFETY_MARGIN_MS = 3 * 60_000;
/** DuckDB's memory limit in the 3008 MB function: the rest is Node's (object bodies, the parts read back). */
export const DUCKDB_MEMORY_LIMIT = '2GB';

export interface CompactSummary {
  readonly viewOnly: boolean;
  /** Absent when `viewOnly`. */
  readonly compaction?: {
    readonly compacted: number;
    readonly failures: number;
    readonly deferred: number;
    readonly waiting: number;
    readonly upToDate: number;
    readonly open: number;
    readonly noWatermark: readonly string[];
  };
  readonly view: ViewPublishOutcome & { readonly compactedDays: number; readonly sqlBytes: number };
}

export interface CompactHandlerDeps {
  readonly settings: CompactSettings;
  readonly sink: LakeSink;
  readonly watermarks: WatermarkReader;
  readonly publisher: ViewPublisher;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default the system clock */
  readonly clock?: Pick<Clock, 'now'>;
  /** @default DEFAULT_SAFETY_MARGIN_MS */
  readonly safetyMarginMs?: number;
  /** @default threads 2, DUCKDB_MEMORY_LIMIT, in `<tmpdir>/okta-lake-duckdb` */
  readonly duckdb?: DuckDbOptions;
}

export type CompactContext = Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>;
export type CompactHandler = (event: CompactEvent | null | undefined, context: CompactContext) => Promise<CompactSummary>;

/** What is logged of one day: counts, generation and keys' counts; never an event. */
function daySummary(d: DayOutcome): Record<string, unknown> {
  if ('conflict' in d) return { org: d.org, dt: d.dt, outcome: 'conflict', error: d.conflict.name, message: d.conflict.message };
  if ('failed' in d) return { org: d.org, dt: d.dt, outcome: 'failed', error: d.failed.name, message: d.failed.message };
  const r = d.result;
  if (r.outcome === 'compacted') {
    return {
      org: d.org,
      dt: d.dt,
      outcome: r.outcome,
      generation: r.generation,
      resumed: r.resumed,
      rows: r.rows,
      sourceRows: r.sourceRows,
      duplicateRowsCollapsed: r.duplicateRowsCollapsed,
      sourceObjects: r.sourceObjects,
      sourceBytes: r.sourceBytes,
      parts: r.parts.length,
      partBytes: r.parts.reduce((n, p) => n + p.bytes, 0),
      absorbedLate: r.absorbedLate,
    };
  }
  if (r.outcome === 'waiting') return { org: d.org, dt: d.dt, outcome: r.outcome, frozenAt: r.frozenAt, readyAt: r.readyAt };
  return { org: d.org, dt: d.dt, outcome: r.outcome };
}

function countOf(result: CompactLakeResult) {
  const sum = (m: Readonly<Record<string, number>>) => Object.values(m).reduce((n, v) => n + v, 0);
  return {
    compacted: result.days.filter((d) => 'result' in d && d.result.outcome === 'compacted').length,
    failures: result.days.filter((d) => 'conflict' in d || 'failed' in d).length,
    deferred: result.deferred,
    waiting: result.days.filter((d) => 'result' in d && d.result.outcome === 'waiting').length,
    upToDate: sum(result.upToDate),
    open: sum(result.open),
    noWatermark: result.noWatermark,
  };
}

export function createCompactHandler(deps: CompactHandlerDeps): CompactHandler {
  const { settings, logger, metrics, sink } = deps;
  const clock = deps.clock ?? systemClock;
  const reporter = loggerReporter(logger);
  const duckdb: DuckDbOptions = deps.duckdb ?? { threads: 2, memoryLimit: DUCKDB_MEMORY_LIMIT, tmpDir: join(tmpdir(), 'okta-lake-duckdb') };

  return async (event, context) => {
    if (context.functionName !== undefined) logger.addContext(context as Context);
    try {
      if (event !== null && event !== undefined && (typeof event !== 'object' || ('viewOnly' in event && typeof event.viewOnly !== 'boolean'))) {
        throw new ConfigError('the event must be {} or {"viewOnly": true}');
      }
      const viewOnly = settings.viewOnly || event?.viewOnly === true;
      let compaction: CompactSummary['compaction'];
      if (!viewOnly) {
        const startBeforeMs = clock.now() + context.getRemainingTimeInMillis() - (deps.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS);
        const result = await compactLake({ sink, watermarks: deps.watermarks, orgs: settings.orgs, clock, startBeforeMs, duckdb, reporter });
        for (const d of result.days) logger.info('compaction of a day', daySummary(d));
        compaction = countOf(result);
        const n = COMPACT_METRICS.names;
        metrics.addMetric(n.daysCompacted, MetricUnit.Count, compaction.compacted);
        metrics.addMetric(n.failures, MetricUnit.Count, compaction.failures);
        metrics.addMetric(n.daysDeferred, MetricUnit.Count, compaction.deferred);
        metrics.addMetric(n.daysWaiting, MetricUnit.Count, compaction.waiting);
        metrics.publishStoredMetrics();
      }
      const days = await compactedDaysOf(sink, settings.orgs);
      const sql = lakeViewSql({ location: `s3://${settings.bucket}`, days, tables: LAKE_TABLES });
      const published = await deps.publisher.publish(sql);
      if (published.outcome === 'skipped') logger.warn('the lake view was not created', { reason: published.reason });
      const summary: CompactSummary = {
        viewOnly,
        ...(compaction ? { compaction } : {}),
        view: { ...published, compactedDays: days.length, sqlBytes: Buffer.byteLength(sql, 'utf8') },
      };
      logger.info('compaction run finished', { ...summary });
      return summary;
    } catch (error) {
      logger.error('compaction run failed', error instanceof Error ? error : String(error));
      throw error;
    }
  };
}

const { logger, metrics } = createObservability(COMPACT_METRICS);

/** Builds the clients and adapters once per container, from the environment. */
function fromEnvironment(): CompactHandler {
  const settings = readCompactSettings(process.env);
  const sink = new S3Sink({
    client: createS3Client(settings.s3Endpoint ? { endpoint: settings.s3Endpoint } : {}),
    bucket: settings.bucket,
    ...(settings.kmsKeyArn ? { serverSideEncryption: { kmsKeyId: settings.kmsKeyArn } } : {}),
  });
  return createCompactHandler({
    settings,
    sink,
    watermarks: new DynamoDbWatermarkReader({ client: new DynamoDBClient({}), tableName: settings.watermarkTable }),
    publisher: new AthenaViewPublisher({
      client: new AthenaClient({}),
      workGroup: settings.workGroup,
      database: settings.database,
      viewName: LAKE_TABLES.view,
      // A skip is logged by the handler, from the outcome.
      reporter: { ...loggerReporter(logger), warn: () => undefined },
    }),
    logger,
    metrics,
  });
}

let cached: CompactHandler | undefined;

export async function handler(event: CompactEvent | null | undefined, context: Context): Promise<CompactSummary> {
  if (cached === undefined) {
    try {
      cached = fromEnvironment();
    } catch (error) {
      // A configuration error fails every run; it is built again next time.
      logger.addContext(context);
      logger.error('compaction run failed', error instanceof Error ? error : String(error));
      throw error;
    }
  }
  return cached(event, context);
}
