/**
 * Detections in the stack: every query file as an Athena named query, one schedule per scheduled
 * detection invoking the runner with its payload, the runner's environment, role, suppression table,
 * findings topic and alarms, cdk-nag, and the bundled runner loaded in a fresh Node process.
 */
import '../support/aws-env';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode, type ChildRun } from '../support/child';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPRESSION_TABLE_KEY, SUPPRESSION_TTL_ATTRIBUTE } from '../../lib/config/table-contract';
import { DETECT_ENV, DETECT_METRICS, FINDING_ATTRIBUTES } from '../../lib/config/detect-contract';
import { ATHENA_RESULTS_PREFIX, Catalog } from '../../lib/constructs/catalog';
import {
  DetectionDeploymentError,
  Detections,
  NAMED_QUERY_MAX_BYTES,
  SCHEDULE_INPUT_MAX_BYTES,
  namedQueryDescription,
  scheduledDetections,
} from '../../lib/constructs/detections';
import { PROJECT_ROOT } from '../../lib/constructs/lambda-defaults';
import { LakeStorage } from '../../lib/constructs/lake-storage';
import { DEFAULT_RETENTION } from '../../lib/config/config';
import { detectionPayload, parseDetectionInput } from '../../lib/core/detect/input';
import { EVENTS_PREFIX, TABLE_NAME } from '../../lib/core/layout';
import { LAKE_TABLES } from '../../lib/core/compact/athena-view';
import { loadQueries, parseQuery, type QueryDefinition } from '../../lib/core/queries';
import { readDetectConfig } from '../../lambdas/detect/handler';
import {
  allPolicyStatements,
  asList,
  cdkJsonContext,
  flatten,
  functionAssetDir,
  logicalIdOf,
  resourcesOfType,
  synth,
  type Synthesized,
} from './support';

const QUERIES_DIR = join(PROJECT_ROOT, 'athena-queries');
const SQL_FILES = readdirSync(QUERIES_DIR).filter((f) => f.endsWith('.sql')).sort();
const QUERIES = loadQueries(QUERIES_DIR);
const SCHEDULED = scheduledDetections(QUERIES);

/** Two orgs, every detection option set. */
const FULL = {
  orgs: [
    { host: 'acme.okta.com', auth: 'ssws' },
    { host: 'beta.okta.com', auth: 'oauth' },
  ],
  alertEmails: ['oncall@example.com'],
  lambdaArchitecture: 'x86_64',
  logRetentionDays: 90,
  detections: { suppressionWindowHours: 48, maxFindingsInMessage: 30, emails: ['soc@example.com', 'analyst@example.org'], minimumSeverity: 'medium' },
};
/** One org, detection defaults (findings go to the alert address). */
const MINIMAL = { orgs: [{ host: 'acme.okta.com', auth: 'ssws' }], alertEmails: ['oncall@example.com'] };
/** Named queries only. */
const DISABLED = { orgs: [{ host: 'acme.okta.com', auth: 'ssws' }], detections: { enabled: false } };

let full: Synthesized;
let minimal: Synthesized;
let disabled: Synthesized;

beforeAll(() => {
  full = synth(FULL);
  minimal = synth(MINIMAL);
  disabled = synth(DISABLED);
});

const all = ['full', 'minimal', 'disabled'] as const;
const enabledOnes = ['full', 'minimal'] as const;
const get = (name: (typeof all)[number]): Synthesized => ({ full, minimal, disabled })[name];
const runnerOf = (s: Synthesized) => {
  const runner = s.stack.detections.runner;
  if (!runner) throw new Error('the detection runner is not deployed in this stack');
  return runner;
};
const props = (s: Synthesized, construct: IConstruct): Record<string, unknown> => s.json.Resources[logicalIdOf(s, construct)].Properties ?? {};
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

type ScheduleProps = {
  Name?: string;
  GroupName?: unknown;
  ScheduleExpression: string;
  FlexibleTimeWindow: unknown;
  State: string;
  Description: string;
  Target: { Arn: unknown; RoleArn: unknown; Input: unknown; RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number }; DeadLetterConfig: { Arn: unknown } };
};
const schedulesOf = (s: Synthesized): ScheduleProps[] => resourcesOfType(s.json, 'AWS::Scheduler::Schedule').map(([, r]) => r.Properties as ScheduleProps);
const targeting = (s: Synthesized, fn: IConstruct): ScheduleProps[] =>
  schedulesOf(s).filter((p) => same(p.Target.Arn, { 'Fn::GetAtt': [logicalIdOf(s, fn), 'Arn'] }));

