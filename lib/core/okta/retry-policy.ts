/**
 * What the System Log client retries and how long it waits between attempts: the causes of a retry,
 * the attempt budget of one page (an HTTP 429 costs half an attempt) and capped exponential backoff
 * with full jitter.
 */

/** Why a request was retried (keys of `OktaClientStats.retries`). */
export type RetryCause =
  /** HTTP 429: waited for the rate-limit reset. */
  | 'rate-limited'
  /** HTTP 5xx (but not 500 `E0000009`, a query timeout, which is not retried: `OktaQueryTimeoutError`). */
  | 'server-error'
  /** Connection refused/reset, DNS or TLS failure, a body cut off by the connection. */
  | 'network'
  /** No complete answer within `requestTimeoutMs`. */
  | 'timeout'
  /** HTTP 200 whose body is not a complete JSON array, or not JSON. */
  | 'incomplete-body'
  /** HTTP 200 whose body passed the page cap (`maxPageBytes`): reading stopped there (`OktaResponseTooLargeError`). */
  | 'response-too-large'
  /** HTTP 401 with OAuth: the access token was dropped and a new one fetched (once per page). */
  | 'unauthorized'
  /** The OAuth token endpoint failed in a retryable way (network, timeout, 429, 5xx). */
  | 'token-endpoint';

export const RETRY_CAUSES: readonly RetryCause[] = [
  'rate-limited',
  'server-error',
  'network',
  'timeout',
  'incomplete-body',
  'response-too-large',
  'unauthorized',
  'token-endpoint',
];

export interface RetryPolicyOptions {
  /** Attempts per page; a 429 counts 1/2 (see `OktaLogClientOptions.maxAttempts`). */
  readonly maxAttempts: number;
  /** Base of the backoff: a random delay in [0, min(cap, base * 2^n)). */
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  /** Uniform random numbers in [0, 1). */
  readonly random: () => number;
}

/** The retry policy of the client; {@link RetryPolicy.start} gives the budget of one page. */
export class RetryPolicy {
  readonly maxAttempts: number;
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #random: () => number;

  constructor(options: RetryPolicyOptions) {
    this.maxAttempts = options.maxAttempts;
    this.#baseMs = options.backoffBaseMs;
    this.#capMs = options.backoffCapMs;
    this.#random = options.random;
  }

  /**
   * What one failed attempt costs: rate limiting is expected and waiting for the reset fixes it, so
   * a 429 costs half of any other failure.
   */
  static cost(cause: RetryCause): number {
    return cause === 'rate-limited' ? 0.5 : 1;
  }

  /** The attempt budget of one page. */
  start(): RetryBudget {
    return new RetryBudget(this.maxAttempts, (n) => Math.floor(this.#random() * Math.min(this.#capMs, this.#baseMs * 2 ** n)));
  }
}

/** The attempts one page has used, and its backoff sequence. */
export class RetryBudget {
  #used = 0;
  #backoffs = 0;
  readonly #delay: (n: number) => number;
  constructor(
    readonly maxAttempts: number,
    delay: (n: number) => number,
  ) {
    this.#delay = delay;
  }

  /** Records a failed attempt; true when the budget is used up (do not retry). */
  spend(cause: RetryCause): boolean {
    this.#used += RetryPolicy.cost(cause);
    return this.#used >= this.maxAttempts;
  }

  /** The next backoff delay (full jitter over a doubling ceiling). */
  backoffMs(): number {
    return this.#delay(this.#backoffs++);
  }
}
