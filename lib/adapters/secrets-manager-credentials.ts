/**
 * The Okta credential of each org, read from AWS Secrets Manager (`GetSecretValue`, the secret's
 * JSON as `credentialsFromSecret` reads it: its `"type"` names a kind of the registry
 * `CREDENTIAL_KINDS`, whose `secretFields` are the other fields allowed) and kept for `ttlMs`, so a rotated or replaced secret is
 * picked up within that time. The secret is never logged and never part of an error message.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, OktaLakeError } from '../core/errors';
import { credentialsFromSecret, type CredentialKindName, type CredentialProvider } from '../core/okta/credentials';
import type { OktaOrg } from '../core/okta/org';

/** The org's credential secret could not be read (missing, not filled in yet, not text, access denied). */
export class CredentialSecretError extends OktaLakeError {}

/** A credential read from Secrets Manager is used for at most this long before it is read again. */
export const CREDENTIAL_TTL_MS = 15 * 60_000;

/** Which secret holds an org's credential, and the kind of credential the org is configured with. */
export interface OrgCredentialRef {
  readonly org: OktaOrg;
  readonly secretId: string;
  /** The credential kind configured for the org (`orgs[].auth`). */
  readonly auth: CredentialKindName;
}

export interface SecretsManagerCredentialsOptions {
  readonly client: SecretsManagerClient;
  /** @default CREDENTIAL_TTL_MS (15 minutes) */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

interface Cached {
  readonly credentials: CredentialProvider;
  readonly loadedAt: number;
}

export class SecretsManagerCredentials {
  readonly #client: SecretsManagerClient;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();

  constructor(options: SecretsManagerCredentialsOptions) {
    this.#client = options.client;
    this.#ttlMs = options.ttlMs ?? CREDENTIAL_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The org's credential: the one read less than `ttlMs` ago (the same object), or read now.
   * Throws `CredentialSecretError` when the secret cannot be read, `CredentialsError` when it is
   * not a valid credential, `ConfigError` when it is not of the org's configured kind.
   */
  async credentialsFor(ref: OrgCredentialRef): Promise<CredentialProvider> {
    const cached = this.#cache.get(ref.org.host);
    if (cached && this.#now() - cached.loadedAt < this.#ttlMs) return cached.credentials;
    const credentials = credentialsFromSecret(await this.#readSecret(ref), ref.org);
    if (credentials.kind !== ref.auth) {
      throw new ConfigError(
        `the Okta credential secret "${ref.secretId}" of ${ref.org.host} is of type "${credentials.kind}", but the org is configured with auth "${ref.auth}"`,
      );
    }
    this.#cache.set(ref.org.host, { credentials, loadedAt: this.#now() });
    return credentials;
  }

  /** Drops the org's cached credential (Okta refused it; it may have been replaced): the next call reads the secret. */
  forget(orgHost: string): void {
    this.#cache.delete(orgHost);
  }

  async #readSecret(ref: OrgCredentialRef): Promise<string> {
    let secretString: string | undefined;
    try {
      const out = await this.#client.send(new GetSecretValueCommand({ SecretId: ref.secretId }));
      secretString = out.SecretString;
    } catch (cause) {
      const name = cause instanceof Error ? cause.name : 'Error';
      if (name === 'ResourceNotFoundException') {
        throw new CredentialSecretError(
          `the Okta credential secret "${ref.secretId}" of ${ref.org.host} has no value yet (or does not exist): ` +
            'put the credential into it with `aws secretsmanager put-secret-value` (docs/deploy.md)',
          { cause },
        );
      }
      throw new CredentialSecretError(`could not read the Okta credential secret "${ref.secretId}" of ${ref.org.host} (${name})`, { cause });
    }
    if (secretString === undefined) {
      throw new CredentialSecretError(`the Okta credential secret "${ref.secretId}" of ${ref.org.host} holds binary data; expected JSON text`);
    }
    return secretString;
  }
}