describe('the query catalog deployed as named queries', () => {
  it('finds scheduled detections and unscheduled queries among the files', () => {
    // The assertions below would pass on nothing without them.
    expect(SQL_FILES.length).toBeGreaterThan(15);
    expect(QUERIES.map((q) => `${q.id}.sql`)).toEqual(SQL_FILES);
    expect(SCHEDULED.length).toBeGreaterThanOrEqual(12);
    expect(QUERIES.filter((q) => q.schedule === undefined).length).toBeGreaterThan(0);
  });

  it.each(all)('creates exactly one named query per .sql file, its text the file’s text, in the workgroup and database (%s)', (name) => {
    // Prepare
    const s = get(name);
    const named = resourcesOfType(s.json, 'AWS::Athena::NamedQuery');
    const wgId = logicalIdOf(s, s.stack.catalog.workGroup);
    const dbId = logicalIdOf(s, s.stack.catalog.database);
    // Assess
    expect(named).toHaveLength(SQL_FILES.length);
    const byName = new Map(named.map(([id, r]) => [(r.Properties as { Name: string }).Name, { id, r }]));
    expect([...byName.keys()].sort()).toEqual(SQL_FILES.map((f) => f.slice(0, -'.sql'.length)));
    for (const file of SQL_FILES) {
      const id = file.slice(0, -'.sql'.length);
      const { r } = byName.get(id)!;
      const p = r.Properties as { QueryString: string; Database: string; WorkGroup: string; Description: string };
      expect(p.QueryString).toBe(readFileSync(join(QUERIES_DIR, file), 'utf8'));
      expect(p.Database).toBe(s.stack.catalog.databaseName);
      expect(p.WorkGroup).toBe(s.stack.catalog.workGroupName);
      expect(p.Description).toBe(namedQueryDescription(QUERIES.find((q) => q.id === id)!));
      expect(asList(r.DependsOn)).toEqual(expect.arrayContaining([wgId, dbId]));
    }
    expect(s.stack.catalog.databaseName).toBe('okta_lake');
    expect(s.stack.catalog.workGroupName).toBe('okta-lake');
  });

  it('names the view as the queries read it', () => {
    // Prepare
    const names = resourcesOfType(minimal.json, 'AWS::Glue::Table').map(([, r]) => (r.Properties as { TableInput: { Name: string } }).TableInput.Name);
    // Assess: the SQL reads the view the compaction function creates over the catalog's three tables.
    expect(LAKE_TABLES.view).toBe(TABLE_NAME);
    expect(minimal.stack.catalog.tableName).toBe(TABLE_NAME);
    expect(names.sort()).toEqual([LAKE_TABLES.events, LAKE_TABLES.late, LAKE_TABLES.compacted].sort());
    for (const q of QUERIES) expect(q.sql).toMatch(new RegExp(`\\bFROM\\s+${TABLE_NAME}\\b`, 'i'));
  });

  it('describes each query for the console: title, kind, severity, schedule and lookback', () => {
    const q = QUERIES.find((x) => x.schedule !== undefined)!;
    expect(namedQueryDescription(q)).toBe(`${q.title} (detection, severity ${q.severity}, scheduled ${q.schedule}, lookback ${q.lookback})`);
    const hunt = QUERIES.find((x) => x.schedule === undefined)!;
    expect(namedQueryDescription(hunt)).toContain('not scheduled');
  });
});

describe('schedules', () => {
  it.each(enabledOnes)('schedules each scheduled detection once, at its rate, with its payload and named query (%s)', (name) => {
    // Prepare
    const s = get(name);
    const runner = runnerOf(s);
    const mine = targeting(s, runner.function);
    const maxFindingsInMessage = s.config.detections.maxFindingsInMessage;
    // Assess: as many as scheduled detections, and every schedule of the stack is an org's, a detection's or compaction's.
    expect(mine).toHaveLength(SCHEDULED.length);
    expect(schedulesOf(s)).toHaveLength(SCHEDULED.length + s.config.orgs.length + 1);
    const byDetection = new Map(
      mine.map((p) => {
        const payload = JSON.parse(flatten(p.Target.Input)) as { detectionId: string };
        return [payload.detectionId, { p, payload }];
      }),
    );
    expect([...byDetection.keys()].sort()).toEqual(SCHEDULED.map((q) => q.id).sort());
    // Named after their detection, in the stack's own group.
    expect(props(s, runner.scheduleGroup)).toMatchObject({ Name: 'OktaLake-detections' });
    for (const q of SCHEDULED) {
      const { p, payload } = byDetection.get(q.id)!;
      const namedId = logicalIdOf(s, s.stack.detections.namedQueries.get(q.id)!);
      expect(p.Name).toBe(q.id);
      expect(p.GroupName).toEqual({ Ref: logicalIdOf(s, runner.scheduleGroup) });
      expect(p.ScheduleExpression).toBe(q.schedule);
      expect(p.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      expect(p.State).toBe('ENABLED');
      expect(p.Target.RoleArn).toEqual({ 'Fn::GetAtt': [logicalIdOf(s, runner.schedulerRole), 'Arn'] });
      expect(p.Target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [logicalIdOf(s, runner.deadLetterQueue), 'Arn'] } });
      expect(p.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: q.scheduleMinutes! * 60 });
      // The payload is the one detectionPayload() builds, naming this detection's own named query.
      expect(payload).toEqual(detectionPayload(q, `<${namedId}.NamedQueryId>`, { maxFindingsInMessage }));
      expect(p.Target.Input).toEqual({ 'Fn::Join': ['', [expect.any(String), { 'Fn::GetAtt': [namedId, 'NamedQueryId'] }, expect.any(String)]] });
    }
  });

  it('sends payloads the runner accepts, with the configured number of findings per message', () => {
    // Prepare
    const s = full;
    const [first] = targeting(s, runnerOf(s).function);
    const payload = { ...(JSON.parse(flatten(first.Target.Input)) as Record<string, unknown>), namedQueryId: '0b5c1c5e-8d9a-4b8e-9a0e-2f0d5d1e7c11' };
    // Act
    const input = parseDetectionInput(payload, { suppressionWindowMs: 48 * 3_600_000, consoleRegion: 'eu-west-1' });
    // Assess
    expect(input.maxFindingsInMessage).toBe(30);
    expect(input.namedQueryId).toBe(payload.namedQueryId);
    expect(input.suppressionWindowMs).toBeGreaterThanOrEqual(48 * 3_600_000);
  });

  it.each(all)('leaves the per-org ingestion schedules as they are (%s)', (name) => {
    const s = get(name);
    const ingestion = targeting(s, s.stack.ingestion.function);
    expect(ingestion.map((p) => JSON.parse(p.Target.Input as string) as unknown)).toEqual(s.config.orgs.map((o) => ({ org: o.host })));
    for (const p of ingestion) {
      expect(p.ScheduleExpression).toBe('rate(5 minutes)');
      expect(p.Target.RoleArn).toEqual({ 'Fn::GetAtt': [logicalIdOf(s, s.stack.ingestion.schedulerRole), 'Arn'] });
      expect(p.Target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.ingestion.deadLetterQueue), 'Arn'] } });
    }
  });

  it('deploys only the named queries when detections are disabled', () => {
    const s = disabled;
    expect(s.stack.detections.runner).toBeUndefined();
    expect(resourcesOfType(s.json, 'AWS::Athena::NamedQuery')).toHaveLength(SQL_FILES.length);
    // The ingestion schedules and compaction's.
    expect(schedulesOf(s)).toHaveLength(s.config.orgs.length + 1);
    // Ingestion, compaction and its view function, and the trigger's provider.
    expect(resourcesOfType(s.json, 'AWS::Lambda::Function')).toHaveLength(4);
    expect(resourcesOfType(s.json, 'AWS::SNS::Topic')).toHaveLength(1);
    // The watermarks and the detection state (the sweep records late evidence there either way).
    expect(resourcesOfType(s.json, 'AWS::DynamoDB::Table')).toHaveLength(2);
    expect(Object.keys(s.json.Outputs ?? {})).not.toContain('FindingsTopic');
  });
});

