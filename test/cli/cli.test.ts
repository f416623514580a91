/**
 * The okta-lake CLI as a user runs it: `mock-okta` serving a file, `ingest` reading it into a folder,
 * `import` of exported files, `--help` everywhere, and exit codes.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CommandIo } from '../../lib/cli/main';
import { EXIT } from '../../lib/cli/output';
import { openDuckDb, type OpenDuckDb } from '../../lib/core/writer/duckdb';
import { DEMO_ORG_HOST, generateEvents } from '../../lib/demo/generate';

function capture(env: NodeJS.ProcessEnv = {}, signal?: AbortSignal): CommandIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  (stderr as unknown as PassThrough).on('data', (d: Buffer) => (err += d.toString()));
  return { env, stdout, stderr, signal, out: () => out, err: () => err };
}

function listFiles(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(suffix));
}

describe('okta-lake CLI', () => {
  let work: string;
  let duck: OpenDuckDb;
  const TOKEN = 'cli-test-token';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'okta-lake-cli-'));
    duck = await openDuckDb({});
  });
  afterAll(() => {
    duck?.connection.closeSync();
    rmSync(work, { recursive: true, force: true });
  });

  const lakeUuids = async (lake: string): Promise<{ n: number; d: number }> => {
    const r = await duck.connection.runAndReadAll(`SELECT count(*)::INTEGER, count(DISTINCT uuid)::INTEGER FROM read_parquet('${lake}/events/**/*.parquet')`);
    const [n, d] = r.getRows()[0] as [number, number];
    return { n, d };
  };

  it.each(['ingest', 'import', 'mock-okta', 'demo'])('%s --help explains the command and exits 0', async (command) => {
    const io = capture();
    expect(await main([command, '--help'], io)).toBe(EXIT.ok);
    expect(io.out()).toContain(`Usage: okta-lake ${command}`);
  });

  it('without a command prints the usage and exits 2; an unknown command exits 2', async () => {
    const none = capture();
    expect(await main([], none)).toBe(EXIT.usage);
    expect(none.out()).toContain('Commands:');
    const unknown = capture();
    expect(await main(['frobnicate'], unknown)).toBe(EXIT.usage);
    expect(unknown.err()).toContain('unknown command');
  });

  it('refuses a credential on the command line and a missing one in the environment', async () => {
    const flag = capture();
    expect(await main(['ingest', '--org', 'acme.okta.com', '--out', work, '--token', 'x'], flag)).toBe(EXIT.usage);
    const missing = capture({});
    expect(await main(['ingest', '--org', 'acme.okta.com', '--out', work], missing)).toBe(EXIT.usage);
    expect(missing.err()).toMatch(/OKTA_API_TOKEN/);
  });

  it('refuses an org that is not https (other than loopback)', async () => {
    const io = capture({ OKTA_API_TOKEN: TOKEN });
    expect(await main(['ingest', '--org', 'http://acme.okta.com', '--out', work], io)).toBe(EXIT.usage);
    expect(io.err()).toMatch(/not allowed/);
    expect(io.err()).not.toContain(TOKEN);
  });

  it('mock-okta + ingest round trip: each uuid exactly once, and a rerun adds nothing', async () => {
    // Prepare: 3,000 events in a JSON-lines file, served by `okta-lake mock-okta`.
    const start = Date.now() - 5 * 3_600_000;
    const events = generateEvents(3_000, { start: new Date(start), hours: 3, seed: 3 });
    const file = join(work, 'events.jsonl');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'));
    const stop = new AbortController();
    const mockIo = capture({ OKTA_API_TOKEN: TOKEN }, stop.signal);
    const serving = main(['mock-okta', '--events', file], mockIo);
    await expect.poll(() => mockIo.out(), { timeout: 20_000 }).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
    const origin = mockIo.out().trim();
    const lake = join(work, 'lake');
    try {
      // Act
      const io = capture({ OKTA_API_TOKEN: TOKEN });
      const code = await main(['ingest', '--org', origin, '--out', lake, '--since', new Date(start - 60_000).toISOString()], io);
      // Assess
      expect(code, io.err()).toBe(EXIT.ok);
      expect(io.out()).toContain('caught up');
      expect(io.out()).toMatch(/events written\s+3,000/);
      expect(await lakeUuids(lake)).toEqual({ n: 3_000, d: 3_000 });
      const again = capture({ OKTA_API_TOKEN: TOKEN });
      expect(await main(['ingest', '--org', origin, '--out', lake], again)).toBe(EXIT.ok);
      expect(await lakeUuids(lake)).toEqual({ n: 3_000, d: 3_000 });
      // A wrong token: Okta's 401 is exit code 3, and the token is never printed.
      const wrong = capture({ OKTA_API_TOKEN: 'wrong-token-value' });
      expect(await main(['ingest', '--org', origin, '--out', join(work, 'other'), '--since', '1h'], wrong)).toBe(EXIT.auth);
      expect(wrong.err() + wrong.out()).not.toContain('wrong-token-value');
    } finally {
      stop.abort();
      expect(await serving).toBe(EXIT.ok);
    }
  });

  it('mock-okta --require-dpop + ingest with a service app: DPoP by default, each uuid once; OKTA_DPOP=never is refused', async () => {
    // Prepare: a service app key pair, and events served by a mock whose apps require DPoP
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyFile = join(work, 'dpop-app.pem');
    const publicFile = join(work, 'dpop-app.pub.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const start = Date.now() - 4 * 3_600_000;
    const events = generateEvents(300, { start: new Date(start), hours: 2, seed: 5 });
    const file = join(work, 'dpop-events.jsonl');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'));
    const stop = new AbortController();
    const mockIo = capture({ OKTA_API_TOKEN: TOKEN, OKTA_CLIENT_ID: '0oacliDpop', OKTA_PUBLIC_KEY_FILE: publicFile }, stop.signal);
    const serving = main(['mock-okta', '--events', file, '--require-dpop'], mockIo);
    await expect.poll(() => mockIo.out(), { timeout: 20_000 }).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
    const origin = mockIo.out().trim();
    const lake = join(work, 'dpop-lake');
    const app = { OKTA_CLIENT_ID: '0oacliDpop', OKTA_PRIVATE_KEY_FILE: keyFile };
    try {
      // Act
      const io = capture(app);
      const code = await main(['ingest', '--org', origin, '--out', lake, '--since', new Date(start - 60_000).toISOString()], io);
      const never = capture({ ...app, OKTA_DPOP: 'never' });
      const neverCode = await main(['ingest', '--org', origin, '--out', join(work, 'dpop-never'), '--since', '1h'], never);
      // Assess
      expect(code, io.err()).toBe(EXIT.ok);
      expect(io.out()).toMatch(/events written\s+300/);
      expect(await lakeUuids(lake)).toEqual({ n: 300, d: 300 });
      expect(neverCode).toBe(EXIT.auth);
      expect(never.err()).toContain('invalid_dpop_proof');
    } finally {
      stop.abort();
      expect(await serving).toBe(EXIT.ok);
    }
  });

  it('mock-okta with Okta\'s edges (query timeouts, empty pages with a next link): ingest splits and follows, each uuid once', async () => {
    // Prepare: queries wider than 20 minutes time out; the first 2 requests are empty pages with a next link
    const start = Date.now() - 3 * 3_600_000;
    const events = generateEvents(600, { start: new Date(start), hours: 2, seed: 5 });
    const file = join(work, 'edges.jsonl');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'));
    const stop = new AbortController();
    const mockIo = capture({ OKTA_API_TOKEN: TOKEN }, stop.signal);
    const serving = main(['mock-okta', '--events', file, '--timeout-wider-than', '1200000', '--empty-pages-with-next', '2', '--client-share', '1', '--retention-days', '90'], mockIo);
    await expect.poll(() => mockIo.out(), { timeout: 20_000 }).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
    const origin = mockIo.out().trim();
    const lake = join(work, 'edges-lake');
    try {
      // Act
      const io = capture({ OKTA_API_TOKEN: TOKEN });
      const code = await main(['ingest', '--org', origin, '--out', lake, '--since', new Date(start - 60_000).toISOString()], io);
      // Assess
      expect(code, io.err()).toBe(EXIT.ok);
      expect(io.out()).toMatch(/Okta edges\s+2 window splits \(query timed out\), 0 cursor restarts/);
      expect(await lakeUuids(lake)).toEqual({ n: 600, d: 600 });
    } finally {
      stop.abort();
      expect(await serving).toBe(EXIT.ok);
    }
  });

  it('mock-okta --fail-oversize with ingest --max-page-mib: oversize pages are abandoned and retried, each uuid once', async () => {
    // Prepare: the first 2 log requests get 8 MiB pages; the client reads at most 1 MiB of a page
    const start = Date.now() - 3 * 3_600_000;
    const events = generateEvents(600, { start: new Date(start), hours: 2, seed: 6 });
    const file = join(work, 'oversize.jsonl');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'));
    const stop = new AbortController();
    const mockIo = capture({ OKTA_API_TOKEN: TOKEN }, stop.signal);
    const serving = main(['mock-okta', '--events', file, '--fail-oversize', '2', '--oversize-mib', '8', '--oversize-chunk-delay', '0'], mockIo);
    await expect.poll(() => mockIo.out(), { timeout: 20_000 }).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
    const origin = mockIo.out().trim();
    const lake = join(work, 'oversize-lake');
    try {
      // Act
      const bad = capture({ OKTA_API_TOKEN: TOKEN });
      const badCode = await main(['ingest', '--org', origin, '--out', lake, '--max-page-mib', '0'], bad);
      const io = capture({ OKTA_API_TOKEN: TOKEN });
      const code = await main(['ingest', '--org', origin, '--out', lake, '--since', new Date(start - 60_000).toISOString(), '--max-page-mib', '1'], io);
      // Assess
      expect(badCode).toBe(EXIT.usage);
      expect(bad.err()).toContain('--max-page-mib');
      expect(code, io.err()).toBe(EXIT.ok);
      expect(io.out()).toMatch(/retries: [^\n]*response-too-large 2/);
      expect(await lakeUuids(lake)).toEqual({ n: 600, d: 600 });
    } finally {
      stop.abort();
      expect(await serving).toBe(EXIT.ok);
    }
  });

  it('import writes every event once with raw byte for byte, and keeps malformed lines verbatim in quarantine', async () => {
    // Prepare: JSON lines with a duplicate, an event without uuid, one with an impossible date, and a broken line.
    const good = generateEvents(50, { seed: 5 }).map((e) => JSON.stringify(e));
    const noUuid = '{"published":"2024-06-03T01:00:00.000Z","eventType":"user.session.start"}';
    const badDate = '{"uuid":"bad-date","published":"2017-09-31T22:23:07.777Z","eventType":"x"}';
    const broken = '{"uuid":"broken", "published": "2024-06-03T0';
    const file = join(work, 'export.jsonl');
    writeFileSync(file, [...good, good[0], noUuid, badDate, broken].join('\n') + '\n');
    const lake = join(work, 'imported');
    // Act
    const io = capture();
    const code = await main(['import', file, '--out', lake, '--org', 'acme.okta.com'], io);
    // Assess
    expect(code, io.err()).toBe(EXIT.ok);
    expect(await lakeUuids(lake)).toEqual({ n: 50, d: 50 });
    const raws = await duck.connection.runAndReadAll(`SELECT raw FROM read_parquet('${lake}/events/org=acme.okta.com/**/*.parquet')`);
    expect(new Set(raws.getRows().map((r) => r[0]))).toEqual(new Set(good));
    // Quarantine files are JSON lines of {reason, index, raw}: raw is the input text exactly.
    const quarantined = listFiles(join(lake, 'quarantine'), '.jsonl')
      .flatMap((f) => readFileSync(join(lake, 'quarantine', f), 'utf8').split('\n'))
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { reason: string; raw: string });
    expect(quarantined.map((q) => q.raw).sort()).toEqual([noUuid, badDate, broken].sort());
    expect(quarantined.map((q) => q.reason).sort()).toEqual(['invalid_json', 'invalid_published', 'missing_uuid']);
    expect(io.out()).toMatch(/quarantined\s+3 pieces/);
    expect(io.out()).toMatch(/repeated\s+1 in the file/);

    // Importing the same file again writes nothing new: still each event once, each quarantined piece once.
    const again = capture();
    expect(await main(['import', file, '--out', lake, '--org', 'acme.okta.com'], again)).toBe(EXIT.ok);
    expect(again.out()).toMatch(/repeated\s+1 in the file, 50 already in the lake/);
    expect(await lakeUuids(lake)).toEqual({ n: 50, d: 50 });
    const quarantinedAgain = listFiles(join(lake, 'quarantine'), '.jsonl')
      .flatMap((f) => readFileSync(join(lake, 'quarantine', f), 'utf8').split('\n'))
      .filter((l) => l !== '');
    expect(quarantinedAgain).toHaveLength(3);
  });

  it('import of a JSON array file (as the API returns it) keeps raw byte for byte', async () => {
    const texts = generateEvents(20, { seed: 9 }).map((e) => JSON.stringify(e));
    const file = join(work, 'export.json');
    writeFileSync(file, `[${texts.join(',')}]`);
    const lake = join(work, 'imported-array');
    expect(await main(['import', file, '--out', lake, '--org', 'acme.okta.com'], capture())).toBe(EXIT.ok);
    const raws = await duck.connection.runAndReadAll(`SELECT raw FROM read_parquet('${lake}/events/org=acme.okta.com/**/*.parquet')`);
    expect(new Set(raws.getRows().map((r) => r[0]))).toEqual(new Set(texts));
  });

  it('import refuses to run without --org: an export belongs to the org it came from', async () => {
    const file = join(work, 'no-org.json');
    writeFileSync(file, '[]');
    const io = capture();
    expect(await main(['import', file, '--out', join(work, 'no-org-lake')], io)).toBe(EXIT.usage);
    expect(io.err()).toContain('--org <host>');
  });
});

