/**
 * Splitting an exported System Log file into its events, byte for byte, whatever its shape:
 *
 * - a JSON array (what `/api/v1/logs` returns), or several arrays one after another (pages saved
 *   end to end);
 * - JSON values one after another: one per line (JSON Lines), several per line, or pretty-printed
 *   over many lines (a SIEM's raw JSON export);
 * - a UTF-8 byte order mark at the start is skipped, and CR LF line ends are whitespace, as JSON
 *   says; neither is part of any event's text.
 *
 * Every byte of the file that is not whitespace or array punctuation ends up in exactly one piece:
 * an event's text (valid UTF-8 that `JSON.parse` accepts), a fragment that is not JSON (a
 * truncated line, a stray word: up to the end of its line, and the split goes on at the next
 * line), or a piece that is not valid UTF-8, kept as its exact bytes (never decoded with
 * replacement characters). The scan works on bytes: the JSON punctuation it looks for is ASCII,
 * which never occurs inside a multi-byte UTF-8 sequence.
 */
import { arrayElementSpans } from '../writer/json-text';

export type ExportPiece =
  /** An element `JSON.parse` accepts; `text` is its exact text. */
  | { readonly kind: 'json'; readonly index: number; readonly text: string; readonly value: unknown }
  /** Text that is not JSON (valid UTF-8). */
  | { readonly kind: 'invalid_json'; readonly index: number; readonly text: string }
  /** Bytes that are not valid UTF-8, as they are in the file. */
  | { readonly kind: 'invalid_utf8'; readonly index: number; readonly bytes: Uint8Array };

export type ExportShape = 'array' | 'values';

export interface SplitExport {
  readonly pieces: readonly ExportPiece[];
  /** How the file held its events: in arrays, as values one after another, or both. */
  readonly shapes: ReadonlySet<ExportShape>;
  /** The file began with a UTF-8 byte order mark (skipped). */
  readonly bom: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const isOpen = (c: number): boolean => c === 0x7b || c === 0x5b;
const isClose = (c: number): boolean => c === 0x7d || c === 0x5d;
const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === NEWLINE || c === 0x0d;

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function splitExport(bytes: Uint8Array): SplitExport {
  const b = bytes;
  const n = b.length;
  const bom = n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
  const pieces: ExportPiece[] = [];
  const shapes = new Set<ExportShape>();

  const lineEnd = (p: number): number => {
    const at = b.indexOf(NEWLINE, p);
    return at < 0 ? n : at;
  };
  /** Index past the string literal opening at `p`, or -1 when a line ends (or the file) first. */
  const skipString = (p: number): number => {
    for (let k = p + 1; k < n; k++) {
      const c = b[k];
      if (c === BACKSLASH) k++;
      else if (c === QUOTE) return k + 1;
      else if (c === NEWLINE) return -1;
    }
    return -1;
  };
  /** Index past the object or array opening at `p`, or -1 when it does not close. */
  const matchComposite = (p: number): number => {
    let depth = 0;
    for (let j = p; j < n; ) {
      const c = b[j];
      if (c === QUOTE) {
        const k = skipString(j);
        if (k < 0) return -1;
        j = k;
        continue;
      }
      if (isOpen(c)) depth++;
      else if (isClose(c) && --depth === 0) return j + 1;
      j++;
    }
    return -1;
  };
  const add = (start: number, end: number): void => {
    let s = start;
    let e = end;
    while (s < e && isWs(b[s])) s++;
    while (e > s && isWs(b[e - 1])) e--;
    if (e <= s) return;
    const index = pieces.length;
    const slice = b.subarray(s, e);
    let text: string;
    try {
      text = strict.decode(slice);
    } catch {
      pieces.push({ kind: 'invalid_utf8', index, bytes: Uint8Array.from(slice) });
      return;
    }
    try {
      pieces.push({ kind: 'json', index, text, value: JSON.parse(text) as unknown });
    } catch {
      pieces.push({ kind: 'invalid_json', index, text });
    }
  };
  /** The elements of the array opening at `p` and ending before `limit` (its `]`, or the end of a truncated file). */
  const addElements = (p: number, limit: number): void => {
    let start = -1;
    let depth = 0;
    for (let j = p + 1; j < limit; ) {
      const c = b[j];
      if (c === QUOTE) {
        if (start < 0) start = j;
        const k = skipString(j);
        j = k < 0 ? lineEnd(j) : k;
        continue;
      }
      if (isOpen(c)) {
        if (start < 0) start = j;
        depth++;
      } else if (isClose(c)) {
        depth--;
      } else if (c === COMMA && depth === 0) {
        if (start >= 0) add(start, j);
        start = -1;
      } else if (start < 0 && !isWs(c)) {
        start = j;
      }
      j++;
    }
    if (start >= 0) add(start, limit);
  };

  for (let i = bom ? 3 : 0; i < n; ) {
    const c = b[i];
    if (isWs(c)) {
      i++;
      continue;
    }
    if (c === 0x5b) {
      shapes.add('array');
      const end = matchComposite(i);
      if (end < 0) {
        // A truncated array: its complete elements are events, the cut one is a fragment.
        addElements(i, n);
        break;
      }
      if (!addWholeArray(i, end)) addElements(i, end - 1);
      i = end;
      continue;
    }
    if (c === 0x7b) {
      shapes.add('values');
      const end = matchComposite(i);
      if (end >= 0) {
        add(i, end);
        i = end;
        continue;
      }
    } else {
      shapes.add('values');
    }
    // Not a complete value: the rest of the line is one fragment; go on at the next line.
    const e = lineEnd(i);
    add(i, e);
    i = e + 1;
  }
  return { pieces, shapes, bom };

  /** The fast path: an array that is valid UTF-8 and valid JSON as a whole. */
  function addWholeArray(start: number, end: number): boolean {
    let text: string;
    let parsed: unknown;
    try {
      text = strict.decode(b.subarray(start, end));
      parsed = JSON.parse(text);
    } catch {
      return false;
    }
    const spans = Array.isArray(parsed) ? arrayElementSpans(text) : undefined;
    if (!Array.isArray(parsed) || spans === undefined || spans.length !== parsed.length) return false;
    spans.forEach((s, k) => pieces.push({ kind: 'json', index: pieces.length, text: text.slice(s.start, s.end), value: parsed[k] as unknown }));
    return true;
  }
}