describe('the runner function', () => {
  it('runs the detect handler on Node.js 22, sized to wait on Athena, retrying a failed run twice', () => {
    // Prepare
    const s = full;
    const fn = props(s, runnerOf(s).function);
    // Assess
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler', Architectures: ['x86_64'], MemorySize: 256, Timeout: 300 });
    expect(fn.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: { Ref: logicalIdOf(s, runnerOf(s).logGroup) } });
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalIdOf(s, runnerOf(s).function) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
    });
    expect(props(minimal, runnerOf(minimal).function).Architectures).toEqual(['arm64']);
    expect(props(s, runnerOf(s).logGroup).RetentionInDays).toBe(90);
    expect(props(minimal, runnerOf(minimal).logGroup).RetentionInDays).toBe(365);
  });

  it.each(enabledOnes)('hands the runner its workgroup, database, table, topic and suppression window (%s)', (name) => {
    // Prepare
    const s = get(name);
    const runner = runnerOf(s);
    const env = (props(s, runner.function).Environment as { Variables: Record<string, unknown> }).Variables;
    // Assess
    expect(env).toEqual({
      [DETECT_ENV.workGroup]: 'okta-lake',
      [DETECT_ENV.database]: 'okta_lake',
      [DETECT_ENV.suppressionTable]: { Ref: logicalIdOf(s, runner.table) },
      [DETECT_ENV.topicArn]: { Ref: logicalIdOf(s, runner.topic) },
      [DETECT_ENV.suppressionWindowMinutes]: String(s.config.detections.suppressionWindowHours * 60),
      [DETECT_ENV.orgs]: JSON.stringify(s.config.orgs.map((o) => o.host)),
      [DETECT_ENV.watermarkTable]: { Ref: logicalIdOf(s, s.stack.ingestion.table) },
      [DETECT_ENV.evaluationTable]: { Ref: logicalIdOf(s, s.stack.ingestion.evaluationTable) },
      [DETECT_ENV.maxEvaluationsPerRun]: String(s.config.detections.maxEvaluationsPerRun),
      [DETECT_ENV.initialBackfillMinutes]: String(s.config.detections.initialBackfillHours * 60),
      POWERTOOLS_SERVICE_NAME: DETECT_METRICS.service,
      POWERTOOLS_METRICS_NAMESPACE: DETECT_METRICS.namespace,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    expect(env[DETECT_ENV.suppressionWindowMinutes]).toBe(name === 'full' ? '2880' : '1440');
  });

  it('hands the runner the variables it reads (the stack/function contract)', () => {
    // Act: the handler reads its configuration from variables named as the stack names them.
    const config = readDetectConfig({
      [DETECT_ENV.workGroup]: 'okta-lake',
      [DETECT_ENV.database]: 'okta_lake',
      [DETECT_ENV.suppressionTable]: 'okta-lake-suppression',
      [DETECT_ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:findings',
      [DETECT_ENV.suppressionWindowMinutes]: '2880',
      [DETECT_ENV.orgs]: '["acme.okta.com"]',
      [DETECT_ENV.watermarkTable]: 'okta-lake-watermarks',
      [DETECT_ENV.evaluationTable]: 'okta-lake-evaluation',
      [DETECT_ENV.maxEvaluationsPerRun]: '24',
      [DETECT_ENV.initialBackfillMinutes]: '1440',
    });
    // Assess
    expect(config).toEqual({
      workGroup: 'okta-lake',
      database: 'okta_lake',
      suppressionTable: 'okta-lake-suppression',
      topicArn: 'arn:aws:sns:eu-west-1:123456789012:findings',
      suppressionWindowMs: 2880 * 60_000,
      orgs: ['acme.okta.com'],
      watermarkTable: 'okta-lake-watermarks',
      evaluationTable: 'okta-lake-evaluation',
      maxEvaluationsPerRun: 24,
      initialBackfillMs: 1440 * 60_000,
    });
    // The contract is bundled into the runner: it imports nothing (no aws-cdk-lib in the Lambda).
    const contract = readFileSync(join(PROJECT_ROOT, 'lib/config/detect-contract.ts'), 'utf8');
    expect(contract).not.toMatch(/^\s*import\b/m);
    expect(contract).not.toMatch(/^\s*export\s*(\*|type\s*\{[^}]*\}|\{[^}]*\})\s*from\b/m);
    expect(contract).not.toMatch(/\brequire\(|\bimport\(/);
    // The message attributes the runner sets are those the filter policy reads.
    const run = readFileSync(join(PROJECT_ROOT, 'lib/core/detect/evaluate.ts'), 'utf8');
    expect(run).toMatch(new RegExp(`attributes: \\{ ${FINDING_ATTRIBUTES.severity}: input\\.severity, ${FINDING_ATTRIBUTES.detectionId}: detectionId, ${FINDING_ATTRIBUTES.org} \\}`));
  });
});

describe('suppression table and findings topic', () => {
  it.each(enabledOnes)('keys the suppression table by fingerprint, expires items through TTL, on demand and recoverable (%s)', (name) => {
    // Prepare
    const s = get(name);
    const runner = runnerOf(s);
    const id = logicalIdOf(s, runner.table);
    // Assess
    expect(s.json.Resources[id].Properties).toEqual({
      KeySchema: [{ AttributeName: SUPPRESSION_TABLE_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: SUPPRESSION_TABLE_KEY, AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: SUPPRESSION_TTL_ATTRIBUTE, Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.storage.key), 'Arn'] } },
      Tags: [{ Key: 'project', Value: 'okta-lake' }],
    });
    expect(SUPPRESSION_TABLE_KEY).toBe('fingerprint');
    expect(SUPPRESSION_TTL_ATTRIBUTE).toBe('expiresAt');
    // Losing it repeats at most one e-mail per open finding: it goes with the stack.
    expect(s.json.Resources[id].DeletionPolicy).toBe('Delete');
  });

  it('encrypts the findings topic with its own key, usable only through SNS, and refuses plain HTTP', () => {
    // Prepare
    const s = full;
    const runner = runnerOf(s);
    const topicId = logicalIdOf(s, runner.topic);
    const keyId = logicalIdOf(s, runner.topicKey);
    // Assess
    expect(props(s, runner.topic)).toMatchObject({ KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, DisplayName: 'okta-lake findings' });
    expect(topicId).not.toBe(logicalIdOf(s, s.stack.operations.topic));
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    const key = props(s, runner.topicKey) as { EnableKeyRotation: boolean; KeyPolicy: { Statement: { Sid: string; Principal: unknown; Condition?: Record<string, Record<string, unknown>> }[] } };
    expect(key.EnableKeyRotation).toBe(true);
    expect(key.KeyPolicy.Statement.map((st) => st.Sid)).toEqual(['KeyAdministrationByAccount', 'UseThroughServicesOfThisAccount']);
    const via = key.KeyPolicy.Statement[1].Condition!.StringEquals['kms:ViaService'] as unknown[];
    expect(via.map((v) => flatten(v))).toEqual(['sns.<AWS::Region>.amazonaws.com']);
  });

  it('e-mails findings to the configured addresses, filtered on the severity attribute when asked', () => {
    // Prepare
    const subscriptionsOf = (s: Synthesized) =>
      resourcesOfType(s.json, 'AWS::SNS::Subscription')
        .map(([, r]) => r.Properties as { Protocol: string; Endpoint: string; TopicArn: unknown; FilterPolicy?: unknown })
        .filter((p) => same(p.TopicArn, { Ref: logicalIdOf(s, runnerOf(s).topic) }));
    // Assess: own addresses, medium and above.
    expect(subscriptionsOf(full)).toEqual([
      { Protocol: 'email', Endpoint: 'soc@example.com', TopicArn: expect.anything(), FilterPolicy: { [FINDING_ATTRIBUTES.severity]: ['medium', 'high', 'critical'] } },
      { Protocol: 'email', Endpoint: 'analyst@example.org', TopicArn: expect.anything(), FilterPolicy: { [FINDING_ATTRIBUTES.severity]: ['medium', 'high', 'critical'] } },
    ]);
    // Defaults: the alert addresses, every severity.
    expect(subscriptionsOf(minimal)).toEqual([{ Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: expect.anything() }]);
  });

  it('tells the operator which topic to subscribe to for findings', () => {
    expect(full.json.Outputs?.FindingsTopic?.Value).toEqual({ Ref: logicalIdOf(full, runnerOf(full).topic) });
  });
});

