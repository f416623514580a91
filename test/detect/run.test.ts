import '../support/aws-env';
import {
  AthenaClient,
  GetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecutionState,
} from '@aws-sdk/client-athena';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { AthenaQueryRunner } from '../../lib/adapters/athena-query-runner';
import { DynamoDbSuppressionStore } from '../../lib/adapters/dynamodb-suppression-store';
import { SnsNotifier } from '../../lib/adapters/sns-notifier';
import {
  DetectionPublishError,
  DetectionQueryError,
  DetectionQueryTamperedError,
  DetectionSuppressionError,
  DetectionTimeoutError,
  FindingKeyColumnError,
} from '../../lib/core/detect/errors';
import { parseDetectionInput, querySha256, type DetectionInput, type DetectionPayload } from '../../lib/core/detect/input';
import { MemoryCursorStore } from '../../lib/core/detect/memory-cursor-store';
import { MemoryLateEvidenceLog } from '../../lib/core/late-evidence';
import { runDetection, type DetectionDeps } from '../../lib/core/detect/run';
import { createTestDynamoDbClient, deleteTable, uniqueTableName } from '../support/dynamodb';
import { ManualClock, budgetOn } from '../../testkit/clock';
import { RecordingReporter } from '../../testkit/reporter';
import { athenaResults, createSuppressionTable, execution } from './support';
import { HOUR } from '../../lib/core/time';

const athena = mockClient(AthenaClient);
const sns = mockClient(SNSClient);
const ddb = createTestDynamoDbClient(inject('dynamodbEndpoint'));
const tableName = uniqueTableName('suppression');

beforeAll(async () => {
  await createSuppressionTable(ddb, tableName);
});

afterAll(async () => {
  await deleteTable(ddb, tableName);
  ddb.destroy();
});

beforeEach(() => {
  athena.reset();
  sns.reset();
});

const T0 = Date.parse('2024-05-01T12:00:00.000Z');
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:okta-lake-alerts';
const NAMED_QUERY_ID = '0b5c7a52-3c1e-4b6e-9d0e-2f3b4a5c6d7e';
const EXECUTION_ID = 'a1b2c3d4-0000-4000-8000-000000000001';
const CONSOLE_SQL = '-- id: admin-role-granted\nSELECT actor_id, actor, role, client_ip FROM okta_system_log WHERE published <= current_timestamp';
const ORG = 'acme.okta.com';
/** What runs in Athena: the console text pinned at the evaluated instant (the watermark, T0) and scoped to the org. */
const RUN_SQL = "-- id: admin-role-granted\nSELECT actor_id, actor, role, client_ip FROM (SELECT * FROM okta_system_log WHERE org = 'acme.okta.com') okta_system_log WHERE published <= CAST('2024-05-01 12:00:00.000 UTC' AS TIMESTAMP WITH TIME ZONE)";
const COLUMNS = ['actor_id', 'actor', 'role', 'client_ip'];

let counter = 0;
/** A detection id no other test uses, so fingerprints never collide across tests in the shared table. */
function detectionInput(overrides: Partial<DetectionPayload> = {}): DetectionInput {
  counter++;
  return parseDetectionInput({
    detectionId: `admin-role-granted-${counter}`,
    namedQueryId: NAMED_QUERY_ID,
    title: 'Admin role granted',
    severity: 'high',
    findingKey: ['actor_id', 'role'],
    description: 'An administrator role was granted; attackers grant themselves admin to persist.',
    runbook: '1. Confirm the grant with the actor. 2. If unexpected, revoke the role and reset the actor.',
    suppressionWindowMs: 24 * HOUR,
    consoleRegion: 'eu-west-1',
    sqlSha256: querySha256(CONSOLE_SQL),
    scheduleMs: 15 * 60_000,
    lookbackMs: HOUR,
    ...overrides,
  });
}

function rowsOf(n: number): string[][] {
  return Array.from({ length: n }, (_, i) => [`00u${i}`, `admin${i}@example.com`, 'SUPER_ADMIN', `203.0.113.${i}`]);
}

