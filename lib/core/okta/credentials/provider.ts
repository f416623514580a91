/**
 * What every credential kind builds: a {@link CredentialProvider}, which gives the authentication
 * headers of Okta requests. The kinds themselves (their secret fields, environment variables, how
 * they are built and their hints when Okta refuses them) are the registry of `./index.ts`.
 *
 * Secrets live only in `#private` fields. `JSON.stringify`, `util.inspect` (console.log), `String()`
 * and every error message show `[redacted]` in their place.
 */
import type { Clock } from '../../ports';

/** Gives the `Authorization` header value for Okta API requests. */
export interface CredentialProvider {
  /**
   * The name of the credential kind that built it: a `CredentialKindName` of the registry
   * (`CREDENTIAL_KINDS` in `./index.ts`) for every provider okta-lake builds. Typed as a string so
   * this port does not depend on the registry of the kinds that implement it.
   */
  readonly kind: string;
  /** The full `Authorization` header value (`SSWS <token>` or `Bearer <access token>`). */
  authorization(signal?: AbortSignal): Promise<string>;
  /** Drops any cached access token (called after Okta answered 401), so the next call gets a new one. */
  invalidate(): void;
  /**
   * The authentication headers of one request to `url` (an org URL): `Authorization`, and for a
   * DPoP-bound token a fresh `DPoP` proof for this method and URL (RFC 9449 section 7.1).
   * @default `{ Authorization: await authorization(signal) }`
   */
  requestHeaders?(method: string, url: string, signal?: AbortSignal): Promise<Record<string, string>>;
  /**
   * Sees each answer to a request made with {@link requestHeaders}: keeps a `DPoP-Nonce` it carries,
   * and returns true when the answer is a DPoP nonce challenge (HTTP 401 with
   * `WWW-Authenticate: DPoP error="use_dpop_nonce"` and a `DPoP-Nonce`: RFC 9449 section 9), which
   * the caller retries once at once with new headers.
   */
  observeResponse?(url: string, status: number, headers: Headers): boolean;
}

/** Dependencies of the providers a kind builds. */
export interface CredentialDeps {
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
}

/** What a provider shows in place of a secret. */
export const REDACTED = '[redacted]';
/** Printable ASCII without spaces: what may safely go into an HTTP header value or a form field. */
export const HEADER_SAFE = /^[\x21-\x7e]+$/;

/** Waits for `promise`, or rejects with the signal's reason when the signal aborts first. */
export function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