describe('least privilege of the runner', () => {
  type Stmt = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
  function inlineStatements(s: Synthesized, role: IConstruct): Stmt[] {
    const roleId = logicalIdOf(s, role);
    const p = s.json.Resources[roleId].Properties as { Policies?: { PolicyDocument: { Statement: Stmt[] } }[]; ManagedPolicyArns?: unknown };
    expect(p.ManagedPolicyArns).toBeUndefined();
    for (const [, pol] of resourcesOfType(s.json, 'AWS::IAM::Policy')) expect((pol.Properties as { Roles: unknown[] }).Roles).not.toContainEqual({ Ref: roleId });
    return (p.Policies ?? []).flatMap((d) => d.PolicyDocument.Statement);
  }
  function byAction(stmts: Stmt[]): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const st of stmts) {
      expect(st.Effect).toBe('Allow');
      const resources = (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map((r) => flatten(r));
      for (const a of asList(st.Action)) m.set(a, [...(m.get(a) ?? []), ...resources].sort());
    }
    return m;
  }
  /** AWS SDK commands the runner's adapters send, as IAM actions. */
  function actionsTheCodeSends(): Set<string> {
    const needed = new Set<string>();
    const files = [
      'lib/adapters/athena-query-runner.ts',
      'lib/adapters/dynamodb-suppression-store.ts',
      'lib/adapters/dynamodb-evaluation-store.ts',
      'lib/adapters/dynamodb-watermark-reader.ts',
      'lib/adapters/sns-notifier.ts',
      'lambdas/detect/handler.ts',
    ];
    const services: Record<string, string> = { 'client-athena': 'athena', 'client-dynamodb': 'dynamodb', 'client-sns': 'sns' };
    for (const file of files) {
      const text = readFileSync(join(PROJECT_ROOT, file), 'utf8');
      for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/(client-[a-z0-9-]+)'/g)) {
        const service = services[m[2]];
        if (!service) throw new Error(`${file} uses @aws-sdk/${m[2]}, which this test does not map to IAM`);
        for (const name of m[1].matchAll(/\b([A-Z]\w*)Command\b/g)) needed.add(`${service}:${name[1]}`);
      }
    }
    return needed;
  }

  it('lets the runner send exactly the calls its code makes, on its own workgroup, table and topic', () => {
    // Prepare
    const s = full;
    const runner = runnerOf(s);
    const actions = byAction(inlineStatements(s, runner.role));
    const needed = actionsTheCodeSends();
    // Assess: the SDK calls of the code, and nothing else outside what Athena does with the caller's rights.
    expect(needed).toEqual(
      new Set([
        'athena:GetNamedQuery',
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'sns:Publish',
      ]),
    );
    const direct = [...actions.keys()].filter((a) => /^(athena|dynamodb|sns):/.test(a));
    expect(new Set(direct)).toEqual(needed);
    const workgroup = 'arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>:workgroup/okta-lake';
    for (const a of needed) if (a.startsWith('athena:')) expect(actions.get(a)).toEqual([workgroup]);
    const suppression = `<${logicalIdOf(s, runner.table)}.Arn>`;
    const evaluation = `<${logicalIdOf(s, s.stack.ingestion.evaluationTable)}.Arn>`;
    const watermarks = `<${logicalIdOf(s, s.stack.ingestion.table)}.Arn>`;
    expect(actions.get('dynamodb:PutItem')).toEqual([suppression, evaluation].sort());
    expect(actions.get('dynamodb:DeleteItem')).toEqual([suppression]);
    // Watermarks: read only.
    expect(actions.get('dynamodb:GetItem')).toEqual([watermarks, evaluation].sort());
    expect(actions.get('sns:Publish')).toEqual([`<${logicalIdOf(s, runner.topic)}>`]);
  });

  it('lets Athena, on the runner’s behalf, read only the lake tables’ and view’s definitions and the objects under events/, late/ and compacted/ and write only its results', () => {
    // Prepare
    const s = full;
    const runner = runnerOf(s);
    const stmts = inlineStatements(s, runner.role);
    const actions = byAction(stmts);
    const lake = `<${logicalIdOf(s, s.stack.storage.bucket)}.Arn>`;
    const results = `<${logicalIdOf(s, s.stack.storage.athenaResultsBucket)}.Arn>`;
    const glue = 'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>';
    // Assess
    for (const a of ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions']) {
      expect(actions.get(a)).toEqual(
        [`${glue}:catalog`, `${glue}:database/okta_lake`, ...[TABLE_NAME, LAKE_TABLES.events, LAKE_TABLES.late, LAKE_TABLES.compacted].map((t) => `${glue}:table/okta_lake/${t}`)].sort(),
      );
    }
    // The view reads events/, late/ and compacted/: Athena reads their objects on the runner's behalf.
    expect(actions.get('s3:GetObject')).toEqual([`${lake}/${EVENTS_PREFIX}/*`, `${lake}/late/*`, `${lake}/compacted/*`, `${results}/${ATHENA_RESULTS_PREFIX}/*`].sort());
    for (const a of ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']) expect(actions.get(a)).toEqual([`${results}/${ATHENA_RESULTS_PREFIX}/*`]);
    expect(actions.get('s3:ListBucket')).toEqual([lake, results].sort());
    expect(actions.get('s3:GetBucketLocation')).toEqual([lake, results].sort());
    const lists = stmts.filter((st) => asList(st.Action).includes('s3:ListBucket'));
    expect(lists.map((st) => st.Condition)).toEqual([
      { StringLike: { 's3:prefix': [`${EVENTS_PREFIX}/*`, 'late/*', 'compacted/*'] } },
      { StringLike: { 's3:prefix': [`${ATHENA_RESULTS_PREFIX}/*`] } },
    ]);
    // The results prefix is the workgroup's output location.
    const wg = props(s, s.stack.catalog.workGroup) as { WorkGroupConfiguration: { ResultConfiguration: { OutputLocation: unknown } } };
    expect(flatten(wg.WorkGroupConfiguration.ResultConfiguration.OutputLocation)).toBe(`s3://<${logicalIdOf(s, s.stack.storage.athenaResultsBucket)}>/${ATHENA_RESULTS_PREFIX}/`);
    // Keys: the lake's (buckets, results, suppression table) and the findings topic's; no other.
    expect(actions.get('kms:Decrypt')).toEqual([`<${logicalIdOf(s, s.stack.storage.key)}.Arn>`, `<${logicalIdOf(s, runner.topicKey)}.Arn>`].sort());
    expect(actions.get('kms:GenerateDataKey')).toEqual(actions.get('kms:Decrypt'));
    expect(actions.get('logs:CreateLogStream')).toEqual([`<${logicalIdOf(s, runner.logGroup)}.Arn>`]);
    expect(actions.get('logs:PutLogEvents')).toEqual([`<${logicalIdOf(s, runner.logGroup)}.Arn>`]);
    expect([...actions.keys()].filter((a) => !/^(athena|dynamodb|sns|glue|s3|kms|logs):/.test(a))).toEqual([]);
    expect([...actions.keys()].filter((a) => a.startsWith('cloudwatch:'))).toEqual([]);
  });

  it('lets the detection schedules invoke only the runner and dead-letter only to their queue', () => {
    const s = minimal;
    const runner = runnerOf(s);
    const actions = byAction(inlineStatements(s, runner.schedulerRole));
    expect([...actions.keys()].sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    expect(actions.get('lambda:InvokeFunction')).toEqual([`<${logicalIdOf(s, runner.function)}.Arn>`]);
    expect(actions.get('sqs:SendMessage')).toEqual([`<${logicalIdOf(s, runner.deadLetterQueue)}.Arn>`]);
    expect((props(s, runner.schedulerRole).AssumeRolePolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnEquals: { 'aws:SourceArn': expect.anything() } },
      },
    ]);
    // Only the schedules of the detections' group (EventBridge Scheduler's confused-deputy prevention).
    const trust = (props(s, runner.schedulerRole).AssumeRolePolicyDocument as { Statement: { Condition: { ArnEquals: Record<string, unknown> } }[] }).Statement[0];
    expect(flatten(trust.Condition.ArnEquals['aws:SourceArn'])).toBe('arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule-group/OktaLake-detections');
    expect(props(s, runner.scheduleGroup)).toMatchObject({ Name: 'OktaLake-detections' });
  });

  it.each(enabledOnes)('adds no wildcard action to any policy (%s)', (name) => {
    const s = get(name);
    const runner = runnerOf(s);
    const mine = new Set([runner.role, runner.schedulerRole, runner.topic, runner.topicKey, runner.deadLetterQueue].map((c) => logicalIdOf(s, c)));
    const statements = allPolicyStatements(s.json);
    // The walker sees the runner's roles, its key policy, and the topic and queue policies.
    const holders = new Set(statements.map((f) => f.where.split('.')[0]).filter((id) => mine.has(id) || id.startsWith('DetectionsRunner')));
    expect(holders.size).toBeGreaterThanOrEqual(5);
    const offenders = statements
      .filter(({ statement }) => statement.Effect === 'Allow')
      .flatMap(({ where, statement }) => asList(statement.Action).filter((a) => a.includes('*')).map((a) => `${where}: ${a}`));
    expect(offenders).toEqual([]);
  });
});

