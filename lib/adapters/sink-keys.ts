/**
 * Key rules shared by the S3 and folder sinks, so that a key accepted by one is accepted by the other
 * and can never leave the sink root: `/`-separated, relative, no empty, `.` or `..` segment, no
 * backslash and no control character.
 */
import { SinkError } from '../core/errors';

/** A key or listing prefix that is not a plain relative path inside the sink root. */
export class InvalidSinkKeyError extends SinkError {}

const CONTROL = /[\u0000-\u001f\u007f]/;

function checkSegments(what: string, value: string, segments: readonly string[]): void {
  for (const segment of segments) {
    if (segment === '') throw new InvalidSinkKeyError(`${what} "${value}" has an empty path segment`);
    if (segment === '.' || segment === '..') {
      throw new InvalidSinkKeyError(`${what} "${value}" has a "${segment}" segment and could leave the sink root`);
    }
  }
}

function checkCharacters(what: string, value: string): void {
  if (value.startsWith('/')) throw new InvalidSinkKeyError(`${what} "${value}" is absolute: keys are relative to the sink root`);
  if (value.includes('\\')) throw new InvalidSinkKeyError(`${what} "${value}" contains a backslash: use "/" as separator`);
  if (CONTROL.test(value)) throw new InvalidSinkKeyError(`${what} contains a control character`);
}

/** Returns `key` when it is a valid object key, throws `InvalidSinkKeyError` otherwise. */
export function assertSinkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidSinkKeyError('object key must be a non-empty string');
  checkCharacters('object key', key);
  checkSegments('object key', key, key.split('/'));
  return key;
}

/**
 * Returns `prefix` when it is a valid listing prefix: empty (everything), or a key beginning that may
 * end with `/` (a folder) or in the middle of a name (as S3 prefixes do).
 */
export function assertListPrefix(prefix: string): string {
  if (typeof prefix !== 'string') throw new InvalidSinkKeyError('listing prefix must be a string');
  if (prefix === '') return prefix;
  checkCharacters('listing prefix', prefix);
  const segments = prefix.split('/');
  // The last segment is a name beginning (possibly empty after a trailing "/"); a ".." there would
  // still only match names starting with "..", but refuse it for clarity.
  const last = segments.pop() ?? '';
  checkSegments('listing prefix', prefix, segments);
  if (last === '.' || last === '..') {
    throw new InvalidSinkKeyError(`listing prefix "${prefix}" ends with a "${last}" segment and could leave the sink root`);
  }
  return prefix;
}
