/** The sweep options shared by `okta-lake reconcile` and `okta-lake ingest --reconcile`. */
import { UsageError, optionalString, parseDuration } from './args';

/** `--offsets 1h,24h` -> milliseconds. */
export function parseOffsets(text: string, flag: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new UsageError(`${flag} must be a comma-separated list of durations such as 1h,24h, got "${text}"`);
  return parts.map((p) => parseDuration(p, flag));
}

/** The flags, as `parse` options. */
export const SWEEP_FLAGS = {
  offsets: { type: 'string' },
  span: { type: 'string' },
  'max-backlog': { type: 'string' },
} as const;

/** What `--offsets`, `--span` and `--max-backlog` set. */
export interface SweepFlags {
  readonly offsetsMs?: readonly number[];
  readonly spanMs?: number;
  readonly maxBacklogMs?: number;
}

/** Reads `--offsets`, `--span` and `--max-backlog`. */
export function sweepFlags(values: Record<string, string | boolean | undefined>): SweepFlags {
  const offsets = optionalString(values, 'offsets');
  const span = optionalString(values, 'span');
  const backlog = optionalString(values, 'max-backlog');
  return {
    ...(offsets !== undefined ? { offsetsMs: parseOffsets(offsets, '--offsets') } : {}),
    ...(span !== undefined ? { spanMs: parseDuration(span, '--span') } : {}),
    ...(backlog !== undefined ? { maxBacklogMs: parseDuration(backlog, '--max-backlog') } : {}),
  };
}