describe('alarms and dashboard', () => {
  it('alarms on failed runs, function errors, no runs at all and dead letters, notifying the operational topic', () => {
    // Prepare
    const s = minimal;
    const runner = runnerOf(s);
    const alarmTopic = { Ref: logicalIdOf(s, s.stack.operations.topic) };
    const fnRef = { Ref: logicalIdOf(s, runner.function) };
    const alarm = (c: IConstruct) => props(s, c);
    // Assess
    expect(alarm(runner.failedRunsAlarm)).toMatchObject({
      Namespace: DETECT_METRICS.namespace, MetricName: DETECT_METRICS.names.failed, Dimensions: [{ Name: 'service', Value: DETECT_METRICS.service }],
      Statistic: 'Sum', Period: 300, Threshold: 1, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
      AlarmActions: [alarmTopic], OKActions: [alarmTopic],
    });
    expect(alarm(runner.errorsAlarm)).toMatchObject({
      Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: fnRef }], Statistic: 'Sum', Period: 300, Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [alarmTopic],
    });
    // The longest schedule is an hour: two hours without a single run is a broken schedule.
    const longest = Math.max(...SCHEDULED.map((q) => q.scheduleMinutes!));
    expect(alarm(runner.notRunningAlarm!)).toMatchObject({
      Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: fnRef }], Statistic: 'Sum',
      Period: Math.max(3600, 2 * longest * 60), Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', AlarmActions: [alarmTopic],
    });
    expect(alarm(runner.deadLettersAlarm)).toMatchObject({
      Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(s, runner.deadLetterQueue), 'QueueName'] } }], Threshold: 1, AlarmActions: [alarmTopic],
    });
    // One lag alarm per org: the detections are behind what the lake holds.
    s.config.orgs.forEach((org) => {
      expect(alarm(runner.lagAlarms.get(org.host)!)).toMatchObject({
        Namespace: DETECT_METRICS.namespace, MetricName: DETECT_METRICS.names.lagSeconds,
        Dimensions: [{ Name: 'Org', Value: org.host }, { Name: 'service', Value: DETECT_METRICS.service }],
        Statistic: 'Maximum', Period: 900, Threshold: s.config.detections.lagAlarmMinutes * 60, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [alarmTopic],
      });
    });
    expect(resourcesOfType(s.json, 'AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('DetectionsRunner'))).toHaveLength(4 + s.config.orgs.length);
    expect(resourcesOfType(disabled.json, 'AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('Detections'))).toHaveLength(0);
  });

  it('draws the detections on the stack’s dashboard: failures and findings per detection, the rest over all detections and from the log', () => {
    // Prepare
    const s = minimal;
    const [, dashboard] = resourcesOfType(s.json, 'AWS::CloudWatch::Dashboard')[0];
    const body = JSON.parse(flatten((dashboard.Properties as { DashboardBody: unknown }).DashboardBody)) as {
      widgets: { type: string; properties: { title?: string; metrics?: unknown[][]; query?: string } }[];
    };
    const dimensionsOf = (m: unknown[]): Record<string, unknown> => {
      const dims: Record<string, unknown> = {};
      for (let i = 2; i + 1 < m.length && typeof m[i] === 'string'; i += 2) dims[m[i] as string] = m[i + 1];
      return dims;
    };
    const lines = body.widgets.flatMap((w) => w.properties.metrics ?? []).filter((m) => m[0] === DETECT_METRICS.namespace && dimensionsOf(m).service === DETECT_METRICS.service);
    const source = `SOURCE '<${logicalIdOf(s, runnerOf(s).logGroup)}>'`;
    // Assess: per detection, exactly the metrics the runner publishes per detection, for every scheduled detection.
    const perDetection = lines.filter((m) => DETECT_METRICS.detectionDimension in dimensionsOf(m));
    expect(new Set(perDetection.map((m) => m[1]))).toEqual(new Set([DETECT_METRICS.names.failed, DETECT_METRICS.names.findings]));
    expect([...DETECT_METRICS.perDetection].sort()).toEqual([DETECT_METRICS.names.failed, DETECT_METRICS.names.findings].sort());
    for (const name of DETECT_METRICS.perDetection) {
      expect(perDetection.filter((m) => m[1] === name).map((m) => dimensionsOf(m)[DETECT_METRICS.detectionDimension])).toEqual(SCHEDULED.map((q) => q.id));
    }
    // ... the lag and the late ranges waiting per org ...
    const perOrg = lines.filter((m) => DETECT_METRICS.orgDimension in dimensionsOf(m));
    expect(perOrg.map((m) => [m[1], dimensionsOf(m)[DETECT_METRICS.orgDimension]])).toEqual(
      DETECT_METRICS.perOrg.flatMap((name) => s.config.orgs.map((o) => [name, o.host])),
    );
    // ... new findings and bytes scanned only over all detections ...
    const overAll = lines.filter((m) => !(DETECT_METRICS.detectionDimension in dimensionsOf(m)) && !(DETECT_METRICS.orgDimension in dimensionsOf(m)));
    expect(overAll.map((m) => [m[1], dimensionsOf(m)])).toEqual([
      [DETECT_METRICS.names.newFindings, { service: DETECT_METRICS.service }],
      [DETECT_METRICS.names.dataScannedBytes, { service: DETECT_METRICS.service }],
    ]);
    // ... and per detection from the runner's log, through the detection id the runner writes as metadata.
    const queries = body.widgets.filter((w) => w.type === 'log' && (w.properties.query ?? '').includes(source)).map((w) => w.properties.query ?? '');
    expect(queries).toHaveLength(1);
    expect(queries[0]).toContain(`filter ispresent(${DETECT_METRICS.detectionMetadata}) and ispresent(${DETECT_METRICS.names.failed})`);
    expect(queries[0]).toMatch(new RegExp(`sum\\(${DETECT_METRICS.names.newFindings}\\).*sum\\(${DETECT_METRICS.names.dataScannedBytes}\\).* by ${DETECT_METRICS.detectionMetadata}`));
  });
});

