import '../support/aws-env';
import {
  AthenaClient,
  GetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AthenaQueryRunner } from '../../lib/adapters/athena-query-runner';
import { SnsNotifier } from '../../lib/adapters/sns-notifier';
import { DetectionInputError, DetectionQueryError, DetectionQueryTamperedError, DetectionTimeoutError } from '../../lib/core/detect/errors';
import { MemorySuppressionStore } from '../../lib/core/detect/memory-suppression-store';
import { MemoryCursorStore } from '../../lib/core/detect/memory-cursor-store';
import { querySha256 } from '../../lib/core/detect/input';
import { MemoryLateEvidenceLog } from '../../lib/core/late-evidence';
import { ConfigError } from '../../lib/core/errors';
import type { Context } from 'aws-lambda';
import { DETECT_METRICS } from '../../lib/config/detect-contract';
import {
  createDetectHandler,
  handler,
  readDetectConfig,
  type DetectConfig,
  type DetectContext,
  type DetectHandler,
} from '../../lambdas/detect/handler';
import { ManualClock } from '../../testkit/clock';
import { athenaResults, execution } from './support';

const athena = mockClient(AthenaClient);
const sns = mockClient(SNSClient);

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:okta-lake-alerts';
const config: DetectConfig = {
  workGroup: 'okta-lake',
  database: 'okta_lake',
  suppressionTable: 'okta-lake-suppression',
  topicArn: TOPIC_ARN,
  suppressionWindowMs: 24 * 3_600_000,
  orgs: ['acme.okta.com'],
  watermarkTable: 'okta-lake-watermarks',
  evaluationTable: 'okta-lake-evaluation',
  maxEvaluationsPerRun: 48,
  initialBackfillMs: 15 * 60_000,
  region: 'eu-west-1',
};
const NAMED_SQL = 'SELECT token_id FROM okta_system_log WHERE published <= current_timestamp';

const payload = {
  detectionId: 'api-token-created',
  namedQueryId: 'nq-1',
  title: 'API token created',
  severity: 'medium',
  findingKey: ['token_id'],
  runbook: 'Ask the actor.',
  description: 'A new API token can act as its creator.',
  lookbackMs: 3_600_000,
  scheduleMs: 15 * 60_000,
  sqlSha256: querySha256(NAMED_SQL),
};

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

let emitted: Emf[];
let clock: ManualClock;

function makeHandler(): DetectHandler {
  return createDetectHandler({
    config,
    runner: new AthenaQueryRunner({ client: new AthenaClient({}) }),
    suppression: new MemorySuppressionStore(),
    notifier: new SnsNotifier({ client: new SNSClient({}), topicArn: TOPIC_ARN }),
    cursors: new MemoryCursorStore(),
    lateEvidence: new MemoryLateEvidenceLog(),
    // The org's watermark is where the clock stands: each run makes one evaluation, at the watermark.
    watermarks: { watermark: async () => clock.now() },
    logger: new Logger({ serviceName: DETECT_METRICS.service, logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: DETECT_METRICS.namespace, serviceName: DETECT_METRICS.service }),
    clock,
  });
}

function context(remainingMs = 300_000): DetectContext {
  const deadline = clock.now() + remainingMs;
  return { awsRequestId: `req-${Math.random()}`, getRemainingTimeInMillis: () => deadline - clock.now() };
}

function mockQuery(state: 'SUCCEEDED' | 'FAILED' | 'RUNNING', rows: string[][] = []): void {
  athena.on(GetNamedQueryCommand).resolves({ NamedQuery: { Name: 'api-token-created', Database: 'okta_lake', QueryString: NAMED_SQL } });
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'exec-9' });
  athena.on(GetQueryExecutionCommand).resolves(execution(state, { scanned: 2048, ...(state === 'FAILED' ? { errorMessage: 'HIVE_CURSOR_ERROR: boom' } : {}) }));
  athena.on(GetQueryResultsCommand).callsFake(athenaResults(['token_id'], rows, 1000).respond);
}

