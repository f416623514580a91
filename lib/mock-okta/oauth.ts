/**
 * The mock's side of Okta's OAuth 2.0 client credentials grant with `private_key_jwt`: verifies a
 * client assertion against the public keys registered for the client.
 */
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { OktaLakeError } from '../core/errors';

/** A service app the mock knows. */
export interface MockOAuthClient {
  readonly clientId: string;
  /** Public keys registered for the app (PEM, JWK or KeyObject; a private key is reduced to its public half). */
  readonly publicKeys: readonly (string | JsonWebKey | KeyObject)[];
  /** Scopes the app was granted. @default ['okta.logs.read'] */
  readonly grantedScopes?: readonly string[];
  /** The app requires DPoP ("Require Demonstrating Proof of Possession"). @default the server's `requireDpop` */
  readonly requireDpop?: boolean;
}

/** Why an assertion was refused: becomes the token endpoint's `error_description`. */
export class AssertionError extends OktaLakeError {}

const ALGS: Readonly<Record<string, { type: 'rsa' | 'ec'; hash: string; curve?: string }>> = {
  RS256: { type: 'rsa', hash: 'sha256' },
  ES256: { type: 'ec', hash: 'sha256', curve: 'prime256v1' },
  ES384: { type: 'ec', hash: 'sha384', curve: 'secp384r1' },
  ES512: { type: 'ec', hash: 'sha512', curve: 'secp521r1' },
};

/** A registered public key and its `kid` (a JWK's own; PEM and KeyObject keys have none). */
export interface MockPublicKey {
  readonly key: KeyObject;
  readonly kid?: string;
}

/** The public key and the `kid` of a registered key. */
export function toMockPublicKey(k: string | JsonWebKey | KeyObject): MockPublicKey {
  const key = toPublicKey(k);
  const kid = typeof k === 'object' && !(typeof (k as KeyObject).export === 'function' && 'type' in k) ? (k as JsonWebKey).kid : undefined;
  return typeof kid === 'string' && kid !== '' ? { key, kid } : { key };
}

export function toPublicKey(k: string | JsonWebKey | KeyObject): KeyObject {
  if (typeof k === 'string') return createPublicKey(k);
  if (typeof (k as KeyObject).export === 'function' && 'type' in k) {
    const ko = k as KeyObject;
    return ko.type === 'public' ? ko : createPublicKey(ko);
  }
  return createPublicKey({ key: k as JsonWebKey, format: 'jwk' });
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new AssertionError(`The client_assertion ${what} is not base64url JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AssertionError(`The client_assertion ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * Verifies a `private_key_jwt` client assertion: signature (RS256/ES256/ES384/ES512) with one of the
 * client's keys, `iss` = `sub` = a known client id, `aud` = the token endpoint, `exp` in the future
 * and at most one hour ahead, `iat` (when given) not after the request arrives, `jti` present and not
 * used before. A `kid` names the key to verify with; a client with several keys needs one.
 * Returns the client. Throws {@link AssertionError}.
 *
 * Okta's rules (developer.okta.com/docs/guides/build-self-signed-jwt, "Gather claims information"):
 * `iat` "if specified, it must be a time before the request is received"; `exp` fails "if the
 * expiration time is more than one hour in the future or if the token is already expired"; and
 * (implement-oauth-for-okta-serviceapp, "Save keys in Okta") "all keys in the JWKS must have a
 * unique ID", the `kid`.
 */
export function verifyClientAssertion(
  assertion: string,
  opts: { clients: ReadonlyMap<string, { keys: readonly MockPublicKey[]; client: MockOAuthClient }>; audience: string; nowMs: number; usedJtis: Set<string> },
): MockOAuthClient {
  const parts = assertion.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new AssertionError('The client_assertion is not a compact JWS');
  const header = decodeJson(parts[0], 'header');
  const payload = decodeJson(parts[1], 'payload');
  const alg = typeof header.alg === 'string' ? ALGS[header.alg] : undefined;
  if (!alg) throw new AssertionError('The client_assertion alg is not supported');
  const iss = payload.iss;
  if (typeof iss !== 'string') throw new AssertionError('The client_assertion has no iss');
  const entry = opts.clients.get(iss);
  if (!entry) throw new AssertionError('The client_assertion iss is not a known client');
  if (payload.sub !== iss) throw new AssertionError('The client_assertion sub must equal iss');
  const aud = payload.aud;
  const audOk = aud === opts.audience || (Array.isArray(aud) && aud.includes(opts.audience));
  if (!audOk) throw new AssertionError('The client_assertion aud must be the token endpoint');
  const nowSec = opts.nowMs / 1000;
  const { exp, iat } = payload;
  if (typeof exp !== 'number') throw new AssertionError('The client_assertion has no exp');
  if (exp <= nowSec) throw new AssertionError('The client_assertion has expired');
  if (iat !== undefined && (typeof iat !== 'number' || iat > nowSec)) throw new AssertionError('The client_assertion iat is in the future: it must be before the request is received');
  if (exp - nowSec > 3600) throw new AssertionError('The client_assertion exp is more than one hour in the future');
  if (typeof payload.jti !== 'string' || payload.jti === '') throw new AssertionError('The client_assertion has no jti');
  if (opts.usedJtis.has(payload.jti)) throw new AssertionError('The client_assertion jti was already used');

  const kid = header.kid;
  if (kid !== undefined && typeof kid !== 'string') throw new AssertionError('The client_assertion kid is not a string');
  let keys = entry.keys;
  if (kid !== undefined) {
    // A key registered without a kid (a PEM in the mock's set-up) cannot be told apart by it.
    keys = keys.filter((k) => k.kid === kid || k.kid === undefined);
    if (keys.length === 0) throw new AssertionError(`The client_assertion kid ${JSON.stringify(kid.slice(0, 64))} is not a key of the client`);
  } else if (keys.length > 1) {
    throw new AssertionError('The client_assertion has no kid, and the client has several keys: the kid says which one signed it');
  }
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], 'base64url');
  const ok = keys.some(({ key }) => {
    if (key.asymmetricKeyType !== alg.type) return false;
    if (alg.curve && key.asymmetricKeyDetails?.namedCurve !== alg.curve) return false;
    try {
      return alg.type === 'ec' ? verify(alg.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature) : verify(alg.hash, data, key, signature);
    } catch {
      return false;
    }
  });
  if (!ok) throw new AssertionError('The client_assertion signature is invalid');
  opts.usedJtis.add(payload.jti);
  return entry.client;
}