describe('cdk-nag and template size', () => {
  it.each(all)('finds nothing unacknowledged in the AwsSolutions pack (%s)', (name) => {
    const s = get(name);
    const report = new AwsSolutionsChecks().validateScope(s.app);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  it('acknowledges only what the runner needs, each on its construct with a reason', () => {
    // Prepare
    const acks: { path: string; id: string; reason: string }[] = [];
    const visit = (c: IConstruct): void => {
      for (const entry of c.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) acks.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason });
        }
      }
      c.node.children.forEach(visit);
    };
    // Act
    visit(full.stack.detections);
    // Assess
    expect(acks.map((a) => `${a.path} ${a.id}`).sort()).toEqual(
      [
        'OktaLake/Detections/Runner/Function AwsSolutions-L1',
        ...[EVENTS_PREFIX, 'late', 'compacted'].map((p) => `OktaLake/Detections/Runner/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.bucket)}.Arn>/${p}/*]`),
        `OktaLake/Detections/Runner/Role AwsSolutions-IAM5[Resource::<${logicalIdOf(full, full.stack.storage.athenaResultsBucket)}.Arn>/${ATHENA_RESULTS_PREFIX}/*]`,
        'OktaLake/Detections/Runner/ScheduleDeadLetters AwsSolutions-SQS3',
      ].sort(),
    );
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(60);
  });

  it.each(enabledOnes)('keeps the template under CloudFormation’s 1 MB limit (%s)', (name) => {
    const bytes = Buffer.byteLength(JSON.stringify(get(name).json), 'utf8');
    expect(bytes).toBeLessThan(1_000_000);
  });
});

