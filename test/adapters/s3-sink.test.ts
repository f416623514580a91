import '../support/aws-env';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Sink, createS3Client, normaliseS3Prefix, parseS3Url } from '../../lib/adapters/s3-sink';
import { ConfigError, SinkError } from '../../lib/core/errors';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/aws-env';
import { describeLakeSinkContract } from './sink-contract';

const endpoint = inject('s3Endpoint');
const client = createS3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
const bucket = `sink-${randomBytes(6).toString('hex')}`;
const bytes = (text: string) => new TextEncoder().encode(text);

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(() => {
  client.destroy();
});

describeLakeSinkContract('S3Sink (bucket root)', () => new S3Sink({ client, bucket }));
describeLakeSinkContract('S3Sink (with prefix)', () => new S3Sink({ client, bucket, prefix: 'lake/v1' }));

describe('S3Sink', () => {
  it('stores objects under the normalised prefix and lists them relative to it', async () => {
    // Prepare
    const sink = new S3Sink({ client, bucket, prefix: '/prefixed/lake/' });
    const neighbour = new S3Sink({ client, bucket, prefix: 'prefixed/lake2' });
    // Act
    await sink.put('events/a.parquet', bytes('in'), 'application/vnd.apache.parquet');
    await neighbour.put('events/b.parquet', bytes('next door'), 'application/vnd.apache.parquet');
    const raw = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'prefixed/lake/events/a.parquet' }));
    // Assess
    expect(sink.prefix).toBe('prefixed/lake');
    expect(sink.location).toBe(`s3://${bucket}/prefixed/lake`);
    expect(new S3Sink({ client, bucket }).location).toBe(`s3://${bucket}`);
    expect(await raw.Body?.transformToString()).toBe('in');
    expect(raw.ContentType).toBe('application/vnd.apache.parquet');
    expect(await sink.list('')).toEqual(['events/a.parquet']);
    expect(await sink.list('events/')).toEqual(['events/a.parquet']);
  });

  it('pages through listings of more than 1,000 keys', async () => {
    // Prepare: 1,050 small objects, at most 16 writes in flight
    const sink = new S3Sink({ client, bucket, prefix: 'many' });
    const keys = Array.from({ length: 1_050 }, (_, i) => `events/dt=2024-05-01/p${String(i).padStart(5, '0')}.parquet`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < keys.length) {
          const key = keys[next++]!;
          await sink.put(key, bytes(key), 'application/octet-stream');
        }
      }),
    );
    // Act
    const listed = await sink.list('events/');
    // Assess
    expect(listed).toHaveLength(1_050);
    expect([...listed].sort()).toEqual(keys);
  });

  it('asks for SSE-KMS with the configured key', async () => {
    // Prepare: record the headers of the requests this client sends
    const recording = createS3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const seen: Record<string, string>[] = [];
    recording.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) seen.push({ ...request.headers });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordHeaders' },
    );
    const withKey = new S3Sink({ client: recording, bucket, serverSideEncryption: { kmsKeyId: 'alias/okta-lake' } });
    const bucketKey = new S3Sink({ client: recording, bucket, serverSideEncryption: {} });
    const plain = new S3Sink({ client: recording, bucket });
    // Act
    await withKey.put('sse/with-key', bytes('a'), 'text/plain');
    await bucketKey.put('sse/bucket-key', bytes('b'), 'text/plain');
    await plain.put('sse/plain', bytes('c'), 'text/plain');
    recording.destroy();
    // Assess
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatchObject({
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'alias/okta-lake',
    });
    expect(seen[1]).toMatchObject({ 'x-amz-server-side-encryption': 'aws:kms' });
    expect(seen[1]).not.toHaveProperty('x-amz-server-side-encryption-aws-kms-key-id');
    expect(seen[2]).not.toHaveProperty('x-amz-server-side-encryption');
    // the body is sent plain with its MD5, never in aws-chunked framing
    for (const headers of seen) {
      expect(headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(headers['content-encoding'] ?? '').not.toContain('aws-chunked');
    }
  });

  it('wraps failures in SinkError with the key and the cause', async () => {
    // Prepare
    const missing = new S3Sink({ client, bucket: `missing-${randomBytes(4).toString('hex')}`, prefix: 'p' });
    // Act
    const putError = await missing.put('events/x.parquet', bytes('x'), 'text/plain').catch((e: unknown) => e);
    // Assess
    expect(putError).toBeInstanceOf(SinkError);
    expect((putError as Error).message).toContain(`${missing.location}/events/x.parquet`);
    expect((putError as Error).cause).toMatchObject({ name: 'NoSuchBucket' });
    expect((putError as Error).message).not.toContain(TEST_CREDENTIALS.secretAccessKey);
    await expect(missing.list('events/')).rejects.toBeInstanceOf(SinkError);
    await expect(missing.get('events/x.parquet')).rejects.toBeInstanceOf(SinkError);
  });

  it('refuses an invalid bucket name or prefix', () => {
    expect(() => new S3Sink({ client, bucket: 'Not_A_Bucket' })).toThrow(ConfigError);
    expect(() => new S3Sink({ client, bucket, prefix: 'a/../b' })).toThrow(/not allowed/);
  });
});

describe('createS3Client', () => {
  it('uses path-style addressing only with an endpoint, and checksums only when required', async () => {
    // Prepare / Act
    const local = createS3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const aws = createS3Client({ region: 'eu-west-1', credentials: TEST_CREDENTIALS });
    // Assess
    expect(local.config.forcePathStyle).toBe(true);
    expect(aws.config.forcePathStyle).toBeFalsy();
    for (const c of [local, aws]) {
      expect(await c.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
      expect(await c.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    }
    expect(await aws.config.region()).toBe('eu-west-1');
    local.destroy();
    aws.destroy();
  });
});

describe('parseS3Url', () => {
  it('splits bucket and prefix, normalising slashes', () => {
    expect(parseS3Url('s3://my-lake')).toEqual({ bucket: 'my-lake', prefix: '' });
    expect(parseS3Url('s3://my-lake/')).toEqual({ bucket: 'my-lake', prefix: '' });
    expect(parseS3Url('s3://my-lake/okta/logs/')).toEqual({ bucket: 'my-lake', prefix: 'okta/logs' });
    expect(normaliseS3Prefix('//a/b//')).toBe('a/b');
  });

  it('refuses what is not an S3 URL with a specific message', () => {
    expect(() => parseS3Url('https://my-lake/x')).toThrow(/not an S3 URL/);
    expect(() => parseS3Url('s3://')).toThrow(/bucket name "" is not valid/);
    expect(() => parseS3Url('s3://My_Lake/x')).toThrow(ConfigError);
    expect(() => parseS3Url('s3://my-lake/a//b')).toThrow(/empty path segment/);
    expect(() => parseS3Url('s3://my-lake/../b')).toThrow(/could leave the sink root/);
  });
});