describe('okta-lake demo', () => {
  it('simulates a small day, ingests it through the mock Okta, and finds exactly the planted attacks', async () => {
    // Prepare
    const out = mkdtempSync(join(tmpdir(), 'okta-lake-demo-'));
    const lake = join(out, 'lake');
    const io = capture();
    try {
      // Act
      const code = await main(['demo', '--out', lake, '--events', '2000', '--seed', '7'], io);
      // Assess
      expect(code, io.err()).toBe(EXIT.ok);
      expect(io.out()).toMatch(/planted support-impersonation: found by .*okta-support-impersonation/);
      expect(io.out()).toMatch(/planted support-password-reset: found by .*okta-support-password-mfa-reset/);
      expect(io.out()).toMatch(/planted mfa-push-bombing: found by .*mfa-push-bombing/);
      expect(io.out()).toMatch(/planted mfa-reset-takeover: found by .*mfa-reset-then-new-place-sign-in/);
      expect(io.out()).toContain('nothing else fired');
      expect(io.out()).toMatch(/events per hour/);
      // The lake, the findings and the output name the simulated org by its host, as a real org's
      // would be; the mock's loopback origin appears only where the demo says it serves the org.
      expect(DEMO_ORG_HOST).toBe('acme-demo.okta.com');
      expect(readdirSync(join(lake, 'events'))).toEqual([`org=${DEMO_ORG_HOST}`]);
      const findings = Number(/detections fired with (\d+) findings/.exec(io.out())?.[1]);
      expect(findings).toBeGreaterThanOrEqual(4);
      const labelled = io.out().split('\n').filter((line) => /(^|\s)acme-demo\.okta\.com(\s|$)/.test(line));
      expect(labelled.length, 'every finding row names the org').toBeGreaterThanOrEqual(findings);
      expect(io.out()).toMatch(/mock Okta serving acme-demo\.okta\.com at http:\/\/127\.0\.0\.1:\d+;/);
      expect(io.out()).not.toMatch(/127\.0\.0\.1-\d/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
