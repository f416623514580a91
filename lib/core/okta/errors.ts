/**
 * Named errors of the Okta client. None of them ever carries a credential (token, private key,
 * client assertion, access token) in its message or its fields; URLs in messages are System Log
 * URLs, which hold only `since`, `until`, `limit`, `sortOrder` and the opaque `after` cursor.
 */
import { ConfigError, OktaLakeError } from '../errors';

/**
 * `X-Okta-Request-Id` of a response: Okta support asks for it to find a request in their logs
 * (every Okta response carries it: okta-sdk-nodejs `src/default-request-executor.js` reads it for
 * each retry; developer.okta.com/docs/reference/system-log-query lists it with the errors). Kept
 * only when it looks like an id (letters, digits and `-_.:=+/`, at most 128), so a header can never
 * put anything else into a message or a log line.
 */
export function oktaRequestId(headers: Headers | undefined): string | undefined {
  const v = headers?.get('x-okta-request-id')?.trim();
  return v && /^[\w.:=+/-]{1,128}$/.test(v) ? v : undefined;
}

/** `message` with the request id appended, when there is one. */
export function withRequestId(message: string, requestId: string | undefined): string {
  return requestId ? `${message} [X-Okta-Request-Id: ${requestId}]` : message;
}

/** The Okta org given in the configuration is not an allowed org URL or host name. */
export class InvalidOrgError extends ConfigError {}

/** A credential configuration (token, client id, private key, secret JSON) is missing or invalid. */
export class CredentialsError extends ConfigError {}

/**
 * The environment does not give one credential kind's variables (none set, two kinds set, one
 * missing), a file it names cannot be read, or a value is not one allowed. The CLI reports it as a
 * usage error.
 */
export class CredentialEnvironmentError extends CredentialsError {}

/** A System Log URL (a page to fetch or a `rel="next"` link) points outside the configured org. */
export class ForeignLinkError extends OktaLakeError {
  /** The offending URL's origin (or `undefined` when the URL could not be parsed). */
  readonly origin?: string;
  constructor(message: string, options?: { cause?: unknown; origin?: string }) {
    super(message, options);
    this.origin = options?.origin;
  }
}

/** Okta refused the credential (HTTP 401/403), or the OAuth token endpoint refused the client. */
export class OktaAuthError extends OktaLakeError {
  /** HTTP status, when Okta answered. */
  readonly status?: number;
  /** Okta's `errorCode` (`E0000011`, ...) or the OAuth `error` (`invalid_client`, ...), when given. */
  readonly errorCode?: string;
  /** `X-Okta-Request-Id` of Okta's answer, when it had one (also in the message). */
  readonly requestId?: string;
  constructor(message: string, options?: { cause?: unknown; status?: number; errorCode?: string; requestId?: string }) {
    super(message, options);
    this.status = options?.status;
    this.errorCode = options?.errorCode;
    this.requestId = options?.requestId;
  }
}

/**
 * The OAuth 2.0 token endpoint (`/oauth2/v1/token`) did not issue an access token. `error` and
 * `errorDescription` are Okta's; the client assertion and the key are never included.
 * `retryable` is true for network errors, timeouts, HTTP 429 and 5xx: the System Log client retries
 * those within its attempt budget and reports them wrapped in an {@link OktaRequestError}.
 */
export class OAuthTokenError extends OktaAuthError {
  readonly error?: string;
  readonly errorDescription?: string;
  readonly retryable: boolean;
  /** The answer carried a `DPoP-Nonce` other than the one last sent (RFC 9449 section 8), so a retry can use it. */
  readonly dpopNonceChanged: boolean;
  constructor(
    message: string,
    options: { cause?: unknown; status?: number; error?: string; errorDescription?: string; retryable: boolean; requestId?: string; dpopNonceChanged?: boolean },
  ) {
    super(message, { cause: options.cause, status: options.status, errorCode: options.error, requestId: options.requestId });
    this.error = options.error;
    this.errorDescription = options.errorDescription;
    this.retryable = options.retryable;
    this.dpopNonceChanged = options.dpopNonceChanged ?? false;
  }
}

