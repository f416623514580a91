import '../support/aws-env';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CREDENTIAL_TTL_MS, CredentialSecretError, SecretsManagerCredentials } from '../../lib/adapters/secrets-manager-credentials';
import { ConfigError } from '../../lib/core/errors';
import { parseOrg } from '../../lib/core/okta/org';

const secrets = mockClient(SecretsManagerClient);
const TOKEN = '00aAdapterTestToken-never-in-a-message-0123';
const ref = { org: parseOrg('acme.okta.com'), secretId: 'okta-lake/acme', auth: 'ssws' as const };

beforeEach(() => {
  secrets.reset();
});

function store(now: () => number = Date.now): SecretsManagerCredentials {
  return new SecretsManagerCredentials({ client: new SecretsManagerClient({ maxAttempts: 1 }), now });
}

describe('SecretsManagerCredentials', () => {
  it('reads the secret once per TTL, and again after it or after forget()', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ type: 'ssws', token: TOKEN }) });
    let t = 1_000_000;
    const credentials = store(() => t);
    // Act
    const first = await credentials.credentialsFor(ref);
    t += CREDENTIAL_TTL_MS - 1;
    const cached = await credentials.credentialsFor(ref);
    t += 1;
    const reread = await credentials.credentialsFor(ref);
    credentials.forget(ref.org.host);
    const afterForget = await credentials.credentialsFor(ref);
    // Assess
    expect(first.kind).toBe('ssws');
    expect(cached).toBe(first);
    expect(reread).not.toBe(first);
    expect(afterForget).not.toBe(reread);
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual(Array(3).fill({ SecretId: 'okta-lake/acme' }));
  });

  it('names a secret with no value yet, and says how to fill it in', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('no value'), { name: 'ResourceNotFoundException' }));
    // Act
    const error = await store().credentialsFor(ref).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(CredentialSecretError);
    expect((error as Error).message).toMatch(/"okta-lake\/acme" of acme\.okta\.com has no value yet .*put-secret-value/);
    expect((error as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses binary data and a credential of another kind than the org is configured with, never quoting it', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretBinary: new Uint8Array([1]) }).resolves({ SecretString: JSON.stringify({ type: 'ssws', token: TOKEN }) });
    const credentials = store();
    // Act
    const binary = await credentials.credentialsFor(ref).catch((e: unknown) => e);
    const otherKind = await credentials.credentialsFor({ ...ref, auth: 'oauth' }).catch((e: unknown) => e);
    // Assess
    expect(binary).toBeInstanceOf(CredentialSecretError);
    expect((binary as Error).message).toContain('holds binary data');
    expect(otherKind).toBeInstanceOf(ConfigError);
    expect((otherKind as Error).message).toContain('is of type "ssws", but the org is configured with auth "oauth"');
    expect(`${String(binary)} ${String(otherKind)}`).not.toContain(TOKEN);
  });
});
