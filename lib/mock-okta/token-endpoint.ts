/**
 * `POST /oauth2/v1/token`: Okta's client credentials grant with `private_key_jwt` (verified in
 * oauth.ts), DPoP-bound tokens when the client requires or sends a proof (dpop.ts), and the store of
 * the access tokens it issued, which the API's authentication reads.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../core/errors';
import type { Clock } from '../core/ports';
import { DpopProofError, verifyDpopProof, type DpopNonces } from './dpop';
import { dpopHeaderOf, oktaError, readBody, type Headers } from './http';
import { AssertionError, toMockPublicKey, verifyClientAssertion, type MockOAuthClient, type MockPublicKey } from './oauth';

export const MOCK_TOKEN_PATH = '/oauth2/v1/token';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** An access token the endpoint issued. */
export interface IssuedToken {
  readonly expiresAtMs: number;
  readonly scopes: readonly string[];
  readonly clientId: string;
  /** RFC 7638 thumbprint of the DPoP key the token is bound to (`cnf.jkt`), for a DPoP token. */
  readonly jkt?: string;
}

/** The registered service apps by client id, with their public keys read once. */
export type ClientRegistry = ReadonlyMap<string, { keys: readonly MockPublicKey[]; client: MockOAuthClient }>;

/** Reads each app's keys; throws {@link ConfigError} for an app without an id or a readable key. */
export function registerClients(oauthClients: readonly MockOAuthClient[]): ClientRegistry {
  const clients = new Map<string, { keys: readonly MockPublicKey[]; client: MockOAuthClient }>();
  for (const c of oauthClients) {
    if (typeof c.clientId !== 'string' || c.clientId === '') throw new ConfigError('mock Okta oauthClients[].clientId must be a non-empty string');
    if (!Array.isArray(c.publicKeys) || c.publicKeys.length === 0) throw new ConfigError(`mock Okta oauth client ${c.clientId} needs at least one public key`);
    let keys: MockPublicKey[];
    try {
      keys = c.publicKeys.map(toMockPublicKey);
    } catch (cause) {
      throw new ConfigError(`mock Okta oauth client ${c.clientId}: a public key cannot be read`, { cause });
    }
    clients.set(c.clientId, { keys, client: c });
  }
  return clients;
}

/** The server's DPoP state, shared by the token endpoint and the API. */
export interface DpopState {
  readonly nonces: DpopNonces;
  /** `jti`s of accepted proofs. */
  readonly usedJtis: Set<string>;
}

export interface TokenEndpointOptions {
  readonly clients: ClientRegistry;
  readonly clock: Pick<Clock, 'now'>;
  readonly tokenLifetimeSec: number;
  /** The server's default for clients that do not say whether they require DPoP. */
  readonly requireDpop: boolean;
  readonly dpop: DpopState;
  /** The mock's origin, known once it listens: the assertion's `aud` and the proof's `htu`. */
  readonly origin: () => string;
  readonly send: (res: ServerResponse, status: number, body: string | Buffer, headers?: Headers) => void;
  /** The live fault plan's `nextToken5xx`, decremented by each injected 503. */
  readonly faults: { nextToken5xx: number };
  readonly injected: { token5xx: number };
  readonly counters: {
    tokenRequests: number;
    tokensIssued: number;
    unauthorized: number;
    dpopProofsRefused: number;
    dpopNonceChallenges: number;
    dpopTokensIssued: number;
  };
}

export class TokenEndpoint {
  /** Issued access tokens by their value. */
  readonly issued = new Map<string, IssuedToken>();
  /** `jti`s of accepted client assertions. */
  readonly #usedJtis = new Set<string>();

  constructor(private readonly o: TokenEndpointOptions) {}

