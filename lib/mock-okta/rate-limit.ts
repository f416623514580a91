/**
 * The org's rate-limit bucket for `/api/v1/logs`: `limit` requests per window (windows aligned to
 * the epoch), of which one principal (an API token, an OAuth app) may use at most `perClient`
 * (Okta's per-token/app share of the endpoint's limit), and the `X-Rate-Limit-*` headers.
 */
import type { Clock } from '../core/ports';
import { oktaError } from './http';

export interface RateBucketOptions {
  readonly clock: Pick<Clock, 'now'>;
  /** Requests per window for the whole org. */
  readonly limit: number;
  /** The share (0 < share <= 1) of `limit` one principal may use per window. */
  readonly clientShare: number;
  /** Length of a window in ms. */
  readonly windowMs: number;
}

/** The body of Okta's 429 answer (`E0000047`). */
export function rateLimitedBody(): string {
  return oktaError('E0000047', 'API call exceeded rate limit due to too many requests.');
}

export class RateBucket {
  /** Requests one principal may make per window: `floor(limit * clientShare)`, at least 1. */
  readonly perClient: number;
  #windowStart = 0;
  #used = 0;
  /** Requests of each principal in this window. */
  readonly #byPrincipal = new Map<string, number>();

  constructor(private readonly o: RateBucketOptions) {
    this.perClient = Math.max(1, Math.floor(o.limit * o.clientShare));
  }

  /** Starts a new window (an empty bucket) when the clock has passed into one. */
  #refill(): void {
    const start = Math.floor(this.o.clock.now() / this.o.windowMs) * this.o.windowMs;
    if (start !== this.#windowStart) {
      this.#windowStart = start;
      this.#used = 0;
      this.#byPrincipal.clear();
    }
  }

  /** Counts one request of `principal` and returns true, or returns false (counting nothing) when the org or the principal is out of requests. */
  take(principal: string): boolean {
    this.#refill();
    const mine = this.#byPrincipal.get(principal) ?? 0;
    if (this.#used >= this.o.limit || mine >= this.perClient) return false;
    this.#used++;
    this.#byPrincipal.set(principal, mine + 1);
    return true;
  }

  /** `X-Rate-Limit-Limit`, `-Remaining` (of the org's bucket) and `-Reset` (end of the window, epoch seconds). */
  headers(): Record<string, string> {
    this.#refill();
    return {
      'X-Rate-Limit-Limit': String(this.o.limit),
      'X-Rate-Limit-Remaining': String(Math.max(0, this.o.limit - this.#used)),
      'X-Rate-Limit-Reset': String(Math.ceil((this.#windowStart + this.o.windowMs) / 1000)),
    };
  }
}
