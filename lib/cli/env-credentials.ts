/**
 * The CLI's Okta credential: read from the environment (or a key file it names), never from the
 * command line (which other users of the machine can read in the process list).
 */
import { readFileSync } from 'node:fs';
import { credentialsFromEnvironment, type CredentialProvider } from '../core/okta/credentials';
import { CredentialEnvironmentError } from '../core/okta/errors';
import type { OktaOrg } from '../core/okta/org';
import { UsageError } from './args';

/**
 * Builds the credential provider from the environment: the variables of one credential kind of the
 * registry (`OKTA_API_TOKEN`, or the OAuth service app's `OKTA_CLIENT_ID`, `OKTA_PRIVATE_KEY_FILE`, ...).
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv, org: OktaOrg): CredentialProvider {
  try {
    return credentialsFromEnvironment(env, org, { readFile: (path) => readFileSync(path, 'utf8') });
  } catch (e) {
    if (e instanceof CredentialEnvironmentError) throw new UsageError(e.message, { cause: e.cause });
    throw e;
  }
}
