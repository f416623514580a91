/**
 * The ingestion function: a thin composition root. `handler` builds its clients once per container
 * from the environment and hands them to `createIngestHandler`, which runs one scheduled invocation
 * (`runScheduledInvocation`: the ingestion run, then the sweep) for the org named by the schedule's
 * event, within the time the invocation has left. The org's Okta credential comes from Secrets
 * Manager (`SecretsManagerCredentials`: cached, never logged).
 *
 * Event: `{"org": "<org host>"}` (one EventBridge Scheduler schedule per org).
 *
 * When the run caught up and time remains, the reconciliation sweep (`reconcile`, at the offsets of
 * `OKTA_LAKE_RECONCILE_OFFSETS_MS`, the stack's `reconcileOffsetsMinutes`: by default 1 h and 24 h)
 * follows and the late events it recovers are emitted as the `LateEventsRecovered` metric.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { DynamoDbEvaluationStore } from '../../lib/adapters/dynamodb-evaluation-store';
import { DynamoDbWatermarkStore } from '../../lib/adapters/dynamodb-watermark-store';
import { createObservability, loggerReporter } from '../../lib/adapters/powertools-observability';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { CredentialSecretError, SecretsManagerCredentials } from '../../lib/adapters/secrets-manager-credentials';
import { INGEST_METRICS, type IngestEvent } from '../../lib/config/ingest-contract';
import { ConfigError } from '../../lib/core/errors';
import type { IngestResult } from '../../lib/core/ingest/ingest';
import { runScheduledInvocation } from '../../lib/core/ingest/invocation';
import { SinkLakeIndex } from '../../lib/core/lake/lake-index';
import type { LakeIndex } from '../../lib/core/ports';
import type { ReconcileOutcome } from '../../lib/core/ingest/reconcile';
import type { LateEvidenceLog } from '../../lib/core/late-evidence';
import { OktaLogClient } from '../../lib/core/okta/client';
import type { CredentialProvider } from '../../lib/core/okta/credentials';
import { OktaAuthError } from '../../lib/core/okta/errors';
import type { LakeSink, PageWriter, WatermarkStore } from '../../lib/core/ports';
import { deferredWriter } from '../../lib/core/writer/deferred-writer';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { readIngestSettings, type IngestOrg, type IngestSettings } from './settings';

/** What one invocation returns (and logs): counts only, never a credential. */
export interface IngestSummary extends IngestResult {
  readonly org: string;
  readonly rateLimitWaitMs: number;
  /** The sweep after the run, when the run caught up with time to spare. */
  readonly reconcile?: { readonly outcome: ReconcileOutcome; readonly windows: number; readonly lateEventsRecovered: number };
}