beforeEach(() => {
  athena.reset();
  sns.reset();
  clock = new ManualClock(Date.parse('2024-05-01T00:00:00.000Z'));
  emitted = [];
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const records = text.split('\n').filter((l) => l.includes('"CloudWatchMetrics"'));
    if (records.length === 0) return write(chunk, ...rest);
    for (const r of records) emitted.push(JSON.parse(r) as Emf);
    return true;
  }) as typeof process.stdout.write);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** An EMF record as written, its timestamp (the wall clock's) left out. */
function withoutTimestamp(record: Emf): unknown {
  expect(typeof record._aws.Timestamp).toBe('number');
  const { Timestamp: _ignored, ...aws } = record._aws;
  return { ...record, _aws: aws };
}

/** The record over all detections that the runner writes after a run, as it must be, byte for byte but the timestamp. */
function allDetectionsRecord(values: Record<string, number>, units: Record<string, string>, detectionId?: string): unknown {
  return {
    _aws: { CloudWatchMetrics: [{ Namespace: 'OktaLake', Dimensions: [['service']], Metrics: Object.entries(units).map(([Name, Unit]) => ({ Name, Unit })) }] },
    service: 'okta-lake-detect',
    ...(detectionId !== undefined ? { detection_id: detectionId } : {}),
    ...values,
  };
}

function perDetectionRecord(values: Record<string, number>, detectionId: string): unknown {
  return {
    _aws: {
      CloudWatchMetrics: [{ Namespace: 'OktaLake', Dimensions: [['service', 'DetectionId']], Metrics: Object.keys(values).map((Name) => ({ Name, Unit: 'Count' })) }],
    },
    service: 'okta-lake-detect',
    DetectionId: detectionId,
    ...values,
  };
}

function perOrgRecord(values: Record<string, number>, org: string, detectionId: string): unknown {
  return {
    _aws: {
      CloudWatchMetrics: [
        { Namespace: 'OktaLake', Dimensions: [['service', 'Org']], Metrics: [{ Name: 'DetectionLagSeconds', Unit: 'Seconds' }, { Name: 'DetectionLateRangesPending', Unit: 'Count' }] },
      ],
    },
    service: 'okta-lake-detect',
    Org: org,
    detection_id: detectionId,
    ...values,
  };
}

/** Every (metric name, dimension names and values) the records define: what CloudWatch bills as custom metrics. */
function series(records: readonly Emf[]): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    for (const d of r._aws.CloudWatchMetrics) {
      for (const dims of d.Dimensions) {
        for (const m of d.Metrics) out.add(`${m.Name} ${dims.map((k) => `${k}=${String(r[k])}`).join(',')}`);
      }
    }
  }
  return out;
}

