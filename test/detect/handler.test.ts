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
import { DetectionInputError, DetectionQueryError, DetectionTimeoutError } from '../../lib/core/detect/errors';
import { MemorySuppressionStore } from '../../lib/core/detect/memory-suppression-store';
import { ConfigError } from '../../lib/core/errors';
import {
  createDetectHandler,
  METRICS_NAMESPACE,
  readDetectConfig,
  SERVICE_NAME,
  type DetectConfig,
  type DetectContext,
  type DetectHandler,
} from '../../lambdas/detect/handler';
import { athenaResults, execution, FakeClock } from './support';

const athena = mockClient(AthenaClient);
const sns = mockClient(SNSClient);

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:okta-lake-alerts';
const config: DetectConfig = {
  workGroup: 'okta-lake',
  database: 'okta_lake',
  suppressionTable: 'okta-lake-suppression',
  topicArn: TOPIC_ARN,
  suppressionWindowMs: 24 * 3_600_000,
  region: 'eu-west-1',
};

const payload = {
  detectionId: 'api-token-created',
  namedQueryId: 'nq-1',
  title: 'API token created',
  severity: 'medium',
  findingKey: ['token_id'],
  runbook: 'Ask the actor.',
  description: 'A new API token can act as its creator.',
};

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

let emitted: Emf[];
let clock: FakeClock;

function makeHandler(): DetectHandler {
  return createDetectHandler({
    config,
    runner: new AthenaQueryRunner({ client: new AthenaClient({}) }),
    suppression: new MemorySuppressionStore(),
    notifier: new SnsNotifier({ client: new SNSClient({}), topicArn: TOPIC_ARN }),
    logger: new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
    clock,
  });
}

function context(remainingMs = 300_000): DetectContext {
  const deadline = clock.now() + remainingMs;
  return { awsRequestId: `req-${Math.random()}`, getRemainingTimeInMillis: () => deadline - clock.now() };
}

function mockQuery(state: 'SUCCEEDED' | 'FAILED' | 'RUNNING', rows: string[][] = []): void {
  athena.on(GetNamedQueryCommand).resolves({ NamedQuery: { Name: 'api-token-created', Database: 'okta_lake', QueryString: 'SELECT token_id FROM t' } });
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'exec-9' });
  athena.on(GetQueryExecutionCommand).resolves(execution(state, { scanned: 2048, ...(state === 'FAILED' ? { errorMessage: 'HIVE_CURSOR_ERROR: boom' } : {}) }));
  athena.on(GetQueryResultsCommand).callsFake(athenaResults(['token_id'], rows, 1000).respond);
}

beforeEach(() => {
  athena.reset();
  sns.reset();
  clock = new FakeClock(Date.parse('2024-05-01T00:00:00.000Z'));
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
});

function metric(name: string): number | undefined {
  const record = emitted.find((e) => e[name] !== undefined);
  return record?.[name] as number | undefined;
}

describe('detect handler', () => {
  it('runs the detection of the payload and emits its metrics with the detection id and an all-detections dimension set', async () => {
    // Prepare
    mockQuery('SUCCEEDED', [['tok-1'], ['tok-2']]);
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const handler = makeHandler();
    // Act
    const result = await handler(payload, context());
    // Assess
    expect(result).toMatchObject({ detectionId: 'api-token-created', findings: 2, newFindings: 2, published: true });
    expect(emitted).toHaveLength(1);
    const [record] = emitted;
    expect(record._aws.CloudWatchMetrics[0].Namespace).toBe('OktaLake');
    expect(record._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'DetectionId'], ['service']]);
    expect(record.service).toBe('okta-lake-detect');
    expect(record.DetectionId).toBe('api-token-created');
    expect(Object.fromEntries(record._aws.CloudWatchMetrics[0].Metrics.map((m) => [m.Name, m.Unit]))).toEqual({
      DetectionFindings: 'Count',
      DetectionNewFindings: 'Count',
      DetectionDataScannedBytes: 'Bytes',
      DetectionFailed: 'Count',
    });
    expect([metric('DetectionFindings'), metric('DetectionNewFindings'), metric('DetectionDataScannedBytes'), metric('DetectionFailed')]).toEqual([2, 2, 2048, 0]);
    expect(sns.commandCalls(PublishCommand)[0].args[0].input.Message).toContain('eu-west-1.console.aws.amazon.com');
  });

  it('counts a failed query in DetectionFailed and lets the error fail the invocation', async () => {
    // Prepare
    mockQuery('FAILED');
    const handler = makeHandler();
    // Act
    const error = await handler(payload, context()).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionQueryError);
    expect((error as Error).message).toContain('HIVE_CURSOR_ERROR: boom');
    expect(metric('DetectionFailed')).toBe(1);
    expect(emitted[0].DetectionId).toBe('api-token-created');
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
    expect(metric('DetectionFailed')).toBe(1);
  });

  it('fails a bad payload with DetectionInputError, counted over all detections when it has no usable id', async () => {
    // Prepare
    const handler = makeHandler();
    // Act
    const noId = await handler({ hello: 'world' }, context()).catch((e: unknown) => e);
    const badField = await handler({ ...payload, severity: 'urgent' }, context()).catch((e: unknown) => e);
    // Assess
    expect(noId).toBeInstanceOf(DetectionInputError);
    expect(badField).toBeInstanceOf(DetectionInputError);
    expect(emitted.map((e) => e._aws.CloudWatchMetrics[0].Dimensions)).toEqual([[['service']], [['service', 'DetectionId'], ['service']]]);
    expect(emitted.map((e) => e.DetectionFailed)).toEqual([1, 1]);
    expect(athena.calls()).toHaveLength(0);
  });
});

describe('readDetectConfig', () => {
  const env = {
    WORKGROUP: 'okta-lake',
    DATABASE: 'okta_lake',
    SUPPRESSION_TABLE: 'okta-lake-suppression',
    TOPIC_ARN,
    AWS_REGION: 'eu-west-1',
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
  ])('refuses a bad environment %#', (bad, message) => {
    // Act / Assess
    expect(() => readDetectConfig(bad)).toThrow(message);
    expect(() => readDetectConfig(bad)).toThrow(ConfigError);
  });
});
