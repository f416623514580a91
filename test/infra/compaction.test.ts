/**
 * The compaction construct as synthesized: the hourly function (its sizing, the reserved
 * concurrency that serves as the compaction lease, its schedule), the view function and the
 * deployment trigger that runs it after the catalog, and both roles statement by statement.
 */
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMPACT_ENV } from '../../lib/config/compact-contract';
import { LAKE_TABLES } from '../../lib/core/compact/athena-view';
import { readCompactSettings } from '../../lambdas/compact/settings';
import { allPolicyStatements, asList, flatten, iamActionMatches, logicalIdOf, resourcesOfType, synth, type PolicyStatementJson, type Synthesized } from './support';

let s: Synthesized;
beforeAll(() => {
  s = synth({
    orgs: [
      { host: 'acme.okta.com', auth: 'ssws' },
      { host: 'beta.okta.com', auth: 'oauth' },
    ],
    queryOnlyOrgs: ['old.okta.com'],
  });
});

const props = (c: IConstruct) => s.json.Resources[logicalIdOf(s, c)].Properties as Record<string, unknown>;
const props2 = (x: Synthesized, c: IConstruct) => x.json.Resources[logicalIdOf(x, c)].Properties as Record<string, unknown>;

function statementsOf(role: IConstruct): PolicyStatementJson[] {
  const id = logicalIdOf(s, role);
  const p = s.json.Resources[id].Properties as { Policies?: { PolicyDocument: { Statement: PolicyStatementJson[] } }[]; ManagedPolicyArns?: unknown };
  expect(p.ManagedPolicyArns).toBeUndefined();
  // Nothing attached from elsewhere (an AWS::IAM::Policy naming the role).
  for (const [, pol] of resourcesOfType(s.json, 'AWS::IAM::Policy')) expect((pol.Properties as { Roles: unknown[] }).Roles).not.toContainEqual({ Ref: id });
  return (p.Policies ?? []).flatMap((d) => d.PolicyDocument.Statement);
}

/** `sid: action1,action2 -> resource1 resource2 [condition]`, flattened and sorted, one line per statement. */
function lines(stmts: PolicyStatementJson[]): string[] {
  return stmts.map((st) => {
    expect(st.Effect).toBe('Allow');
    const resources = (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map((r) => flatten(r)).sort();
    return `${st.Sid}: ${[...asList(st.Action)].sort().join(',')} -> ${resources.join(' ')}${st.Condition ? ` ${JSON.stringify(st.Condition)}` : ''}`;
  });
}

describe('the compaction function', () => {
  it('has the memory, /tmp and time of a day of DuckDB work, and one run at a time (the compaction lease)', () => {
    const p = props(s.stack.compaction.runner!.function);
    expect(p.MemorySize).toBe(3008);
    expect(p.EphemeralStorage).toEqual({ Size: 4096 });
    expect(p.Timeout).toBe(900);
    expect(p.ReservedConcurrentExecutions).toBe(1);
    expect(p.Runtime).toBe('nodejs22.x');
    expect(p.Architectures).toEqual(['arm64']);
  });

  it('is told the lake, the watermarks, every projected org, the catalog and the lake key, in the form the handler reads', () => {
    const vars = (props(s.stack.compaction.runner!.function).Environment as { Variables: Record<string, unknown> }).Variables;
    const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, flatten(v)]));
    const settings = readCompactSettings({
      ...env,
      [COMPACT_ENV.bucket]: flatten(vars[COMPACT_ENV.bucket], { [logicalIdOf(s, s.stack.storage.bucket)]: 'lake-bucket' }),
      [COMPACT_ENV.watermarkTable]: flatten(vars[COMPACT_ENV.watermarkTable], { [logicalIdOf(s, s.stack.ingestion.table)]: 'watermarks' }),
    });
    expect(settings.bucket).toBe('lake-bucket');
    expect(settings).toMatchObject({
      orgs: ['acme.okta.com', 'beta.okta.com', 'old.okta.com'],
      database: s.stack.catalog.databaseName,
      workGroup: s.stack.catalog.workGroupName,
      viewOnly: false,
    });
    expect(env[COMPACT_ENV.bucket]).toBe(`<${logicalIdOf(s, s.stack.storage.bucket)}>`);
    expect(env[COMPACT_ENV.watermarkTable]).toBe(`<${logicalIdOf(s, s.stack.ingestion.table)}>`);
    expect(env[COMPACT_ENV.kmsKeyArn]).toBe(`<${logicalIdOf(s, s.stack.storage.key)}.Arn>`);
    const viewEnv = (props(s.stack.compaction.viewFunction).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(viewEnv[COMPACT_ENV.viewOnly]).toBe('true');
  });

  it('runs every hour from its own schedule, with the event {}', () => {
    const fnArn = { 'Fn::GetAtt': [logicalIdOf(s, s.stack.compaction.runner!.function), 'Arn'] };
    const mine = resourcesOfType(s.json, 'AWS::Scheduler::Schedule')
      .map(([, r]) => r.Properties as { ScheduleExpression: string; Target: { Arn: unknown; Input: string; RoleArn: unknown; DeadLetterConfig: { Arn: unknown } } })
      .filter((p) => JSON.stringify(p.Target.Arn) === JSON.stringify(fnArn));
    expect(mine).toHaveLength(1);
    expect(mine[0].ScheduleExpression).toBe('rate(1 hour)');
    expect(JSON.parse(mine[0].Target.Input)).toEqual({});
    expect(flatten(mine[0].Target.RoleArn)).toBe(`<${logicalIdOf(s, s.stack.compaction.runner!.schedulerRole)}.Arn>`);
    expect(flatten(mine[0].Target.DeadLetterConfig.Arn)).toBe(`<${logicalIdOf(s, s.stack.compaction.runner!.deadLetterQueue)}.Arn>`);
    // The scheduler role invokes the compaction function only.
    const invokes = statementsOf(s.stack.compaction.runner!.schedulerRole).filter((st) => asList(st.Action).includes('lambda:InvokeFunction'));
    expect(invokes.map((st) => flatten(st.Resource))).toEqual([`<${logicalIdOf(s, s.stack.compaction.runner!.function)}.Arn>`]);
  });
});

