/**
 * S3 URLs of the lake (`s3://bucket/prefix`), parsed and checked without loading the AWS SDK, so a
 * command can refuse a malformed `--out` before it does any work.
 */
import { ConfigError } from '../core/errors';
import { assertSinkKey } from './sink-keys';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function assertBucketName(bucket: string): string {
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new ConfigError(
      `S3 bucket name "${bucket}" is not valid: use 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit`,
    );
  }
  return bucket;
}

/**
 * The prefix without leading or trailing slashes (`'/a/b/'` becomes `'a/b'`, `''` stays `''`).
 * Throws `ConfigError` for empty, `.` or `..` segments inside it.
 */
export function normaliseS3Prefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  try {
    assertSinkKey(trimmed);
  } catch (err) {
    throw new ConfigError(`S3 key prefix "${prefix}" is not allowed: ${(err as Error).message}`, { cause: err });
  }
  return trimmed;
}

/** Splits `s3://bucket` or `s3://bucket/some/prefix/` into a bucket and a normalised prefix. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!m) throw new ConfigError(`"${url}" is not an S3 URL: expected s3://bucket or s3://bucket/prefix`);
  return { bucket: assertBucketName(m[1] ?? ''), prefix: normaliseS3Prefix(m[2] ?? '') };
}
