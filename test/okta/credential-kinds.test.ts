/**
 * The registry of credential kinds drives every consumer: the environment the CLI reads, the secret
 * fields the Secrets Manager adapter accepts, the kinds the configuration accepts as `orgs[].auth`,
 * and the client's hint when Okta refuses the credential. Each test goes over CREDENTIAL_KINDS, so a
 * kind added there is covered here once it has a fixture below.
 */
import '../support/aws-env';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerCredentials } from '../../lib/adapters/secrets-manager-credentials';
import { UsageError } from '../../lib/cli/args';
import { INGEST_HELP } from '../../lib/cli/ingest-command';
import { credentialsFromEnv } from '../../lib/cli/env-credentials';
import { parseConfig } from '../../lib/config/config';
import { ConfigError } from '../../lib/core/errors';
import { OktaLogClient } from '../../lib/core/okta/client';
import { CREDENTIAL_KINDS, CREDENTIAL_KIND_NAMES, type CredentialKind, type CredentialKindName } from '../../lib/core/okta/credentials';
import { CredentialsError, OktaAuthError } from '../../lib/core/okta/errors';
import { parseOrg } from '../../lib/core/okta/org';
import { startMockOkta, type MockOktaOptions } from '../../lib/mock-okta/server';
import { makeEvents } from './helpers';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

/** For each kind: a value of every secret field, and the mock Okta that accepts them. */
const FIXTURES: Readonly<Record<CredentialKindName, { readonly values: Readonly<Record<string, string>>; readonly mock: Partial<MockOktaOptions> }>> = {
  ssws: { values: { token: '00aKindsTestToken-0123456789' }, mock: { apiToken: '00aKindsTestToken-0123456789' } },
  oauth: {
    values: { clientId: '0oaKindsTest', privateKey: PEM, keyId: 'kinds-kid', dpop: 'auto' },
    mock: { oauthClients: [{ clientId: '0oaKindsTest', publicKeys: [publicKey] }] },
  },
};

const dir = mkdtempSync(join(tmpdir(), 'okta-lake-kinds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The environment of `kind` as its envVars name it: every variable set, files written. */
function environmentOf(kind: CredentialKind): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of kind.envVars) {
    const value = FIXTURES[kind.name as CredentialKindName].values[v.field];
    if (v.file) {
      const path = join(dir, `${kind.name}-${v.name}`);
      writeFileSync(path, value);
      env[v.name] = path;
    } else {
      env[v.name] = value;
    }
  }
  return env;
}

/** `env`, recording each variable read. */
function recorded(env: Record<string, string>): { env: NodeJS.ProcessEnv; read: Set<string> } {
  const read = new Set<string>();
  const proxy = new Proxy(env, {
    get: (target, key) => {
      if (typeof key === 'string') read.add(key);
      return target[key as string];
    },
  });
  return { env: proxy, read };
}

const ORG = parseOrg('acme.okta.com');
const ALL_ENV_VARS = CREDENTIAL_KINDS.flatMap((k) => k.envVars.map((v) => v.name));