describe('synth-time limits', () => {
  /** A stack with the storage and catalog the construct needs, and the given query files. */
  function build(queries: QueryDefinition[]): () => Detections {
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Limits');
    const storage = new LakeStorage(stack, 'Lake', { retention: DEFAULT_RETENTION });
    const catalog = new Catalog(stack, 'Catalog', {
      bucket: storage.bucket,
      athenaResultsBucket: storage.athenaResultsBucket,
      key: storage.key,
      orgs: ['acme.okta.com'],
      bytesScannedCutoffPerQuery: 10_000_000,
      tables: LAKE_TABLES,
    });
    const alarmTopic = new sns.Topic(stack, 'Alarms');
    const table = (id: string) => new dynamodb.Table(stack, id, { partitionKey: { name: 'key', type: dynamodb.AttributeType.STRING } });
    const watermarkTable = table('Watermarks');
    const evaluationTable = table('DetectionState');
    return () =>
      new Detections(stack, 'Detections', {
        catalog,
        bucket: storage.bucket,
        athenaResultsBucket: storage.athenaResultsBucket,
        key: storage.key,
        alarmTopic,
        queries,
        orgs: ['acme.okta.com'],
        watermarkTable,
        evaluationTable,
      });
  }
  const base = readFileSync(join(QUERIES_DIR, `${SCHEDULED[0].id}.sql`), 'utf8');
  const withHeader = (field: string, value: string): string => base.replace(new RegExp(`^-- ${field}: .*$`, 'm'), `-- ${field}: ${value}`);

  it('refuses a detection whose schedule payload would be too large, naming the file and the limit', () => {
    // Prepare: the runbook travels in the payload, JSON-escaped: 140 KB of quotes in the file (an
    // Athena named query holds 256 KB) are 280 KB in the payload.
    const q = parseQuery(join(QUERIES_DIR, `${SCHEDULED[0].id}.sql`), withHeader('runbook', '"'.repeat(140 * 1024)));
    expect(Buffer.byteLength(q.sql)).toBeLessThan(NAMED_QUERY_MAX_BYTES);
    // Act / Assess
    expect(build([q])).toThrow(DetectionDeploymentError);
    expect(build([q])).toThrow(new RegExp(`${SCHEDULED[0].id}\\.sql: the schedule payload of detection "${SCHEDULED[0].id}" would be \\d+ bytes .* at most ${SCHEDULE_INPUT_MAX_BYTES} bytes`));
  });

  it('refuses a query longer than an Athena named query holds', () => {
    const q = parseQuery(join(QUERIES_DIR, `${SCHEDULED[0].id}.sql`), `${base}\n-- ${'x'.repeat(NAMED_QUERY_MAX_BYTES)}\n`);
    expect(build([q])).toThrow(new RegExp(`the query is \\d+ bytes; an Athena named query holds at most ${NAMED_QUERY_MAX_BYTES}`));
  });

  it('deploys a payload just under the limit', () => {
    // Prepare: the largest real payload is a few KB; one of 200 KB still fits.
    const q = parseQuery(join(QUERIES_DIR, `${SCHEDULED[0].id}.sql`), withHeader('runbook', 'r'.repeat(200 * 1024)));
    // Act
    const detections = build([q])();
    // Assess
    expect(detections.runner?.schedules.size).toBe(1);
    for (const real of SCHEDULED) expect(Buffer.byteLength(JSON.stringify(detectionPayload(real, 'x'.repeat(36))), 'utf8')).toBeLessThan(16 * 1024);
  });
});

