/**
 * Rate-limit pacing of the System Log client: reads Okta's `X-Rate-Limit-*` headers and says how long
 * to wait, before a request (to stay within this client's share of the org's bucket) and after a 429
 * (until the window's reset). Okta's headers: developer.okta.com/docs/reference/rl-best-practices.
 *
 * Clocks. `X-Rate-Limit-Reset` is an instant on Okta's clock. The wait is the reset minus the
 * response's `Date` header (also Okta's clock), as Okta's own SDK computes it
 * (okta/okta-sdk-nodejs `src/default-request-executor.js`, `getRetryDelayMs`: "the delta
 * X-Rate-Limit-Reset and the Date header"), so a local clock that runs ahead or behind does not
 * shorten or stretch it. Only when `Date` is missing or unreadable is the local clock used instead.
 * The SDK adds one second for the sub-second part the two headers lose; here the jitter added after
 * every reset (`rateLimitJitterMs`, default 1 s) plays that part.
 */
import type { Clock } from '../ports';

/** Longest single wait for a rate-limit reset: Okta's windows are one minute, so more means clock skew. */
export const MAX_RESET_WAIT_MS = 60_000;

/** The org bucket as the last response described it. */
export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  /** When the window resets, on the client's clock (ms). */
  readonly resetMs: number;
  /** `X-Okta-Request-Id` of the response that said so, for the log line of a pacing wait. */
  readonly requestId?: string;
}

/** A header holding a whole number, or undefined. */
export function headerInt(headers: Headers, name: string): number | undefined {
  const v = headers.get(name);
  if (v === null || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

export interface RateLimitPacerOptions {
  /** The share (0 < share <= 1) of the bucket this client may use. */
  readonly share: number;
  /** Random extra wait after a reset, in [0, jitterMs). */
  readonly jitterMs: number;
  readonly random: () => number;
  readonly clock: Clock;
}

/** Keeps the last bucket state and computes the waits; the client does the waiting and the reporting. */
export class RateLimitPacer {
  readonly share: number;
  readonly #jitterMs: number;
  readonly #random: () => number;
  readonly #clock: Clock;
  #state?: RateLimitState;

  constructor(options: RateLimitPacerOptions) {
    this.share = options.share;
    this.#jitterMs = options.jitterMs;
    this.#random = options.random;
    this.#clock = options.clock;
  }

  /** Notes the bucket a response describes (a 429 for concurrency, `X-Rate-Limit-Limit: 0`, is ignored). */
  note(headers: Headers, requestId?: string): void {
    const limit = headerInt(headers, 'x-rate-limit-limit');
    const remaining = headerInt(headers, 'x-rate-limit-remaining');
    const reset = headerInt(headers, 'x-rate-limit-reset');
    if (limit === undefined || remaining === undefined || reset === undefined || limit <= 0) return;
    this.#state = { limit, remaining, resetMs: this.localResetMs(headers, reset), ...(requestId ? { requestId } : {}) };
  }

  /** The wait a 429 asks for (until its `X-Rate-Limit-Reset`, plus jitter), or undefined when it names no reset. */
  waitAfter429(headers: Headers): number | undefined {
    const reset = headerInt(headers, 'x-rate-limit-reset');
    return reset !== undefined ? this.#resetWait(this.localResetMs(headers, reset)) : undefined;
  }

  /**
   * The reset `resetSec` (epoch seconds on Okta's clock) as an instant on the local clock: now plus
   * the reset's distance from the response's `Date`; the reset itself when `Date` is missing or invalid.
   */
  localResetMs(headers: Headers, resetSec: number): number {
    const date = headers.get('date');
    const serverNowMs = date === null ? Number.NaN : Date.parse(date);
    if (Number.isNaN(serverNowMs)) return resetSec * 1000;
    return this.#clock.now() + (resetSec * 1000 - serverNowMs);
  }

  /**
   * Before a request: when the remaining requests of the window have fallen to `limit * (1 - share)`
   * or below, the wait until the window's reset (plus jitter) and the state it is based on.
   */
  beforeRequest(): { readonly ms: number; readonly state: RateLimitState } | undefined {
    const rl = this.#state;
    if (!rl) return undefined;
    if (rl.remaining > rl.limit * (1 - this.share)) return undefined;
    this.#state = undefined;
    if (this.#clock.now() >= rl.resetMs) return undefined;
    return { ms: this.#resetWait(rl.resetMs), state: rl };
  }

  /** Wait until `resetMs` (capped at {@link MAX_RESET_WAIT_MS}) plus jitter. */
  #resetWait(resetMs: number): number {
    const until = Math.min(Math.max(0, resetMs - this.#clock.now()), MAX_RESET_WAIT_MS);
    return Math.ceil(until + this.#random() * this.#jitterMs);
  }
}
