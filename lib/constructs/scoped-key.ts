/**
 * A customer-managed KMS key with rotation and an explicit key policy: no `kms:*`, no action
 * wildcards. The account can administer the key (so CloudFormation and key admins can manage it) and
 * can use it only through the AWS services named here (`kms:ViaService`), never directly. A key can
 * also be made decryptable by one principal only (`decryptOnlyBy`): the account may then encrypt
 * with it through those services, and only that principal may decrypt.
 */
import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Key administration, listed action by action. None of them encrypts or decrypts data. */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
] as const;

/** Data-key operations an AWS service performs with the key on a caller's behalf. */
export const KEY_USE_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
] as const;

/**
 * What the account may do with a key whose decryption is reserved to one principal: encrypt through
 * the named services (Secrets Manager storing a new secret value asks for a data key on the caller's
 * behalf, and re-encrypts existing versions with kms:Encrypt when a secret moves to this key). No
 * kms:Decrypt, and no kms:ReEncryptFrom, which would decrypt into a key the caller controls.
 */
export const KEY_ENCRYPT_ONLY_ACTIONS = ['kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'] as const;

export interface ServicePrincipalUse {
  /** e.g. `cloudwatch.amazonaws.com` */
  readonly service: string;
  readonly actions: readonly string[];
  /**
   * Conditions of the statement: confused-deputy prevention (`aws:SourceAccount`, `aws:SourceArn`)
   * where the service sends those keys with its KMS requests.
   * @default - none
   */
  readonly conditions?: Record<string, Record<string, unknown>>;
}

export interface ScopedKeyProps {
  readonly description: string;
  /**
   * Services (short names, e.g. `s3`, `dynamodb`, `secretsmanager`) through which principals of this
   * account may use the key, as far as their IAM policies allow.
   */
  readonly viaServices: readonly string[];
  /**
   * Services that create grants for their own resources (e.g. `dynamodb` for a table encrypted with
   * the key). Grants are allowed only when `kms:GrantIsForAWSResource` is true.
   * @default []
   */
  readonly grantServices?: readonly string[];
  /**
   * Service principals that use the key directly (e.g. CloudWatch alarms publishing to an encrypted
   * topic).
   * @default []
   */
  readonly servicePrincipals?: readonly ServicePrincipalUse[];
  /**
   * The only principal that may decrypt (kms:Decrypt through `viaServices`); the rest of the account
   * may only encrypt (KEY_ENCRYPT_ONLY_ACTIONS). The principal's IAM policy needs no statement for
   * the key: the key policy grants it directly, which also keeps the key and the role free of a
   * dependency cycle (the key names the role; the role does not name the key).
   * @default - every principal of the account may use the key through `viaServices`, as its IAM policy allows
   */
  readonly decryptOnlyBy?: iam.IPrincipal;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

const viaService = (service: string): string => `${service}.${Aws.REGION}.amazonaws.com`;

/** Builds the key. `key.grant*` helpers must not be used on it: they emit wildcard actions. */
export function createScopedKey(scope: Construct, id: string, props: ScopedKeyProps): kms.Key {
  const account = new iam.AccountRootPrincipal();
  const statements: iam.PolicyStatement[] = [
    new iam.PolicyStatement({
      sid: 'KeyAdministrationByAccount',
      principals: [account],
      actions: [...KEY_ADMIN_ACTIONS],
      resources: ['*'],
    }),
  ];
  const throughServices = { StringEquals: { 'kms:CallerAccount': Aws.ACCOUNT_ID, 'kms:ViaService': props.viaServices.map(viaService) } };
  if (props.decryptOnlyBy) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'EncryptThroughServicesOfThisAccount',
        principals: [account],
        actions: [...KEY_ENCRYPT_ONLY_ACTIONS],
        resources: ['*'],
        conditions: throughServices,
      }),
      new iam.PolicyStatement({
        sid: 'DecryptOnlyByItsReader',
        principals: [props.decryptOnlyBy],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: throughServices,
      }),
    );
  } else {
    statements.push(
      new iam.PolicyStatement({
        sid: 'UseThroughServicesOfThisAccount',
        principals: [account],
        actions: [...KEY_USE_ACTIONS],
        resources: ['*'],
        conditions: throughServices,
      }),
    );
  }
  const grantServices = props.grantServices ?? [];
  if (grantServices.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'GrantsForServiceResources',
        principals: [account],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:CallerAccount': Aws.ACCOUNT_ID, 'kms:ViaService': grantServices.map(viaService) },
          Bool: { 'kms:GrantIsForAWSResource': 'true' },
        },
      }),
    );
  }
  for (const [i, use] of (props.servicePrincipals ?? []).entries()) {
    statements.push(
      new iam.PolicyStatement({
        sid: `DirectUseByServicePrincipal${i}`,
        principals: [new iam.ServicePrincipal(use.service)],
        actions: [...use.actions],
        resources: ['*'],
        ...(use.conditions ? { conditions: use.conditions } : {}),
      }),
    );
  }
  const key = new kms.Key(scope, id, {
    description: props.description,
    enableKeyRotation: true,
    policy: new iam.PolicyDocument({ statements }),
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
  });
  return key;
}