interface Setup {
  readonly clock: ManualClock;
  readonly reports: RecordingReporter['lines'];
  deps(overrides?: Partial<DetectionDeps>): DetectionDeps;
}

function setup(startMs = T0): Setup {
  const clock = new ManualClock(startMs);
  const reporter = new RecordingReporter();
  return {
    clock,
    reports: reporter.lines,
    deps: (overrides = {}) => {
      const watermarkMs = clock.now();
      return {
      runner: new AthenaQueryRunner({ client: new AthenaClient({}) }),
      suppression: new DynamoDbSuppressionStore({ client: ddb, tableName }),
      notifier: new SnsNotifier({ client: new SNSClient({}), topicArn: TOPIC_ARN }),
      timeBudget: budgetOn(clock, 120_000, 10_000),
      workGroup: 'okta-lake',
      database: 'okta_lake',
      runId: `run-${clock.now()}-${Math.random()}`,
      clock,
      reporter,
      // One org whose watermark is where the clock stood when the run was prepared, and a new
      // cursor one schedule behind it: each run makes exactly one evaluation, at that instant.
      orgs: [ORG],
      watermarks: { watermark: async () => watermarkMs },
      cursors: new MemoryCursorStore(),
      lateEvidence: new MemoryLateEvidenceLog(),
      initialBackfillMs: 15 * 60_000,
      ...overrides,
      };
    },
  };
}

function mockQuery(options: {
  rows: readonly (readonly (string | null)[])[];
  columns?: readonly string[];
  pageSize?: number;
  states?: QueryExecutionState[];
  scanned?: number;
}): ReturnType<typeof athenaResults> {
  athena.on(GetNamedQueryCommand, { NamedQueryId: NAMED_QUERY_ID }).resolves({
    NamedQuery: { Name: 'okta-lake admin-role-granted', Database: 'okta_lake', QueryString: CONSOLE_SQL, WorkGroup: 'okta-lake' },
  });
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: EXECUTION_ID });
  const states = options.states ?? ['QUEUED', 'RUNNING', 'SUCCEEDED'];
  let poll = athena.on(GetQueryExecutionCommand, { QueryExecutionId: EXECUTION_ID });
  for (const s of states.slice(0, -1)) poll = poll.resolvesOnce(execution(s));
  poll.resolves(execution(states[states.length - 1], { scanned: options.scanned ?? 1_234_567 }));
  const results = athenaResults(options.columns ?? COLUMNS, options.rows, options.pageSize ?? 3);
  athena.on(GetQueryResultsCommand).callsFake(results.respond);
  return results;
}

/** The body with every whitespace run as one space, for phrases the wrapping may split. */
const flat = (text: string | undefined): string => (text ?? '').replace(/\s+/g, ' ');