describe('the registry of credential kinds', () => {
  it('has a fixture for every kind, with every secret field; every variable stands for one of its secret fields', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual([...CREDENTIAL_KIND_NAMES].sort());
    for (const kind of CREDENTIAL_KINDS) {
      const fields = kind.secretFields.map((f) => f.name);
      expect(Object.keys(FIXTURES[kind.name].values).sort(), kind.name).toEqual([...fields].sort());
      for (const v of kind.envVars) expect(fields, `${kind.name} ${v.name}`).toContain(v.field);
      expect(kind.envVars.some((v) => v.choosesKind), `${kind.name} has a variable that chooses it`).toBe(true);
    }
    expect(new Set(ALL_ENV_VARS).size, 'no variable belongs to two kinds').toBe(ALL_ENV_VARS.length);
  });

  it.each(CREDENTIAL_KINDS.map((k) => [k.name, k] as const))('the CLI reads the variables of %s and none outside the registry, and its help names them', (name, kind) => {
    // Prepare
    const { env, read } = recorded(environmentOf(kind));
    // Act
    const credentials = credentialsFromEnv(env, ORG);
    // Assess
    expect(credentials.kind).toBe(name);
    const okta = [...read].filter((k) => k.startsWith('OKTA_'));
    expect(ALL_ENV_VARS, 'every OKTA_ variable read is a variable of the registry').toEqual(expect.arrayContaining(okta));
    expect(okta, 'every variable of the kind is read').toEqual(expect.arrayContaining(kind.envVars.map((v) => v.name)));
    for (const v of kind.envVars) expect(INGEST_HELP).toContain(v.name);
    for (const v of kind.envVars.filter((x) => x.required)) {
      const { [v.name]: _dropped, ...without } = environmentOf(kind);
      const other = CREDENTIAL_KINDS.some((k) => k !== kind && k.envVars.some((x) => x.choosesKind && without[x.name] !== undefined));
      if (other) continue;
      const missing = (() => {
        try {
          return credentialsFromEnv(without, ORG);
        } catch (e) {
          return e;
        }
      })();
      expect(missing, `${name} without ${v.name}`).toBeInstanceOf(UsageError);
      expect((missing as Error).message).toContain(v.name);
    }
  });

  it('the CLI refuses the variables of two kinds at once, and names every kind when none is set', () => {
    const both = Object.assign({}, ...CREDENTIAL_KINDS.map(environmentOf)) as Record<string, string>;
    expect(() => credentialsFromEnv(both, ORG)).toThrow(UsageError);
    expect(() => credentialsFromEnv(both, ORG)).toThrow(/not both/);
    const none = (() => {
      try {
        return credentialsFromEnv({}, ORG);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(none).toBeInstanceOf(UsageError);
    for (const kind of CREDENTIAL_KINDS) for (const v of kind.envVars.filter((x) => x.required)) expect((none as Error).message).toContain(v.name);
  });

  describe('the Secrets Manager adapter accepts exactly the secret fields of each kind', () => {
    const secrets = mockClient(SecretsManagerClient);
    beforeEach(() => secrets.reset());
    const read = (kind: CredentialKindName, secret: Record<string, unknown>): Promise<unknown> => {
      secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(secret) });
      const adapter = new SecretsManagerCredentials({ client: new SecretsManagerClient({ maxAttempts: 1 }) });
      return adapter.credentialsFor({ org: ORG, secretId: `okta-lake/${kind}`, auth: kind }).catch((e: unknown) => e);
    };

    it.each(CREDENTIAL_KINDS.map((k) => [k.name, k] as const))('%s', async (name, kind) => {
      const values = FIXTURES[name].values;
      // All fields, and only the required ones.
      expect(await read(name, { type: name, ...values })).toMatchObject({ kind: name });
      const required = Object.fromEntries(kind.secretFields.filter((f) => f.required).map((f) => [f.name, values[f.name]]));
      expect(await read(name, { type: name, ...required })).toMatchObject({ kind: name });
      // One field more: refused, the allowed ones listed (the unknown one not named).
      const extra = (await read(name, { type: name, ...values, notAField: 'x' })) as Error;
      expect(extra).toBeInstanceOf(CredentialsError);
      expect(extra.message).toContain(`has 1 unknown field`);
      expect(extra.message).toContain(`allowed: ${['type', ...kind.secretFields.map((f) => f.name)].join(', ')}`);
      expect(extra.message).not.toContain('notAField');
      // Each required field missing: refused, naming it.
      for (const field of kind.secretFields.filter((f) => f.required)) {
        const { [field.name]: _dropped, ...without } = values;
        const missing = (await read(name, { type: name, ...without })) as Error;
        expect(missing, `${name} without ${field.name}`).toBeInstanceOf(CredentialsError);
        expect(missing.message).toContain(`"${field.name}"`);
      }
    });

    it('and no type that is not a kind', async () => {
      const other = (await read('ssws', { type: 'saml', token: 'x' })) as Error;
      expect(other).toBeInstanceOf(CredentialsError);
      for (const name of CREDENTIAL_KIND_NAMES) expect(other.message).toContain(`"${name}"`);
    });
  });

  it('the configuration accepts exactly the kinds of the registry as orgs[].auth', () => {
    for (const name of CREDENTIAL_KIND_NAMES) expect(parseConfig({ orgs: [{ host: 'acme.okta.com', auth: name }] }).orgs[0].auth).toBe(name);
    const other = (() => {
      try {
        return parseConfig({ orgs: [{ host: 'acme.okta.com', auth: 'saml' }] });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(other).toBeInstanceOf(ConfigError);
    expect((other as Error).message).toContain(`must be one of ${CREDENTIAL_KIND_NAMES.map((n) => `"${n}"`).join(', ')}`);
  });

  it.each(CREDENTIAL_KINDS.map((k) => [k.name, k] as const))('the client gives the hint of %s when Okta refuses the credential (403)', async (name, kind) => {
    // Prepare
    // The mock on the real clock: the OAuth kind signs its assertion with it.
    const m = await startMockOkta({ ...FIXTURES[name].mock, events: makeEvents(1, Date.now() - 3_600_000), faults: { nextForbidden: 1 } });
    try {
      const org = parseOrg(m.origin, { allowInsecureLoopback: true });
      const credentials = credentialsFromEnv(environmentOf(kind), org);
      const client = new OktaLogClient({ org, credentials, backoffBaseMs: 1, backoffCapMs: 5, rateLimitJitterMs: 0 });
      // Act
      const error = await client.fetchPage(`${m.origin}/api/v1/logs?since=${new Date(Date.now() - 7_200_000).toISOString()}`).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(OktaAuthError);
      expect((error as Error).message).toContain(kind.refusalHint(403, false));
    } finally {
      await m.stop();
    }
  });
});
