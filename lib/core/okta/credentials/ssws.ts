/** The `ssws` credential kind: an Okta API token, sent as `Authorization: SSWS <token>`. */
import { inspect } from 'node:util';
import { CredentialsError } from '../errors';
import { nonEmptyString, type CredentialKind } from './kind';
import { HEADER_SAFE, REDACTED, type CredentialProvider } from './provider';

/** An Okta API token, sent as `Authorization: SSWS <token>`. */
export class SswsToken implements CredentialProvider {
  readonly kind = 'ssws' as const;
  readonly #token: string;

  constructor(token: string) {
    if (typeof token !== 'string' || token.length === 0) throw new CredentialsError('SSWS API token is missing or empty');
    if (!HEADER_SAFE.test(token)) {
      throw new CredentialsError('SSWS API token contains white space or characters not allowed in an HTTP header');
    }
    this.#token = token;
  }

  authorization(): Promise<string> {
    return Promise.resolve(`SSWS ${this.#token}`);
  }

  /** API tokens are not cached tokens: nothing to drop. */
  invalidate(): void {}

  toJSON(): Record<string, string> {
    return { kind: this.kind, token: REDACTED };
  }

  toString(): string {
    return `SswsToken { token: ${REDACTED} }`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** `{"type": "ssws", "token": "00aBcD..."}`, or `OKTA_API_TOKEN`. */
export const sswsKind: CredentialKind<'ssws'> = {
  name: 'ssws',
  title: 'API token',
  shortTitle: 'SSWS',
  secretFields: [{ name: 'token', required: true, accepts: nonEmptyString, expected: 'a non-empty string' }],
  envVars: [{ name: 'OKTA_API_TOKEN', field: 'token', required: true, choosesKind: true }],
  envHelp: [['OKTA_API_TOKEN', 'an SSWS API token, or']],
  build: (values) => new SswsToken(values.token as string),
  renewsOnUnauthorized: false,
  refusalHint: (status) =>
    status === 403
      ? 'Check that the admin who created the API token has an admin role that can read the System Log (e.g. Read-only Administrator).'
      : 'Check that the API token is valid and not expired (tokens expire after 30 days unused or when revoked) and that the admin who created it is still active.',
};
