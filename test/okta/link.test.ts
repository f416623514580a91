import { describe, expect, it } from 'vitest';
import { findLink, parseLinkHeader } from '../../lib/core/okta/link';

const BASE = 'https://acme.okta.com/api/v1/logs?limit=2';

describe('parseLinkHeader', () => {
  it('reads several links from one header value, commas inside URLs included', () => {
    // Act
    const links = parseLinkHeader(
      '<https://acme.okta.com/api/v1/logs?limit=2>; rel="self", <https://acme.okta.com/api/v1/logs?after=a,b&limit=2>; rel="next"',
      BASE,
    );
    // Assess
    expect(links).toEqual([
      { url: 'https://acme.okta.com/api/v1/logs?limit=2', rels: ['self'] },
      { url: 'https://acme.okta.com/api/v1/logs?after=a,b&limit=2', rels: ['next'] },
    ]);
  });

  it('reads several header values, unquoted and multi-valued rels, other parameters, and relative targets', () => {
    const links = parseLinkHeader(
      ['</api/v1/logs?after=x>; title="a, \\"quoted\\" title"; REL=next', '<https://acme.okta.com/api/v1/logs>; rel="self prev"'],
      BASE,
    );
    expect(findLink(links, 'next')).toBe('https://acme.okta.com/api/v1/logs?after=x');
    expect(findLink(links, 'prev')).toBe('https://acme.okta.com/api/v1/logs');
    expect(findLink(links, 'last')).toBeUndefined();
  });

  it('returns nothing for an absent or malformed header', () => {
    expect(parseLinkHeader(null, BASE)).toEqual([]);
    expect(parseLinkHeader('rel="next"', BASE)).toEqual([]);
    expect(parseLinkHeader('<https://acme.okta.com/x', BASE)).toEqual([]);
    expect(findLink(parseLinkHeader('<http://[bad>; rel="next"', BASE), 'next')).toBeUndefined();
  });
});
