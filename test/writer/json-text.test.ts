import { describe, expect, it } from 'vitest';
import { arrayElementSpans, hasLoneSurrogateEscape, lineElementSpans } from '../../lib/core/writer/json-text';

const texts = (text: string, spans: { start: number; end: number }[] | undefined): string[] | undefined =>
  spans?.map((s) => text.slice(s.start, s.end));

describe('arrayElementSpans', () => {
  it('finds the exact text of every top-level element', () => {
    // Prepare
    const elements = ['{"a":"],[{,\\"}"}', '  "s\\\\"', '[1,[2,{"b":[]}]]', 'null', '-1.5e3', '{\n "p" : { } \n}'];
    const page = ` [ ${elements.map((e) => e.trim()).join(' ,\n ')} ] `;
    // Act
    const found = texts(page, arrayElementSpans(page));
    // Assess
    expect(found).toEqual(elements.map((e) => e.trim()));
  });

  it('handles an empty array and refuses a non-array', () => {
    expect(arrayElementSpans(' [ ] ')).toEqual([]);
    expect(arrayElementSpans('{"a":1}')).toBeUndefined();
  });
});

describe('lineElementSpans', () => {
  it('returns the non-blank lines without surrounding whitespace', () => {
    const text = '{"a":1}\r\n\n   \n  {"b":2}  \n{"c":3}';
    expect(texts(text, lineElementSpans(text))).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});

describe('hasLoneSurrogateEscape', () => {
  it.each([
    ['"\\ud800"', true],
    ['"x\\ud800y"', true],
    ['"\\udc00"', true],
    ['"\\ud800\\u0041"', true],
    ['"\\ud800\\n"', true],
    ['"\\ud83d\\ude00"', false],
    ['"\\\\ud800"', false],
    ['"\\u00e9 plain é 😀"', false],
    ['{"k":"\\uD800"}', true],
  ])('%s -> %s', (text, expected) => {
    expect(hasLoneSurrogateEscape(text)).toBe(expected);
  });
});