  #error(res: ServerResponse, status: number, error: string, description: string, headers: Record<string, string> = {}): void {
    if (status === 401) this.o.counters.unauthorized++;
    this.o.send(res, status, JSON.stringify({ error, error_description: description }), headers);
  }

  /** The client a client assertion names (its `iss`), before it is verified: to know whether it requires DPoP. */
  #claimedClient(assertion: string): MockOAuthClient | undefined {
    try {
      const iss = (JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
      return typeof iss === 'string' ? this.o.clients.get(iss)?.client : undefined;
    } catch {
      return undefined;
    }
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { clock, counters, dpop, faults, send, tokenLifetimeSec } = this.o;
    const origin = this.o.origin();
    counters.tokenRequests++;
    if (req.method !== 'POST') {
      send(res, 405, oktaError('E0000022', 'The endpoint does not support the provided HTTP method'), { Allow: 'POST' });
      return;
    }
    const body = await readBody(req, 64 * 1024);
    if (faults.nextToken5xx > 0) {
      faults.nextToken5xx--;
      this.o.injected.token5xx++;
      send(res, 503, oktaError('E0000009', 'Internal Server Error'));
      return;
    }
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      this.#error(res, 400, 'invalid_request', 'The request must be application/x-www-form-urlencoded.');
      return;
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      this.#error(res, 400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
      return;
    }
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE || !form.get('client_assertion')) {
      this.#error(res, 401, 'invalid_client', 'Client authentication failed: a private_key_jwt client_assertion is required.');
      return;
    }
    // DPoP first (RFC 9449 section 5), as Okta answers a missing proof whatever the assertion.
    const proof = dpopHeaderOf(req);
    const claimed = this.#claimedClient(form.get('client_assertion') ?? '');
    let jkt: string | undefined;
    if (proof !== undefined || (claimed?.requireDpop ?? this.o.requireDpop)) {
      const nonceHeader = { 'DPoP-Nonce': dpop.nonces.current() };
      try {
        jkt = verifyDpopProof(proof, {
          method: 'POST',
          url: `${origin}${MOCK_TOKEN_PATH}`,
          nowMs: clock.now(),
          usedJtis: dpop.usedJtis,
          nonceValid: (n) => dpop.nonces.valid(n),
        });
      } catch (e) {
        if (!(e instanceof DpopProofError)) throw e;
        if (e.error === 'use_dpop_nonce') {
          counters.dpopNonceChallenges++;
          this.#error(res, 400, 'use_dpop_nonce', 'Authorization server requires nonce in DPoP proof.', nonceHeader);
        } else {
          counters.dpopProofsRefused++;
          // No nonce with this answer: the first proof then meets use_dpop_nonce, as on Okta.
          this.#error(res, 400, 'invalid_dpop_proof', e.message);
        }
        return;
      }
    }
    let client: MockOAuthClient;
    try {
      client = verifyClientAssertion(form.get('client_assertion') ?? '', {
        clients: this.o.clients,
        audience: `${origin}${MOCK_TOKEN_PATH}`,
        nowMs: clock.now(),
        usedJtis: this.#usedJtis,
      });
    } catch (e) {
      if (!(e instanceof AssertionError)) throw e;
      this.#error(res, 401, 'invalid_client', e.message);
      return;
    }
    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (requested.length === 0) {
      this.#error(res, 400, 'invalid_scope', "The authorization server resource does not have any configured default scopes, 'scope' must be provided.");
      return;
    }
    const granted = client.grantedScopes ?? ['okta.logs.read'];
    const refused = requested.filter((s) => !granted.includes(s));
    if (refused.length > 0) {
      this.#error(res, 400, 'invalid_scope', `The following scopes are not allowed: ${refused.join(' ')}`);
      return;
    }
    const accessToken = randomBytes(32).toString('base64url');
    this.issued.set(accessToken, { expiresAtMs: clock.now() + tokenLifetimeSec * 1000, scopes: requested, clientId: client.clientId, ...(jkt ? { jkt } : {}) });
    counters.tokensIssued++;
    if (jkt) counters.dpopTokensIssued++;
    const tokenType = jkt ? 'DPoP' : 'Bearer';
    send(res, 200, JSON.stringify({ token_type: tokenType, expires_in: tokenLifetimeSec, access_token: accessToken, scope: requested.join(' ') }), {
      Pragma: 'no-cache',
      ...(jkt ? { 'DPoP-Nonce': dpop.nonces.current() } : {}),
    });
  }
}
