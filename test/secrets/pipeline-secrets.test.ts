/**
 * A sentinel credential, in both auth modes (an SSWS token; an OAuth service app with a generated
 * key), used for real against the mock Okta through the CLI, the core and the Lambda handler, in
 * runs that succeed and runs that fail (refused credential, 5xx until the retries run out, a next
 * link to another host). Every log line, progress line, error rendering and written file (lake,
 * state, quarantine; S3 objects and DynamoDB items for the Lambda) is scanned: no secret (token,
 * private key, client assertion, access token) appears anywhere. A secret whose JSON has a token
 * pasted as a field name is refused by count of unknown fields, the name appearing nowhere.
 *
 * A third mode is a service app that requires DPoP (RFC 9449): its DPoP private keys (caught as
 * node:crypto makes them) and every proof sent appear nowhere either, and proofs go only in request
 * headers to the configured org.
 */
import '../support/aws-env';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { format, inspect } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';

/** Secret parts of every key pair node:crypto generates in this file's modules (the DPoP keys among them). */
const generatedKeySecrets = vi.hoisted(() => ({ list: [] as string[], count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const generateKeyPairSync = ((...args: Parameters<typeof real.generateKeyPairSync>) => {
    const pair = (real.generateKeyPairSync as (...a: unknown[]) => { privateKey: unknown; publicKey: unknown })(...args);
    if (pair.privateKey instanceof real.KeyObject) {
      generatedKeySecrets.count++;
      const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      generatedKeySecrets.list.push(String(pair.privateKey.export({ format: 'jwk' }).d), ...pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')));
    }
    return pair;
  }) as typeof real.generateKeyPairSync;
  return { ...real, generateKeyPairSync, default: { ...real, generateKeyPairSync } };
});
import { describe as describeError, main, type CommandIo } from '../../lib/cli/main';
import { EXIT } from '../../lib/cli/output';
import { INGEST_ENV } from '../../lib/config/ingest-contract';
import { runIngest } from '../../lib/core/ingest/ingest';
import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import { OktaLogClient } from '../../lib/core/okta/client';
import { OAuthServiceApp, SswsToken, type CredentialProvider } from '../../lib/core/okta/credentials';
import { parseOrg, type OktaOrg } from '../../lib/core/okta/org';
import { openDuckDb, type OpenDuckDb } from '../../lib/core/writer/duckdb';
import { DuckDbParquetWriter } from '../../lib/core/writer/parquet-writer';
import { generateEvents } from '../../lib/demo/generate';
import { mockEventsFromObjects, startMockOkta, type MockOkta } from '../../lib/mock-okta';
import { MemorySink } from '../../testkit/fakes';
import { RecordingReporter } from '../../testkit/reporter';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { createTestDynamoDbClient, createWatermarkTable, uniqueTableName } from '../support/dynamodb';
import { createS3Client } from '../../lib/adapters/s3-sink';

type Mode = 'ssws' | 'oauth' | 'oauth-dpop';

/** Everything a run can leave as text: collected per test, scanned at the end. */
class Exposure {
  readonly texts: string[] = [];
  readonly #reporters: [label: string, reporter: RecordingReporter][] = [];
  add(label: string, ...values: unknown[]): void {
    for (const v of values) {
      if (typeof v === 'string') this.texts.push(`${label}: ${v}`);
      else {
        this.texts.push(`${label}: ${inspect(v, { depth: 12, showHidden: true, getters: true })}`);
        this.texts.push(`${label}: ${format('%o %s %j', v, v, v)}`);
        if (v instanceof Error) this.texts.push(`${label}: ${String(v.stack)}`, `${label}: ${describeError(v)}`);
      }
    }
  }
  /** A reporter whose every line counts as exposed text. */
  reporter(label: string): RecordingReporter {
    const reporter = new RecordingReporter();
    this.#reporters.push([label, reporter]);
    return reporter;
  }
  expectFree(secrets: readonly string[]): void {
    for (const [label, reporter] of this.#reporters.splice(0)) {
      for (const l of reporter.lines) this.add(`${label} ${l.level}`, `${l.message} ${JSON.stringify(l.fields ?? {})}`);
    }
    expect(this.texts.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(16);
      const hit = this.texts.find((t) => t.includes(secret));
      expect(hit, `a secret (${secret.slice(0, 4)}...) appears in: ${hit?.slice(0, 200)}`).toBeUndefined();
    }
  }
}

function capture(env: NodeJS.ProcessEnv): CommandIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  (stderr as unknown as PassThrough).on('data', (d: Buffer) => (err += d.toString()));
  return { env, stdout, stderr, out: () => out, err: () => err };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

/** A credential of each mode, with its sentinels, and what the wire saw of it. */
interface Sentinel {
  readonly mode: Mode;
  /** The secret's `type` and the org's `auth`. */
  readonly auth: 'ssws' | 'oauth';
  /** Secret strings: token; or PEM body lines, JWK `d`, and the assertions and access tokens seen. */
  readonly secrets: () => string[];
  readonly env: NodeJS.ProcessEnv;
  /** The secret JSON for the Lambda (Secrets Manager). */
  readonly secretString: string;
  readonly credentials: (org: OktaOrg) => CredentialProvider;
  /** A credential of the same mode that Okta refuses, and its secrets. */
  readonly wrongEnv: NodeJS.ProcessEnv;
  readonly wrongSecretString: string;
  readonly wrongSecrets: string[];
  readonly wrongCredentials: (org: OktaOrg) => CredentialProvider;
}

const CLIENT_ID = '0oaSentinelClient';
/** A service app that requires DPoP, with the same key. */
const DPOP_CLIENT_ID = '0oaSentinelDpopClient';
const seenOnTheWire: string[] = [];
/** DPoP proofs sent (and their signatures), and the origins they were sent to. */
const proofsOnTheWire: string[] = [];
const proofDestinations = new Set<string>();
let realFetch: typeof fetch;

/** Records the client assertions and access tokens that pass through fetch (they are secrets too). */
const recordingFetch: typeof fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  const proof = (init?.headers as Record<string, string> | undefined)?.DPoP;
  if (proof !== undefined) {
    proofsOnTheWire.push(proof, proof.split('.')[2]);
    proofDestinations.add(new URL(url).origin);
  }
  if (url.endsWith('/oauth2/v1/token') && typeof init?.body === 'string') {
    const assertion = new URLSearchParams(init.body).get('client_assertion');
    if (assertion) seenOnTheWire.push(assertion, assertion.split('.')[2]);
  }
  const res = await realFetch(input, init);
  if (url.endsWith('/oauth2/v1/token') && res.ok) {
    const body = (await res.clone().json()) as { access_token?: string };
    if (body.access_token) seenOnTheWire.push(body.access_token);
  }
  return res;
};

function pemLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
}

