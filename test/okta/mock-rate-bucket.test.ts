/** The mock Okta's rate bucket on its own: windows aligned to the epoch, the per-client cap, the headers. */
import { describe, expect, it } from 'vitest';
import { RateBucket } from '../../lib/mock-okta/rate-limit';
import { ManualClock } from '../../testkit/clock';

const W0 = Date.parse('2024-05-01T00:00:00.000Z');

describe('RateBucket (mock Okta)', () => {
  it('refills at the next window boundary, aligned to the epoch, not a window after the first request', () => {
    // Prepare: 2 requests a minute, the first one 50 s into a window
    const clock = new ManualClock(W0 + 50_000);
    const bucket = new RateBucket({ clock, limit: 2, clientShare: 1, windowMs: 60_000 });
    // Act / Assess
    expect([bucket.take('a'), bucket.take('a'), bucket.take('a')]).toEqual([true, true, false]);
    clock.advanceTo(W0 + 59_999);
    expect(bucket.take('a')).toBe(false);
    clock.advanceTo(W0 + 60_000);
    expect(bucket.take('a')).toBe(true);
  });

  it('caps one principal at its share of the bucket while others still get requests', () => {
    // Prepare: 10 a window, each principal at most half
    const bucket = new RateBucket({ clock: new ManualClock(W0), limit: 10, clientShare: 0.5, windowMs: 60_000 });
    // Act
    const a = Array.from({ length: 6 }, () => bucket.take('ssws'));
    const b = Array.from({ length: 6 }, () => bucket.take('oauth:app'));
    // Assess: a refused request does not count against the bucket
    expect(bucket.perClient).toBe(5);
    expect(a).toEqual([true, true, true, true, true, false]);
    expect(b).toEqual([true, true, true, true, true, false]);
    expect(bucket.take('oauth:other')).toBe(false);
    expect(bucket.headers()['X-Rate-Limit-Remaining']).toBe('0');
  });

  it('gives each principal at least one request, however small its share', () => {
    const bucket = new RateBucket({ clock: new ManualClock(W0), limit: 3, clientShare: 0.01, windowMs: 60_000 });
    expect(bucket.perClient).toBe(1);
    expect([bucket.take('x'), bucket.take('x'), bucket.take('y')]).toEqual([true, false, true]);
  });

  it('reports the limit, what the org has left and the end of the window in epoch seconds', () => {
    // Prepare
    const clock = new ManualClock(W0 + 1_500);
    const bucket = new RateBucket({ clock, limit: 120, clientShare: 0.5, windowMs: 60_000 });
    bucket.take('ssws');
    // Act / Assess
    expect(bucket.headers()).toEqual({ 'X-Rate-Limit-Limit': '120', 'X-Rate-Limit-Remaining': '119', 'X-Rate-Limit-Reset': String((W0 + 60_000) / 1000) });
    clock.advanceTo(W0 + 61_000);
    expect(bucket.headers()).toEqual({ 'X-Rate-Limit-Limit': '120', 'X-Rate-Limit-Remaining': '120', 'X-Rate-Limit-Reset': String((W0 + 120_000) / 1000) });
  });
});
