/** The mock Okta's fault picker and page faults on their own: one fault per request, always the same for the same plan. */
import { describe, expect, it } from 'vitest';
import { faultedPage, newFaultPlan, pickFault, type MockFaultKind, type MockFaultPlan } from '../../lib/mock-okta/faults';

const url = (q = ''): URL => new URL(`http://127.0.0.1:1/api/v1/logs${q}`);
const kinds = (plan: MockFaultPlan, n: number): (MockFaultKind | undefined)[] => Array.from({ length: n }, (_, i) => pickFault({ plan }, { n: i + 1, url: url() })?.kind);

describe('pickFault (mock Okta)', () => {
  it('takes one fault per request in the documented order, decrementing each counter, then none', () => {
    // Prepare: one of each, set in the reverse of the order they are taken
    const plan = newFaultPlan({ nextOversize: 1, nextEmptyWithNext: 1, nextMalformed: 1, nextTruncated: 1, nextStalls: 1, nextResets: 1, nextForbidden: 1, next5xx: 1, next429: 1 });
    // Act / Assess
    expect(kinds(plan, 10)).toEqual(['429', '5xx', 'forbidden', 'reset', 'stall', 'truncated', 'malformed', 'empty-next', 'oversize', undefined]);
    expect(plan).toEqual(newFaultPlan());
  });

  it('is deterministic: the same plan gives the same faults', () => {
    const make = (): MockFaultPlan => newFaultPlan({ next5xx: 2, nextTruncated: 1, next429: 1 });
    expect(kinds(make(), 6)).toEqual(kinds(make(), 6));
    expect(kinds(make(), 6)).toEqual(['429', '5xx', '5xx', 'truncated', undefined, undefined]);
  });

  it('asks the hook first, then the wide-query rule, and only then the plan', () => {
    // Prepare
    const plan = newFaultPlan({ next5xx: 1 });
    const wide = url('?since=2024-05-01T00:00:00.000Z&until=2024-05-01T02:00:00.000Z');
    const narrow = url('?since=2024-05-01T00:00:00.000Z&until=2024-05-01T00:30:00.000Z');
    const o = { plan, queryTimeoutWiderThanMs: 3_600_000, hook: ({ n }: { n: number }) => (n === 1 ? ('stall' as const) : n === 2 ? { kind: '5xx' as const, status: 502 } : undefined) };
    // Act / Assess
    expect(pickFault(o, { n: 1, url: wide })).toEqual({ kind: 'stall' });
    expect(pickFault(o, { n: 2, url: wide })).toEqual({ kind: '5xx', status: 502 });
    expect(pickFault(o, { n: 3, url: wide })).toEqual({ kind: 'query-timeout' });
    expect(plan.next5xx).toBe(1);
    expect(pickFault(o, { n: 4, url: narrow })).toEqual({ kind: '5xx' });
    expect(pickFault(o, { n: 5, url: narrow })).toBeUndefined();
  });
});

describe('faultedPage (mock Okta)', () => {
  const page = { body: Buffer.from('[{"a":1},{"b":2}]'), links: ['<s>; rel="self"'], count: 2 };

  it('makes an empty page with a next link to the same request', () => {
    expect(faultedPage({ kind: 'empty-next' }, page, 'http://h/api/v1/logs?x=1')).toEqual({
      body: '[]',
      count: 0,
      links: ['<http://h/api/v1/logs?x=1>; rel="self"', '<http://h/api/v1/logs?x=1>; rel="next"'],
    });
  });

  it('truncates to the first half without a closing bracket, and writes a trailing comma for malformed', () => {
    expect(faultedPage({ kind: 'truncated' }, page, '')).toEqual({ ...page, body: '[{"a":1}' });
    expect(faultedPage({ kind: 'malformed' }, page, '')).toEqual({ ...page, body: '[{"a":1},{"b":2},]' });
    expect(faultedPage({ kind: 'malformed' }, { body: Buffer.from('[]'), links: [], count: 0 }, '').body).toBe('[,]');
  });

  it('leaves the page as it is for no fault or a fault that does not change the body', () => {
    expect(faultedPage(undefined, page, '')).toBe(page);
    expect(faultedPage({ kind: 'oversize' }, page, '')).toBe(page);
  });
});
