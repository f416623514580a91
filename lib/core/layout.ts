/**
 * The lake layout, shared by the writer, both sinks, the Glue table's partition projection and the
 * local hunting command:
 *
 *   events/org=<org host>/dt=YYYY-MM-DD/hour=HH/<name>.parquet     (partitioned by `published`, UTC)
 *   quarantine/org=<org host>/dt=YYYY-MM-DD/<name>.jsonl           (events that cannot be placed; by ingest day)
 *
 * Object names are derived from what a file holds (its window and page position), never from the
 * time of writing; the lake is write-once, so a retried write of the same name is refused instead of
 * adding a duplicate (see lib/core/lake/store-page.ts).
 */
import { HOUR } from './time';

export const EVENTS_PREFIX = 'events';
export const QUARANTINE_PREFIX = 'quarantine';
/** The partition projection formats, used by the Glue table too. */
export const DT_FORMAT = 'yyyy-MM-dd';
export const HOUR_DIGITS = 2;

export interface Partition {
  readonly dt: string; // YYYY-MM-DD
  readonly hour: string; // HH
}

const ORG_LABEL = /^[a-z0-9][a-z0-9.-]{0,252}$/;

/** Validates an org label used in paths (a host name such as `acme.okta.com`, or an import label). */
export function assertOrgLabel(org: string): string {
  if (!ORG_LABEL.test(org)) {
    throw new RangeError(`org label "${org}" is not allowed: use lower-case letters, digits, dots and dashes`);
  }
  return org;
}

/** The UTC partition of an instant. */
export function partitionOf(epochMs: number): Partition {
  const iso = new Date(epochMs).toISOString();
  return { dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

/** The `dt/hour` partitions a window `[startMs, endMs)` covers (aligned to the hour or not: the ingestion lists a resumed window's). */
export function partitionsOfWindow(startMs: number, endMs: number): Partition[] {
  const out: Partition[] = [];
  for (let t = Math.floor(startMs / HOUR) * HOUR; t < endMs; t += HOUR) out.push(partitionOf(t));
  return out;
}

export function partitionPrefix(org: string, p?: Partial<Partition>): string {
  let key = `${EVENTS_PREFIX}/org=${assertOrgLabel(org)}/`;
  if (p?.dt) key += `dt=${p.dt}/`;
  if (p?.dt && p.hour) key += `hour=${p.hour}/`;
  return key;
}

export function eventObjectKey(org: string, p: Partition, name: string): string {
  return `${partitionPrefix(org, p)}${name}.parquet`;
}

export function quarantineObjectKey(org: string, dt: string, name: string): string {
  return `${QUARANTINE_PREFIX}/org=${assertOrgLabel(org)}/dt=${dt}/${name}.jsonl`;
}

/** Compact UTC stamp for object names: 20240131T235959.123Z. */
export function stamp(iso: string): string {
  return iso.replace(/[-:]/g, '');
}

/**
 * The name of the file(s) one page of one window produces. The same window and page index always
 * give the same name, so a re-run of that page overwrites rather than duplicates.
 */
export function pageObjectName(windowStart: string, windowEnd: string, pageIndex: number): string {
  return `w${stamp(windowStart)}-${stamp(windowEnd)}-p${String(pageIndex).padStart(5, '0')}`;
}

/** Parses `.../org=x/dt=YYYY-MM-DD/hour=HH/...` back into its partition values. */
export function parsePartitionKey(key: string): { org?: string; dt?: string; hour?: string } {
  const out: { org?: string; dt?: string; hour?: string } = {};
  for (const part of key.split('/')) {
    const m = /^(org|dt|hour)=(.+)$/.exec(part);
    if (m) out[m[1] as 'org' | 'dt' | 'hour'] = m[2];
  }
  return out;
}

/**
 * The table name the queries in `athena-queries/` read: the Glue table in Athena, and the DuckDB view
 * over a local lake in `okta-lake hunt`.
 */
export const TABLE_NAME = 'okta_system_log';

/**
 * Late objects: events for an org-day that compaction has frozen (see lib/core/compact/state.ts)
 * are written here instead of under `events/`, with the same partition path below the prefix, so
 * that no object appears among a frozen day's originals after compaction listed them.
 *
 *   late/org=<org host>/dt=YYYY-MM-DD/hour=HH/<name>.parquet
 */
export const LATE_PREFIX = 'late';
/** Compacted days and compaction state: see lib/core/compact/state.ts. */
export const COMPACTED_PREFIX = 'compacted';

/** The key of an event object of `org` in partition `p`, under `events/` or, for a frozen day, `late/`. */
export function eventObjectKeyIn(prefix: typeof EVENTS_PREFIX | typeof LATE_PREFIX, org: string, p: Partition, name: string): string {
  return `${prefix}/org=${assertOrgLabel(org)}/dt=${p.dt}/hour=${p.hour}/${name}.parquet`;
}
