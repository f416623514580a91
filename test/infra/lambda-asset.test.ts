/**
 * The ingestion function as deployed: synth bundles it (esbuild + DuckDB's Linux binding), and the
 * asset folder is loaded in a fresh Node process with nothing of the project around it, then invoked
 * against the mock Okta, s3rver, dynalite and a loopback Secrets Manager.
 */
import '../support/aws-env';
import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode, type ChildRun } from '../support/child';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createS3Client } from '../../lib/adapters/s3-sink';
import { WATERMARK_TABLE_KEY } from '../../lib/config/table-contract';
import { INGEST_ENV, INGEST_METRICS } from '../../lib/config/ingest-contract';
import { PROJECT_ROOT } from '../../lib/constructs/lambda-defaults';
import { fixtureEvents } from '../../lib/core/fixtures';
import { DEFAULT_SWEEP_OFFSETS_MS, sweepLineKey } from '../../lib/core/sweep-lines';
import { startMockOkta, mockEventsFromObjects, type MockOkta } from '../../lib/mock-okta';
import { createTestDynamoDbClient, deleteTable, uniqueTableName } from '../support/dynamodb';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { functionAssetDir, logicalIdOf, synth, type Synthesized } from './support';

const s3Endpoint = inject('s3Endpoint');
const dynamodbEndpoint = inject('dynamodbEndpoint');
const canRunHere = process.platform === 'linux' && process.arch === 'x64';

const TOKEN = '00aLambdaAssetTestToken-never-logged-0123456789';
const SECRET_ID = 'okta-lake/asset-test';
const MISSING_SECRET_ID = 'okta-lake/not-filled-in';
const EVENTS = 2_500;
/** A service app of the oauth kind, its key registered on the mock Okta that requires DPoP. */
const DPOP_SECRET_ID = 'okta-lake/asset-dpop';
const DPOP_CLIENT_ID = '0oaAssetDpopApp';
const DPOP_KEY_ID = 'asset-dpop-kid';
const DPOP_EVENTS = 1_500;
const dpopApp = generateKeyPairSync('rsa', { modulusLength: 2048 });
const DPOP_APP_PEM = dpopApp.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
/** Not the defaults (60 and 1440), so the sweep lines show that the function used the configured ones. */
const SWEEP_OFFSETS_MINUTES = [90, 2880];

/** Speaks just enough of the Secrets Manager JSON protocol (GetSecretValue) on loopback. */
function startSecretsManager(secrets: Record<string, string>): Promise<{ server: Server; endpoint: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      requests.push(`${target} ${body.SecretId ?? ''}`);
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (target !== 'secretsmanager.GetSecretValue') return send(400, { __type: 'InvalidRequestException', message: `unsupported ${target}` });
      const value = body.SecretId === undefined ? undefined : secrets[body.SecretId];
      if (value === undefined) {
        return send(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT" });
      }
      return send(200, {
        ARN: `arn:aws:secretsmanager:${TEST_REGION}:123456789012:secret:${body.SecretId}-AbCdEf`,
        Name: body.SecretId,
        SecretString: value,
        VersionId: '11111111-2222-3333-4444-555555555555',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Math.floor(Date.now() / 1000),
      });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    resolve({ server, endpoint: `http://127.0.0.1:${port}`, requests });
  }));
}