function published(): PublishCommandInput[] {
  return sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

describe('runDetection on Athena (mocked), DynamoDB (dynalite) and SNS (mocked)', () => {
  it('runs the console text of the named query in the workgroup, waits QUEUED -> RUNNING -> SUCCEEDED with backoff, reads every page, publishes once', async () => {
    // Prepare
    const s = setup();
    const results = mockQuery({ rows: rowsOf(7), pageSize: 3 });
    sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
    const input = detectionInput();
    // Act
    const result = await runDetection(input, s.deps());
    // Assess
    expect(athena.commandCalls(GetNamedQueryCommand)[0].args[0].input).toEqual({ NamedQueryId: NAMED_QUERY_ID });
    expect(athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input).toEqual({
      QueryString: RUN_SQL,
      WorkGroup: 'okta-lake',
      QueryExecutionContext: { Database: 'okta_lake' },
    });
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(3);
    expect(s.clock.sleeps).toEqual([500, 1000, 2000]);
    // 8 rows with the header at 3 per page: pages 0, 1, 2.
    expect(results.tokensSeen).toEqual([undefined, 'page-1', 'page-2']);
    expect(result).toMatchObject({
      detectionId: input.detectionId,
      executionId: EXECUTION_ID,
      queryName: 'okta-lake admin-role-granted',
      outcome: 'caught-up',
      evaluations: 1,
      rows: 7,
      findings: 7,
      newFindings: 7,
      suppressed: 0,
      published: true,
      messageId: 'msg-1',
      dataScannedBytes: 1_234_567,
      orgs: [{ org: ORG, watermark: new Date(T0).toISOString(), evaluatedThrough: new Date(T0).toISOString(), lagMs: 0, evaluations: 1 }],
    });
    const messages = published();
    expect(messages).toHaveLength(1);
    expect(messages[0].TopicArn).toBe(TOPIC_ARN);
    expect(messages[0].Subject).toBe('[HIGH] Admin role granted: 7 new findings');
    expect(messages[0].MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'high' },
      detection_id: { DataType: 'String', StringValue: input.detectionId },
      org: { DataType: 'String', StringValue: ORG },
    });
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
  });

  it('writes a body that reads as e-mail: what fired, why, an aligned table of every column, the console link, the runbook', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: [['00u1', 'alice@example.com', 'SUPER_ADMIN', '203.0.113.7'], ['00u2', 'bob@example.com', 'ORG_ADMIN', null]] });
    sns.on(PublishCommand).resolves({ MessageId: 'msg-2' });
    const input = detectionInput();
    // Act
    await runDetection(input, s.deps());
    // Assess
    const body = published()[0].Message ?? '';
    expect(body).toContain('HIGH: Admin role granted');
    expect(body).toContain(`2 new findings of detection ${input.detectionId} (severity high).`);
    expect(flat(body)).toContain('returned 2 rows, 2 distinct findings (by actor_id, role): 2 new, 0 already alerted within the last 1 day');
    expect(flat(body)).toContain('Why it matters An administrator role was granted; attackers grant themselves admin to persist.');
    expect(body).toContain(`https://eu-west-1.console.aws.amazon.com/athena/home?region=eu-west-1#/query-editor/history/${EXECUTION_ID}`);
    expect(flat(body)).toContain('1.2 MB scanned');
    expect(body).toMatch(/Runbook\n {2}1\. Confirm the grant with the actor\.\n {2}2\. If unexpected, revoke the role and reset the actor\./);
    const lines = body.split('\n');
    const header = lines.findIndex((l) => /^\s+actor_id\s+actor\s+role\s+client_ip$/.test(l));
    expect(header).toBeGreaterThan(0);
    const [h, dashes, r1, r2] = lines.slice(header, header + 4);
    expect(dashes).toMatch(/^\s+-+ {2}-+ {2}-+ {2}-+$/);
    // Every column starts at the same offset in the header and in each row.
    for (const [col, value1, value2] of [
      ['actor', 'alice@example.com', 'bob@example.com'],
      ['role', 'SUPER_ADMIN', 'ORG_ADMIN'],
      ['client_ip', '203.0.113.7', '(null)'],
    ]) {
      const start = h.search(new RegExp(`(?<= )${col}(?= |$)`));
      expect(start).toBeGreaterThan(0);
      expect(r1.indexOf(value1)).toBe(start);
      expect(r2.indexOf(value2)).toBe(start);
    }
    expect(body).not.toContain('more:');
  });

  it('lists at most maxFindingsInMessage findings and says how many more there are', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: rowsOf(25), pageSize: 10 });
    sns.on(PublishCommand).resolves({ MessageId: 'msg-3' });
    // Act
    const result = await runDetection(detectionInput({ maxFindingsInMessage: 20 }), s.deps());
    // Assess
    expect(result.newFindings).toBe(25);
    const [message] = published();
    expect(message.Subject).toBe('[HIGH] Admin role granted: 25 new findings');
    const body = message.Message ?? '';
    expect(body).toContain('New findings (first 20 of 25)');
    expect(body).toContain('admin19@example.com');
    expect(body).not.toContain('admin20@example.com');
    expect(body).toContain('... and 5 more: see all results in the Athena console');
  });

  it('truncates long values in the table and keeps the subject within the SNS limit', async () => {
    // Prepare
    const s = setup();
    const long = `${'x'.repeat(200)}@example.com`;
    mockQuery({ rows: [['00u1', long, 'SUPER_ADMIN', '203.0.113.1']] });
    sns.on(PublishCommand).resolves({ MessageId: 'msg-4' });
    // Act
    await runDetection(detectionInput({ title: `Admin role granted to an account whose name is ${'very '.repeat(30)}long` }), s.deps());
    // Assess
    const [message] = published();
    expect(message.Subject?.length).toBeLessThanOrEqual(99);
    expect(message.Subject).toMatch(/^\[HIGH\] Admin role granted to an account .*\.\.\.: 1 new finding$/);
    expect(message.Message).toContain(`${'x'.repeat(37)}...`);
    expect(message.Message).not.toContain('x'.repeat(38));
  });

  it('counts rows with the same finding key as one finding', async () => {
    // Prepare
    const s = setup();
    mockQuery({
      rows: [
        ['00u1', 'alice@example.com', 'SUPER_ADMIN', '203.0.113.1'],
        ['00u1', 'alice@example.com', 'SUPER_ADMIN', '203.0.113.2'],
        ['00u1', 'alice@example.com', 'ORG_ADMIN', '203.0.113.1'],
      ],
    });
    sns.on(PublishCommand).resolves({ MessageId: 'msg-5' });
    // Act
    const result = await runDetection(detectionInput(), s.deps());
    // Assess
    expect(result).toMatchObject({ rows: 3, findings: 2, newFindings: 2 });
    expect(published()[0].Subject).toBe('[HIGH] Admin role granted: 2 new findings');
  });

  it('publishes nothing when the query returns no rows', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: [] });
    // Act
    const result = await runDetection(detectionInput(), s.deps());
    // Assess
    expect(result).toMatchObject({ rows: 0, findings: 0, newFindings: 0, published: false });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('fails with DetectionQueryError carrying Athena\'s reason when the query FAILED, and publishes nothing', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: rowsOf(1) });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('FAILED', { reason: 'query failed', errorMessage: "COLUMN_NOT_FOUND: line 1:8: Column 'actor_id' cannot be resolved" }));
    // Act
    const error = await runDetection(detectionInput(), s.deps()).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionQueryError);
    const e = error as DetectionQueryError;
    expect(e.state).toBe('FAILED');
    expect(e.executionId).toBe(EXECUTION_ID);
    expect(e.reason).toBe("COLUMN_NOT_FOUND: line 1:8: Column 'actor_id' cannot be resolved");
    expect(e.message).toContain("Column 'actor_id' cannot be resolved");
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('fails with DetectionQueryError when the query was CANCELLED', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: rowsOf(1), states: ['QUEUED', 'CANCELLED'] });
    // Act
    const error = await runDetection(detectionInput(), s.deps()).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionQueryError);
    expect((error as DetectionQueryError).state).toBe('CANCELLED');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('stops the query and fails with DetectionTimeoutError when it does not finish inside the time budget', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: rowsOf(1), states: ['RUNNING'] });
    athena.on(StopQueryExecutionCommand).resolves({});
    // Act
    const error = await runDetection(detectionInput(), s.deps({ timeBudget: budgetOn(s.clock, 40_000, 10_000) })).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionTimeoutError);
    const e = error as DetectionTimeoutError;
    expect(e).toMatchObject({ executionId: EXECUTION_ID, lastState: 'RUNNING', stopped: true });
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([{ QueryExecutionId: EXECUTION_ID }]);
    // Backoff doubles up to 5 s and never sleeps into the margin: 30 s of budget in all.
    expect(s.clock.sleeps.slice(0, 6)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect(s.clock.sleeps.reduce((a, b) => a + b, 0)).toBe(30_000);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('still fails with DetectionTimeoutError, with the stop failure as cause, when the query cannot be stopped', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: rowsOf(1), states: ['QUEUED'] });
    athena.on(StopQueryExecutionCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    // Act
    const error = await runDetection(detectionInput(), s.deps({ timeBudget: budgetOn(s.clock, 15_000, 10_000) })).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionTimeoutError);
    const e = error as DetectionTimeoutError;
    expect(e.stopped).toBe(false);
    expect(e.lastState).toBe('QUEUED');
    expect(e.message).toContain('AccessDeniedException');
    expect((e.cause as Error).name).toBe('QueryRunnerError');
    expect(s.reports.some((r) => r.level === 'warn' && r.message.includes('could not stop'))).toBe(true);
  });

  it('does not start a query when the time budget is already spent', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: rowsOf(1) });
    // Act
    const error = await runDetection(detectionInput(), s.deps({ timeBudget: budgetOn(s.clock, 5_000, 10_000) })).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionTimeoutError);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it('fails with FindingKeyColumnError when the results lack a finding-key column, and publishes nothing', async () => {
    // Prepare
    const s = setup();
    mockQuery({ columns: ['actor', 'client_ip'], rows: [['alice@example.com', '203.0.113.1']] });
    // Act
    const error = await runDetection(detectionInput(), s.deps()).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(FindingKeyColumnError);
    expect((error as FindingKeyColumnError).missing).toEqual(['actor_id', 'role']);
    expect((error as Error).message).toContain('result columns: actor, client_ip');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('warns and runs in the configured workgroup when the named query is saved in another one', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: [] });
    athena.on(GetNamedQueryCommand).resolves({ NamedQuery: { Name: 'copy', Database: 'okta_lake', QueryString: CONSOLE_SQL, WorkGroup: 'primary' } });
    // Act
    await runDetection(detectionInput(), s.deps());
    // Assess
    expect(athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input.WorkGroup).toBe('okta-lake');
    expect(s.reports.some((r) => r.level === 'warn' && r.fields?.savedWorkGroup === 'primary')).toBe(true);
  });

  it('refuses a named query edited in the console: runs nothing, publishes nothing, fails with DetectionQueryTamperedError', async () => {
    // Prepare: an analyst "tunes" the detection in the console so that it can never fire.
    const s = setup();
    mockQuery({ rows: rowsOf(2) });
    const silenced = CONSOLE_SQL.replace('WHERE published', 'WHERE false AND published');
    athena.on(GetNamedQueryCommand).resolves({ NamedQuery: { Name: 'okta-lake admin-role-granted', Database: 'okta_lake', QueryString: silenced, WorkGroup: 'okta-lake' } });
    sns.on(PublishCommand).resolves({ MessageId: 'never' });
    const input = detectionInput();
    // Act
    const error = await runDetection(input, s.deps()).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionQueryTamperedError);
    expect((error as DetectionQueryTamperedError).expectedSha256).toBe(querySha256(CONSOLE_SQL));
    expect((error as DetectionQueryTamperedError).actualSha256).toBe(querySha256(silenced));
    expect((error as Error).message).toMatch(/is not the deployed text .* deploying the stack again/);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });
});

