import { describe, expect, it } from 'vitest';
import { assertOrgLabel } from '../../lib/core/layout';
import { InvalidOrgError } from '../../lib/core/okta/errors';
import { parseOrg } from '../../lib/core/okta/org';

describe('parseOrg', () => {
  it.each([
    ['acme.okta.com', 'https://acme.okta.com', 'acme.okta.com'],
    ['https://acme.okta.com', 'https://acme.okta.com', 'acme.okta.com'],
    ['https://acme.okta.com/', 'https://acme.okta.com', 'acme.okta.com'],
    ['  HTTPS://Acme.Okta.com/  ', 'https://acme.okta.com', 'acme.okta.com'],
    ['acme.oktapreview.com', 'https://acme.oktapreview.com', 'acme.oktapreview.com'],
    ['login.example-corp.com', 'https://login.example-corp.com', 'login.example-corp.com'],
    ['https://acme.okta.com:443', 'https://acme.okta.com', 'acme.okta.com'],
    ['https://acme.okta.com:8443', 'https://acme.okta.com:8443', 'acme.okta.com-8443'],
  ])('accepts %j', (input, origin, host) => {
    // Act
    const org = parseOrg(input);
    // Assess
    expect(org).toEqual({ origin, host });
    expect(assertOrgLabel(org.host)).toBe(host);
  });

  it.each([
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080', '127.0.0.1-8080'],
    ['http://127.3.4.5:9', 'http://127.3.4.5:9', '127.3.4.5-9'],
    ['http://localhost:3000/', 'http://localhost:3000', 'localhost-3000'],
    ['http://localhost', 'http://localhost', 'localhost'],
    ['http://[::1]:8080', 'http://[::1]:8080', 'ipv6---1-8080'],
    ['https://127.0.0.1:8443', 'https://127.0.0.1:8443', '127.0.0.1-8443'],
  ])('accepts the loopback %j when insecure loopback is allowed', (input, origin, host) => {
    const org = parseOrg(input, { allowInsecureLoopback: true });
    expect(org).toEqual({ origin, host });
    expect(assertOrgLabel(org.host)).toBe(host);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['https://acme.okta.com/api/v1/logs', /path/],
    ['acme.okta.com/oauth2', /path/],
    ['https://acme.okta.com//', /path/],
    ['https://acme.okta.com?x=1', /query/],
    ['https://acme.okta.com/?', /query/],
    ['https://acme.okta.com#top', /fragment/],
    ['https://user:pw@acme.okta.com', /user info/],
    ['https://@acme.okta.com', /user info/],
    ['ftp://acme.okta.com', /scheme "ftp" is not https/],
    ['javascript://acme.okta.com', /scheme/],
    ['http://acme.okta.com', /plain http is allowed only for loopback/],
    ['http://127.0.0.1:8080', /allowInsecureLoopback is off/],
    ['http://localhost', /allowInsecureLoopback is off/],
    ['https://acme okta.com', /white space/],
    ['https://acme.okta.com\\@evil.com', /backslash/],
    ['https://acme%2eokta.com', /percent/],
    ['https://acme_okta.com', /not a valid host name/],
    ['https://acme.okta.com.', /not a valid host name/],
    ['https://10.0.0.1', /IP addresses are allowed only for loopback/],
    ['https://[2001:db8::1]', /IPv6/],
    ['https://acme.okta.com:99999', /not a valid host name/],
  ])('rejects %j with a named error saying what is allowed', (input, why) => {
    // Act
    const act = (): unknown => parseOrg(input);
    // Assess
    expect(act).toThrow(InvalidOrgError);
    expect(act).toThrow(why);
    expect(act).toThrow(/Use an Okta org host name such as "acme\.okta\.com"/);
  });

  it('never accepts plain http for a non-loopback host, even when insecure loopback is allowed', () => {
    expect(() => parseOrg('http://acme.okta.com', { allowInsecureLoopback: true })).toThrow(/only for loopback/);
    expect(() => parseOrg('http://10.1.2.3:8080', { allowInsecureLoopback: true })).toThrow(InvalidOrgError);
    expect(() => parseOrg('http://localhost.evil.com', { allowInsecureLoopback: true })).toThrow(InvalidOrgError);
  });

  it('returns a frozen value', () => {
    const org = parseOrg('acme.okta.com');
    expect(Object.isFrozen(org)).toBe(true);
  });
});
