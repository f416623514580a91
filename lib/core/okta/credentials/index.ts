/**
 * The registry of credential kinds, and what reads it: the secret JSON (kept in AWS Secrets Manager
 * or a file), the CLI's environment variables, the configuration's `orgs[].auth`, and the client's
 * hints when Okta refuses a credential. Adding a kind is one file of this folder and one entry in
 * {@link CREDENTIAL_KINDS}.
 */
import type { OktaOrg } from '../org';
import { CredentialEnvironmentError, CredentialsError } from '../errors';
import type { CredentialKind } from './kind';
import { oauthKind } from './oauth';
import type { CredentialDeps, CredentialProvider } from './provider';
import { sswsKind } from './ssws';

export { raceAbort, type CredentialDeps, type CredentialProvider } from './provider';
export type { CredentialEnvVar, CredentialKind, CredentialSecretField, CredentialSource } from './kind';
export * from './ssws';
export * from './oauth';

/** Every credential kind okta-lake knows, in the order messages and the CLI help list them. */
export const CREDENTIAL_KINDS = [sswsKind, oauthKind] as const;

/** The name of a credential kind: `orgs[].auth` in the configuration, `"type"` in the secret. */
export type CredentialKindName = (typeof CREDENTIAL_KINDS)[number]['name'];

/** The names of {@link CREDENTIAL_KINDS}: what `orgs[].auth` and a secret's `"type"` may be. */
export const CREDENTIAL_KIND_NAMES: readonly CredentialKindName[] = CREDENTIAL_KINDS.map((k) => k.name);

/** The kind named `name`, or undefined when there is none (a provider made outside the registry). */
export function credentialKind(name: string): CredentialKind<CredentialKindName> | undefined {
  return CREDENTIAL_KINDS.find((k) => k.name === name);
}

/** The field name `"type"` of the secret JSON, which names the kind. */
export const SECRET_KIND_FIELD = 'type';

const orList = (items: readonly string[]): string => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`);
const andList = (items: readonly string[]): string => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

/** Every field a secret of `kind` may have, `"type"` first. */
export function secretFieldNames(kind: CredentialKind): string[] {
  return [SECRET_KIND_FIELD, ...kind.secretFields.map((f) => f.name)];
}

/**
 * Builds the credential provider from the Okta secret kept in AWS Secrets Manager (or a local file).
 * The secret string is a JSON object whose `"type"` names the kind ({@link CREDENTIAL_KINDS}) and
 * whose other fields are that kind's `secretFields`:
 *
 * ```json
 * {"type": "ssws", "token": "00aBcD..."}
 * ```
 * an Okta API token (sent as `Authorization: SSWS <token>`), or
 *
 * ```json
 * {"type": "oauth", "clientId": "0oa1b2c3d4", "privateKey": "-----BEGIN PRIVATE KEY-----\n...", "keyId": "optional-kid"}
 * ```
 * an OAuth 2.0 service app with the `okta.logs.read` scope granted, using `private_key_jwt`:
 * `privateKey` is a PEM private key (PKCS#8 `BEGIN PRIVATE KEY`, or `BEGIN RSA/EC PRIVATE KEY`) or a
 * private JWK given as a JSON object (`{"kty":"RSA","n":...,"d":...}`); `keyId` (optional) is the
 * `kid` of the public key registered on the app (a JWK's own `kid` is used when `keyId` is absent);
 * `dpop` (optional) is `"auto"` (the default), `"always"` or `"never"` (see `DpopMode`).
 * RSA keys (2048 bits or more) sign with RS256, EC P-256 keys with ES256.
 *
 * Throws {@link CredentialsError} naming the missing or invalid field; never includes a value, nor
 * the name of a field it does not know (it says how many there are).
 */
export function credentialsFromSecret(secretString: string, org: OktaOrg, deps: CredentialDeps = {}): CredentialProvider {
  const shapes = orList(CREDENTIAL_KINDS.map((k) => `{"type":"${k.name}",...}`));
  if (typeof secretString !== 'string' || secretString.trim() === '') throw new CredentialsError('Okta secret is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    // No cause: JSON.parse error messages quote parts of the input, which is a secret.
    throw new CredentialsError(`Okta secret is not valid JSON: expected ${shapes}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CredentialsError(`Okta secret must be a JSON object: ${shapes}`);
  }
  const secret = parsed as Record<string, unknown>;
  const type = secret[SECRET_KIND_FIELD];
  const kind = typeof type === 'string' ? credentialKind(type) : undefined;
  if (!kind) {
    throw new CredentialsError(`Okta secret field "${SECRET_KIND_FIELD}" must be ${orList(CREDENTIAL_KIND_NAMES.map((n) => `"${n}"`))}`);
  }
  // Unknown fields are counted, never named: a key name is part of the secret too (a token pasted
  // as a key, `{"type":"ssws","00aBc...":""}`, must not reach an error message or a log line).
  const allowed = secretFieldNames(kind);
  const unknownFields = Object.keys(secret).filter((k) => !allowed.includes(k)).length;
  if (unknownFields > 0) {
    const fields = unknownFields === 1 ? '1 unknown field' : `${unknownFields} unknown fields`;
    throw new CredentialsError(`Okta secret of type "${kind.name}" has ${fields} (not named here: a field name may be a secret); allowed: ${allowed.join(', ')}`);
  }
  for (const field of kind.secretFields) {
    const value = secret[field.name];
    if (field.required && !field.accepts(value)) {
      throw new CredentialsError(`Okta secret field "${field.name}" is missing or not ${field.expected}`);
    }
    if (!field.required && value !== undefined && !field.accepts(value)) {
      throw new CredentialsError(`Okta secret field "${field.name}" must be ${field.expected} when present`);
    }
  }
  const values = Object.fromEntries(kind.secretFields.map((f) => [f.name, secret[f.name]]));
  return kind.build(values, { org, deps, source: 'secret' });
}

