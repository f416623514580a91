/**
 * OAuth 2.0 Demonstrating Proof of Possession (DPoP, RFC 9449) for the service app: a key pair held
 * only in memory, and the proof JWTs signed with it.
 *
 * Okta turns "Require Demonstrating Proof of Possession (DPoP) header in token requests" on by
 * default for new API Services apps (okta/okta-sdk-nodejs issue 424); such an app's token request
 * without a `DPoP` header is refused with `invalid_dpop_proof`, "The DPoP proof JWT header is
 * missing." (support.okta.com, "The DPoP Proof JWT Header Is Missing"), and the first request with a
 * proof gets HTTP 400 `use_dpop_nonce` ("Authorization server requires nonce in DPoP proof") with a
 * `DPoP-Nonce` header (devforum.okta.com, "Client Credentials OAuth for Okta with DPoP enabled";
 * RFC 9449 section 8). Requests to Okta's own APIs then carry `Authorization: DPoP <token>` and a
 * proof with `ath` (okta-developer-docs `guides/dpop/main/oktaresourceserver/requestresource.md`).
 *
 * The private key never leaves this module's `#private` field: it is generated with `node:crypto`,
 * never exported, logged or written; `JSON.stringify` and `util.inspect` show only the thumbprint.
 */
import { createHash, generateKeyPairSync, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { OktaLakeError } from '../errors';

/** A DPoP proof could not be built (an invalid URL or method). Never carries key material. */
export class DpopError extends OktaLakeError {}

/** The public members of an EC P-256 JWK, as a proof's `jwk` header carries it (RFC 9449 section 4.2: no private key). */
export interface PublicEcJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

/**
 * The JWK thumbprint of a public key (RFC 7638 section 3): SHA-256 over the JSON of the required
 * members only, in lexicographic order, without white space; base64url. For EC keys the members are
 * `crv`, `kty`, `x`, `y` (section 3.2). RSA keys (`e`, `kty`, `n`) are handled for the mock's sake.
 */
export function jwkThumbprint(jwk: JsonWebKey): string {
  let canonical: string;
  if (jwk.kty === 'EC') canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  else if (jwk.kty === 'RSA') canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  else throw new DpopError(`JWK thumbprint: unsupported key type ${JSON.stringify(String(jwk.kty).slice(0, 16))}`);
  return createHash('sha256').update(canonical).digest('base64url');
}

/** `ath` of a proof (RFC 9449 section 4.2): base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * `htu` of a proof: "the HTTP target URI ... without query and fragment parts" (RFC 9449 section
 * 4.2), normalised as the WHATWG URL parser writes it (section 4.3 asks servers to compare after
 * syntax-based normalisation).
 */
export function htuOf(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new DpopError('DPoP proof: the request URL is not an absolute URL', { cause });
  }
  return `${u.origin}${u.pathname}`;
}

const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

export interface DpopProofClaims {
  /** HTTP method of the request (`htm`). */
  readonly method: string;
  /** The request URL; query and fragment are dropped for `htu`. */
  readonly url: string;
  /** The access token the request carries: its hash becomes `ath` (resource requests only). */
  readonly accessToken?: string;
  /** The latest `DPoP-Nonce` the server sent (`nonce`). */
  readonly nonce?: string;
  /** Seconds since the epoch (`iat`). */
  readonly nowSec: number;
}

/** An in-memory EC P-256 key pair that signs DPoP proofs with ES256. */
export class DpopKey {
  readonly #privateKey: KeyObject;
  /** The public key as the proofs' `jwk` header carries it. */
  readonly publicJwk: PublicEcJwk;
  /** RFC 7638 thumbprint of {@link publicJwk}: what an issued token is bound to (`cnf.jkt`). */
  readonly thumbprint: string;

  constructor() {
    // A fresh key each time: RFC 9449 section 2 lets the client pick any key; it is never stored.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.publicJwk = Object.freeze({ kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) });
    this.thumbprint = jwkThumbprint({ ...this.publicJwk } as JsonWebKey);
  }

  /**
   * A DPoP proof JWT (RFC 9449 section 4.2): header `typ: dpop+jwt`, `alg: ES256`, `jwk`; claims
   * `jti` (random), `htm`, `htu`, `iat`, and `ath` and `nonce` when given. The signature is the raw
   * `r || s` form JWS needs for ES256 (RFC 7518 section 3.4).
   */
  proof(claims: DpopProofClaims): string {
    if (!/^[A-Z]+$/.test(claims.method)) throw new DpopError('DPoP proof: the HTTP method must be upper-case letters');
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: this.publicJwk };
    const payload: Record<string, string | number> = {
      jti: randomUUID(),
      htm: claims.method,
      htu: htuOf(claims.url),
      iat: Math.floor(claims.nowSec),
    };
    if (claims.accessToken !== undefined) payload.ath = accessTokenHash(claims.accessToken);
    if (claims.nonce !== undefined) payload.nonce = claims.nonce;
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = sign('sha256', Buffer.from(input), { key: this.#privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(signature)}`;
  }

  toJSON(): Record<string, string> {
    return { kind: 'DpopKey', thumbprint: this.thumbprint, privateKey: '[redacted]' };
  }

  toString(): string {
    return `DpopKey { thumbprint: ${this.thumbprint}, privateKey: [redacted] }`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

let processKey: DpopKey | undefined;

/** The process's DPoP key, made at first use and then shared by every service app credential. */
export function processDpopKey(): DpopKey {
  processKey ??= new DpopKey();
  return processKey;
}

/**
 * The `error` of a `WWW-Authenticate: DPoP ...` challenge (RFC 9449 section 7.1), or undefined when
 * the header has no DPoP challenge.
 */
export function dpopChallengeError(wwwAuthenticate: string | null): string | undefined {
  if (!wwwAuthenticate) return undefined;
  const at = wwwAuthenticate.search(/(^|[\s,])DPoP(\s|$)/i);
  if (at < 0) return undefined;
  const m = /\berror\s*=\s*"?([A-Za-z0-9_]+)"?/.exec(wwwAuthenticate.slice(at));
  return m ? m[1] : undefined;
}

/** A `DPoP-Nonce` header value when it is a valid nonce (RFC 9449 section 8.1: `1*NQCHAR`), else undefined. */
export function dpopNonceOf(headers: Headers): string | undefined {
  const v = headers.get('dpop-nonce');
  return v !== null && /^[\x21\x23-\x5b\x5d-\x7e]{1,512}$/.test(v) ? v : undefined;
}