describe('the bundled runner', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'okta-lake-detect-asset-'));
  let bundled: Synthesized;
  let assetDir: string;
  let run: ChildRun;
  let payloadDetectionId: string;

  beforeAll(async () => {
    // Prepare: the asset exactly as `cdk synth` bundles it, and the environment and payload the
    // template gives it, with Athena pointed at a closed loopback port (nothing leaves the machine).
    // x86_64 on this machine: the ingestion asset then takes the local DuckDB binding instead of
    // fetching the arm64 one from the npm registry (no test may reach beyond loopback).
    bundled = synth({ ...MINIMAL, lambdaArchitecture: process.arch === 'arm64' ? 'arm64' : 'x86_64' }, { bundle: true, outdir });
    const runner = runnerOf(bundled);
    assetDir = functionAssetDir(bundled, outdir, runner.function);
    const templateEnv = (props(bundled, runner.function).Environment as { Variables: Record<string, unknown> }).Variables;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALONLY',
      AWS_SECRET_ACCESS_KEY: 'local-only-secret',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
    };
    const resolved: Record<string, string> = {
      [DETECT_ENV.suppressionTable]: 'okta-lake-suppression',
      [DETECT_ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:okta-lake-findings',
      [DETECT_ENV.watermarkTable]: 'okta-lake-watermarks',
      [DETECT_ENV.evaluationTable]: 'okta-lake-detection-state',
    };
    for (const [k, v] of Object.entries(templateEnv)) env[k] = typeof v === 'string' ? v : resolved[k];
    const [schedule] = targeting(bundled, runner.function);
    const fromTemplate = JSON.parse(flatten(schedule.Target.Input)) as Record<string, unknown>;
    const payload = { ...fromTemplate, namedQueryId: '0b5c1c5e-8d9a-4b8e-9a0e-2f0d5d1e7c11' };
    payloadDetectionId = String(fromTemplate.detectionId);
    const script = [
      "const m = await import('./index.mjs');",
      "console.log('EXPORTS ' + JSON.stringify(Object.keys(m).sort()));",
      "const context = { awsRequestId: 'asset-test', functionName: 'detect', getRemainingTimeInMillis: () => 60000 };",
      `try { const r = await m.handler(${JSON.stringify(payload)}, context); console.log('RESULT ' + JSON.stringify(r)); }`,
      "catch (e) { console.log('ERROR ' + JSON.stringify({ name: e.name, message: e.message })); }",
    ].join('\n');
    // Act
    run = await runNode(['--input-type=module', '-e', script], assetDir, env, 45_000);
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('is one self-contained ES module, the AWS SDK bundled in', () => {
    expect(readdirSync(assetDir)).toEqual(['index.mjs']);
    const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(code).not.toMatch(/from\s*["']@duckdb\//);
  });

  it('loads in a fresh Node process and exports the handler', () => {
    // stderr holds the runner's own error log of the failed run below, nothing from loading.
    expect(run.stderr).not.toMatch(/SyntaxError|ReferenceError|ERR_MODULE_NOT_FOUND|Cannot find (module|package)|Dynamic require/);
    expect(run.stdout).toContain('EXPORTS ');
    const exportsLine = run.stdout.split('\n').find((l) => l.startsWith('EXPORTS '))!;
    expect(JSON.parse(exportsLine.slice('EXPORTS '.length))).toContain('handler');
  });

  it('accepts the environment and payload the stack gives it, fails on the unreachable Athena, and counts the failure', () => {
    // Assess: the run got as far as calling Athena (configuration and payload were accepted) ...
    const errorLine = run.stdout.split('\n').find((l) => l.startsWith('ERROR '));
    expect(errorLine).toBeDefined();
    expect(run.status).toBe(0);
    const error = JSON.parse(errorLine!.slice('ERROR '.length)) as { name: string; message: string };
    expect(error.name).not.toMatch(/ConfigError|DetectionInputError/);
    expect(error.message).toMatch(/GetNamedQuery/);
    // ... and reported it as a failed run of that detection in the metric the alarm watches.
    const emf = run.stdout
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }; [k: string]: unknown });
    expect(emf.map((m) => [m._aws.CloudWatchMetrics[0].Namespace, m._aws.CloudWatchMetrics[0].Dimensions, m.service, m[DETECT_METRICS.names.failed]])).toEqual([
      [DETECT_METRICS.namespace, [['service']], DETECT_METRICS.service, 1],
      [DETECT_METRICS.namespace, [['service', DETECT_METRICS.detectionDimension]], DETECT_METRICS.service, 1],
    ]);
    expect(emf[0][DETECT_METRICS.detectionMetadata]).toBe(payloadDetectionId);
    expect(emf[1][DETECT_METRICS.detectionDimension]).toBe(payloadDetectionId);
  });
});
