import '../support/aws-env';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createS3Client } from '../../lib/adapters/s3-sink';
import { lakeLabelOf, openLakeTarget } from '../../lib/cli/lake-target';
import { parseOrg } from '../../lib/core/okta/org';
import { ConfigError } from '../../lib/core/errors';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';

const endpoint = inject('s3Endpoint');
const admin = createS3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
const bucket = `target-${randomBytes(6).toString('hex')}`;
const dirs: string[] = [];
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array | undefined) => (body === undefined ? undefined : new TextDecoder().decode(body));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'okta-lake-target-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(() => {
  admin.destroy();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('openLakeTarget', () => {
  it('opens a folder lake with its state beside it in _state', async () => {
    // Prepare
    const out = join(tempDir(), 'lake');
    const target = openLakeTarget({ out });
    // Act
    await target.sink.put('org=a/dt=2024-01-01/hour=00/p.parquet', bytes('folder'), 'application/vnd.apache.parquet');
    const listed = await target.sink.list('org=a/');
    const got = await target.sink.get('org=a/dt=2024-01-01/hour=00/p.parquet');
    target.close();
    // Assess
    expect(target.sink.location).toBe(out);
    expect(target.stateLocation).toBe(join(out, '_state'));
    expect(listed).toEqual(['org=a/dt=2024-01-01/hour=00/p.parquet']);
    expect(text(got)).toBe('folder');
    expect(existsSync(join(out, 'org=a/dt=2024-01-01/hour=00/p.parquet'))).toBe(true);
  });

  it('opens an S3 lake whose sink loads the S3 client on first use and stores under the prefix', async () => {
    // Prepare
    const stateDir = tempDir();
    const target = openLakeTarget({ out: `s3://${bucket}/lake/v1/`, s3Endpoint: endpoint, stateDir });
    // Act
    await target.sink.put('org=a/x.parquet', bytes('s3'), 'application/vnd.apache.parquet');
    const listed = await target.sink.list('');
    const got = await target.sink.get('org=a/x.parquet');
    const missing = await target.sink.get('org=a/none.parquet');
    const other = openLakeTarget({ out: `s3://${bucket}`, s3Endpoint: endpoint, stateDir });
    const fromRoot = await other.sink.list('lake/');
    target.close();
    other.close();
    // Assess
    expect(target.sink.location).toBe(`s3://${bucket}/lake/v1`);
    expect(target.stateLocation).toBe(stateDir);
    expect(listed).toEqual(['org=a/x.parquet']);
    expect(text(got)).toBe('s3');
    expect(missing).toBeUndefined();
    expect(fromRoot).toEqual(['lake/v1/org=a/x.parquet']);
  });

  it('refuses a malformed S3 URL when the target is opened, before any work, as a ConfigError', () => {
    const stateDir = tempDir();
    expect(() => openLakeTarget({ out: 's3://Not_A_Bucket/x', s3Endpoint: endpoint, stateDir })).toThrow(ConfigError);
    expect(() => openLakeTarget({ out: 's3://Not_A_Bucket/x', s3Endpoint: endpoint, stateDir })).toThrow(/bucket name "Not_A_Bucket" is not valid/);
    expect(() => openLakeTarget({ out: 's3://a//b', s3Endpoint: endpoint, stateDir })).toThrow(ConfigError);
  });
});

describe('lakeLabelOf', () => {
  it('files an org under its host unless told another org label, and refuses anything else', () => {
    // Prepare
    const mock = parseOrg('http://127.0.0.1:8080', { allowInsecureLoopback: true });
    // Act / Assess
    expect(lakeLabelOf(mock)).toBe('127.0.0.1-8080');
    expect(lakeLabelOf(mock, 'acme-demo.okta.com')).toBe('acme-demo.okta.com');
    expect(lakeLabelOf(parseOrg('acme.okta.com'))).toBe('acme.okta.com');
    for (const bad of ['Acme.okta.com', 'a,b', '../x', '']) expect(() => lakeLabelOf(mock, bad), bad).toThrow(/is not allowed/);
  });
});