describe.skipIf(!canRunHere)('the bundled ingestion function', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'okta-lake-asset-'));
  const duckTmp = mkdtempSync(join(tmpdir(), 'okta-lake-asset-tmp-'));
  const bucket = `okta-lake-asset-${Date.now().toString(36)}`;
  const s3 = createS3Client({ endpoint: s3Endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const ddb = createTestDynamoDbClient(dynamodbEndpoint);
  const table = uniqueTableName('asset-watermarks');
  let okta: MockOkta;
  let secrets: Awaited<ReturnType<typeof startSecretsManager>>;
  let synthesized: Synthesized;
  let assetDir: string;
  let orgLabel: string;
  let lastPublished: string;
  let run: ChildRun;
  let results: { kind: 'INVOKE-RESULT' | 'INVOKE-ERROR'; value: Record<string, unknown> }[];
  let env: Record<string, string>;

  beforeAll(async () => {
    // Prepare: the asset exactly as `cdk synth` bundles it for x86_64 (this machine's CPU).
    synthesized = synth({ orgs: [{ host: 'acme.okta.com', auth: 'ssws' }], lambdaArchitecture: 'x86_64', reconcileOffsetsMinutes: SWEEP_OFFSETS_MINUTES }, { bundle: true, outdir });
    assetDir = functionAssetDir(synthesized, outdir, synthesized.stack.ingestion.function);

    // The lake bucket, and the watermark table with the key schema the template declares.
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const tableResource = synthesized.json.Resources[logicalIdOf(synthesized, synthesized.stack.ingestion.table)];
    const tp = tableResource.Properties as { KeySchema: { AttributeName: string; KeyType: 'HASH' }[]; AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[] };
    await ddb.send(new CreateTableCommand({ TableName: table, KeySchema: tp.KeySchema, AttributeDefinitions: tp.AttributeDefinitions, BillingMode: 'PAY_PER_REQUEST' }));

    // 2,500 events over the last ~100 minutes: three pages, two one-hour windows.
    const now = Date.now();
    const events = fixtureEvents(EVENTS, { start: now - 100 * 60_000, spacingMs: 2_000, seed: 7 });
    lastPublished = String(events[events.length - 1].published);
    okta = await startMockOkta({ events: mockEventsFromObjects(events), apiToken: TOKEN });
    orgLabel = `127.0.0.1-${okta.port}`;
    secrets = await startSecretsManager({
      [SECRET_ID]: JSON.stringify({ type: 'ssws', token: TOKEN }),
      // No dpop field: the default ('auto') must find out that the app requires DPoP.
      [DPOP_SECRET_ID]: JSON.stringify({ type: 'oauth', clientId: DPOP_CLIENT_ID, privateKey: DPOP_APP_PEM, keyId: DPOP_KEY_ID }),
    });

    // Act: the environment the stack sets, with the endpoints pointing at the local emulators.
    const fnEnv = (synthesized.json.Resources[logicalIdOf(synthesized, synthesized.stack.ingestion.function)].Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    env = {
      PATH: process.env.PATH ?? '',
      TMPDIR: duckTmp,
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_S3: s3Endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      OKTA_LAKE_ALLOW_INSECURE_LOOPBACK: 'true',
      [INGEST_ENV.orgs]: JSON.stringify([
        { org: okta.origin, auth: 'ssws', secretId: SECRET_ID },
        { org: 'second.okta.com', auth: 'ssws', secretId: MISSING_SECRET_ID },
      ]),
      [INGEST_ENV.bucket]: bucket,
      [INGEST_ENV.prefix]: String(fnEnv[INGEST_ENV.prefix]),
      [INGEST_ENV.table]: table,
      [INGEST_ENV.kmsKeyArn]: 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555',
      [INGEST_ENV.settleLagMs]: '60000',
      [INGEST_ENV.initialLookbackMs]: String(2 * 3_600_000),
      [INGEST_ENV.reconcileOffsetsMs]: String(fnEnv[INGEST_ENV.reconcileOffsetsMs]),
      POWERTOOLS_SERVICE_NAME: String(fnEnv.POWERTOOLS_SERVICE_NAME),
      POWERTOOLS_METRICS_NAMESPACE: String(fnEnv.POWERTOOLS_METRICS_NAMESPACE),
    };
    const invocations = [{ org: orgLabel }, { org: orgLabel }, { org: 'second.okta.com' }, { org: 'unknown.okta.com' }];
    // Asynchronously: the mock Okta and the Secrets Manager stand-in live in this process.
    run = await runNode([join(PROJECT_ROOT, 'test/infra/fixtures/invoke-asset.mjs'), assetDir, JSON.stringify(invocations), '120000'], assetDir, env, 180_000);
    results = String(run.stdout)
      .split('\n')
      .filter((l) => /^INVOKE-(RESULT|ERROR) /.test(l))
      .map(parseInvokeLine);
  }, 240_000);

  afterAll(async () => {
    await okta?.stop();
    await new Promise((r) => secrets?.server.close(r));
    await deleteTable(ddb, table).catch(() => undefined);
    s3.destroy();
    ddb.destroy();
    rmSync(outdir, { recursive: true, force: true });
    rmSync(duckTmp, { recursive: true, force: true });
  });

  it('is a standalone folder: the bundle and DuckDB’s packages for Linux x64, nothing else', () => {
    expect(run.status).toBe(0);
    expect(run.stderr).not.toMatch(/Cannot find (module|package)|ERR_MODULE_NOT_FOUND|duckdb native binding/i);
    const nodeModules = readdirNames(join(assetDir, 'node_modules'));
    expect(nodeModules).toEqual(['@duckdb']);
    // DuckDB's JavaScript is one ES module (bundle-duckdb.mjs); the native library sits beside it.
    expect(readdirNames(join(assetDir, 'node_modules', '@duckdb'))).toEqual(['node-api', 'node-bindings-linux-x64']);
    expect(readdirNames(join(assetDir, 'node_modules', '@duckdb', 'node-api')).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'))).toEqual(['index.mjs']);
  });

  it('writes the org’s events as Parquet under its partitions and reports them', async () => {
    expect(results.map((r) => r.kind)).toEqual(['INVOKE-RESULT', 'INVOKE-RESULT', 'INVOKE-ERROR', 'INVOKE-ERROR']);
    const first = results[0].value;
    // Two one-hour windows of ~1,200 and ~1,300 events: two pages each.
    expect(first).toMatchObject({ org: orgLabel, outcome: 'caught-up', windows: 2, eventsWritten: EVENTS, eventsQuarantined: 0, pages: 4 });
    // Files landed under events/org=<label>/dt=.../hour=.../ and hold every event once.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `events/org=${orgLabel}/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys.length).toBe(first.objectsWritten);
    for (const key of keys) expect(key).toMatch(new RegExp(`^events/org=${orgLabel.replace(/\./g, '\\.')}/dt=\\d{4}-\\d{2}-\\d{2}/hour=\\d{2}/[^/]+\\.parquet$`));
    const files: string[] = [];
    for (const [i, key] of keys.entries()) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const path = join(duckTmp, `f${i}.parquet`);
      writeFileSync(path, await got.Body!.transformToByteArray());
      files.push(path);
    }
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const reader = await connection.runAndReadAll(`SELECT count(*)::INTEGER, count(DISTINCT uuid)::INTEGER FROM read_parquet([${files.map((f) => `'${f}'`).join(',')}])`);
    expect(reader.getRows()).toEqual([[EVENTS, EVENTS]]);
    connection.closeSync();
  });

  it('advances the watermark in the table', async () => {
    const item = await ddb.send(new GetItemCommand({ TableName: table, Key: { [WATERMARK_TABLE_KEY]: { S: orgLabel } } }));
    const watermark = item.Item?.watermark?.S;
    expect(watermark).toBeDefined();
    expect(Date.parse(watermark!)).toBeGreaterThan(Date.parse(lastPublished));
    expect(item.Item?.totalEvents?.N).toBe(String(EVENTS));
    // The second (warm) run moved it on to its own closed windows.
    expect(results[1].value.watermark).toBe(watermark);
    expect(Date.parse(String(results[0].value.watermark))).toBeGreaterThan(Date.parse(lastPublished));
  });

  it('sweeps at the offsets of the configuration', async () => {
    expect(results[0].value.reconcile).toMatchObject({ outcome: 'done' });
    const lineOf = async (minutes: number) =>
      (await ddb.send(new GetItemCommand({ TableName: table, Key: { [WATERMARK_TABLE_KEY]: { S: sweepLineKey(orgLabel, minutes * 60_000) } } }))).Item;
    for (const minutes of SWEEP_OFFSETS_MINUTES) expect(await lineOf(minutes), `sweep line ${minutes}m`).toBeDefined();
    // The sweep's own defaults were not used.
    for (const ms of DEFAULT_SWEEP_OFFSETS_MS) expect(await lineOf(ms / 60_000)).toBeUndefined();
  });

  it('finds nothing new on the next, warm invocation', () => {
    expect(results[1].value).toMatchObject({ org: orgLabel, outcome: 'caught-up', eventsWritten: 0 });
    // The credential was read once for both runs of the org.
    expect(secrets.requests.filter((r) => r.endsWith(SECRET_ID))).toEqual([`secretsmanager.GetSecretValue ${SECRET_ID}`]);
  });

  it('says so when an org’s secret has not been filled in', () => {
    expect(results[2].value.name).toBe('CredentialSecretError');
    expect(results[2].value.message).toMatch(/secret "okta-lake\/not-filled-in" of second\.okta\.com has no value yet/);
  });

  it('refuses an event for an org it is not configured for', () => {
    expect(results[3].value.name).toBe('ConfigError');
    expect(results[3].value.message).toBe(`org "unknown.okta.com" is not configured here; configured: ${orgLabel}, second.okta.com`);
  });

  it('emits its metrics in the embedded metric format', () => {
    const emf = String(run.stdout)
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] } });
    const first = emf.find((m) => m[INGEST_METRICS.names.eventsWritten] === EVENTS);
    expect(first).toBeDefined();
    expect(first!._aws.CloudWatchMetrics[0].Namespace).toBe(INGEST_METRICS.namespace);
    expect(first!._aws.CloudWatchMetrics[0].Dimensions[0].sort()).toEqual(['org', 'service']);
    expect(first).toMatchObject({ service: INGEST_METRICS.service, org: orgLabel, [INGEST_METRICS.names.pages]: 4 });
    expect(first![INGEST_METRICS.names.watermarkLagSeconds]).toEqual(expect.any(Number));
  });

  it('never writes the credential to its output', () => {
    expect(String(run.stdout)).not.toContain(TOKEN);
    expect(String(run.stderr)).not.toContain(TOKEN);
    expect(String(run.stdout)).toContain('ingestion run finished');
  });

  describe('with a service app that requires DPoP (the oauth kind, defaults)', () => {
    const dpopTable = uniqueTableName('asset-watermarks-dpop');
    const DPOP_PREFIX = 'dpop-lake';
    let dpopOkta: MockOkta;
    let dpopLabel: string;
    let dpopUuids: string[];
    let dpopRun: ChildRun;
    let dpopResults: ReturnType<typeof parseInvokeLine>[];

    beforeAll(async () => {
      // Prepare: a mock Okta whose only client is the service app, with DPoP required (nonces at
      // the token endpoint and the API, key-bound tokens, replays refused); a fresh table and prefix.
      const now = Date.now();
      const events = fixtureEvents(DPOP_EVENTS, { start: now - 100 * 60_000, spacingMs: 3_000, seed: 11 });
      dpopUuids = events.map((e) => String(e.uuid));
      dpopOkta = await startMockOkta({
        events: mockEventsFromObjects(events),
        requireDpop: true,
        oauthClients: [{ clientId: DPOP_CLIENT_ID, publicKeys: [{ ...dpopApp.publicKey.export({ format: 'jwk' }), kid: DPOP_KEY_ID }] }],
      });
      dpopLabel = `127.0.0.1-${dpopOkta.port}`;
      const tp = synthesized.json.Resources[logicalIdOf(synthesized, synthesized.stack.ingestion.table)].Properties as {
        KeySchema: { AttributeName: string; KeyType: 'HASH' }[];
        AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[];
      };
      await ddb.send(new CreateTableCommand({ TableName: dpopTable, KeySchema: tp.KeySchema, AttributeDefinitions: tp.AttributeDefinitions, BillingMode: 'PAY_PER_REQUEST' }));
      // Act: the function configured with the org's auth "oauth" and the secret of that kind.
      dpopRun = await runNode(
        [join(PROJECT_ROOT, 'test/infra/fixtures/invoke-asset.mjs'), assetDir, JSON.stringify([{ org: dpopLabel }]), '120000'],
        assetDir,
        {
          ...env,
          [INGEST_ENV.orgs]: JSON.stringify([{ org: dpopOkta.origin, auth: 'oauth', secretId: DPOP_SECRET_ID }]),
          [INGEST_ENV.table]: dpopTable,
          [INGEST_ENV.prefix]: DPOP_PREFIX,
        },
        180_000,
      );
      dpopResults = String(dpopRun.stdout)
        .split('\n')
        .filter((l) => /^INVOKE-(RESULT|ERROR) /.test(l))
        .map(parseInvokeLine);
    }, 240_000);

    afterAll(async () => {
      await dpopOkta?.stop();
      await deleteTable(ddb, dpopTable).catch(() => undefined);
    });

    it('stores every event exactly once', async () => {
      expect(dpopRun.status).toBe(0);
      expect(dpopResults.map((r) => r.kind)).toEqual(['INVOKE-RESULT']);
      expect(dpopResults[0].value).toMatchObject({ org: dpopLabel, outcome: 'caught-up', eventsWritten: DPOP_EVENTS, eventsQuarantined: 0 });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${DPOP_PREFIX}/events/org=${dpopLabel}/` }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!);
      expect(keys.length).toBe(dpopResults[0].value.objectsWritten);
      const files: string[] = [];
      for (const [i, key] of keys.entries()) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const path = join(duckTmp, `dpop${i}.parquet`);
        writeFileSync(path, await got.Body!.transformToByteArray());
        files.push(path);
      }
      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      const list = `read_parquet([${files.map((f) => `'${f}'`).join(',')}])`;
      const counts = await connection.runAndReadAll(`SELECT count(*)::INTEGER, count(DISTINCT uuid)::INTEGER FROM ${list}`);
      expect(counts.getRows()).toEqual([[DPOP_EVENTS, DPOP_EVENTS]]);
      const uuids = await connection.runAndReadAll(`SELECT uuid FROM ${list} ORDER BY uuid`);
      expect(uuids.getRows().map((r) => String(r[0]))).toEqual([...dpopUuids].sort());
      connection.closeSync();
    });

    it('used a DPoP-bound token, with a proof on every page request', () => {
      const stats = dpopOkta.stats;
      // Every token the mock issued was bound to a DPoP key (it refuses Bearer for this app)...
      expect(stats.dpopTokensIssued).toBeGreaterThanOrEqual(1);
      expect(stats.tokensIssued).toBe(stats.dpopTokensIssued);
      // ...after the nonce handshake, and every page was served to a request with a valid proof.
      expect(stats.dpopNonceChallenges).toBeGreaterThanOrEqual(1);
      expect(stats.pagesServed).toBeGreaterThanOrEqual(2);
      expect(stats.dpopRequestsAccepted).toBe(stats.pagesServed);
      // The one refusal: 'auto' asks for a plain token first, and learns from invalid_dpop_proof.
      expect(stats.dpopProofsRefused).toBe(1);
    });

    it('never writes the service app key or a DPoP proof to its output', () => {
      const output = `${String(dpopRun.stdout)}\n${String(dpopRun.stderr)}`;
      const keyLines = DPOP_APP_PEM.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'));
      for (const line of keyLines) expect(output).not.toContain(line);
      // A proof or an assertion is a JWS: its header starts with {"typ": or {"alg": in base64url.
      expect(output).not.toMatch(/eyJ(0eXAi|hbGci)[\w-]*\.[\w-]+\.[\w-]+/);
      expect(output).toContain('ingestion run finished');
    });
  });

  describe('when DuckDB cannot open', () => {
    const trapTmp = mkdtempSync(join(tmpdir(), 'okta-lake-asset-trap-'));
    const failingTable = uniqueTableName('asset-watermarks-failing');
    const FAILING_PREFIX = 'failing-open';
    let failing: ChildRun;
    let failed: ReturnType<typeof parseInvokeLine>[];

    beforeAll(async () => {
      // Prepare: DuckDB's folder is taken by a file, so opening DuckDB fails; a fresh table, so the
      // run has pages to write.
      writeFileSync(join(trapTmp, 'okta-lake-duckdb'), 'not a folder');
      const tp = synthesized.json.Resources[logicalIdOf(synthesized, synthesized.stack.ingestion.table)].Properties as {
        KeySchema: { AttributeName: string; KeyType: 'HASH' }[];
        AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[];
      };
      await ddb.send(new CreateTableCommand({ TableName: failingTable, KeySchema: tp.KeySchema, AttributeDefinitions: tp.AttributeDefinitions, BillingMode: 'PAY_PER_REQUEST' }));
      // Act
      failing = await runNode(
        [join(PROJECT_ROOT, 'test/infra/fixtures/invoke-asset.mjs'), assetDir, JSON.stringify([{ org: orgLabel }]), '120000'],
        assetDir,
        { ...env, TMPDIR: trapTmp, [INGEST_ENV.table]: failingTable, [INGEST_ENV.prefix]: FAILING_PREFIX },
        120_000,
      );
      failed = String(failing.stdout)
        .split('\n')
        .filter((l) => /^INVOKE-(RESULT|ERROR) /.test(l))
        .map(parseInvokeLine);
    }, 150_000);

    afterAll(async () => {
      await deleteTable(ddb, failingTable).catch(() => undefined);
      rmSync(trapTmp, { recursive: true, force: true });
    });

    it('fails the run at its first page write, naming the cause, with nothing written', async () => {
      expect(failing.status).toBe(0);
      expect(failed).toEqual([{ kind: 'INVOKE-ERROR', value: { name: 'IngestError', message: expect.stringMatching(/^writing page .* failed; the next run resumes at this page$/) } }]);
      // The error log names the cause.
      const logged = String(failing.stderr)
        .split('\n')
        .filter((l) => l.startsWith('{') && l.includes('"ingestion run failed"'))
        .map((l) => JSON.parse(l) as { error: { name: string; cause?: { name: string; message: string } } });
      expect(logged).toHaveLength(1);
      expect(logged[0].error).toMatchObject({ name: 'IngestError', cause: { name: 'DuckDbOpenError', message: expect.stringMatching(/^could not open DuckDB/) } });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${FAILING_PREFIX}/` }));
      expect(listed.Contents ?? []).toEqual([]);
      const item = await ddb.send(new GetItemCommand({ TableName: failingTable, Key: { [WATERMARK_TABLE_KEY]: { S: orgLabel } } }));
      expect(item.Item?.watermark).toBeUndefined();
    });
  });
});

function parseInvokeLine(line: string): { kind: 'INVOKE-RESULT' | 'INVOKE-ERROR'; value: Record<string, unknown> } {
  const space = line.indexOf(' ');
  return { kind: line.slice(0, space) as 'INVOKE-RESULT' | 'INVOKE-ERROR', value: JSON.parse(line.slice(space + 1)) as Record<string, unknown> };
}

function readdirNames(dir: string): string[] {
  return readdirSync(dir).sort();
}
