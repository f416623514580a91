/**
 * The `oauth` credential kind: an OAuth 2.0 service app using the client credentials grant with a
 * `private_key_jwt` client assertion (Okta's recommended way), and DPoP (RFC 9449) when Okta asks
 * for it or the configuration says so.
 */
import { createPrivateKey, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { systemClock, type Clock } from '../../ports';
import { describeBytes, readCappedBody, type CappedBody } from '../body';
import { CredentialsError, OAuthTokenError, OktaResponseTooLargeError, oktaRequestId, withRequestId } from '../errors';
import { dpopNonceOf, dpopChallengeError, processDpopKey, type DpopKey } from '../dpop';
import type { OktaOrg } from '../org';
import { nonEmptyString, type CredentialKind } from './kind';
import { HEADER_SAFE, REDACTED, raceAbort, type CredentialProvider } from './provider';

/**
 * When the service app uses DPoP (RFC 9449): `'auto'` asks for a plain Bearer token and switches to
 * DPoP (for the rest of the process) when the token endpoint answers `invalid_dpop_proof`, as Okta
 * does for an app that requires DPoP; `'always'` sends a proof with every token request; `'never'`
 * never does. Whatever the mode, a token Okta issues as `token_type: DPoP` is used with proofs.
 */
export type DpopMode = 'auto' | 'always' | 'never';

/** A private key as accepted by {@link OAuthServiceApp}: PEM text, a JWK (object or JSON text), or a KeyObject. */
export type PrivateKeyInput = string | JsonWebKey | KeyObject;

export interface OAuthServiceAppOptions {
  readonly org: OktaOrg;
  /** The service app's client id (`0oa...`). */
  readonly clientId: string;
  /** The private key whose public half is registered on the service app: PEM (PKCS#8 or PKCS#1/SEC1), a JWK (object or JSON text), or a KeyObject. RSA (2048 bits or more) or EC P-256/P-384/P-521. */
  readonly privateKey: PrivateKeyInput;
  /**
   * `kid` header of the client assertion (the key id Okta shows for the registered public key). Okta
   * needs it to pick the key when the app has several ("all keys in the JWKS must have a unique ID":
   * developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp), so it is sent whenever known.
   * @default the JWK's `kid` when the key is a JWK (or a JWK Set of one key) that has one, otherwise no `kid` header
   */
  readonly keyId?: string;
  /** @default ['okta.logs.read'] */
  readonly scopes?: readonly string[];
  /** @default global fetch */
  readonly fetch?: typeof fetch;
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * Lifetime of the client assertion in seconds from now (`exp` - now), at most 300.
   * @default 300
   */
  readonly assertionLifetimeSec?: number;
  /**
   * How far in the past the assertion's `iat` is set, in seconds. Okta refuses an `iat` that is not
   * "a time before the request is received" (developer.okta.com/docs/guides/build-self-signed-jwt),
   * so a local clock running a little ahead of Okta's would get `invalid_client`; `exp` stays
   * `now + assertionLifetimeSec`.
   * @default 30
   */
  readonly clockSkewSec?: number;
  /**
   * Timeout of one token request.
   * @default 30_000
   */
  readonly tokenRequestTimeoutMs?: number;
  /**
   * Cap on the token endpoint's answer, in bytes (1 KiB to 16 MiB). Okta's token response is about
   * 1 to 2 KB: `{token_type, expires_in, access_token, scope}` with an access token (a JWT) of about
   * 1 KB (okta/okta-developer-docs `docs/guides/implement-oauth-for-okta-serviceapp/get-access-token`,
   * the example response); a 200 answer past the
   * cap is abandoned there (the request aborted) with a retryable {@link OAuthTokenError} whose
   * cause is an {@link OktaResponseTooLargeError}; of an error answer only the first bytes are read.
   * @default DEFAULT_MAX_TOKEN_RESPONSE_BYTES (64 KiB)
   */
  readonly maxTokenResponseBytes?: number;
  /**
   * DPoP for this app: see {@link DpopMode}. The DPoP key is the process's own P-256 key pair
   * ({@link processDpopKey}), made at first use, held only in memory.
   * @default 'auto'
   */
  readonly dpop?: DpopMode;
}

/** Default cap on the token endpoint's answer: 64 KiB, some 30 times Okta's. */
export const DEFAULT_MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

type SigningAlg = 'RS256' | 'ES256' | 'ES384' | 'ES512';
const EC_ALGS: Readonly<Record<string, { alg: SigningAlg; hash: string }>> = {
  prime256v1: { alg: 'ES256', hash: 'sha256' },
  secp384r1: { alg: 'ES384', hash: 'sha384' },
  secp521r1: { alg: 'ES512', hash: 'sha512' },
};

interface SigningKey {
  readonly key: KeyObject;
  readonly alg: SigningAlg;
  readonly hash: string;
  readonly jwkKid?: string;
}

/** A JWK, or the one key of a JWK Set (`{"keys": [...]}`, as key generators and Okta's docs show keys). */
function singleJwk(jwk: JsonWebKey, field: string): JsonWebKey {
  const set = (jwk as { keys?: unknown }).keys;
  if (set === undefined) return jwk;
  if (!Array.isArray(set) || set.length !== 1 || typeof set[0] !== 'object' || set[0] === null || Array.isArray(set[0])) {
    throw new CredentialsError(`${field} is a JWK Set: it must hold exactly one key (the private key to sign with)`);
  }
  return set[0] as JsonWebKey;
}

function loadPrivateKey(input: PrivateKeyInput, field: string): SigningKey {
  let key: KeyObject;
  let jwkKid: string | undefined;
  try {
    if (typeof input === 'string') {
      const text = input.trim();
      if (text.startsWith('{')) {
        let jwk: unknown;
        try {
          jwk = JSON.parse(text);
        } catch {
          // JSON.parse messages quote the input: never pass them on.
          throw new CredentialsError(`${field} looks like a JWK but is not valid JSON`);
        }
        if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new CredentialsError(`${field} JSON is not a JWK object`);
        jwk = singleJwk(jwk as JsonWebKey, field);
        jwkKid = typeof (jwk as JsonWebKey).kid === 'string' ? ((jwk as JsonWebKey).kid as string) : undefined;
        key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
      } else if (text.includes('-----BEGIN')) {
        key = createPrivateKey({ key: text, format: 'pem' });
      } else {
        throw new CredentialsError(`${field} is neither a PEM private key nor a JWK`);
      }
    } else if (typeof input === 'object' && input !== null && 'asymmetricKeyType' in input && typeof (input as KeyObject).export === 'function') {
      key = input as KeyObject;
      if (key.type !== 'private') throw new CredentialsError(`${field} is a ${key.type} key, not a private key`);
    } else if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
      const jwk = singleJwk(input as JsonWebKey, field);
      jwkKid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
      key = createPrivateKey({ key: jwk, format: 'jwk' });
    } else {
      throw new CredentialsError(`${field} must be a PEM string or a JWK`);
    }
  } catch (cause) {
    if (cause instanceof CredentialsError) throw cause;
    // node:crypto errors describe the decoder failure, never the key material.
    throw new CredentialsError(`${field} could not be read as a private key (PEM or JWK with its private part)`, { cause });
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new CredentialsError(`${field} is an RSA key of ${bits} bits: Okta requires at least 2048`);
    return { key, alg: 'RS256', hash: 'sha256', jwkKid };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const ec = EC_ALGS[curve];
    if (!ec) throw new CredentialsError(`${field} is an EC key on curve "${curve}": use P-256, P-384 or P-521`);
    return { key, ...ec, jwkKid };
  }
  throw new CredentialsError(`${field} is a ${key.asymmetricKeyType ?? 'unknown'} key: use an RSA or EC (P-256) key`);
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

interface CachedToken {
  readonly header: string;
  /** The access token, for a DPoP-bound one (its hash is each proof's `ath`). */
  readonly dpopAccessToken?: string;
  /** Local time (ms) after which the token is not used any more: 60 s before Okta's expiry. */
  readonly refreshAtMs: number;
}

/** Seconds before `expires_in` at which a cached access token is replaced. */
export const TOKEN_REFRESH_MARGIN_SEC = 60;
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * An Okta OAuth 2.0 service app: gets access tokens from `${org.origin}/oauth2/v1/token` with the
 * client credentials grant, authenticating with a `private_key_jwt` assertion signed by node:crypto
 * (RS256 for RSA keys, ES256/384/512 for EC keys). The access token is cached until 60 s before it
 * expires; concurrent callers share one token request; {@link invalidate} drops it.
 */
export class OAuthServiceApp implements CredentialProvider {
  readonly kind = 'oauth' as const;
  readonly clientId: string;
  readonly keyId?: string;
  readonly scopes: readonly string[];
  readonly tokenEndpoint: string;
  readonly #signing: SigningKey;
  readonly #fetch: typeof fetch;
  readonly #clock: Clock;
  readonly #assertionLifetimeSec: number;
  readonly #clockSkewSec: number;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #origin: string;
  readonly #dpopMode: DpopMode;
  /** True once token requests carry a proof: from the start with `'always'`, after Okta asked for one with `'auto'`. */
  #useDpop: boolean;
  #dpopKey?: DpopKey;
  /** The latest `DPoP-Nonce` of each server (origin) (RFC 9449 section 8: "the most recent nonce"). */
  readonly #nonces = new Map<string, string>();
  #cached?: CachedToken;
  #pending?: Promise<CachedToken>;

  constructor(options: OAuthServiceAppOptions) {
    const { org, clientId, keyId } = options;
    if (!org || typeof org.origin !== 'string') throw new CredentialsError('OAuthServiceApp: org is missing (use parseOrg)');
    if (typeof clientId !== 'string' || clientId.length === 0) throw new CredentialsError('OAuth clientId is missing or empty');
    if (!/^[A-Za-z0-9._~-]+$/.test(clientId)) throw new CredentialsError('OAuth clientId may contain only letters, digits and . _ ~ -');
    if (keyId !== undefined && (typeof keyId !== 'string' || !HEADER_SAFE.test(keyId))) {
      throw new CredentialsError('OAuth keyId must be a non-empty string of printable characters without spaces');
    }
    const scopes = options.scopes ?? ['okta.logs.read'];
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && HEADER_SAFE.test(s))) {
      throw new CredentialsError('OAuth scopes must be a non-empty list of scope names without spaces (e.g. ["okta.logs.read"])');
    }
    const lifetime = options.assertionLifetimeSec ?? 300;
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 300) {
      throw new CredentialsError('OAuth assertionLifetimeSec must be an integer from 1 to 300');
    }
    const skew = options.clockSkewSec ?? 30;
    if (!Number.isInteger(skew) || skew < 0 || skew > 300) throw new CredentialsError('OAuth clockSkewSec must be an integer from 0 to 300');
    const timeoutMs = options.tokenRequestTimeoutMs ?? 30_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CredentialsError('OAuth tokenRequestTimeoutMs must be a positive number');
    const maxResponseBytes = options.maxTokenResponseBytes ?? DEFAULT_MAX_TOKEN_RESPONSE_BYTES;
    if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1024 || maxResponseBytes > 16 * 1024 * 1024) {
      throw new CredentialsError('OAuth maxTokenResponseBytes must be a whole number of bytes from 1024 to 16777216');
    }
    if (options.privateKey === undefined || options.privateKey === null || options.privateKey === '') {
      throw new CredentialsError('OAuth privateKey is missing');
    }
    this.#signing = loadPrivateKey(options.privateKey, 'OAuth privateKey');
    this.clientId = clientId;
    this.keyId = keyId ?? this.#signing.jwkKid;
    this.scopes = Object.freeze([...scopes]);
    this.tokenEndpoint = `${org.origin}/oauth2/v1/token`;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#clock = options.clock ?? systemClock;
    this.#assertionLifetimeSec = lifetime;
    this.#clockSkewSec = skew;
    this.#timeoutMs = timeoutMs;
    this.#maxResponseBytes = maxResponseBytes;
    const dpop = options.dpop ?? 'auto';
    if (dpop !== 'auto' && dpop !== 'always' && dpop !== 'never') throw new CredentialsError('OAuth dpop must be "auto", "always" or "never"');
    this.#dpopMode = dpop;
    this.#useDpop = dpop === 'always';
    this.#origin = org.origin;
  }

  /** Whether token requests carry a DPoP proof now (`'always'`, or `'auto'` after Okta required one). */
  get usesDpop(): boolean {
    return this.#useDpop;
  }

  /** The signing algorithm chosen from the key (`RS256` for RSA, `ES256` for P-256, ...). */
  get algorithm(): SigningAlg {
    return this.#signing.alg;
  }

  async authorization(signal?: AbortSignal): Promise<string> {
    return (await this.#token(signal)).header;
  }

  async requestHeaders(method: string, url: string, signal?: AbortSignal): Promise<Record<string, string>> {
    // The token and the DPoP key prove who we are to the org only: nothing goes anywhere else.
    if (this.#originOf(url) !== this.#origin) throw new CredentialsError(`Refusing to authenticate a request to another origin than ${this.#origin}`);
    const token = await this.#token(signal);
    if (token.dpopAccessToken === undefined) return { Authorization: token.header };
    return { Authorization: token.header, DPoP: this.#proof(method, url, token.dpopAccessToken) };
  }

  observeResponse(url: string, status: number, headers: Headers): boolean {
    const origin = this.#originOf(url);
    if (origin !== this.#origin) return false;
    const nonce = dpopNonceOf(headers);
    if (nonce === undefined) return false;
    const previous = this.#nonces.get(origin);
    this.#nonces.set(origin, nonce);
    // A challenge is worth a retry only when it brought a nonce we did not send already.
    return status === 401 && dpopChallengeError(headers.get('www-authenticate')) === 'use_dpop_nonce' && nonce !== previous;
  }

  #originOf(url: string): string | undefined {
    try {
      return new URL(url).origin;
    } catch {
      return undefined;
    }
  }

  #proof(method: string, url: string, accessToken?: string): string {
    this.#dpopKey ??= processDpopKey();
    return this.#dpopKey.proof({ method, url, accessToken, nonce: this.#nonces.get(this.#origin), nowSec: Math.floor(this.#clock.now() / 1000) });
  }

  async #token(signal?: AbortSignal): Promise<CachedToken> {
    signal?.throwIfAborted();
    const cached = this.#cached;
    if (cached && this.#clock.now() < cached.refreshAtMs) return cached;
    if (!this.#pending) {
      const pending = this.#requestToken().then(
        (token) => {
          if (this.#pending === pending) this.#pending = undefined;
          this.#cached = token;
          return token;
        },
        (e: unknown) => {
          if (this.#pending === pending) this.#pending = undefined;
          throw e;
        },
      );
      this.#pending = pending;
    }
    return raceAbort(this.#pending, signal);
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  /** Builds and signs a fresh client assertion (a JWT). Exposed for tests of the token endpoint. */
  createClientAssertion(): string {
    const nowSec = Math.floor(this.#clock.now() / 1000);
    const header: Record<string, string> = { alg: this.#signing.alg, typ: 'JWT' };
    if (this.keyId) header.kid = this.keyId;
    const payload = {
      iss: this.clientId,
      sub: this.clientId,
      aud: this.tokenEndpoint,
      // A little in the past: Okta refuses an iat that is not before the request arrives.
      iat: nowSec - this.#clockSkewSec,
      exp: nowSec + this.#assertionLifetimeSec,
      jti: randomUUID(),
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature =
      this.#signing.alg === 'RS256'
        ? sign(this.#signing.hash, Buffer.from(input), this.#signing.key)
        : sign(this.#signing.hash, Buffer.from(input), { key: this.#signing.key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(signature)}`;
  }

  /**
   * One token request, and at most two more: with a proof when `'auto'` learns that the app requires
   * DPoP (`invalid_dpop_proof`), and with the server's nonce after `use_dpop_nonce` (RFC 9449
   * section 8: HTTP 400, `error: use_dpop_nonce`, a `DPoP-Nonce` header). Each carries a new client
   * assertion and a new proof: both are single use.
   */
  async #requestToken(): Promise<CachedToken> {
    let switched = false;
    let nonceRetried = false;
    for (;;) {
      try {
        return await this.#requestTokenOnce();
      } catch (e) {
        if (!(e instanceof OAuthTokenError) || e.status === undefined || e.status < 400 || e.status >= 500) throw e;
        if (e.error === 'invalid_dpop_proof' && !this.#useDpop && this.#dpopMode === 'auto' && !switched) {
          switched = true;
          this.#useDpop = true;
          continue;
        }
        if (e.error === 'use_dpop_nonce' && this.#useDpop && !nonceRetried && e.dpopNonceChanged) {
          nonceRetried = true;
          continue;
        }
        throw e;
      }
    }
  }

  async #requestTokenOnce(): Promise<CachedToken> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.scopes.join(' '),
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: this.createClientAssertion(),
    });
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    // Aborted when the answer passes its cap: the connection is closed instead of draining the rest.
    const overLimit = new AbortController();
    const where = `the Okta token endpoint ${this.tokenEndpoint}`;
    let res: Response;
    let read: CappedBody;
    try {
      res = await this.#fetch(this.tokenEndpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
          ...(this.#useDpop ? { DPoP: this.#proof('POST', this.tokenEndpoint) } : {}),
        },
        body: form.toString(),
        redirect: 'manual',
        signal: AbortSignal.any([timeout, overLimit.signal]),
      });
      read = await readCappedBody(res, this.#maxResponseBytes, () => overLimit.abort());
    } catch (cause) {
      const what = timeout.aborted ? `timed out after ${this.#timeoutMs} ms` : 'could not be reached';
      // The cause is a network error or a timeout: it never holds the request body.
      throw new OAuthTokenError(`${where} ${what}`, { cause, retryable: true });
    }
    if (res.ok && !read.complete) {
      const requestId = oktaRequestId(res.headers);
      const what =
        read.declaredBytes !== undefined
          ? `declaring Content-Length ${read.declaredBytes}, over the cap of ${describeBytes(this.#maxResponseBytes)}: not read`
          : `with a body over the cap of ${describeBytes(this.#maxResponseBytes)}: stopped reading after ${read.bytes} bytes`;
      const message = withRequestId(`${where} answered HTTP ${res.status} ${what}`, requestId);
      const cause = new OktaResponseTooLargeError(message, {
        url: this.tokenEndpoint,
        status: res.status,
        maxBytes: this.#maxResponseBytes,
        bytesRead: read.bytes,
        declaredBytes: read.declaredBytes,
        requestId,
      });
      throw new OAuthTokenError(message, { cause, status: res.status, retryable: true, requestId });
    }
    // A nonce may come with any answer, the challenge included (RFC 9449 section 8.2: rotation).
    const nonce = dpopNonceOf(res.headers);
    const nonceChanged = nonce !== undefined && nonce !== this.#nonces.get(this.#origin);
    if (nonce !== undefined) this.#nonces.set(this.#origin, nonce);
    // Of an error answer past the cap only the start was read: the status decides.
    const text = read.text;
    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const error = typeof json?.error === 'string' ? json.error : undefined;
      const errorDescription = typeof json?.error_description === 'string' ? json.error_description : undefined;
      const retryable = res.status === 429 || res.status >= 500;
      const detail = error ? `: ${error}${errorDescription ? ` (${errorDescription})` : ''}` : '';
      const requestId = oktaRequestId(res.headers);
      throw new OAuthTokenError(withRequestId(`${where} answered HTTP ${res.status}${detail}${tokenErrorHint(error, this.#dpopMode)}`, requestId), {
        status: res.status,
        error,
        errorDescription,
        retryable,
        requestId,
        dpopNonceChanged: nonceChanged,
      });
    }
    const accessToken = json?.access_token;
    const expiresIn = json?.expires_in;
    const tokenType = json?.token_type;
    if (typeof accessToken !== 'string' || !HEADER_SAFE.test(accessToken) || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
      throw new OAuthTokenError(`${where} answered HTTP ${res.status} without a usable access_token and expires_in`, {
        status: res.status,
        retryable: false,
      });
    }
    const type = typeof tokenType === 'string' ? tokenType.toLowerCase() : undefined;
    // RFC 9449 section 5: a DPoP-bound token comes as `token_type: DPoP`; a server that does not do
    // DPoP answers a request with a proof with a Bearer token, which is then used as Bearer.
    const dpopBound = type === 'dpop' && this.#useDpop;
    if (type !== 'bearer' && !dpopBound) {
      throw new OAuthTokenError(`${where} issued a token of type ${JSON.stringify(String(tokenType).slice(0, 32))}; expected Bearer${this.#useDpop ? ' or DPoP' : ''}`, {
        status: res.status,
        retryable: false,
      });
    }
    const lifetimeMs = Math.max(0, expiresIn - TOKEN_REFRESH_MARGIN_SEC) * 1000;
    const refreshAtMs = this.#clock.now() + lifetimeMs;
    return dpopBound ? { header: `DPoP ${accessToken}`, dpopAccessToken: accessToken, refreshAtMs } : { header: `Bearer ${accessToken}`, refreshAtMs };
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, clientId: this.clientId, keyId: this.keyId, scopes: this.scopes, privateKey: REDACTED, accessToken: REDACTED };
  }

  toString(): string {
    const kid = this.keyId ? `, keyId: ${JSON.stringify(this.keyId)}` : '';
    return `OAuthServiceApp { clientId: ${JSON.stringify(this.clientId)}${kid}, scopes: ${JSON.stringify(this.scopes)}, privateKey: ${REDACTED}, accessToken: ${REDACTED} }`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function tokenErrorHint(error: string | undefined, dpop: DpopMode): string {
  switch (error) {
    case 'invalid_client':
      return '. Check the client id, that the service app uses "Public key / Private key" client authentication, that the registered public key matches the private key (and the key id), and that the machine clock is right';
    case 'invalid_scope':
      return '. Grant the okta.logs.read scope to the service app (Okta API Scopes tab)';
    case 'invalid_dpop_proof':
      return dpop === 'never'
        ? '. The service app requires DPoP ("Require Demonstrating Proof of Possession"), and the dpop option is "never": set it to "auto"'
        : '. Okta refused the DPoP proof: check that the machine clock is right';
    case 'use_dpop_nonce':
      return '. Okta asked twice for a new DPoP nonce';
    case 'unauthorized_client':
      return '. Allow the Client Credentials grant on the service app';
    default:
      return '';
  }
}

const DPOP_MODES: readonly DpopMode[] = ['auto', 'always', 'never'];

/**
 * `{"type": "oauth", "clientId": "0oa...", "privateKey": "-----BEGIN PRIVATE KEY-----\n...", "keyId": "optional-kid", "dpop": "auto"}`,
 * or `OKTA_CLIENT_ID`, `OKTA_PRIVATE_KEY_FILE`, `OKTA_KEY_ID`, `OKTA_DPOP`.
 */
export const oauthKind: CredentialKind<'oauth'> = {
  name: 'oauth',
  title: 'OAuth service app',
  shortTitle: 'OAuth',
  secretFields: [
    { name: 'clientId', required: true, accepts: nonEmptyString, expected: 'a non-empty string' },
    {
      name: 'privateKey',
      required: true,
      accepts: (v) => (typeof v === 'string' && v.trim() !== '') || (typeof v === 'object' && v !== null && !Array.isArray(v)),
      expected: 'a PEM string or JWK object',
    },
    { name: 'keyId', required: false, accepts: nonEmptyString, expected: 'a non-empty string' },
    { name: 'dpop', required: false, accepts: (v) => DPOP_MODES.includes(v as DpopMode), expected: '"auto", "always" or "never"' },
  ],
  envVars: [
    { name: 'OKTA_CLIENT_ID', field: 'clientId', required: true, choosesKind: true },
    { name: 'OKTA_PRIVATE_KEY_FILE', field: 'privateKey', required: true, choosesKind: true, file: true },
    { name: 'OKTA_KEY_ID', field: 'keyId', required: false, choosesKind: false },
    { name: 'OKTA_DPOP', field: 'dpop', required: false, choosesKind: false, oneOf: DPOP_MODES },
  ],
  envHelp: [
    ['OKTA_CLIENT_ID, OKTA_PRIVATE_KEY_FILE', 'an OAuth 2.0 service app with okta.logs.read (key: PEM or JWK file),'],
    ['OKTA_KEY_ID', 'optional: the key id registered on the service app'],
    ['OKTA_DPOP', 'optional: DPoP (RFC 9449) for the service app: auto (default:\nused when Okta requires it), always or never'],
  ],
  build(values, { org, deps, source }) {
    const options: OAuthServiceAppOptions = {
      org,
      clientId: values.clientId as string,
      privateKey: values.privateKey as PrivateKeyInput,
      keyId: values.keyId as string | undefined,
      dpop: values.dpop as DpopMode | undefined,
      fetch: deps.fetch,
      clock: deps.clock,
    };
    if (source !== 'secret') return new OAuthServiceApp(options);
    try {
      return new OAuthServiceApp(options);
    } catch (e) {
      if (e instanceof CredentialsError) {
        throw new CredentialsError(`Okta secret: ${e.message.replace(/^OAuth privateKey/, 'field "privateKey"')}`, { cause: e.cause });
      }
      throw e;
    }
  },
  renewsOnUnauthorized: true,
  refusalHint: (status, afterNewToken) =>
    status === 403
      ? 'Check that the service app has the okta.logs.read scope granted and an admin role that can read the System Log (e.g. Read-only Administrator).'
      : `${afterNewToken ? 'A freshly issued access token was refused too. ' : ''}Check that the service app is active, has the okta.logs.read scope granted and an admin role that can read the System Log, and that the token is requested from this org.`,
};
