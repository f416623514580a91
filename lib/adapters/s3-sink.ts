/**
 * The lake in an S3 bucket, under an optional key prefix. Write-once: every put carries
 * `If-None-Match: *`, so S3 refuses (HTTP 412 PreconditionFailed) to replace an object that exists,
 * and the lake bucket's policy denies puts without that header
 * (docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html and
 * conditional-writes-enforce.html). A concurrent conditional write of the same key can answer 409
 * ConditionalRequestConflict; it is retried, and the retry sees 412 when the other write won.
 */
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ObjectExistsError, SinkError } from '../core/errors';
import type { LakeSink } from '../core/ports';
import { assertListPrefix, assertSinkKey } from './sink-keys';

export interface S3ClientOptions {
  /**
   * An S3-compatible endpoint such as `http://127.0.0.1:4568`; path-style addressing is used with it.
   * @default the AWS endpoint of the region
   */
  readonly endpoint?: string;
  /** @default the SDK's region resolution (AWS_REGION, profile) */
  readonly region?: string;
  /** @default the SDK's default credential chain */
  readonly credentials?: S3ClientConfig['credentials'];
}

/**
 * An S3 client set up for the lake: path-style addressing when an endpoint is given, and checksums
 * only when an operation requires them. The SDK's default (`WHEN_SUPPORTED`) sends streamed bodies
 * with aws-chunked framing, which S3-compatible servers such as s3rver store inside the object.
 */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  return new S3Client({
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

import { assertBucketName, normaliseS3Prefix } from './s3-url';

export { normaliseS3Prefix, parseS3Url } from './s3-url';

export interface S3SinkOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /**
   * Key prefix under which the lake lives; leading and trailing slashes are ignored.
   * @default '' (the bucket root)
   */
  readonly prefix?: string;
  /**
   * Encrypt objects with SSE-KMS (`aws:kms`), with this key when `kmsKeyId` is given (the bucket's
   * default KMS key otherwise).
   * @default undefined (the bucket's default encryption applies)
   */
  readonly serverSideEncryption?: { readonly kmsKeyId?: string };
}

/** Tries of a put that S3 answers with 409 ConditionalRequestConflict (a concurrent write of the key). */
const CONFLICT_ATTEMPTS = 4;

function httpStatus(err: unknown): number | undefined {
  return err instanceof Error ? (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode : undefined;
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `${err.name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${err.message}`;
  }
  return String(err);
}

export class S3Sink implements LakeSink {
  readonly location: string;
  readonly bucket: string;
  /** The normalised key prefix, without leading or trailing slash ('' for the bucket root). */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly sse?: { readonly kmsKeyId?: string };

  constructor(options: S3SinkOptions) {
    this.client = options.client;
    this.bucket = assertBucketName(options.bucket);
    this.prefix = normaliseS3Prefix(options.prefix ?? '');
    this.sse = options.serverSideEncryption;
    this.location = this.prefix === '' ? `s3://${this.bucket}` : `s3://${this.bucket}/${this.prefix}`;
  }

  private objectKey(relative: string): string {
    return this.prefix === '' ? relative : `${this.prefix}/${relative}`;
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    const objectKey = this.objectKey(assertSinkKey(key));
    const input: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: objectKey,
      Body: body,
      ContentLength: body.byteLength,
      ContentType: contentType,
      ContentMD5: createHash('md5').update(body).digest('base64'),
      IfNoneMatch: '*',
    };
    if (this.sse !== undefined) {
      input.ServerSideEncryption = 'aws:kms';
      if (this.sse.kmsKeyId !== undefined) input.SSEKMSKeyId = this.sse.kmsKeyId;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new PutObjectCommand(input));
        return;
      } catch (err) {
        const status = httpStatus(err);
        if (status === 412) {
          throw new ObjectExistsError(`s3://${this.bucket}/${objectKey} already exists: the lake is write-once, nothing was written`, key, { cause: err });
        }
        if (status === 409 && attempt < CONFLICT_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
          continue;
        }
        throw new SinkError(`could not store s3://${this.bucket}/${objectKey}: ${describeError(err)}`, { cause: err });
      }
    }
  }

  async list(prefix: string): Promise<string[]> {
    const listPrefix = this.objectKey(assertListPrefix(prefix));
    const strip = this.prefix === '' ? 0 : this.prefix.length + 1;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, ContinuationToken: token }),
        );
      } catch (err) {
        throw new SinkError(`could not list s3://${this.bucket}/${listPrefix}: ${describeError(err)}`, { cause: err });
      }
      for (const object of page.Contents ?? []) {
        const key = object.Key;
        // Zero-byte "folder" markers made by consoles are not lake objects.
        if (key === undefined || key.endsWith('/')) continue;
        keys.push(key.slice(strip));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && token === undefined) {
        throw new SinkError(`listing s3://${this.bucket}/${listPrefix} was truncated without a continuation token`);
      }
    } while (token !== undefined);
    return keys;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const objectKey = this.objectKey(assertSinkKey(key));
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      if (response.Body === undefined) return new Uint8Array(0);
      return await response.Body.transformToByteArray();
    } catch (err) {
      if (err instanceof Error && err.name === 'NoSuchKey') return undefined;
      throw new SinkError(`could not read s3://${this.bucket}/${objectKey}: ${describeError(err)}`, { cause: err });
    }
  }
}
