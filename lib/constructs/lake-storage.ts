/**
 * Where the lake lives: the KMS key, the data bucket (Parquet under `events/` and `late/`,
 * unplaceable events under `quarantine/`, compacted days under `compacted/`: objects there are
 * written once and never replaced), the Athena query results bucket and the server access logs bucket.
 *
 * Secure defaults are fixed here (KMS, versioning, public access blocked, TLS only, retained on stack
 * deletion); only retention and Object Lock come from the configuration.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ArchiveStorageClass, ObjectLockConfig, RetentionConfig } from '../config/config';
import { COMPACTED_PREFIX, EVENTS_PREFIX, LATE_PREFIX, QUARANTINE_PREFIX } from '../core/layout';
import { createScopedKey } from './scoped-key';

/**
 * The prefixes of the lake bucket that hold evidence. Every object under them is written once and
 * never replaced: the bucket policy refuses a PutObject there that does not carry `If-None-Match`.
 */
export const LAKE_PREFIXES = [EVENTS_PREFIX, LATE_PREFIX, QUARANTINE_PREFIX, COMPACTED_PREFIX] as const;

/** Sid of the bucket-policy statement that refuses unconditional writes under LAKE_PREFIXES. */
export const WRITE_ONCE_SID = 'DenyWritesThatCouldReplaceAnObject';

export interface LakeStorageProps {
  readonly retention: RetentionConfig;
  /**
   * Object Lock of the lake bucket (the validated configuration applies it by default).
   * @default - no Object Lock
   */
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

function objectLockRetention(lock: ObjectLockConfig): s3.ObjectLockRetention {
  const period = Duration.days(lock.days);
  return lock.mode === 'COMPLIANCE' ? s3.ObjectLockRetention.compliance(period) : s3.ObjectLockRetention.governance(period);
}

/** A bucket's encryption with the lake key: one data key per bucket, not one KMS request per object. */
const kmsEncrypted = (key: kms.IKey) =>
  ({ encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }) as const satisfies s3.BucketProps;

/**
 * Nobody, our own roles included, may replace an object under the lake prefixes: a PutObject (or
 * CompleteMultipartUpload, or CopyObject) is refused unless it carries `If-None-Match`, with which
 * S3 stores the object only if the key does not exist yet (412 Precondition Failed otherwise).
 *
 * This is the enforcement AWS documents in "Enforce conditional writes on Amazon S3 buckets"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html): condition
 * key `s3:if-none-match`, and `s3:ObjectCreationOperation` so that the parts of a multipart upload
 * (CreateMultipartUpload, UploadPart, UploadPartCopy, which take no conditional header) are not
 * refused, while the CompleteMultipartUpload that creates the object still needs the header. The
 * same page notes that a CopyObject into these prefixes is then refused (403 without the header,
 * 501 with it): nothing in okta-lake copies into the lake.
 */
function writeOnceStatement(bucket: s3.IBucket): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: WRITE_ONCE_SID,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:PutObject'],
    resources: LAKE_PREFIXES.map((prefix) => bucket.arnForObjects(`${prefix}/*`)),
    conditions: {
      Null: { 's3:if-none-match': 'true' },
      Bool: { 's3:ObjectCreationOperation': 'true' },
    },
  });
}

export class LakeStorage extends Construct {
  /** Encrypts the lake, the Athena results and the DynamoDB tables (not the Okta credentials: they have their own key). */
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly athenaResultsBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LakeStorageProps) {
    super(scope, id);

    this.key = createScopedKey(this, 'Key', {
      description: 'okta-lake: encrypts the Okta System Log lake, Athena results, watermarks and detection state',
      viaServices: ['s3', 'dynamodb'],
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
    // A bucket created with Object Lock carries it in both properties. One created without it (an
    // earlier deployment) gets it through ObjectLockConfiguration alone, which CloudFormation updates
    // in place; changing the top-level ObjectLockEnabled would make it replace the bucket.
    const atCreation = lock !== undefined && !lock.existingBucket;
    this.bucket = new s3.Bucket(this, 'Data', {
      ...SECURE_BUCKET_DEFAULTS,
      // The lake writes many small objects: the bucket key saves a KMS request per object.
      ...kmsEncrypted(this.key),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [lakeLifecycleRule(props.retention)],
      objectLockEnabled: atCreation ? true : undefined,
      objectLockDefaultRetention: atCreation ? objectLockRetention(lock) : undefined,
    });
    if (lock?.existingBucket) {
      (this.bucket.node.defaultChild as s3.CfnBucket).objectLockConfiguration = {
        objectLockEnabled: 'Enabled',
        rule: { defaultRetention: { mode: lock.mode, days: lock.days } },
      };
    }
    this.bucket.addToResourcePolicy(writeOnceStatement(this.bucket));

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
