/**
 * The ingestion function: a thin composition root. It builds its clients once per container, reads
 * the org's Okta credential from Secrets Manager (cached; never logged), and runs one ingestion run
 * (`runIngest`) for the org named by the schedule's event, within the time the invocation has left.
 *
 * Event: `{"org": "<org host>"}` (one EventBridge Scheduler schedule per org).
 *
 * When the run caught up and time remains, the reconciliation sweep (`reconcile`, at the offsets of
 * `OKTA_LAKE_RECONCILE_OFFSETS_MS`, the stack's `reconcileOffsetsMinutes`: by default 1 h and 24 h)
 * follows and the late events it recovers are emitted as the `LateEventsRecovered` metric.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { DynamoDbWatermarkStore } from '../../lib/adapters/dynamodb-watermark-store';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { INGEST_METRICS, type IngestEvent } from '../../lib/config/ingest-contract';
import { ConfigError, OktaLakeError } from '../../lib/core/errors';
import type { IngestResult } from '../../lib/core/ingest/ingest';
import { runScheduledInvocation } from '../../lib/core/ingest/invocation';
import { SinkLakeIndex } from '../../lib/core/ingest/lake-index';
import type { ReconcileOutcome } from '../../lib/core/ingest/reconcile';
import { OktaLogClient } from '../../lib/core/okta/client';
import { credentialsFromSecret } from '../../lib/core/okta/credentials';
import { OktaAuthError } from '../../lib/core/okta/errors';
import type { PageWriter, Reporter } from '../../lib/core/ports';
import { deferredWriter } from '../../lib/core/writer/deferred-writer';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { readIngestSettings, type IngestOrg, type IngestSettings } from './settings';

/** The org's credential secret could not be read (missing, not filled in yet, not text, access denied). */
export class CredentialSecretError extends OktaLakeError {}

/** A credential read from Secrets Manager is used for at most this long before it is read again. */
export const CREDENTIAL_TTL_MS = 15 * 60_000;

/** What one invocation returns (and logs): counts only, never a credential. */
export interface IngestSummary extends IngestResult {
  readonly org: string;
  readonly rateLimitWaitMs: number;
  /** The sweep after the run, when the run caught up with time to spare. */
  readonly reconcile?: { readonly outcome: ReconcileOutcome; readonly windows: number; readonly lateEventsRecovered: number };
}

const logger = new Logger({ serviceName: INGEST_METRICS.service });
const metrics = new Metrics({ namespace: INGEST_METRICS.namespace, serviceName: INGEST_METRICS.service });

const reporter: Reporter = {
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
};

interface Runtime {
  readonly settings: IngestSettings;
  readonly sink: S3Sink;
  readonly store: DynamoDbWatermarkStore;
  readonly secrets: SecretsManagerClient;
}

interface OrgSource {
  readonly client: OktaLogClient;
  readonly loadedAt: number;
}

let runtime: Runtime | undefined;
let writer: Promise<DuckDbParquetWriter> | undefined;
let lakeIndex: Promise<SinkLakeIndex> | undefined;
const sources = new Map<string, OrgSource>();

function getRuntime(): Runtime {
  if (runtime) return runtime;
  const settings = readIngestSettings(process.env);
  const s3 = createS3Client(settings.s3Endpoint ? { endpoint: settings.s3Endpoint } : {});
  runtime = {
    settings,
    sink: new S3Sink({
      client: s3,
      bucket: settings.bucket,
      prefix: settings.prefix,
      ...(settings.kmsKeyArn ? { serverSideEncryption: { kmsKeyId: settings.kmsKeyArn } } : {}),
    }),
    store: new DynamoDbWatermarkStore({ client: new DynamoDBClient({}), tableName: settings.table }),
    secrets: new SecretsManagerClient({}),
  };
  return runtime;
}

/** One DuckDB writer per container, opened on first use; a failed open is retried next time. */
function getWriter(): Promise<DuckDbParquetWriter> {
  if (!writer) {
    const opening = DuckDbParquetWriter.open({});
    opening.catch(() => {
      if (writer === opening) writer = undefined;
    });
    writer = opening;
  }
  return writer;
}

/**
 * The container's writer, awaited only when the run writes its first page. On a cold start DuckDB
 * opens (instance, connection, prepared statements, on DuckDB's own threads) while the run reads its
 * credential, takes its lease and fetches its first page. A failed open fails that first write (the
 * run stops there with nothing written; the next run opens again).
 */
function pendingWriter(): PageWriter {
  return deferredWriter(getWriter());
}

/** One lake index (its own DuckDB, a smaller memory limit) per container, opened on first use. */
function getLakeIndex(rt: Runtime): Promise<SinkLakeIndex> {
  if (!lakeIndex) {
    const opening = SinkLakeIndex.open({ sink: rt.sink, memoryLimit: '256MB' });
    opening.catch(() => {
      if (lakeIndex === opening) lakeIndex = undefined;
    });
    lakeIndex = opening;
  }
  return lakeIndex;
}

