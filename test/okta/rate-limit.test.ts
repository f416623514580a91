import { describe, expect, it } from 'vitest';
import { MAX_RESET_WAIT_MS, RateLimitPacer } from '../../lib/core/okta/rate-limit';
import { RetryPolicy } from '../../lib/core/okta/retry-policy';
import { ManualClock } from '../../testkit/clock';

const T = Date.parse('2024-05-01T00:00:10.000Z');
const headers = (h: Record<string, string>): Headers => new Headers(h);

describe('RateLimitPacer', () => {
  it('measures the reset from the response Date, falling back to the local clock, capped at a minute', () => {
    // Prepare: the local clock is 5 s ahead of Okta's
    const pacer = new RateLimitPacer({ share: 0.5, jitterMs: 0, random: () => 0, clock: new ManualClock(T + 5_000) });
    const reset = String((T + 30_000) / 1000);
    // Act / Assess
    expect(pacer.waitAfter429(headers({ Date: new Date(T).toUTCString(), 'X-Rate-Limit-Reset': reset }))).toBe(30_000);
    expect(pacer.waitAfter429(headers({ 'X-Rate-Limit-Reset': reset }))).toBe(25_000);
    expect(pacer.waitAfter429(headers({ Date: 'not a date', 'X-Rate-Limit-Reset': reset }))).toBe(25_000);
    expect(pacer.waitAfter429(headers({ Date: new Date(T).toUTCString(), 'X-Rate-Limit-Reset': String((T + 600_000) / 1000) }))).toBe(MAX_RESET_WAIT_MS);
    expect(pacer.waitAfter429(headers({}))).toBeUndefined();
  });

  it('asks for a wait once the remaining requests fall to the others\' share, and ignores a concurrency 429 (limit 0)', () => {
    const pacer = new RateLimitPacer({ share: 0.5, jitterMs: 0, random: () => 0, clock: new ManualClock(T) });
    const at = (remaining: string, limit = '10') =>
      headers({ Date: new Date(T).toUTCString(), 'X-Rate-Limit-Limit': limit, 'X-Rate-Limit-Remaining': remaining, 'X-Rate-Limit-Reset': String((T + 20_000) / 1000) });
    // Act / Assess
    pacer.note(at('6'));
    expect(pacer.beforeRequest()).toBeUndefined();
    pacer.note(at('5'), 'req-1');
    expect(pacer.beforeRequest()).toMatchObject({ ms: 20_000, state: { limit: 10, remaining: 5, requestId: 'req-1' } });
    expect(pacer.beforeRequest()).toBeUndefined(); // the state is used once
    pacer.note(at('0', '0'));
    expect(pacer.beforeRequest()).toBeUndefined();
  });
});

describe('RetryPolicy', () => {
  it('charges a 429 half an attempt and backs off with full jitter under a doubling, capped ceiling', () => {
    const budget = new RetryPolicy({ maxAttempts: 2, backoffBaseMs: 100, backoffCapMs: 250, random: () => 0.999 }).start();
    // Act / Assess
    expect([budget.backoffMs(), budget.backoffMs(), budget.backoffMs()]).toEqual([99, 199, 249]);
    expect(budget.spend('rate-limited')).toBe(false);
    expect(budget.spend('rate-limited')).toBe(false);
    expect(budget.spend('rate-limited')).toBe(false);
    expect(budget.spend('server-error')).toBe(true);
  });
});