describe('configuration', () => {
  it('schedules compaction as configured', () => {
    const other = synth({ orgs: [{ host: 'acme.okta.com', auth: 'ssws' }], compaction: { scheduleExpression: 'cron(15 * * * ? *)' } });
    expect(props2(other, other.stack.compaction.runner!.schedule).ScheduleExpression).toBe('cron(15 * * * ? *)');
  });

  it('without compaction, still creates the view at deployment, over the originals alone', () => {
    const off = synth({ orgs: [{ host: 'acme.okta.com', auth: 'ssws' }], compaction: { enabled: false } });
    expect(off.stack.compaction.runner).toBeUndefined();
    // Ingestion, the view function and the trigger's provider; no compaction schedule.
    const functions = resourcesOfType(off.json, 'AWS::Lambda::Function').map(([id]) => id);
    expect(functions).toContain(logicalIdOf(off, off.stack.compaction.viewFunction));
    expect(functions.filter((id) => id.startsWith('Compaction'))).toEqual([logicalIdOf(off, off.stack.compaction.viewFunction)]);
    expect(resourcesOfType(off.json, 'Custom::Trigger')).toHaveLength(1);
    const schedules = resourcesOfType(off.json, 'AWS::Scheduler::Schedule').map(([, r]) => (r.Properties as { Target: { Input: string } }).Target.Input);
    expect(schedules).not.toContain('{}');
    expect(Object.keys(off.json.Outputs ?? {})).not.toContain('CompactFunction');
    expect(Object.keys(off.json.Outputs ?? {})).toContain('CompactViewFunction');
    // No role may write the lake's compacted/ prefix then.
    expect(JSON.stringify(off.json)).not.toContain('"WriteCompacted"');
  });
});

describe('the view trigger', () => {
  it('runs the view function at deployment, after the database, the three tables and the workgroup exist', () => {
    const triggers = resourcesOfType(s.json, 'Custom::Trigger');
    expect(triggers).toHaveLength(1);
    const [, trigger] = triggers[0];
    const p = trigger.Properties as { HandlerArn: unknown; InvocationType: string };
    expect(p.InvocationType).toBe('RequestResponse');
    // The view function's current version.
    expect(JSON.stringify(p.HandlerArn)).toContain(logicalIdOf(s, s.stack.compaction.viewFunction).slice(0, 20));
    const versions = resourcesOfType(s.json, 'AWS::Lambda::Version').filter(([, r]) => JSON.stringify(r.Properties).includes(logicalIdOf(s, s.stack.compaction.viewFunction)));
    expect(versions).toHaveLength(1);
    expect(p.HandlerArn).toEqual({ Ref: versions[0][0] });
    const c = s.stack.catalog;
    const dependsOn = asList(trigger.DependsOn);
    for (const r of [c.database, c.eventsTable, c.lateTable, c.compactedTable, c.workGroup]) expect(dependsOn).toContain(s.stack.getLogicalId(r));
    // No view as a CloudFormation resource: only the three tables.
    const tables = resourcesOfType(s.json, 'AWS::Glue::Table').map(([, r]) => (r.Properties as { TableInput: { Name: string } }).TableInput.Name);
    expect(tables).not.toContain(LAKE_TABLES.view);
  });
});

