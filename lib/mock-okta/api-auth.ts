/**
 * Who a `/api/v1/logs` request is: `SSWS` with the org's API token, `Bearer` with an issued token
 * (not a DPoP-bound one), or `DPoP` with a bound token and a valid proof of its key (RFC 9449
 * section 7.1), and the `WWW-Authenticate` challenge when a DPoP request is refused.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../core/ports';
import { DpopProofError, verifyDpopProof } from './dpop';
import { dpopHeaderOf } from './http';
import type { DpopState, IssuedToken } from './token-endpoint';

/** The org's API token, or an issued access token. */
export type Principal = IssuedToken | 'ssws';

export type ApiAuthResult =
  /** `headers`: `DPoP-Nonce` for a DPoP request, else none. */
  | { readonly who: Principal; readonly headers: Record<string, string> }
  /** Refused: answer 401 with `headers` (for a DPoP request, `DPoP-Nonce` and `WWW-Authenticate`). */
  | { readonly who: undefined; readonly headers: Record<string, string> };

export interface ApiAuthOptions {
  readonly apiToken?: string;
  /** The tokens the token endpoint issued. */
  readonly tokens: ReadonlyMap<string, IssuedToken>;
  readonly clock: Pick<Clock, 'now'>;
  readonly dpop: DpopState;
  /** The mock's origin, known once it listens: the proof's `htu`. */
  readonly origin: () => string;
  readonly counters: { dpopProofsRefused: number; dpopNonceChallenges: number; dpopRequestsAccepted: number };
}

export class ApiAuth {
  readonly #apiToken?: Buffer;

  constructor(private readonly o: ApiAuthOptions) {
    if (o.apiToken !== undefined) this.#apiToken = Buffer.from(o.apiToken);
  }

  /** A DPoP-authenticated request: the token and a proof of its key, or why not (RFC 9449 section 7.1). */
  #authenticateDpop(req: IncomingMessage, url: URL): IssuedToken | { refused: DpopProofError | 'invalid_token' } {
    const { clock, dpop } = this.o;
    const accessToken = (req.headers.authorization ?? '').slice(5);
    const t = this.o.tokens.get(accessToken);
    if (!t || t.expiresAtMs <= clock.now() || t.jkt === undefined) return { refused: 'invalid_token' };
    try {
      verifyDpopProof(dpopHeaderOf(req), {
        method: req.method ?? 'GET',
        url: `${this.o.origin()}${url.pathname}`,
        nowMs: clock.now(),
        usedJtis: dpop.usedJtis,
        nonceValid: (n) => dpop.nonces.valid(n),
        accessToken,
        boundJkt: t.jkt,
      });
    } catch (e) {
      if (!(e instanceof DpopProofError)) throw e;
      return { refused: e };
    }
    return t;
  }

  #authenticate(header: string | undefined): Principal | undefined {
    if (!header) return undefined;
    if (header.startsWith('SSWS ') && this.#apiToken) {
      const given = Buffer.from(header.slice(5));
      return given.length === this.#apiToken.length && timingSafeEqual(given, this.#apiToken) ? 'ssws' : undefined;
    }
    if (header.startsWith('Bearer ')) {
      const t = this.o.tokens.get(header.slice(7));
      // A DPoP-bound token presented as a Bearer token is refused (RFC 9449 section 7.1).
      if (t && t.expiresAtMs > this.o.clock.now() && t.jkt === undefined) return t;
    }
    return undefined;
  }

  /** Who sent `req`, or undefined with the headers of the 401 (counting DPoP refusals and challenges). */
  authenticate(req: IncomingMessage, url: URL): ApiAuthResult {
    if (!(req.headers.authorization ?? '').startsWith('DPoP ')) return { who: this.#authenticate(req.headers.authorization), headers: {} };
    const { counters } = this.o;
    const got = this.#authenticateDpop(req, url);
    const dpopHeaders: Record<string, string> = { 'DPoP-Nonce': this.o.dpop.nonces.current() };
    if (!('refused' in got)) {
      counters.dpopRequestsAccepted++;
      return { who: got, headers: dpopHeaders };
    }
    const r = got.refused;
    const error = r === 'invalid_token' ? 'invalid_token' : r.error;
    if (error === 'use_dpop_nonce') counters.dpopNonceChallenges++;
    else if (error === 'invalid_dpop_proof') counters.dpopProofsRefused++;
    const description = r === 'invalid_token' ? 'The access token is invalid.' : error === 'use_dpop_nonce' ? 'Resource server requires nonce in DPoP proof.' : r.message;
    return {
      who: undefined,
      headers: { ...dpopHeaders, 'WWW-Authenticate': `DPoP error="${error}", error_description="${description.replace(/"/g, "'")}", algs="ES256 ES384 RS256"` },
    };
  }
}