describe('detect handler', () => {
  it('runs the detection of the payload; emits all four metrics over all detections and only failures and findings per detection', async () => {
    // Prepare
    mockQuery('SUCCEEDED', [['tok-1'], ['tok-2']]);
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const handler = makeHandler();
    // Act
    const result = await handler(payload, context());
    // Assess
    expect(result).toMatchObject({ detectionId: 'api-token-created', findings: 2, newFindings: 2, published: true });
    expect(emitted.map(withoutTimestamp)).toEqual([
      allDetectionsRecord(
        { DetectionFindings: 2, DetectionNewFindings: 2, DetectionDataScannedBytes: 2048, DetectionEvaluations: 1, DetectionFailed: 0 },
        { DetectionFindings: 'Count', DetectionNewFindings: 'Count', DetectionDataScannedBytes: 'Bytes', DetectionEvaluations: 'Count', DetectionFailed: 'Count' },
        'api-token-created',
      ),
      perDetectionRecord({ DetectionFindings: 2, DetectionFailed: 0 }, 'api-token-created'),
      perOrgRecord({ DetectionLagSeconds: 0, DetectionLateRangesPending: 0 }, 'acme.okta.com', 'api-token-created'),
    ]);
    expect(sns.commandCalls(PublishCommand)[0].args[0].input.Message).toContain('eu-west-1.console.aws.amazon.com');
  });

  it('counts a failed query in DetectionFailed, over all detections and for the detection, and lets the error fail the invocation', async () => {
    // Prepare
    mockQuery('FAILED');
    const handler = makeHandler();
    // Act
    const error = await handler(payload, context()).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionQueryError);
    expect((error as Error).message).toContain('HIVE_CURSOR_ERROR: boom');
    expect(emitted.map(withoutTimestamp)).toEqual([
      allDetectionsRecord({ DetectionFailed: 1 }, { DetectionFailed: 'Count' }, 'api-token-created'),
      perDetectionRecord({ DetectionFailed: 1 }, 'api-token-created'),
    ]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('counts a tampered named query as a failed run of the detection (the failed-runs alarm fires) and fails the invocation', async () => {
    // Prepare: the console text is not the deployed text.
    mockQuery('SUCCEEDED', [['tok-1']]);
    athena.on(GetNamedQueryCommand).resolves({ NamedQuery: { Name: 'api-token-created', Database: 'okta_lake', QueryString: `${NAMED_SQL} AND false` } });
    const handler = makeHandler();
    // Act
    const error = await handler(payload, context()).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionQueryTamperedError);
    expect(emitted.map(withoutTimestamp)).toEqual([
      allDetectionsRecord({ DetectionFailed: 1 }, { DetectionFailed: 'Count' }, 'api-token-created'),
      perDetectionRecord({ DetectionFailed: 1 }, 'api-token-created'),
    ]);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('takes its time budget from the Lambda context', async () => {
    // Prepare
    mockQuery('RUNNING');
    const handler = makeHandler();
    // Act
    const error = await handler(payload, context(60_000)).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionTimeoutError);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(40_000); // 60 s minus the 20 s margin
    expect(emitted.map((e) => [e._aws.CloudWatchMetrics[0].Dimensions, e.DetectionFailed])).toEqual([
      [[['service']], 1],
      [[['service', 'DetectionId']], 1],
    ]);
  });

  it('fails a bad payload with DetectionInputError, counted over all detections, and per detection only when it has a usable id', async () => {
    // Prepare
    const handler = makeHandler();
    // Act
    const noId = await handler({ hello: 'world' }, context()).catch((e: unknown) => e);
    const badField = await handler({ ...payload, severity: 'urgent' }, context()).catch((e: unknown) => e);
    // Assess
    expect(noId).toBeInstanceOf(DetectionInputError);
    expect(badField).toBeInstanceOf(DetectionInputError);
    expect(emitted.map(withoutTimestamp)).toEqual([
      allDetectionsRecord({ DetectionFailed: 1 }, { DetectionFailed: 'Count' }),
      allDetectionsRecord({ DetectionFailed: 1 }, { DetectionFailed: 'Count' }, 'api-token-created'),
      perDetectionRecord({ DetectionFailed: 1 }, 'api-token-created'),
    ]);
    expect(athena.calls()).toHaveLength(0);
  });

  it('defines 5 + 2 × N + 2 × M custom metrics for N detections and M orgs, a failed run adding none', async () => {
    // Prepare: three detections that succeed, then one of them failing.
    const ids = ['api-token-created', 'mfa-factor-reset', 'admin-role-granted'];
    const runs: [string, 'SUCCEEDED' | 'FAILED'][] = [...ids.map((id): [string, 'SUCCEEDED'] => [id, 'SUCCEEDED']), ['mfa-factor-reset', 'FAILED']];
    const handler = makeHandler();
    // Act
    for (const [detectionId, state] of runs) {
      athena.reset();
      mockQuery(state, [['tok-1']]);
      sns.on(PublishCommand).resolves({ MessageId: 'm' });
      await handler({ ...payload, detectionId }, context()).catch((e: unknown) => e);
    }
    // Assess: the five over all detections, DetectionFailed and DetectionFindings per detection,
    // and the lag and late ranges per org.
    const all = 'service=okta-lake-detect';
    expect(series(emitted)).toEqual(
      new Set([
        ...['DetectionFindings', 'DetectionNewFindings', 'DetectionDataScannedBytes', 'DetectionEvaluations', 'DetectionFailed'].map((m) => `${m} ${all}`),
        ...ids.flatMap((id) => [`DetectionFailed ${all},DetectionId=${id}`, `DetectionFindings ${all},DetectionId=${id}`]),
        `DetectionLagSeconds ${all},Org=acme.okta.com`,
        `DetectionLateRangesPending ${all},Org=acme.okta.com`,
      ]),
    );
    expect(series(emitted).size).toBe(5 + 2 * ids.length + 2 * config.orgs.length);
    expect(emitted.filter((e) => e.DetectionFailed !== undefined).map((e) => e.DetectionFailed)).toEqual([0, 0, 0, 0, 0, 0, 1, 1]);
    // Per-detection new findings and bytes scanned stay readable in the log, by detection id.
    const logged = emitted.filter((e) => e.DetectionNewFindings !== undefined).map((e) => [e.detection_id, e.DetectionNewFindings, e.DetectionDataScannedBytes]);
    expect(logged).toEqual(ids.map((id) => [id, 1, 2048]));
  });
});

describe('handler (the function entry point)', () => {
  it('counts a misconfigured function as a failed run of the detection, then fails with ConfigError', async () => {
    // Prepare: the stack's environment without the workgroup.
    vi.stubEnv('WORKGROUP', undefined);
    vi.stubEnv('DATABASE', 'okta_lake');
    vi.stubEnv('SUPPRESSION_TABLE', 'okta-lake-suppression');
    vi.stubEnv('TOPIC_ARN', TOPIC_ARN);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    clock = new ManualClock(0);
    // Act
    const error = await handler(payload, context() as Context).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/WORKGROUP is missing/);
    expect(emitted.map(withoutTimestamp)).toEqual([
      allDetectionsRecord({ DetectionFailed: 1 }, { DetectionFailed: 'Count' }, 'api-token-created'),
      perDetectionRecord({ DetectionFailed: 1 }, 'api-token-created'),
    ]);
  });
});

describe('readDetectConfig', () => {
  const env = {
    WORKGROUP: 'okta-lake',
    DATABASE: 'okta_lake',
    SUPPRESSION_TABLE: 'okta-lake-suppression',
    TOPIC_ARN,
    AWS_REGION: 'eu-west-1',
    ORGS: '["acme.okta.com"]',
    WATERMARK_TABLE: 'okta-lake-watermarks',
    EVALUATION_TABLE: 'okta-lake-evaluation',
    INITIAL_BACKFILL_MINUTES: '15',
  };

  it('reads the environment, with a one-day suppression window by default', () => {
    // Act / Assess
    expect(readDetectConfig(env)).toEqual({ ...config });
    expect(readDetectConfig({ ...env, SUPPRESSION_WINDOW_MINUTES: '90' }).suppressionWindowMs).toBe(90 * 60_000);
  });

  it.each([
    [{ ...env, WORKGROUP: undefined }, /WORKGROUP is missing/],
    [{ ...env, TOPIC_ARN: 'alerts' }, /TOPIC_ARN is "alerts", which is not the ARN of a standard SNS topic/],
    [{ ...env, SUPPRESSION_TABLE: 'x' }, /SUPPRESSION_TABLE/],
    [{ ...env, SUPPRESSION_WINDOW_MINUTES: '0' }, /SUPPRESSION_WINDOW_MINUTES must be a whole number from 1 to 525600, got "0"/],
    [{ ...env, SUPPRESSION_WINDOW_MINUTES: '1.5' }, /SUPPRESSION_WINDOW_MINUTES/],
    [{ ...env, ORGS: '[]' }, /ORGS must be a JSON array of distinct org host names/],
    [{ ...env, ORGS: '["Acme.okta.com"]' }, /ORGS: org label "Acme.okta.com" is not allowed/],
    [{ ...env, ORGS: '["a.okta.com", "a.okta.com"]' }, /ORGS must be a JSON array of distinct/],
    [{ ...env, WATERMARK_TABLE: undefined }, /WATERMARK_TABLE is missing/],
    [{ ...env, MAX_EVALUATIONS_PER_RUN: '0' }, /MAX_EVALUATIONS_PER_RUN must be a whole number from 1 to 1000/],
  ])('refuses a bad environment %#', (bad, message) => {
    // Act / Assess
    expect(() => readDetectConfig(bad)).toThrow(message);
    expect(() => readDetectConfig(bad)).toThrow(ConfigError);
  });
});
