/**
 * The mock's side of DPoP (RFC 9449): checks a proof JWT as an authorization or resource server
 * must (section 4.3), and keeps the server's nonces (section 8).
 */
import { createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import { OktaLakeError } from '../core/errors';
import { accessTokenHash, htuOf, jwkThumbprint } from '../core/okta/dpop';

/** Why a DPoP proof was refused: becomes the `error_description` (token endpoint) or the `WWW-Authenticate` challenge (API). */
export class DpopProofError extends OktaLakeError {
  /** `invalid_dpop_proof`, or `use_dpop_nonce` when only the nonce was missing or stale. */
  readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce';
  constructor(message: string, error: 'invalid_dpop_proof' | 'use_dpop_nonce' = 'invalid_dpop_proof') {
    super(message);
    this.error = error;
  }
}

const ALGS: Readonly<Record<string, { kty: 'EC' | 'RSA'; hash: string; crv?: string }>> = {
  ES256: { kty: 'EC', hash: 'sha256', crv: 'P-256' },
  ES384: { kty: 'EC', hash: 'sha384', crv: 'P-384' },
  RS256: { kty: 'RSA', hash: 'sha256' },
};

/**
 * How far `iat` may be from the server's clock: RFC 9449 section 11.1 leaves the window to the
 * server ("within an acceptable window"); the mock takes 5 minutes back and 1 minute ahead.
 */
export const DPOP_IAT_PAST_SEC = 300;
export const DPOP_IAT_FUTURE_SEC = 60;

function part(p: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    throw new DpopProofError(`The DPoP proof ${what} is not base64url JSON.`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DpopProofError(`The DPoP proof ${what} is not a JSON object.`);
  return v as Record<string, unknown>;
}

export interface DpopCheck {
  /** The request's method (`htm`). */
  readonly method: string;
  /** The request's URL: `htu` must name it, without query and fragment. */
  readonly url: string;
  readonly nowMs: number;
  /** `jti`s of accepted proofs: one seen before is a replay. */
  readonly usedJtis: Set<string>;
  /** Whether a nonce is valid; a missing or invalid one fails with `use_dpop_nonce`. */
  readonly nonceValid: (nonce: string | undefined) => boolean;
  /** The access token presented with the proof (resource requests): `ath` must be its hash. */
  readonly accessToken?: string;
  /** The thumbprint the access token is bound to: the proof's key must have it. */
  readonly boundJkt?: string;
}

/**
 * Verifies a DPoP proof (RFC 9449 section 4.3): one compact JWS; `typ` `dpop+jwt`; an asymmetric
 * `alg`; a public `jwk` (no private part) whose key verifies the signature; `htm` and `htu` of this
 * request; `iat` within the window; a `jti` never accepted before; `ath` and the key's thumbprint
 * when an access token comes with it; a valid `nonce`. Records the `jti` and returns the key's
 * RFC 7638 thumbprint. Throws {@link DpopProofError}.
 */
export function verifyDpopProof(proof: string | undefined, check: DpopCheck): string {
  if (proof === undefined || proof === '') throw new DpopProofError('The DPoP proof JWT header is missing.');
  const parts = proof.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw new DpopProofError('The DPoP proof is not one compact JWS.');
  const header = part(parts[0], 'header');
  const payload = part(parts[1], 'payload');
  if (header.typ !== 'dpop+jwt') throw new DpopProofError('The DPoP proof typ must be dpop+jwt.');
  const alg = typeof header.alg === 'string' ? ALGS[header.alg] : undefined;
  if (!alg) throw new DpopProofError('The DPoP proof alg is not supported.');
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new DpopProofError('The DPoP proof has no jwk header.');
  const j = jwk as JsonWebKey;
  if ('d' in j || 'p' in j || 'q' in j) throw new DpopProofError('The DPoP proof jwk must not hold a private key.');
  if (j.kty !== alg.kty || (alg.crv !== undefined && j.crv !== alg.crv)) throw new DpopProofError('The DPoP proof jwk does not match its alg.');
  let thumbprint: string;
  let ok: boolean;
  try {
    const key = createPublicKey({ key: j, format: 'jwk' });
    thumbprint = jwkThumbprint(j);
    const data = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = Buffer.from(parts[2], 'base64url');
    ok = alg.kty === 'EC' ? verify(alg.hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig) : verify(alg.hash, data, key, sig);
  } catch {
    throw new DpopProofError('The DPoP proof jwk is not a usable public key.');
  }
  if (!ok) throw new DpopProofError('The DPoP proof signature is invalid.');
  if (payload.htm !== check.method) throw new DpopProofError('The DPoP proof htm does not match the request method.');
  let htu: string | undefined;
  try {
    htu = typeof payload.htu === 'string' ? htuOf(payload.htu) : undefined;
  } catch {
    htu = undefined;
  }
  if (htu === undefined || htu !== htuOf(check.url)) throw new DpopProofError('The DPoP proof htu does not match the request URL.');
  const nowSec = check.nowMs / 1000;
  if (typeof payload.iat !== 'number' || payload.iat < nowSec - DPOP_IAT_PAST_SEC || payload.iat > nowSec + DPOP_IAT_FUTURE_SEC) {
    throw new DpopProofError('The DPoP proof iat is outside the accepted window.');
  }
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) throw new DpopProofError('The DPoP proof has no jti.');
  if (check.usedJtis.has(payload.jti)) throw new DpopProofError('The DPoP proof was already used (its jti was seen before).');
  if (check.accessToken !== undefined && payload.ath !== accessTokenHash(check.accessToken)) {
    throw new DpopProofError('The DPoP proof ath does not match the access token.');
  }
  if (check.boundJkt !== undefined && thumbprint !== check.boundJkt) throw new DpopProofError('The DPoP proof key is not the key the access token is bound to.');
  if (!check.nonceValid(typeof payload.nonce === 'string' ? payload.nonce : undefined)) {
    throw new DpopProofError('requires nonce in DPoP proof.', 'use_dpop_nonce');
  }
  check.usedJtis.add(payload.jti);
  return thumbprint;
}

/**
 * The server's DPoP nonces (RFC 9449 section 8): one current nonce, replaced when it is older than
 * `rotateMs`; the one before stays valid until the next rotation, so requests in flight during a
 * rotation still pass. {@link rotate} replaces both at once (the next proof gets `use_dpop_nonce`).
 */
export class DpopNonces {
  #current: string;
  #previous?: string;
  #issuedAtMs: number;
  constructor(
    private readonly now: () => number,
    private readonly rotateMs: number,
  ) {
    this.#current = DpopNonces.#make();
    this.#issuedAtMs = now();
  }

  static #make(): string {
    return randomBytes(18).toString('base64url');
  }

  /** The nonce to send now, rotating it when it is due. */
  current(): string {
    if (this.now() - this.#issuedAtMs >= this.rotateMs) {
      this.#previous = this.#current;
      this.#current = DpopNonces.#make();
      this.#issuedAtMs = this.now();
    }
    return this.#current;
  }

  valid(nonce: string | undefined): boolean {
    const current = this.current();
    return nonce !== undefined && (nonce === current || nonce === this.#previous);
  }

  /** Replaces the nonces: every nonce given out so far is refused from now on. */
  rotate(): void {
    this.#previous = undefined;
    this.#current = DpopNonces.#make();
    this.#issuedAtMs = this.now();
  }
}
