/**
 * The compaction function as deployed: synth bundles it (esbuild + DuckDB's Linux binding, the
 * bundling it shares with the ingestion function), and the asset folder is loaded in a fresh Node
 * process with nothing of the project around it, then invoked against s3rver, dynalite and a
 * loopback stand-in for Athena's JSON API. The same asset serves the view function.
 */
import '../support/aws-env';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Sink, createS3Client } from '../../lib/adapters/s3-sink';
import { COMPACT_ENV } from '../../lib/config/compact-contract';
import { PROJECT_ROOT } from '../../lib/constructs/lambda-defaults';
import { compactedDaysOf, freezeDay, lakeViewSql } from '../../lib/core/compact';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { runNode, type ChildRun } from '../support/child';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { createTestDynamoDbClient, createWatermarkTable, deleteTable, uniqueTableName } from '../support/dynamodb';
import { DAY, ORG, dayEvents, writePages } from '../compact/support';
import { functionAssetDir, synth, type Synthesized } from './support';

const s3Endpoint = inject('s3Endpoint');
const dynamodbEndpoint = inject('dynamodbEndpoint');
const canRunHere = process.platform === 'linux' && process.arch === 'x64';

/** Speaks just enough of Athena's JSON protocol: no table of the view's name, every DDL succeeds. */
function startAthena(): Promise<{ server: Server; endpoint: string; targets: string[]; ddl: string[] }> {
  const targets: string[] = [];
  const ddl: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { QueryString?: string; QueryExecutionId?: string };
      targets.push(target);
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (target === 'AmazonAthena.GetTableMetadata') return send(400, { __type: 'MetadataException', Message: 'Entity Not Found (Service: AmazonDataCatalog; Status Code: 400)' });
      if (target === 'AmazonAthena.StartQueryExecution') {
        ddl.push(body.QueryString ?? '');
        return send(200, { QueryExecutionId: `qe-${ddl.length}` });
      }
      if (target === 'AmazonAthena.GetQueryExecution') return send(200, { QueryExecution: { QueryExecutionId: body.QueryExecutionId, Status: { State: 'SUCCEEDED' } } });
      return send(400, { __type: 'InvalidRequestException', Message: `unsupported ${target}` });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ server, endpoint: `http://127.0.0.1:${port}`, targets, ddl });
    }),
  );
}

const parse = (run: ChildRun) =>
  String(run.stdout)
    .split('\n')
    .filter((l) => /^INVOKE-(RESULT|ERROR) /.test(l))
    .map((l) => ({ kind: l.slice(0, l.indexOf(' ')), value: JSON.parse(l.slice(l.indexOf(' ') + 1)) as Record<string, unknown> }));