export interface IngestHandlerDeps {
  readonly settings: IngestSettings;
  readonly sink: LakeSink;
  readonly store: WatermarkStore;
  /** The orgs' Okta credentials (Secrets Manager in the Lambda). */
  readonly credentials: Pick<SecretsManagerCredentials, 'credentialsFor' | 'forget'>;
  /** Opens the Parquet writer; called on first use, and again after a failed open. */
  readonly openWriter: () => Promise<PageWriter>;
  /** Opens the sweep's lake index; called when the first sweep runs, and again after a failed open. */
  readonly openLakeIndex: () => Promise<LakeIndex>;
  /** Where the sweep records late evidence for the detections. @default not recorded */
  readonly lateEvidence?: Pick<LateEvidenceLog, 'record'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type IngestHandler = (event: IngestEvent, context: Context) => Promise<IngestSummary>;

/** `open()` once, on first use; a failed open is forgotten so that the next use opens again. */
function openedOnce<T>(open: () => Promise<T>): () => Promise<T> {
  let opened: Promise<T> | undefined;
  return () => {
    if (!opened) {
      const opening = open();
      opening.catch(() => {
        if (opened === opening) opened = undefined;
      });
      opened = opening;
    }
    return opened;
  };
}

function orgOf(settings: IngestSettings, event: unknown): IngestOrg {
  const label = typeof event === 'object' && event !== null ? (event as Partial<IngestEvent>).org : undefined;
  if (typeof label !== 'string') throw new ConfigError('the event must be {"org": "<org host>"}');
  const org = settings.orgs.get(label);
  if (!org) throw new ConfigError(`org "${label}" is not configured here; configured: ${[...settings.orgs.keys()].join(', ')}`);
  return org;
}

function recordMetrics(metrics: Metrics, org: string, result: IngestResult, rateLimitWaitMs: number): void {
  const n = INGEST_METRICS.names;
  metrics.addDimension(INGEST_METRICS.orgDimension, org);
  metrics.addMetric(n.eventsWritten, MetricUnit.Count, result.eventsWritten);
  metrics.addMetric(n.eventsQuarantined, MetricUnit.Count, result.eventsQuarantined);
  metrics.addMetric(n.pages, MetricUnit.Count, result.pages);
  metrics.addMetric(n.objectsWritten, MetricUnit.Count, result.objectsWritten);
  metrics.addMetric(n.bytesWritten, MetricUnit.Bytes, result.bytesWritten);
  metrics.addMetric(n.rateLimitWaitMs, MetricUnit.Milliseconds, rateLimitWaitMs);
  metrics.addMetric(n.windowSplits, MetricUnit.Count, result.windowSplits);
  metrics.addMetric(n.cursorRestarts, MetricUnit.Count, result.cursorRestarts);
  metrics.addMetric(n.eventsAlreadyInLake, MetricUnit.Count, result.eventsAlreadyInLake);
  metrics.addMetric(n.emptyPagesFollowed, MetricUnit.Count, result.emptyPagesFollowed);
  metrics.addMetric(n.retriedPages, MetricUnit.Count, result.retriedPages);
  metrics.addMetric(n.retriedPagesDiffering, MetricUnit.Count, result.retriedPagesDiffering);
  metrics.addMetric(n.unexpectedObjects, MetricUnit.Count, result.unexpectedObjects);
  if (result.lagMs !== undefined && result.outcome !== 'lease-held') {
    metrics.addMetric(n.watermarkLagSeconds, MetricUnit.Seconds, Math.round(result.lagMs / 1000));
  }
  metrics.publishStoredMetrics();
}

export function createIngestHandler(deps: IngestHandlerDeps): IngestHandler {
  const { settings, logger, metrics } = deps;
  const reporter = loggerReporter(logger);
  /** One writer and one lake index per handler (per container). */
  const getWriter = openedOnce(deps.openWriter);
  const getLakeIndex = openedOnce(deps.openLakeIndex);
  /** One Okta client per org, kept while its credential is (a re-read credential gets a new client). */
  const sources = new Map<string, { readonly credentials: CredentialProvider; readonly client: OktaLogClient }>();

  async function getSource(org: IngestOrg): Promise<OktaLogClient> {
    const credentials = await deps.credentials.credentialsFor(org);
    const known = sources.get(org.org.host);
    if (known?.credentials === credentials) return known.client;
    const client = new OktaLogClient({ org: org.org, credentials, reporter });
    sources.set(org.org.host, { credentials, client });
    return client;
  }

  return async (event, context) => {
    logger.addContext(context);
    let org: IngestOrg | undefined;
    try {
      org = orgOf(settings, event);
      const host = org.org.host;
      logger.appendKeys({ org: host });
      /**
       * The container's writer, awaited only when the run writes its first page. On a cold start
       * DuckDB opens (instance, connection, prepared statements, on DuckDB's own threads) while the
       * run reads its credential, takes its lease and fetches its first page. A failed open fails
       * that first write (the run stops there with nothing written; the next run opens again).
       */
      const writer = deferredWriter(getWriter());
      const source = await getSource(org);
      const waitedBefore = source.stats.rateLimitWaitMs;
      let summary!: IngestSummary; // set when the run returned, before the sweep
      const run = await runScheduledInvocation({
        ingest: {
          org: host,
          source,
          writer,
          sink: deps.sink,
          store: deps.store,
          owner: context.awsRequestId,
          reporter,
          settleLagMs: settings.settleLagMs,
          initialLookbackMs: settings.initialLookbackMs,
        },
        timeBudget: { remainingMs: () => context.getRemainingTimeInMillis() },
        afterIngest: (result) => {
          summary = { org: host, ...result, rateLimitWaitMs: source.stats.rateLimitWaitMs - waitedBefore };
          recordMetrics(metrics, host, result, summary.rateLimitWaitMs);
        },
        sweep: async () => ({
          writer: await getWriter(),
          index: await getLakeIndex(),
          ...(settings.reconcileOffsetsMs ? { offsetsMs: settings.reconcileOffsetsMs } : {}),
          ...(deps.lateEvidence ? { lateEvidence: deps.lateEvidence } : {}),
        }),
      });
      if (run.error !== undefined) throw run.error;
      if (run.reconcile) {
        const swept = run.reconcile;
        metrics.addDimension(INGEST_METRICS.orgDimension, host);
        metrics.addMetric(INGEST_METRICS.names.lateEventsRecovered, MetricUnit.Count, swept.lateEvents);
        metrics.publishStoredMetrics();
        summary = { ...summary, reconcile: { outcome: swept.outcome, windows: swept.windows, lateEventsRecovered: swept.lateEvents } };
      }
      logger.info('ingestion run finished', { ...summary });
      return summary;
    } catch (error) {
      // A refused credential may have been replaced in the secret: read it again next time.
      if (org && (error instanceof OktaAuthError || error instanceof ConfigError || error instanceof CredentialSecretError)) deps.credentials.forget(org.org.host);
      // Messages of this project's errors never carry a credential (see lib/core/okta/errors.ts).
      logger.error('ingestion run failed', error instanceof Error ? error : String(error));
      throw error;
    } finally {
      logger.removeKeys(['org']);
    }
  };
}

const { logger, metrics } = createObservability(INGEST_METRICS);

/** Builds the clients and adapters once per container, from the environment. */
function fromEnvironment(): IngestHandler {
  const settings = readIngestSettings(process.env);
  const s3 = createS3Client(settings.s3Endpoint ? { endpoint: settings.s3Endpoint } : {});
  const dynamodb = new DynamoDBClient({});
  const sink = new S3Sink({
    client: s3,
    bucket: settings.bucket,
    prefix: settings.prefix,
    ...(settings.kmsKeyArn ? { serverSideEncryption: { kmsKeyId: settings.kmsKeyArn } } : {}),
  });
  return createIngestHandler({
    settings,
    sink,
    store: new DynamoDbWatermarkStore({ client: dynamodb, tableName: settings.table }),
    ...(settings.evaluationTable ? { lateEvidence: new DynamoDbEvaluationStore({ client: dynamodb, tableName: settings.evaluationTable }) } : {}),
    credentials: new SecretsManagerCredentials({ client: new SecretsManagerClient({}) }),
    openWriter: () => DuckDbParquetWriter.open({}),
    // Its own DuckDB, with a smaller memory limit than the writer's.
    openLakeIndex: () => SinkLakeIndex.open({ sink, memoryLimit: '256MB' }),
    logger,
    metrics,
  });
}

let cached: IngestHandler | undefined;

export async function handler(event: IngestEvent, context: Context): Promise<IngestSummary> {
  if (cached === undefined) {
    try {
      cached = fromEnvironment();
    } catch (error) {
      // A configuration error fails every run; it is built again next time.
      logger.addContext(context);
      logger.error('ingestion run failed', error instanceof Error ? error : String(error));
      throw error;
    }
  }
  return cached(event, context);
}
