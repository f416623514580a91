/**
 * Where the lake lives: the KMS key, the data bucket (Parquet under `events/`, unplaceable events
 * under `quarantine/`), the Athena query results bucket and the server access logs bucket.
 *
 * Secure defaults are fixed here (KMS, versioning, public access blocked, TLS only, retained on stack
 * deletion); only retention and Object Lock come from the configuration.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ArchiveStorageClass, ObjectLockConfig, RetentionConfig } from '../config/config';
import { createScopedKey } from './scoped-key';

export interface LakeStorageProps {
  readonly retention: RetentionConfig;
  /** @default - no Object Lock */
  readonly objectLock?: ObjectLockConfig;
  /**
   * Days Athena query results are kept.
   * @default 30
   */
  readonly athenaResultsExpireDays?: number;
  /**
   * Days S3 server access logs are kept.
   * @default 365
   */
  readonly accessLogsExpireDays?: number;
}

const ARCHIVE_CLASSES: Record<ArchiveStorageClass, s3.StorageClass> = {
  GLACIER_IR: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
  GLACIER: s3.StorageClass.GLACIER,
  DEEP_ARCHIVE: s3.StorageClass.DEEP_ARCHIVE,
};

/** The lifecycle rule of the lake bucket for a retention configuration. */
export function lakeLifecycleRule(retention: RetentionConfig): s3.LifecycleRule {
  const transitions: s3.Transition[] = [];
  if (retention.infrequentAccessAfterDays !== 'never') {
    transitions.push({ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(retention.infrequentAccessAfterDays) });
  }
  if (retention.archiveAfterDays !== 'never') {
    transitions.push({ storageClass: ARCHIVE_CLASSES[retention.archiveStorageClass], transitionAfter: Duration.days(retention.archiveAfterDays) });
  }
  return {
    id: 'lake-retention',
    enabled: true,
    abortIncompleteMultipartUploadAfter: Duration.days(7),
    transitions,
    expiration: retention.expireAfterDays === 'never' ? undefined : Duration.days(retention.expireAfterDays),
    noncurrentVersionExpiration: Duration.days(retention.noncurrentVersionExpireAfterDays),
    expiredObjectDeleteMarker: retention.expireAfterDays === 'never' ? true : undefined,
  };
}

/**
 * What every bucket of the lake has, whatever it holds: public access blocked, owner-enforced
 * objects, TLS 1.2+ only, versioning, kept when the stack is deleted. Callers add encryption, logging
 * and lifecycle, and may override by spreading.
 */
const SECURE_BUCKET_DEFAULTS = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  versioned: true,
  removalPolicy: RemovalPolicy.RETAIN,
} as const satisfies s3.BucketProps;

/** A bucket's encryption with the lake key: one data key per bucket, not one KMS request per object. */
const kmsEncrypted = (key: kms.IKey) =>
  ({ encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }) as const satisfies s3.BucketProps;

export class LakeStorage extends Construct {
  /** Encrypts the lake, the Athena results, the watermark table and the credential secrets the stack creates. */
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly athenaResultsBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LakeStorageProps) {
    super(scope, id);

    this.key = createScopedKey(this, 'Key', {
      description: 'okta-lake: encrypts the Okta System Log lake, Athena results, watermarks and Okta credentials',
      viaServices: ['s3', 'dynamodb', 'secretsmanager'],
      grantServices: ['dynamodb'],
    });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...SECURE_BUCKET_DEFAULTS,
      // S3 server access logging cannot deliver into a bucket encrypted with a KMS key.
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(props.accessLogsExpireDays ?? 365),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    const lock = props.objectLock;
    this.bucket = new s3.Bucket(this, 'Data', {
      ...SECURE_BUCKET_DEFAULTS,
      // The lake writes many small objects: the bucket key saves a KMS request per object.
      ...kmsEncrypted(this.key),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [lakeLifecycleRule(props.retention)],
      objectLockEnabled: lock ? true : undefined,
      objectLockDefaultRetention: lock
        ? lock.mode === 'COMPLIANCE'
          ? s3.ObjectLockRetention.compliance(Duration.days(lock.days))
          : s3.ObjectLockRetention.governance(Duration.days(lock.days))
        : undefined,
    });

    this.athenaResultsBucket = new s3.Bucket(this, 'AthenaResults', {
      ...SECURE_BUCKET_DEFAULTS,
      ...kmsEncrypted(this.key),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        {
          id: 'expire-query-results',
          expiration: Duration.days(props.athenaResultsExpireDays ?? 30),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }
}
