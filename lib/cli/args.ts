/**
 * Command-line parsing shared by the okta-lake commands: node's `parseArgs` plus the value formats the
 * commands accept (durations such as `5m`, instants as ISO-8601 or `7d` meaning "7 days ago").
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OktaLakeError } from '../core/errors';

/** The command line is wrong; the message says how, and `--help` says what is allowed. */
export class UsageError extends OktaLakeError {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

export function parse(argv: readonly string[], options: Options, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (cause) {
    throw new UsageError(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `300ms`, `30s`, `5m`, `1h`, `7d` -> milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} must be a duration such as 300ms, 30s, 5m, 1h or 7d, got "${text}"`);
  return Number(m[1]) * UNITS[m[2]];
}

/** An ISO-8601 instant, or a duration meaning that long before `nowMs`. Returns ISO-8601 UTC. */
export function parseInstant(text: string, flag: string, nowMs: number): string {
  if (/^\d+(?:\.\d+)?(ms|s|m|h|d)$/.test(text.trim())) return new Date(nowMs - parseDuration(text, flag)).toISOString();
  const t = Date.parse(text);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new UsageError(`${flag} must be an ISO-8601 instant such as 2024-05-01T00:00:00Z, or a duration back from now such as 7d, got "${text}"`);
  }
  return new Date(t).toISOString();
}

export function parseNumber(text: string, flag: string, min: number, max: number, integer = false): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

export function requireString(values: Parsed['values'], name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export const optionalString = (values: Parsed['values'], name: string): string | undefined => {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
};
