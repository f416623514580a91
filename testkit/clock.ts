/**
 * A simulated clock for tests and the soak: time moves only when someone sleeps on it or moves it,
 * so rate-limit waits, backoffs, lease TTLs and schedules cost no real time, and the mock Okta (given
 * the same clock) makes late events visible as it moves.
 */
import type { Clock } from '../lib/core/ports';

export class ManualClock implements Clock {
  #t: number;
  /** Total time slept on this clock (waits that cost no real time). */
  slept = 0;
  /** Every sleep asked for, in order (including any of 0 ms). */
  readonly sleeps: number[] = [];

  constructor(startMs: number) {
    if (!Number.isFinite(startMs)) throw new RangeError(`ManualClock start must be a finite epoch ms, got ${startMs}`);
    this.#t = startMs;
  }

  now(): number {
    return this.#t;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    if (ms > 0) {
      this.#t += ms;
      this.slept += ms;
    }
    // Yield like a real timer would, so that concurrent work interleaves.
    await Promise.resolve();
  }

  /** Moves the clock forward by `ms` (never backward). */
  advance(ms: number): void {
    if (ms > 0) this.#t += ms;
  }

  /** Moves the clock to `ms` when that is later than now. */
  advanceTo(ms: number): void {
    if (ms > this.#t) this.#t = ms;
  }
}

/** A Lambda-like time budget on `clock`: `totalMs` from the clock's current time, stopping with `marginMs` left. */
export function budgetOn(clock: Pick<Clock, 'now'>, totalMs: number, marginMs?: number): { remainingMs(): number; marginMs?: number } {
  const deadline = clock.now() + totalMs;
  return { remainingMs: () => deadline - clock.now(), ...(marginMs !== undefined ? { marginMs } : {}) };
}