describe.skipIf(!canRunHere)('the bundled compaction function', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'okta-lake-compact-asset-'));
  const duckTmp = mkdtempSync(join(tmpdir(), 'okta-lake-compact-asset-tmp-'));
  const bucket = `okta-lake-compact-asset-${Date.now().toString(36)}`;
  const s3 = createS3Client({ endpoint: s3Endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const sink = new S3Sink({ client: s3, bucket });
  const ddb = createTestDynamoDbClient(dynamodbEndpoint);
  const table = uniqueTableName('compact-asset-watermarks');
  let synthesized: Synthesized;
  let athena: Awaited<ReturnType<typeof startAthena>>;
  let compactRun: ChildRun;
  let viewRun: ChildRun;
  let ddlAfterCompaction: number;

  beforeAll(async () => {
    // Prepare: the asset as `cdk synth` bundles it for x86_64 (this machine's CPU).
    synthesized = synth({ orgs: [{ host: ORG, auth: 'ssws' }], lambdaArchitecture: 'x86_64' }, { bundle: true, outdir });
    // A closed day of the org, frozen an hour ago (so the grace period has passed), and its watermark well past it.
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const writer = await DuckDbParquetWriter.open({});
    try {
      await writePages(sink, writer, dayEvents(240), { pageSize: 40 });
    } finally {
      await writer.close();
    }
    await freezeDay(sink, ORG, DAY, Date.now() - 3_600_000);
    await createWatermarkTable(ddb, table);
    await ddb.send(new PutItemCommand({ TableName: table, Item: { org: { S: ORG }, version: { N: '1' }, watermark: { S: new Date().toISOString() } } }));
    athena = await startAthena();
    const env = (fn: 'function' | 'viewFunction'): Record<string, string> => {
      const vars = (synthesized.json.Resources[synthesized.stack.getLogicalId((fn === 'function' ? synthesized.stack.compaction.runner!.function : synthesized.stack.compaction.viewFunction).node.defaultChild as Parameters<typeof synthesized.stack.getLogicalId>[0])].Properties as {
        Environment: { Variables: Record<string, unknown> };
      }).Environment.Variables;
      return {
        PATH: process.env.PATH ?? '',
        TMPDIR: duckTmp,
        AWS_REGION: TEST_REGION,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_S3: s3Endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
        AWS_ENDPOINT_URL_ATHENA: athena.endpoint,
        [COMPACT_ENV.bucket]: bucket,
        [COMPACT_ENV.watermarkTable]: table,
        [COMPACT_ENV.orgs]: String(vars[COMPACT_ENV.orgs]),
        [COMPACT_ENV.database]: String(vars[COMPACT_ENV.database]),
        [COMPACT_ENV.workGroup]: String(vars[COMPACT_ENV.workGroup]),
        [COMPACT_ENV.kmsKeyArn]: 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555',
        [COMPACT_ENV.viewOnly]: String(vars[COMPACT_ENV.viewOnly]),
        POWERTOOLS_SERVICE_NAME: String(vars.POWERTOOLS_SERVICE_NAME),
        POWERTOOLS_METRICS_NAMESPACE: String(vars.POWERTOOLS_METRICS_NAMESPACE),
      };
    };
    // Act: the hourly event, then the view function's (the trigger sends no payload: {}).
    const script = join(PROJECT_ROOT, 'test/infra/fixtures/invoke-asset.mjs');
    const compactDir = functionAssetDir(synthesized, outdir, synthesized.stack.compaction.runner!.function);
    compactRun = await runNode([script, compactDir, JSON.stringify([{}]), '300000'], compactDir, env('function'), 240_000);
    ddlAfterCompaction = athena.ddl.length;
    const viewDir = functionAssetDir(synthesized, outdir, synthesized.stack.compaction.viewFunction);
    viewRun = await runNode([script, viewDir, JSON.stringify([{}]), '120000'], viewDir, env('viewFunction'), 120_000);
  }, 300_000);

  afterAll(async () => {
    await new Promise((r) => athena?.server.close(r));
    await deleteTable(ddb, table).catch(() => undefined);
    s3.destroy();
    ddb.destroy();
    rmSync(outdir, { recursive: true, force: true });
    rmSync(duckTmp, { recursive: true, force: true });
  });

  it('is a standalone folder like the ingestion asset: the bundle and DuckDB for Linux x64', () => {
    expect(compactRun.status, compactRun.stderr).toBe(0);
    expect(compactRun.stderr).not.toMatch(/Cannot find (module|package)|ERR_MODULE_NOT_FOUND|duckdb native binding/i);
    const dir = functionAssetDir(synthesized, outdir, synthesized.stack.compaction.runner!.function);
    expect(readdirSync(join(dir, 'node_modules')).sort()).toEqual(['@duckdb']);
    expect(readdirSync(join(dir, 'node_modules', '@duckdb')).sort()).toEqual(['node-api', 'node-bindings-linux-x64']);
  });

  it('compacts the closed day in S3 and creates the view of the new state through Athena', async () => {
    const results = parse(compactRun);
    expect(results.map((r) => r.kind), compactRun.stdout.slice(-2000)).toEqual(['INVOKE-RESULT']);
    expect(results[0].value).toMatchObject({ viewOnly: false, compaction: { compacted: 1, failures: 0 }, view: { outcome: 'published', compactedDays: 1 } });
    expect(await sink.list(`compacted/org=${ORG}/dt=${DAY}/`)).toEqual([`compacted/org=${ORG}/dt=${DAY}/g0001-part-0.parquet`]);
    const sql = lakeViewSql({ location: `s3://${bucket}`, days: await compactedDaysOf(sink, [ORG]) });
    expect(athena.ddl.slice(0, ddlAfterCompaction)).toEqual([sql]);
    expect(athena.targets.slice(0, 2)).toEqual(['AmazonAthena.GetTableMetadata', 'AmazonAthena.StartQueryExecution']);
  });

  it('as the view function, creates the view and compacts nothing', async () => {
    const results = parse(viewRun);
    expect(viewRun.status, viewRun.stderr).toBe(0);
    expect(results.map((r) => r.kind)).toEqual(['INVOKE-RESULT']);
    expect(results[0].value).toMatchObject({ viewOnly: true, view: { outcome: 'published', compactedDays: 1 } });
    expect(results[0].value.compaction).toBeUndefined();
    expect(athena.ddl.slice(ddlAfterCompaction)).toEqual([lakeViewSql({ location: `s3://${bucket}`, days: await compactedDaysOf(sink, [ORG]) })]);
  });
});