async function readSecret(rt: Runtime, org: IngestOrg): Promise<string> {
  let secretString: string | undefined;
  try {
    const out = await rt.secrets.send(new GetSecretValueCommand({ SecretId: org.secretId }));
    secretString = out.SecretString;
  } catch (cause) {
    const name = cause instanceof Error ? cause.name : 'Error';
    if (name === 'ResourceNotFoundException') {
      throw new CredentialSecretError(
        `the Okta credential secret "${org.secretId}" of ${org.org.host} has no value yet (or does not exist): ` +
          'put the credential into it with `aws secretsmanager put-secret-value` (docs/deploy.md)',
        { cause },
      );
    }
    throw new CredentialSecretError(`could not read the Okta credential secret "${org.secretId}" of ${org.org.host} (${name})`, { cause });
  }
  if (secretString === undefined) {
    throw new CredentialSecretError(`the Okta credential secret "${org.secretId}" of ${org.org.host} holds binary data; expected JSON text`);
  }
  return secretString;
}

async function getSource(rt: Runtime, org: IngestOrg): Promise<OktaLogClient> {
  const cached = sources.get(org.org.host);
  if (cached && Date.now() - cached.loadedAt < CREDENTIAL_TTL_MS) return cached.client;
  const credentials = credentialsFromSecret(await readSecret(rt, org), org.org);
  if (credentials.kind !== org.auth) {
    throw new ConfigError(
      `the Okta credential secret "${org.secretId}" of ${org.org.host} is of type "${credentials.kind}", but the org is configured with auth "${org.auth}"`,
    );
  }
  const client = new OktaLogClient({ org: org.org, credentials, reporter });
  sources.set(org.org.host, { client, loadedAt: Date.now() });
  return client;
}

function orgOf(rt: Runtime, event: unknown): IngestOrg {
  const label = typeof event === 'object' && event !== null ? (event as Partial<IngestEvent>).org : undefined;
  if (typeof label !== 'string') throw new ConfigError('the event must be {"org": "<org host>"}');
  const org = rt.settings.orgs.get(label);
  if (!org) throw new ConfigError(`org "${label}" is not configured here; configured: ${[...rt.settings.orgs.keys()].join(', ')}`);
  return org;
}

function recordMetrics(org: string, result: IngestResult, rateLimitWaitMs: number): void {
  const n = INGEST_METRICS.names;
  metrics.addDimension(INGEST_METRICS.orgDimension, org);
  metrics.addMetric(n.eventsWritten, MetricUnit.Count, result.eventsWritten);
  metrics.addMetric(n.eventsQuarantined, MetricUnit.Count, result.eventsQuarantined);
  metrics.addMetric(n.pages, MetricUnit.Count, result.pages);
  metrics.addMetric(n.objectsWritten, MetricUnit.Count, result.objectsWritten);
  metrics.addMetric(n.bytesWritten, MetricUnit.Bytes, result.bytesWritten);
  metrics.addMetric(n.rateLimitWaitMs, MetricUnit.Milliseconds, rateLimitWaitMs);
  if (result.lagMs !== undefined && result.outcome !== 'lease-held') {
    metrics.addMetric(n.watermarkLagSeconds, MetricUnit.Seconds, Math.round(result.lagMs / 1000));
  }
  metrics.publishStoredMetrics();
}

export async function handler(event: IngestEvent, context: Context): Promise<IngestSummary> {
  logger.addContext(context);
  let org: IngestOrg | undefined;
  try {
    const rt = getRuntime();
    org = orgOf(rt, event);
    logger.appendKeys({ org: org.org.host });
    const writer = pendingWriter();
    const source = await getSource(rt, org);
    const waitedBefore = source.stats.rateLimitWaitMs;
    const host = org.org.host;
    let summary!: IngestSummary; // set when the run returned, before the sweep
    const run = await runScheduledInvocation({
      ingest: {
        org: org.org.host,
        source,
        writer,
        sink: rt.sink,
        store: rt.store,
        owner: context.awsRequestId,
        reporter,
        settleLagMs: rt.settings.settleLagMs,
        initialLookbackMs: rt.settings.initialLookbackMs,
      },
      timeBudget: { remainingMs: () => context.getRemainingTimeInMillis() },
      afterIngest: (result) => {
        summary = { org: host, ...result, rateLimitWaitMs: source.stats.rateLimitWaitMs - waitedBefore };
        recordMetrics(host, result, summary.rateLimitWaitMs);
      },
      sweep: async () => ({
        writer: await getWriter(),
        index: await getLakeIndex(rt),
        ...(rt.settings.reconcileOffsetsMs ? { offsetsMs: rt.settings.reconcileOffsetsMs } : {}),
      }),
    });
    if (run.error !== undefined) throw run.error;
    if (run.reconcile) {
      const swept = run.reconcile;
      metrics.addDimension(INGEST_METRICS.orgDimension, org.org.host);
      metrics.addMetric(INGEST_METRICS.names.lateEventsRecovered, MetricUnit.Count, swept.lateEvents);
      metrics.publishStoredMetrics();
      summary = { ...summary, reconcile: { outcome: swept.outcome, windows: swept.windows, lateEventsRecovered: swept.lateEvents } };
    }
    logger.info('ingestion run finished', { ...summary });
    return summary;
  } catch (error) {
    // A refused credential may have been replaced in the secret: read it again next time.
    if (org && (error instanceof OktaAuthError || error instanceof ConfigError || error instanceof CredentialSecretError)) sources.delete(org.org.host);
    // Messages of this project's errors never carry a credential (see lib/core/okta/errors.ts).
    logger.error('ingestion run failed', error instanceof Error ? error : String(error));
    throw error;
  } finally {
    logger.removeKeys(['org']);
  }
}