function sentinels(work: string): { ssws: Sentinel; oauth: Sentinel; 'oauth-dpop': Sentinel; publicKey: string } {
  const token = `SENTINEL${randomBytes(24).toString('base64url')}`;
  const wrongToken = `SENTINELWRONG${randomBytes(24).toString('base64url')}`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { privateKey: wrongKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const wrongPem = wrongKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const keyFile = join(work, 'service-app.pem');
  const wrongKeyFile = join(work, 'wrong.pem');
  writeFileSync(keyFile, pem, { mode: 0o600 });
  writeFileSync(wrongKeyFile, wrongPem, { mode: 0o600 });
  const keySecrets = [...pemLines(pem), String(privateKey.export({ format: 'jwk' }).d)];
  const wrongKeySecrets = [...pemLines(wrongPem), String(wrongKey.export({ format: 'jwk' }).d)];
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    ssws: {
      mode: 'ssws',
      auth: 'ssws',
      wrongCredentials: () => new SswsToken(wrongToken),
      secrets: () => [token],
      env: { OKTA_API_TOKEN: token },
      secretString: JSON.stringify({ type: 'ssws', token }),
      credentials: () => new SswsToken(token),
      wrongEnv: { OKTA_API_TOKEN: wrongToken },
      wrongSecretString: JSON.stringify({ type: 'ssws', token: wrongToken }),
      wrongSecrets: [wrongToken],
    },
    oauth: {
      mode: 'oauth',
      auth: 'oauth',
      wrongCredentials: (org) => new OAuthServiceApp({ org, clientId: CLIENT_ID, privateKey: wrongPem }),
      secrets: () => [...keySecrets, ...seenOnTheWire],
      env: { OKTA_CLIENT_ID: CLIENT_ID, OKTA_PRIVATE_KEY_FILE: keyFile },
      secretString: JSON.stringify({ type: 'oauth', clientId: CLIENT_ID, privateKey: pem }),
      credentials: (org) => new OAuthServiceApp({ org, clientId: CLIENT_ID, privateKey: pem }),
      wrongEnv: { OKTA_CLIENT_ID: CLIENT_ID, OKTA_PRIVATE_KEY_FILE: wrongKeyFile },
      wrongSecretString: JSON.stringify({ type: 'oauth', clientId: CLIENT_ID, privateKey: wrongPem }),
      wrongSecrets: wrongKeySecrets,
    },
    'oauth-dpop': {
      mode: 'oauth-dpop',
      auth: 'oauth',
      wrongCredentials: (org) => new OAuthServiceApp({ org, clientId: DPOP_CLIENT_ID, privateKey: wrongPem }),
      // The DPoP keys made so far (this process's, and each module instance's after resetModules).
      secrets: () => [...keySecrets, ...seenOnTheWire, ...proofsOnTheWire, ...generatedKeySecrets.list],
      env: { OKTA_CLIENT_ID: DPOP_CLIENT_ID, OKTA_PRIVATE_KEY_FILE: keyFile },
      secretString: JSON.stringify({ type: 'oauth', clientId: DPOP_CLIENT_ID, privateKey: pem }),
      credentials: (org) => new OAuthServiceApp({ org, clientId: DPOP_CLIENT_ID, privateKey: pem }),
      wrongEnv: { OKTA_CLIENT_ID: DPOP_CLIENT_ID, OKTA_PRIVATE_KEY_FILE: wrongKeyFile },
      wrongSecretString: JSON.stringify({ type: 'oauth', clientId: DPOP_CLIENT_ID, privateKey: wrongPem }),
      wrongSecrets: wrongKeySecrets,
    },
  };
}