/** Dependencies of {@link credentialsFromEnvironment}. */
export interface CredentialEnvironmentDeps extends CredentialDeps {
  /** Reads a file named by a variable (a key file), as UTF-8 text. */
  readonly readFile: (path: string) => string;
}

/**
 * Builds the credential provider from environment variables: the one kind whose choosing variables
 * ({@link CredentialEnvVar.choosesKind}) are set, with its variables (an empty one counts as unset).
 * Throws {@link CredentialEnvironmentError} when no kind or more than one is chosen, a required
 * variable is missing, a file cannot be read or a value is not one allowed; `CredentialsError`
 * when the kind refuses a value.
 */
export function credentialsFromEnvironment(env: Readonly<Record<string, string | undefined>>, org: OktaOrg, deps: CredentialEnvironmentDeps): CredentialProvider {
  const set = (name: string): string | undefined => env[name] || undefined;
  const required = (kind: CredentialKind): string[] => kind.envVars.filter((v) => v.required).map((v) => v.name);
  const chosen = CREDENTIAL_KINDS.filter((k) => k.envVars.some((v) => v.choosesKind && set(v.name) !== undefined));
  if (chosen.length > 1) {
    throw new CredentialEnvironmentError(`set either ${chosen.map((k) => `${andList(required(k))} (${k.shortTitle})`).join(' or ')}, not both`);
  }
  const kind = chosen[0];
  if (!kind) throw new CredentialEnvironmentError(`no Okta credential: set ${credentialEnvironmentChoices()}`);
  const needed = required(kind);
  if (needed.some((name) => set(name) === undefined)) {
    throw new CredentialEnvironmentError(`${kind.shortTitle} needs ${needed.length === 2 ? 'both ' : ''}${andList(needed)}`);
  }
  const values: Record<string, string | undefined> = {};
  for (const v of kind.envVars) {
    const value = set(v.name);
    if (value === undefined || !v.file) {
      values[v.field] = value;
      continue;
    }
    try {
      values[v.field] = deps.readFile(value);
    } catch (cause) {
      throw new CredentialEnvironmentError(`cannot read ${v.name} (${value})`, { cause });
    }
  }
  for (const v of kind.envVars) {
    const value = values[v.field];
    if (v.oneOf && value !== undefined && !v.oneOf.includes(value)) throw new CredentialEnvironmentError(`${v.name} must be ${orList(v.oneOf)}`);
  }
  return kind.build(values, { org, deps, source: 'environment' });
}

/** The required variables of each kind, one kind or the other: `OKTA_API_TOKEN, or OKTA_CLIENT_ID and OKTA_PRIVATE_KEY_FILE`. */
export function credentialEnvironmentChoices(): string {
  return CREDENTIAL_KINDS.map((k) => andList(k.envVars.filter((v) => v.required).map((v) => v.name))).join(', or ');
}

/** The credential section of the CLI help: every kind's variables, then what they are. */
export function credentialEnvironmentHelp(): string {
  const indent = ' '.repeat(40);
  return CREDENTIAL_KINDS.flatMap((k) => k.envHelp)
    .map(([vars, text]) => `  ${vars.padEnd(37)} ${text.split('\n').join(`\n${indent}`)}`)
    .join('\n');
}

/**
 * What to check when Okta refused a credential of kind `name` on an API request (HTTP 401 or 403),
 * `afterNewToken` when a freshly issued token was refused too.
 */
export function credentialRefusalHint(name: string, status: 401 | 403, afterNewToken: boolean): string {
  const kind = credentialKind(name);
  return kind ? kind.refusalHint(status, afterNewToken) : 'Check that the credential is valid and that it has an admin role that can read the System Log.';
}