describe('suppression across runs (dynalite)', () => {
  it('a second run over the same results publishes nothing new; a new finding alone is published next', async () => {
    // Prepare
    const s = setup();
    const input = detectionInput();
    sns.on(PublishCommand).resolves({ MessageId: 'first' });
    mockQuery({ rows: rowsOf(3) });
    await runDetection(input, s.deps());
    // Act: the same results 15 minutes later
    s.clock.advance(15 * 60_000);
    const second = await runDetection(input, s.deps());
    // Act: one more finding 15 minutes after that
    s.clock.advance(15 * 60_000);
    athena.reset();
    mockQuery({ rows: rowsOf(4) });
    const third = await runDetection(input, s.deps());
    // Assess
    expect(second).toMatchObject({ findings: 3, newFindings: 0, suppressed: 3, published: false });
    expect(third).toMatchObject({ findings: 4, newFindings: 1, suppressed: 3, published: true });
    const messages = published();
    expect(messages).toHaveLength(2);
    expect(messages[1].Subject).toBe('[HIGH] Admin role granted: 1 new finding');
    expect(messages[1].Message).toContain('admin3@example.com');
    expect(messages[1].Message).not.toContain('admin0@example.com');
    expect(flat(messages[1].Message)).toContain('1 new, 3 already alerted within the last 1 day and not repeated');
  });

  it('alerts again once the suppression window has passed', async () => {
    // Prepare
    const s = setup();
    const input = detectionInput({ suppressionWindowMs: HOUR });
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    mockQuery({ rows: rowsOf(2) });
    await runDetection(input, s.deps());
    s.clock.advance(HOUR - 60_000);
    const inside = await runDetection(input, s.deps());
    // Act
    s.clock.advance(2 * 60_000);
    const after = await runDetection(input, s.deps());
    // Assess
    expect(inside).toMatchObject({ newFindings: 0, suppressed: 2, published: false });
    expect(after).toMatchObject({ newFindings: 2, suppressed: 0, published: true });
    expect(published()).toHaveLength(2);
  });

  it('a failed publish does not suppress: its claims are released and the next run publishes', async () => {
    // Prepare
    const s = setup();
    const input = detectionInput();
    mockQuery({ rows: rowsOf(2) });
    sns.on(PublishCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' })).resolves({ MessageId: 'retry' });
    // Act
    const error = await runDetection(input, s.deps()).catch((e: unknown) => e);
    s.clock.advance(15 * 60_000);
    const next = await runDetection(input, s.deps());
    // Assess
    expect(error).toBeInstanceOf(DetectionPublishError);
    expect((error as DetectionPublishError).released).toBe(true);
    expect((error as Error).message).toContain('the next run alerts on them again');
    expect(((error as Error).cause as Error).name).toBe('NotifierError');
    expect(next).toMatchObject({ newFindings: 2, published: true, messageId: 'retry' });
    expect(published()).toHaveLength(2);
  });

  it('a retried invocation (same run id) publishes again rather than losing the alert', async () => {
    // Prepare
    const s = setup();
    const input = detectionInput();
    mockQuery({ rows: rowsOf(2) });
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const deps = s.deps({ runId: 'request-1' });
    await runDetection(input, deps);
    // Act: the first attempt died after its claims and before its cursor write (a fresh cursor
    // store stands for the cursor it never stored); Lambda retries it with the same request id.
    const retried = await runDetection(input, { ...deps, cursors: new MemoryCursorStore(), timeBudget: budgetOn(s.clock, 120_000, 10_000) });
    const otherRun = await runDetection(input, s.deps({ runId: 'request-2' }));
    // Assess
    expect(retried).toMatchObject({ newFindings: 2, published: true });
    expect(otherRun).toMatchObject({ newFindings: 0, suppressed: 2, published: false });
  });

  it('fails open when the suppression store is unusable: publishes every finding, then fails with DetectionSuppressionError', async () => {
    // Prepare
    const s = setup();
    mockQuery({ rows: rowsOf(2) });
    sns.on(PublishCommand).resolves({ MessageId: 'open' });
    const missingTable = new DynamoDbSuppressionStore({ client: ddb, tableName: uniqueTableName('missing') });
    // Act
    const error = await runDetection(detectionInput(), s.deps({ suppression: missingTable })).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DetectionSuppressionError);
    expect((error as DetectionSuppressionError).published).toBe(true);
    expect(((error as Error).cause as Error).name).toBe('SuppressionStoreError');
    const messages = published();
    expect(messages).toHaveLength(1);
    expect(messages[0].Subject).toBe('[HIGH] Admin role granted: 2 new findings');
    expect(flat(messages[0].Message)).toContain('the suppression store could not be used');
  });
});