describe('no secret ever leaves the process (both auth modes)', () => {
  let work: string;
  let mock: MockOkta;
  let duck: OpenDuckDb;
  let creds: ReturnType<typeof sentinels>;
  const start = Math.floor(Date.now() / 60_000) * 60_000 - 3 * 3_600_000;
  const s3 = createS3Client({ endpoint: inject('s3Endpoint'), region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const ddb = createTestDynamoDbClient(inject('dynamodbEndpoint'));

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'okta-lake-secrets-'));
    creds = sentinels(work);
    realFetch = globalThis.fetch;
    globalThis.fetch = recordingFetch;
    // Two hours of events ending an hour ago, two pages an hour; one without a uuid (it goes to quarantine).
    const events = generateEvents(3_000, { start: new Date(start), hours: 2, seed: 9 });
    const served = mockEventsFromObjects(events);
    served.push({ uuid: 'zz-no-uuid', publishedMs: start + 60_000, text: JSON.stringify({ published: new Date(start + 60_000).toISOString(), eventType: 'x' }) });
    mock = await startMockOkta({
      events: served,
      // Three modes of runs within a minute: room enough that no run waits for the bucket's reset.
      rateLimitPerMinute: 1000,
      apiToken: JSON.parse(creds.ssws.secretString).token as string,
      oauthClients: [
        { clientId: CLIENT_ID, publicKeys: [creds.publicKey] },
        { clientId: DPOP_CLIENT_ID, publicKeys: [creds.publicKey], requireDpop: true },
      ],
    });
    duck = await openDuckDb({ tmpDir: join(work, 'duckdb') });
  });

  afterAll(async () => {
    globalThis.fetch = realFetch;
    duck?.close();
    await mock?.stop();
    s3.destroy();
    ddb.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Adds every file under `dir`: its bytes, and for Parquet every value of every row. */
  async function addFiles(x: Exposure, dir: string): Promise<number> {
    const files = filesUnder(dir);
    for (const file of files) {
      x.add(`file ${file}`, readFileSync(file).toString('latin1'));
      if (file.endsWith('.parquet')) {
        const rows = (await duck.connection.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
        x.add(`rows of ${file}`, JSON.stringify(rows));
      }
    }
    return files.length;
  }

  it('the scan finds a secret wherever it is hidden (so that a pass means something)', () => {
    const secret = `SENTINEL${randomBytes(12).toString('hex')}`;
    for (const value of [`x${secret}y`, new Error('boom', { cause: { detail: `a ${secret}` } }), { deep: [{ value: secret }] }]) {
      const x = new Exposure();
      x.add('probe', value);
      expect(() => x.expectFree([secret])).toThrow();
    }
  });

  describe.each(['ssws', 'oauth', 'oauth-dpop'] as const)('%s', (mode) => {
    const s = (): Sentinel => creds[mode];

    it('the CLI: a run, a rerun, a refused credential and a foreign next link print no secret and write none', async () => {
      // Prepare
      const x = new Exposure();
      const lake = join(work, `cli-${mode}`);
      const since = new Date(start - 60_000).toISOString();
      const wire = seenOnTheWire.length;

      // Act
      const first = capture(s().env);
      const firstCode = await main(['ingest', '--org', mock.origin, '--out', lake, '--since', since, '--reconcile'], first);
      const again = capture(s().env);
      const againCode = await main(['ingest', '--org', mock.origin, '--out', lake], again);
      const refused = capture(s().wrongEnv);
      const refusedCode = await main(['ingest', '--org', mock.origin, '--out', join(work, `refused-${mode}`), '--since', '1h'], refused);
      mock.faults.foreignNextLink = true;
      const foreign = capture(s().env);
      const foreignCode = await main(['ingest', '--org', mock.origin, '--out', join(work, `foreign-${mode}`), '--since', since], foreign);
      mock.faults.foreignNextLink = false;

      // Assess: the runs did what they should, with the credential really used...
      expect(firstCode, first.err()).toBe(EXIT.ok);
      expect(first.out()).toMatch(/quarantined\s+1 events/);
      expect(againCode).toBe(EXIT.ok);
      expect(refusedCode).toBe(EXIT.auth);
      expect(foreignCode).toBe(EXIT.failure);
      expect(foreign.err()).toContain('Refusing rel="next" link');
      if (s().auth === 'oauth') expect(seenOnTheWire.length).toBeGreaterThan(wire);
      if (mode === 'oauth-dpop') expect(proofsOnTheWire.length).toBeGreaterThan(0);
      // ...and nothing shows a secret.
      for (const [label, io] of Object.entries({ first, again, refused, foreign })) x.add(label, io.out(), io.err());
      expect(await addFiles(x, lake)).toBeGreaterThan(3);
      x.expectFree([...s().secrets(), ...s().wrongSecrets]);
    });

    it('the core: retries run out on 5xx, Okta refuses the credential, a next link to another host; errors and reports', async () => {
      // Prepare
      const x = new Exposure();
      const org = parseOrg(mock.origin, { allowInsecureLoopback: true });
      const writer = await DuckDbParquetWriter.open({ tmpDir: join(work, 'duckdb') });
      const run = async (label: string, credentials: CredentialProvider): Promise<unknown> =>
        runIngest({
          org: org.host,
          source: new OktaLogClient({ org, credentials, reporter: x.reporter(label), backoffBaseMs: 1, backoffCapMs: 2, maxAttempts: 3 }),
          writer,
          sink: new MemorySink(),
          store: new MemoryWatermarkStore(),
          owner: label,
          reporter: x.reporter(label),
          since: new Date(start).toISOString(),
        }).catch((e: unknown) => e);
      const wrong = (): CredentialProvider => s().wrongCredentials(org);

      try {
        // Act
        mock.faults.next5xx = 3;
        const exhausted = await run('5xx', s().credentials(org));
        const refused = await run('401', wrong());
        mock.faults.foreignNextLink = true;
        const foreign = await run('foreign', s().credentials(org));
        mock.faults.foreignNextLink = false;

        // Assess
        for (const [label, error] of Object.entries({ exhausted, refused, foreign })) {
          expect(error, label).toBeInstanceOf(Error);
          x.add(label, error, describeError(error));
        }
        expect((exhausted as Error).name).toBe('OktaRequestError');
        expect((refused as Error).name).toMatch(/OktaAuthError|OAuthTokenError/);
        expect((foreign as Error).name).toBe('ForeignLinkError');
        x.expectFree([...s().secrets(), ...s().wrongSecrets]);
      } finally {
        mock.faults.next5xx = 0;
        mock.faults.foreignNextLink = false;
        await writer.close();
      }
    });

    it('a secret with a token pasted as a field name: the adapter and the Lambda handler count unknown fields, never name them', async () => {
      // Prepare: the secret of this mode with two extra fields, one named by a sentinel token
      const x = new Exposure();
      // 42 characters, as an Okta API token; the scan also looks for any 20 of them in a row (a
      // message that cuts a name short still leaks most of the token).
      const pasted = `00SENTINELKEY${randomBytes(22).toString('base64url').slice(0, 29)}`;
      const pieces = Array.from({ length: pasted.length - 19 }, (_, i) => pasted.slice(i, i + 20));
      const secretString = JSON.stringify({ ...JSON.parse(s().secretString), [pasted]: '', note: 'x' });
      const secretsManager = mockClient(SecretsManagerClient);
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: secretString });
      const org = parseOrg(mock.origin, { allowInsecureLoopback: true });
      const env: Record<string, string> = {
        [INGEST_ENV.orgs]: JSON.stringify([{ org: mock.origin, auth: s().auth, secretId: 'okta-lake/pasted' }]),
        [INGEST_ENV.bucket]: 'pasted-unused',
        [INGEST_ENV.prefix]: '',
        [INGEST_ENV.table]: 'pasted-unused',
        OKTA_LAKE_ALLOW_INSECURE_LOOPBACK: 'true',
        AWS_ENDPOINT_URL_S3: inject('s3Endpoint'),
        AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
        POWERTOOLS_SERVICE_NAME: 'okta-lake-ingest',
        POWERTOOLS_METRICS_NAMESPACE: 'OktaLake',
      };
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      const output: string[] = [];
      const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
      const grab = (chunk: unknown): boolean => {
        output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        return true;
      };
      let adapterError: unknown;
      let handlerError: unknown;
      try {
        // Act: the adapter alone, then the handler (Powertools logs the failed run)
        const { SecretsManagerCredentials } = await import('../../lib/adapters/secrets-manager-credentials');
        adapterError = await new SecretsManagerCredentials({ client: new SecretsManagerClient({ region: TEST_REGION, credentials: TEST_CREDENTIALS }) })
          .credentialsFor({ org, secretId: 'okta-lake/pasted', auth: s().auth })
          .catch((e: unknown) => e);
        Object.assign(process.env, env);
        vi.resetModules();
        const { handler } = await import('../../lambdas/ingest/handler');
        const context = {
          awsRequestId: 'pasted-1',
          functionName: 'okta-lake-ingest',
          functionVersion: '$LATEST',
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:okta-lake-ingest',
          memoryLimitInMB: '1024',
          getRemainingTimeInMillis: () => 120_000,
        } as unknown as Context;
        process.stdout.write = grab as typeof process.stdout.write;
        process.stderr.write = grab as typeof process.stderr.write;
        handlerError = await handler({ org: org.host }, context).catch((e: unknown) => e);
      } finally {
        process.stdout.write = writes.out;
        process.stderr.write = writes.err;
        secretsManager.restore();
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }

      // Assess: the pasted token is nowhere (nor the secret's real values)...
      const logs = output.join('');
      expect(logs).toContain('ingestion run failed');
      x.add('adapter error', adapterError, describeError(adapterError));
      x.add('handler error', handlerError, describeError(handlerError));
      x.add('powertools output', logs);
      expect(pasted).toHaveLength(42);
      x.expectFree([pasted, ...pieces, ...s().secrets()]);
      // ...and both failed on the unknown fields, saying how many.
      for (const error of [adapterError, handlerError]) {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).name).toBe('CredentialsError');
        expect((error as Error).message).toContain(`Okta secret of type "${s().auth}" has 2 unknown fields`);
      }
      expect(logs).toContain('has 2 unknown fields');
    });

    it('the Lambda handler: Powertools logs and metrics, returned summaries, errors, S3 objects and DynamoDB items', async () => {
      // Prepare: the handler's environment, with S3 and DynamoDB on the emulators and Secrets Manager mocked.
      const x = new Exposure();
      const bucket = `secrets-${mode}-${Date.now().toString(36)}`;
      const table = uniqueTableName(`secrets-${mode}`);
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await createWatermarkTable(ddb, table);
      // The secret holds a credential Okta refuses at first, then the right one.
      const secretsManager = mockClient(SecretsManagerClient);
      secretsManager.on(GetSecretValueCommand).resolvesOnce({ SecretString: s().wrongSecretString }).resolves({ SecretString: s().secretString });
      const env: Record<string, string> = {
        [INGEST_ENV.orgs]: JSON.stringify([{ org: mock.origin, auth: s().auth, secretId: 'okta-lake/sentinel' }]),
        [INGEST_ENV.bucket]: bucket,
        [INGEST_ENV.prefix]: '',
        [INGEST_ENV.table]: table,
        [INGEST_ENV.initialLookbackMs]: String(4 * 3_600_000),
        OKTA_LAKE_ALLOW_INSECURE_LOOPBACK: 'true',
        AWS_ENDPOINT_URL_S3: inject('s3Endpoint'),
        AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
        POWERTOOLS_SERVICE_NAME: 'okta-lake-ingest',
        POWERTOOLS_METRICS_NAMESPACE: 'OktaLake',
      };
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      const output: string[] = [];
      const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
      const grab = (chunk: unknown): boolean => {
        output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        return true;
      };
      vi.resetModules();
      const { handler } = await import('../../lambdas/ingest/handler');
      const context = (id: string): Context =>
        ({
          awsRequestId: id,
          functionName: 'okta-lake-ingest',
          functionVersion: '$LATEST',
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:okta-lake-ingest',
          memoryLimitInMB: '1024',
          getRemainingTimeInMillis: () => 120_000,
        }) as unknown as Context;
      const host = parseOrg(mock.origin, { allowInsecureLoopback: true }).host;
      const results: unknown[] = [];
      try {
        process.stdout.write = grab as typeof process.stdout.write;
        process.stderr.write = grab as typeof process.stderr.write;
        // Act: a refused credential (read again next time), a next link to another host, a run.
        results.push(await handler({ org: host }, context('run-1')).catch((e: unknown) => e));
        mock.faults.foreignNextLink = true;
        results.push(await handler({ org: host }, context('run-2')).catch((e: unknown) => e));
        mock.faults.foreignNextLink = false;
        results.push(await handler({ org: host }, context('run-3')));
      } finally {
        process.stdout.write = writes.out;
        process.stderr.write = writes.err;
        mock.faults.foreignNextLink = false;
        secretsManager.restore();
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }

      // Assess: what happened...
      const [refused, foreign, ok] = results as [Error, Error, Record<string, unknown>];
      // The event without a uuid is quarantined once, by run 2 or run 3 depending on where the
      // clock puts the window boundary (checked on the stored objects below).
      expect(ok).toMatchObject({ outcome: 'caught-up' });
      expect(ok.reconcile).toMatchObject({ outcome: 'done' });
      expect(foreign.name).toBe('ForeignLinkError');
      expect(refused.name).toMatch(/OktaAuthError|OAuthTokenError/);
      const logs = output.join('');
      expect(logs).toContain('ingestion run finished');
      expect(logs).toContain('"LateEventsRecovered"');
      expect(logs).toContain('ingestion run failed');
      x.add('powertools output', logs);
      x.add('results', ...results);
      // ...what it stored...
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      const dir = join(work, `s3-${mode}`);
      for (const object of listed.Contents ?? []) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
        const path = join(dir, object.Key!);
        mkdirSync(join(path, '..'), { recursive: true });
        writeFileSync(path, await got.Body!.transformToByteArray());
      }
      expect(await addFiles(x, dir)).toBeGreaterThan(1);
      const quarantineKeys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.startsWith('quarantine/'));
      const quarantined = quarantineKeys.flatMap((k) => readFileSync(join(dir, k), 'utf8').split('\n').filter((l) => l !== ''));
      expect(quarantined, JSON.stringify(quarantineKeys)).toHaveLength(1);
      expect(quarantined[0]).toContain('missing_uuid');
      const items = await ddb.send(new ScanCommand({ TableName: table }));
      expect(items.Items?.length).toBeGreaterThan(0);
      x.add('dynamodb items', JSON.stringify(items.Items));
      // ...and no secret anywhere.
      x.expectFree([...s().secrets(), ...s().wrongSecrets]);
    });
  });
  it('oauth-dpop really used DPoP: proofs were sent, only in request headers to the configured org, and DPoP keys were made', () => {
    expect(proofsOnTheWire.length).toBeGreaterThan(0);
    // Beyond the two keys sentinels() makes: the DPoP keys of the process and of the reloaded handler modules.
    expect(generatedKeySecrets.count).toBeGreaterThan(2);
    expect([...proofDestinations]).toEqual([mock.origin]);
  });
});