describe('least privilege', () => {
  const lake = () => `<${logicalIdOf(s, s.stack.storage.bucket)}.Arn>`;
  const results = () => `<${logicalIdOf(s, s.stack.storage.athenaResultsBucket)}.Arn>`;
  const glue = 'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>';
  const athena = 'arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>';
  const common = (logGroup: IConstruct) => ({
    logs: `WriteOwnLogs: logs:CreateLogStream,logs:PutLogEvents -> <${logicalIdOf(s, logGroup)}.Arn>`,
    athena: [
      `RunViewDdl: athena:GetQueryExecution,athena:StartQueryExecution -> ${athena}:workgroup/okta-lake`,
      `ReadViewMetadata: athena:GetTableMetadata -> ${athena}:datacatalog/AwsDataCatalog ${athena}:workgroup/okta-lake`,
      `ReadTableDefinitions: glue:GetDatabase,glue:GetTable -> ${[`${glue}:catalog`, `${glue}:database/okta_lake`, ...[LAKE_TABLES.view, LAKE_TABLES.events, LAKE_TABLES.late, LAKE_TABLES.compacted].map((t) => `${glue}:table/okta_lake/${t}`)].sort().join(' ')}`,
      `CreateOrReplaceView: glue:CreateTable,glue:UpdateTable -> ${glue}:catalog ${glue}:database/okta_lake ${glue}:table/okta_lake/${LAKE_TABLES.view}`,
      `LocateQueryResults: s3:GetBucketLocation -> ${results()}`,
      `QueryResults: s3:GetObject,s3:PutObject -> ${results()}/results/*`,
    ],
    key: `LakeKey: kms:Decrypt,kms:GenerateDataKey -> <${logicalIdOf(s, s.stack.storage.key)}.Arn>`,
  });

  it('lets the compaction function read the lake, write only compacted/ (write-once), read the watermarks and create the view: exactly these statements', () => {
    const c = common(s.stack.compaction.runner!.logGroup);
    expect(lines(statementsOf(s.stack.compaction.runner!.role))).toEqual([
      c.logs,
      `ReadLake: s3:GetObject -> ${lake()}/compacted/* ${lake()}/events/* ${lake()}/late/*`,
      `WriteCompacted: s3:PutObject -> ${lake()}/compacted/*`,
      // Unconditional: a GetObject of a record not written yet must answer 404, not 403 (see the construct).
      `ListLake: s3:ListBucket -> ${lake()}`,
      `ReadWatermarks: dynamodb:GetItem -> <${logicalIdOf(s, s.stack.ingestion.table)}.Arn>`,
      c.key,
      ...c.athena,
    ]);
  });

  it('lets the view function read compacted/ and create the view, and write nothing to the lake', () => {
    const c = common(s.stack.compaction.viewLogGroup);
    expect(lines(statementsOf(s.stack.compaction.viewRole))).toEqual([
      c.logs,
      `ReadLake: s3:GetObject -> ${lake()}/compacted/*`,
      `ListLake: s3:ListBucket -> ${lake()} {"StringLike":{"s3:prefix":["compacted/*"]}}`,
      c.key,
      ...c.athena,
    ]);
  });

  it('grants no wildcard action, no delete, and no PutObject on the lake outside compacted/', () => {
    const bucketId = logicalIdOf(s, s.stack.storage.bucket);
    for (const role of [s.stack.compaction.runner!.role, s.stack.compaction.viewRole]) {
      const stmts = statementsOf(role);
      for (const st of stmts) {
        for (const a of asList(st.Action)) expect(a, `${st.Sid}`).not.toMatch(/[*?]/);
        expect(st.NotAction).toBeUndefined();
        expect(st.Resource).not.toBe('*');
      }
      const actions = stmts.flatMap((st) => asList(st.Action));
      for (const denied of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:BypassGovernanceRetention', 's3:PutLifecycleConfiguration', 'glue:DeleteTable']) {
        expect(actions.filter((a) => iamActionMatches(a, denied)), denied).toEqual([]);
      }
      const lakePuts = stmts
        .filter((st) => asList(st.Action).some((a) => iamActionMatches(a, 's3:PutObject')))
        .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map((r) => flatten(r)))
        .filter((r) => r.includes(`<${bucketId}.Arn>`));
      expect(lakePuts).toEqual(role === s.stack.compaction.runner!.role ? [`<${bucketId}.Arn>/compacted/*`] : []);
    }
    // No other statement of the template lets anything but ingestion and compaction put lake objects.
    const everywhere = allPolicyStatements(s.json).filter(({ statement }) => statement.Effect === 'Allow' && asList(statement.Action).some((a) => iamActionMatches(a, 's3:PutObject')));
    const onLake = everywhere.filter(({ statement }) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).some((r) => flatten(r).includes(`<${bucketId}.Arn>`)));
    expect(onLake.map(({ where }) => where.split('.')[0]).sort()).toEqual([logicalIdOf(s, s.stack.compaction.runner!.role), logicalIdOf(s, s.stack.ingestion.role)].sort());
  });
});
