/**
 * What a credential kind declares. Every kind is one file of this folder, listed once in the
 * registry (`CREDENTIAL_KINDS` in `./index.ts`); the Secrets Manager adapter, the CLI's environment,
 * the configuration's `orgs[].auth` and the client's hints on HTTP 401/403 all read it from there.
 *
 * One name for the concept: a credential *kind*. Its name is what users write as `orgs[].auth` in
 * the configuration and as `"type"` in the secret JSON (public names that stay as they are).
 */
import type { OktaOrg } from '../org';
import type { CredentialDeps, CredentialProvider } from './provider';

/** A field of the kind's secret JSON (besides `"type"`, which names the kind). */
export interface CredentialSecretField {
  readonly name: string;
  readonly required: boolean;
  /** Whether a value is acceptable (the kind's provider checks it further). */
  readonly accepts: (value: unknown) => boolean;
  /** What an acceptable value is, for the error message: `a non-empty string`. */
  readonly expected: string;
}

/** An environment variable the CLI reads for the kind; `field` is the secret field it stands for. */
export interface CredentialEnvVar {
  readonly name: string;
  /** The secret field whose value it gives. */
  readonly field: string;
  readonly required: boolean;
  /** Setting it chooses this kind (the CLI takes the one kind whose choosing variables are set). */
  readonly choosesKind: boolean;
  /** The variable names a file, whose content is the value (a key file). */
  readonly file?: boolean;
  /** The values it may take. @default any */
  readonly oneOf?: readonly string[];
}

/** Where the values given to {@link CredentialKind.build} come from. */
export type CredentialSource = 'secret' | 'environment';

export interface CredentialKind<Name extends string = string> {
  /** `orgs[].auth` in the configuration and `"type"` in the secret. */
  readonly name: Name;
  /** How people call it: `API token` (the created secret's description). */
  readonly title: string;
  /** Its short name in messages that name several kinds: `SSWS`, `OAuth`. */
  readonly shortTitle: string;
  /** Fields of the secret JSON, besides `"type"`. */
  readonly secretFields: readonly CredentialSecretField[];
  /** Environment variables of the CLI (`okta-lake ingest`, `reconcile`). */
  readonly envVars: readonly CredentialEnvVar[];
  /** Rows of the CLI help's credential section: variables, then what they are. */
  readonly envHelp: readonly (readonly [string, string])[];
  /**
   * The provider, from values keyed by secret field name, already checked against
   * {@link secretFields} (from the secret) or {@link envVars} (from the environment; files read).
   * Throws `CredentialsError` naming a field, never quoting a value.
   */
  build(values: Readonly<Record<string, unknown>>, context: { readonly org: OktaOrg; readonly deps: CredentialDeps; readonly source: CredentialSource }): CredentialProvider;
  /**
   * Whether an HTTP 401 on an API request is answered by dropping the token and getting a new one
   * once (`invalidate()`): true for kinds whose tokens expire.
   */
  readonly renewsOnUnauthorized: boolean;
  /** What to check when Okta refused the credential on an API request (HTTP 401 or 403). */
  refusalHint(status: 401 | 403, afterNewToken: boolean): string;
}

/** Whether `value` is a non-empty string. */
export const nonEmptyString = (value: unknown): boolean => typeof value === 'string' && value !== '';
