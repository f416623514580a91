/**
 * The built CLI (scripts/build.mjs, the package's `bin`) as npm installs it: it runs, and it loads the
 * AWS SDK only for an s3:// lake. Each run is recorded by import-recorder.mjs, a module hook that logs
 * every import the process resolves; the S3 run shows that the recorder sees the SDK when it loads.
 */
import '../support/aws-env';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createS3Client } from '../../lib/adapters/s3-sink';
import { generateEvents } from '../../lib/demo/generate';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RECORDER = join(ROOT, 'test', 'cli', 'import-recorder.mjs');
const endpoint = inject('s3Endpoint');
const admin = createS3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
const bucket = `bundle-${randomBytes(6).toString('hex')}`;

interface Recorded {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The specifiers the process imported (node: built-ins left out). */
  readonly specifiers: string[];
  /** The URLs they resolved to. */
  readonly urls: string[];
}

describe('the bundled CLI', () => {
  let work: string;
  let cli: string;
  let events: string;
  let runs = 0;

  /** Runs the built CLI under the import recorder. */
  const runCli = async (args: readonly string[]): Promise<Recorded> => {
    const log = join(work, `imports-${++runs}.log`);
    writeFileSync(log, '');
    const env = { ...process.env, OKTA_LAKE_IMPORT_LOG: log };
    let code = 0;
    let stdout: string;
    let stderr: string;
    try {
      ({ stdout, stderr } = await run(process.execPath, ['--import', RECORDER, cli, ...args], { cwd: work, env }));
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      code = typeof failed.code === 'number' ? failed.code : -1;
      stdout = failed.stdout ?? '';
      stderr = failed.stderr ?? '';
    }
    const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
    return {
      code,
      stdout,
      stderr,
      specifiers: lines.map(([s]) => s!).filter((s) => !s.startsWith('node:')),
      urls: lines.map(([, u]) => u!),
    };
  };
  const awsSdk = (r: Recorded) => [...r.specifiers.filter((s) => s.startsWith('@aws-sdk/')), ...r.urls.filter((u) => u.includes('/@aws-sdk/'))];

  beforeAll(async () => {
    // The scratch folder lies inside the project so the bundle's external packages resolve from node_modules.
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    work = mkdtempSync(join(ROOT, '.tmp', 'bundle-'));
    const out = join(work, 'dist');
    await run(process.execPath, ['scripts/build.mjs', relative(ROOT, out)], { cwd: ROOT });
    const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['okta-lake']!;
    cli = join(out, basename(bin));
    events = join(work, 'events.json');
    writeFileSync(events, JSON.stringify(generateEvents(20, { seed: 11 })));
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(() => {
    admin.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is written where package.json "bin" points, with the S3 sink in a chunk of its own', () => {
    // Prepare / Act: built in beforeAll, as `npm run build` builds dist/
    const chunks = readdirSync(join(dirname(cli), 'chunks'));
    // Assess
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(chunks.some((c) => c.startsWith('s3-sink-') && c.endsWith('.mjs'))).toBe(true);
  });

  it('prints its usage without loading the AWS SDK', async () => {
    // Act
    const r = await runCli(['--help']);
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: okta-lake <command>');
    expect(r.urls).toContain(`file://${cli}`);
    expect(awsSdk(r)).toEqual([]);
  });

  it('imports into a folder lake without loading the AWS SDK', async () => {
    // Act
    const r = await runCli(['import', events, '--out', join(work, 'lake'), '--org', 'acme.okta.com']);
    // Assess
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/events written\s+20\b/);
    expect(readdirSync(join(work, 'lake'), { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('.parquet'))).toBe(true);
    expect(r.specifiers).toContain('@duckdb/node-api');
    expect(awsSdk(r)).toEqual([]);
  });

  it('loads the AWS SDK, from its own chunk, for an s3:// lake', async () => {
    // Act
    const r = await runCli(['import', events, '--out', `s3://${bucket}/lake`, '--s3-endpoint', endpoint, '--org', 'acme.okta.com']);
    // Assess
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/events written\s+20\b/);
    expect(r.specifiers).toContain('@aws-sdk/client-s3');
    expect(r.specifiers.some((s) => /^\.\/chunks\/s3-sink-.+\.mjs$/.test(s))).toBe(true);
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'lake/' }));
    expect((listed.Contents ?? []).some((o) => o.Key?.endsWith('.parquet'))).toBe(true);
  });
});