/** Okta rejected the query itself (HTTP 400), e.g. `E0000053` when `since` is more than 180 days back. */
export class OktaBadRequestError extends OktaLakeError {
  readonly status: number;
  readonly url: string;
  readonly errorCode?: string;
  readonly errorSummary?: string;
  readonly errorCauses: readonly string[];
  /** `X-Okta-Request-Id` of Okta's answer, when it had one (also in the message). */
  readonly requestId?: string;
  constructor(
    message: string,
    options: { cause?: unknown; status: number; url: string; errorCode?: string; errorSummary?: string; errorCauses?: readonly string[]; requestId?: string },
  ) {
    super(message, options);
    this.requestId = options.requestId;
    this.status = options.status;
    this.url = options.url;
    this.errorCode = options.errorCode;
    this.errorSummary = options.errorSummary;
    this.errorCauses = options.errorCauses ?? [];
  }
}

/**
 * One HTTP answer that was not a usable page (a 5xx, a 429, an incomplete 200): the `cause` of an
 * {@link OktaRequestError} when retries run out.
 */
export class OktaHttpError extends OktaLakeError {
  readonly status: number;
  readonly errorCode?: string;
  /** `X-Okta-Request-Id` of this answer, when it had one (also in the message). */
  readonly requestId?: string;
  constructor(message: string, options: { status: number; errorCode?: string; requestId?: string }) {
    super(message);
    this.status = options.status;
    this.errorCode = options.errorCode;
    this.requestId = options.requestId;
  }
}

/**
 * A System Log request failed: retries were exhausted (`attempts` made, `cause` is the last failure),
 * or Okta answered with a status that retrying cannot fix (404, a redirect, an unexpected 4xx).
 */
export class OktaRequestError extends OktaLakeError {
  readonly url: string;
  readonly status?: number;
  readonly attempts: number;
  /** `X-Okta-Request-Id` of the last answer, when Okta answered and sent one (also in the message). */
  readonly requestId?: string;
  constructor(message: string, options: { cause?: unknown; url: string; status?: number; attempts: number; requestId?: string }) {
    super(message, options);
    this.url = options.url;
    this.status = options.status;
    this.attempts = options.attempts;
    this.requestId = options.requestId;
  }
}

/**
 * Okta gave up on the query itself: HTTP 500 `E0000009`, "Your last request took too long to
 * complete ... Please either simplify your query" (developer.okta.com/docs/reference/system-log-query,
 * "Timeouts": individual queries run at most 30 s; "Errors": a timeout returns HTTP 500 E0000009).
 * The same query would time out again, so it is not retried: the caller narrows it (the ingestion
 * splits the window).
 */
export class OktaQueryTimeoutError extends OktaRequestError {}

/**
 * An Okta response body was larger than the client's cap for it (`maxPageBytes` for a System Log
 * page, a fixed smaller cap for the token endpoint): the client stopped reading at the cap and
 * aborted the request, so no body is ever held without limit. A page that fails so is retried
 * (retry cause `response-too-large`: it may be a passing fault of a proxy or of Okta); when the
 * retries run out the run fails like any page error and the next run resumes at the same page.
 */
export class OktaResponseTooLargeError extends OktaLakeError {
  /** The request's URL, without user info (System Log and token URLs carry no credential). */
  readonly url: string;
  readonly status: number;
  /** The cap, in bytes. */
  readonly maxBytes: number;
  /** Body bytes received before the client stopped (0 when `Content-Length` announced the excess). */
  readonly bytesRead: number;
  /** `Content-Length` of the response, when it declared the excess. */
  readonly declaredBytes?: number;
  /** `X-Okta-Request-Id` of the response, when it had one (also in the message). */
  readonly requestId?: string;
  constructor(
    message: string,
    options: { cause?: unknown; url: string; status: number; maxBytes: number; bytesRead: number; declaredBytes?: number; requestId?: string },
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.url = withoutUserInfo(options.url);
    this.status = options.status;
    this.maxBytes = options.maxBytes;
    this.bytesRead = options.bytesRead;
    this.declaredBytes = options.declaredBytes;
    this.requestId = options.requestId;
  }
}

/** `url` without `user:password@` (and without a fragment); an unparsable URL becomes `[invalid URL]`. */
export function withoutUserInfo(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.hash = '';
    return u.toString();
  } catch {
    return '[invalid URL]';
  }
}
