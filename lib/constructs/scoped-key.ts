/**
 * A customer-managed KMS key with rotation and an explicit key policy: no `kms:*`, no action
 * wildcards. The account can administer the key (so CloudFormation and key admins can manage it) and
 * can use it only through the AWS services named here (`kms:ViaService`), never directly.
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

export interface ServicePrincipalUse {
  /** e.g. `cloudwatch.amazonaws.com` */
  readonly service: string;
  readonly actions: readonly string[];
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
  /** Service principals that use the key directly (e.g. CloudWatch alarms publishing to an encrypted topic). @default [] */
  readonly servicePrincipals?: readonly ServicePrincipalUse[];
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
    new iam.PolicyStatement({
      sid: 'UseThroughServicesOfThisAccount',
      principals: [account],
      actions: [...KEY_USE_ACTIONS],
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:CallerAccount': Aws.ACCOUNT_ID, 'kms:ViaService': props.viaServices.map(viaService) },
      },
    }),
  ];
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
