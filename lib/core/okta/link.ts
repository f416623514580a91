/**
 * `Link` header parsing (RFC 8288), enough for Okta's pagination links:
 * `<https://acme.okta.com/api/v1/logs?after=...>; rel="next", <...>; rel="self"`.
 */

export interface WebLink {
  /** The target, resolved against the base URL when it is relative. */
  readonly url: string;
  /** The relation types (`rel` may list several, separated by spaces), lower-case. */
  readonly rels: readonly string[];
}

/**
 * Parses one or more `Link` header values (several headers, or one header listing several links
 * separated by commas; the Fetch API joins repeated headers with ", "). Commas and semicolons inside
 * `<...>` or quoted strings are handled. Links whose target is not a valid URL are skipped.
 */
export function parseLinkHeader(values: string | readonly string[] | null | undefined, baseUrl: string): WebLink[] {
  if (values === null || values === undefined) return [];
  const list = typeof values === 'string' ? [values] : values;
  const out: WebLink[] = [];
  for (const value of list) {
    let i = 0;
    const n = value.length;
    while (i < n) {
      const open = value.indexOf('<', i);
      if (open < 0) break;
      const close = value.indexOf('>', open + 1);
      if (close < 0) break;
      const target = value.slice(open + 1, close).trim();
      // Parameters run until the next comma that is outside a quoted string.
      let j = close + 1;
      let quoted = false;
      while (j < n) {
        const c = value[j];
        if (quoted) {
          if (c === '\\') j++;
          else if (c === '"') quoted = false;
        } else if (c === '"') quoted = true;
        else if (c === ',') break;
        j++;
      }
      const rels = relsOf(value.slice(close + 1, j));
      i = j + 1;
      let url: string;
      try {
        url = new URL(target, baseUrl).toString();
      } catch {
        continue;
      }
      out.push({ url, rels });
    }
  }
  return out;
}

function relsOf(params: string): string[] {
  const rels: string[] = [];
  const re = /;\s*([a-zA-Z0-9!#$&+.^_`|~-]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;,"]+)))?/g;
  for (let m = re.exec(params); m; m = re.exec(params)) {
    if (m[1].toLowerCase() !== 'rel') continue;
    const v = (m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '')).trim();
    rels.push(...v.toLowerCase().split(/\s+/).filter(Boolean));
    break; // RFC 8288: only the first rel parameter counts
  }
  return rels;
}

/** The first link with relation `rel`, if any. */
export function findLink(links: readonly WebLink[], rel: string): string | undefined {
  return links.find((l) => l.rels.includes(rel))?.url;
}
