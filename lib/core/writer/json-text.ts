/**
 * Small helpers over JSON *text*, used only on the writer's slow path: when DuckDB refuses a page
 * that is valid JSON (its parser rejects `\ud800`-style escapes of a lone UTF-16 surrogate, which
 * `JSON.parse` accepts), the writer locates each element's exact text, sets the elements DuckDB
 * cannot read aside (they are quarantined verbatim) and stages the rest.
 */

export interface Span {
  /** Start (inclusive) and end (exclusive) of the element's text in the page, in UTF-16 units. */
  readonly start: number;
  readonly end: number;
}

const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Index just past the JSON string literal starting at `i` (which must be a `"`). */
function skipString(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 0x5c) j += 2;
    else if (c === 0x22) return j + 1;
    else j += 1;
  }
  return j;
}

/**
 * The spans of the top-level elements of a JSON array. The text must already be known to be
 * valid JSON (e.g. `JSON.parse` accepted it); returns `undefined` when it is not an array.
 */
export function arrayElementSpans(text: string): Span[] | undefined {
  let i = 0;
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x5b) return undefined;
  i++;
  const spans: Span[] = [];
  let depth = 0;
  let start = -1;
  let lastNonWs = -1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      if (start < 0) start = i;
      i = skipString(text, i) - 1;
      lastNonWs = i;
      continue;
    }
    if (isWs(c)) continue;
    if (depth === 0 && (c === 0x2c || c === 0x5d)) {
      if (start >= 0) spans.push({ start, end: lastNonWs + 1 });
      start = -1;
      if (c === 0x5d) return spans;
      continue;
    }
    if (start < 0) start = i;
    if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) depth--;
    lastNonWs = i;
  }
  return undefined;
}

/** The spans of the non-blank lines of a JSON Lines text, without surrounding whitespace. */
export function lineElementSpans(text: string): Span[] {
  const spans: Span[] = [];
  let lineStart = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text.charCodeAt(i) === 0x0a) {
      let s = lineStart;
      let e = i;
      while (s < e && isWs(text.charCodeAt(s))) s++;
      while (e > s && isWs(text.charCodeAt(e - 1))) e--;
      if (e > s) spans.push({ start: s, end: e });
      lineStart = i + 1;
    }
  }
  return spans;
}

const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * Whether the JSON text holds a `\uXXXX` escape of an unpaired UTF-16 surrogate (valid JSON
 * grammar, but not Unicode text: DuckDB's parser refuses it).
 */
export function hasLoneSurrogateEscape(text: string): boolean {
  let pendingHigh = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // String boundaries: a pending high surrogate at the end of a string is unpaired.
      if (pendingHigh) return true;
      continue;
    }
    if (c !== 0x5c) {
      if (pendingHigh) return true;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (next !== 0x75 /* u */) {
      if (pendingHigh) return true;
      i += 1;
      continue;
    }
    const hex = text.slice(i + 2, i + 6);
    i += 5;
    if (!HEX4.test(hex)) continue;
    const unit = parseInt(hex, 16);
    const isHigh = unit >= 0xd800 && unit <= 0xdbff;
    const isLow = unit >= 0xdc00 && unit <= 0xdfff;
    if (pendingHigh) {
      if (!isLow) return true;
      pendingHigh = false;
    } else if (isLow) {
      return true;
    } else if (isHigh) {
      pendingHigh = true;
    }
  }
  return pendingHigh;
}
