/**
 * The Okta org: where the System Log is read from, and the label its events are filed under.
 */
import { assertOrgLabel } from '../layout';
import { InvalidOrgError } from './errors';

export interface OktaOrg {
  /** Scheme, host and (non-default) port, e.g. `https://acme.okta.com` or `http://127.0.0.1:8080`. */
  readonly origin: string;
  /**
   * The org label used in lake paths (`org=<host>`): the lower-case host name, and, only when the
   * port is not the scheme's default, `-<port>` appended, because `:` is not allowed in the label
   * (`127.0.0.1:8080` becomes `127.0.0.1-8080`, `acme.okta.com:8443` becomes `acme.okta.com-8443`).
   * The IPv6 loopback `[::1]` becomes `ipv6---1` (brackets dropped, each `:` replaced by `-`, prefixed
   * with `ipv6-`). Always matches `/^[a-z0-9][a-z0-9.-]*$/`.
   */
  readonly host: string;
}

export interface ParseOrgOptions {
  /**
   * Allow plain `http://` for loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`): for the mock Okta
   * server in tests and demos. Never for any other host.
   * @default false
   */
  readonly allowInsecureLoopback?: boolean;
}

const ALLOWED =
  'an Okta org host name such as "acme.okta.com" or an origin such as "https://acme.okta.com" ' +
  '(https only, no path, query, fragment or user info; plain http only for a loopback host when allowed)';

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** True for `localhost`, any 127.0.0.0/8 address and `[::1]` (host names as the WHATWG URL parser prints them). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || (IPV4.test(hostname) && hostname.startsWith('127.'));
}

function invalid(input: string, why: string): InvalidOrgError {
  // The input is configuration, not a secret, but it may be long or odd: show a bounded, quoted excerpt.
  const shown = JSON.stringify(input.length > 100 ? `${input.slice(0, 100)}...` : input);
  return new InvalidOrgError(`Okta org ${shown} is not allowed: ${why}. Use ${ALLOWED}.`);
}

/**
 * Parses and validates the configured Okta org. Accepts `acme.okta.com`, `https://acme.okta.com` and
 * `https://acme.okta.com/` (a trailing slash), case-insensitively; rejects paths, queries, fragments,
 * user info, schemes other than https and, unless `allowInsecureLoopback` is set, any plain `http://`
 * (which is then accepted for loopback hosts only). Throws {@link InvalidOrgError}.
 */
export function parseOrg(input: string, opts: ParseOrgOptions = {}): OktaOrg {
  if (typeof input !== 'string') throw new InvalidOrgError(`Okta org must be a string. Use ${ALLOWED}.`);
  const text = input.trim();
  if (text === '') throw invalid(input, 'it is empty');
  if (/[\s\\%]/.test(text) || /[\u0000-\u001f\u007f]/.test(text)) {
    throw invalid(input, 'it contains white space, control characters, backslashes or percent-escapes');
  }
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  const scheme = schemeMatch ? schemeMatch[1].toLowerCase() : 'https';
  if (scheme !== 'https' && scheme !== 'http') throw invalid(input, `the scheme "${scheme}" is not https`);
  const rest = schemeMatch ? text.slice(schemeMatch[0].length) : text;
  if (/^[^/?#]*@/.test(rest)) throw invalid(input, 'it contains user info');
  if (rest.includes('?')) throw invalid(input, 'it contains a query');
  if (rest.includes('#')) throw invalid(input, 'it contains a fragment');
  const slash = rest.indexOf('/');
  if (slash >= 0 && rest.slice(slash) !== '/') throw invalid(input, 'it contains a path');

  let url: URL;
  try {
    url = new URL(`${scheme}://${rest}`);
  } catch (cause) {
    throw new InvalidOrgError(invalid(input, 'it is not a valid host name').message, { cause });
  }
  const hostname = url.hostname;
  const loopback = isLoopbackHost(hostname);
  if (scheme === 'http') {
    if (!loopback) throw invalid(input, 'plain http is allowed only for loopback hosts');
    if (!opts.allowInsecureLoopback) throw invalid(input, 'plain http is not allowed here (allowInsecureLoopback is off)');
  }
  const ipv6 = hostname.startsWith('[');
  if (ipv6 && hostname !== '[::1]') throw invalid(input, 'IPv6 addresses other than the loopback [::1] are not allowed');
  if (!ipv6 && !DNS_NAME.test(hostname)) throw invalid(input, 'it is not a valid host name');
  if (!ipv6 && IPV4.test(hostname) && !loopback) throw invalid(input, 'IP addresses are allowed only for loopback hosts');

  const base = ipv6 ? `ipv6-${hostname.slice(1, -1).replace(/:/g, '-')}` : hostname;
  const host = url.port ? `${base}-${url.port}` : base;
  assertOrgLabel(host);
  return Object.freeze({ origin: url.origin, host });
}
