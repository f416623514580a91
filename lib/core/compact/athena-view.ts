/**
 * The `okta_system_log` view that Athena reads: a `UNION ALL` of three Glue tables over the three
 * prefixes of the lake, with static predicates made from the compaction state so that each org-day
 * is read exactly once, from its originals or from its current generation (docs/compaction.md,
 * "Athena").
 *
 * - `<view>_events` (events/, partitions org, dt, hour): every day that is not compacted.
 * - `<view>_late` (late/, same partitions): every row except those a current generation absorbed,
 *   told apart by the generation's late cutoff (`ingested_at <= cutoff`), one predicate per group of
 *   days compacted by the same run.
 * - `<view>_compacted` (compacted/, partitions org, dt): for each compacted day, the part files of
 *   its current generation only (`"$path" LIKE '%/gNNNN-part-%'`), so that an older generation, or
 *   one a killed run left without a switch record, in the same folder is never read.
 *
 * The predicates only name partition columns, `"$path"` and `ingested_at`; a query's own `dt`
 * condition still prunes partitions in every branch. A view made from an older state stays correct
 * (slower at worst): nothing is ever removed from the lake, a day it calls uncompacted is read from
 * its originals, and a day it calls compacted at generation g is read from g's parts and the late
 * rows g did not absorb. So the view is regenerated after compaction runs, never before a switch.
 *
 * The SQL is valid Trino (Athena engine 3) and DuckDB; the tests run it on DuckDB over a lake.
 */
import { EVENTS_PREFIX, TABLE_NAME, assertOrgLabel } from '../layout';
import { LOG_EVENT_COLUMNS } from '../schema';
import { generationLabel, parseCompactedKey, STATE_PREFIX } from './records';
import { readSwitch, type LakeReader, LakeFilesError } from './files';

/** The names of the view and of the three tables it reads. */
export interface LakeTableNames {
  readonly view: string;
  readonly events: string;
  readonly late: string;
  readonly compacted: string;
}

export const LAKE_TABLES: LakeTableNames = {
  view: TABLE_NAME,
  events: `${TABLE_NAME}_${EVENTS_PREFIX}`,
  late: `${TABLE_NAME}_late`,
  compacted: `${TABLE_NAME}_compacted`,
};

/** What the view needs to know of one compacted org-day: its current generation's switch record. */
export interface CompactedDayState {
  readonly org: string;
  readonly dt: string;
  readonly generation: number;
  /** The `late/` keys the current generation absorbed. */
  readonly absorbedLate: readonly string[];
  /** The current generation's late cutoff (ISO-8601), absent in records written before it existed. */
  readonly lateCutoff?: string;
}

/** The compacted days of `orgs`: one listing of each org's state folder, and each current switch record. */
export async function compactedDaysOf(reader: LakeReader, orgs: readonly string[]): Promise<CompactedDayState[]> {
  const out: CompactedDayState[] = [];
  for (const org of orgs) {
    const prefix = `${STATE_PREFIX}/org=${assertOrgLabel(org)}/`;
    let keys: string[];
    try {
      keys = await reader.list(prefix);
    } catch (cause) {
      throw new LakeFilesError(`could not list ${reader.location}/${prefix}`, { cause });
    }
    const current = new Map<string, number>();
    for (const key of keys) {
      const k = parseCompactedKey(key);
      if (k?.kind === 'switch' && k.org === org) current.set(k.dt, Math.max(current.get(k.dt) ?? 0, k.generation));
    }
    for (const [dt, g] of [...current].sort(([a], [b]) => a.localeCompare(b))) {
      const s = await readSwitch(reader, org, dt, g);
      out.push({ org, dt, generation: g, absorbedLate: s.absorbedLate, ...(s.lateCutoff !== undefined ? { lateCutoff: s.lateCutoff } : {}) });
    }
  }
  return out;
}

const str = (text: string): string => `'${text.replace(/'/g, "''")}'`;
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** `TIMESTAMP 'YYYY-MM-DD HH:MM:SS.mmm'` (UTC) for an ISO-8601 instant. */
function timestampLiteral(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`"${iso}" is not an instant`);
  return `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
}

const nextDay = (dt: string): string => new Date(Date.parse(`${dt}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** `dt` in the given days, as few conditions as their runs of consecutive days allow. */
export function dayCondition(days: readonly string[]): string {
  const sorted = [...new Set(days)].sort();
  const runs: [string, string][] = [];
  for (const dt of sorted) {
    const last = runs[runs.length - 1];
    if (last && nextDay(last[1]) === dt) last[1] = dt;
    else runs.push([dt, dt]);
  }
  const parts = runs.map(([a, b]) => (a === b ? `dt = ${str(a)}` : `dt BETWEEN ${str(a)} AND ${str(b)}`));
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

/** Groups `days` by `keyOf`, in first-seen order, per org. */
function groupBy<K>(days: readonly CompactedDayState[], keyOf: (d: CompactedDayState) => K): { org: string; key: K; days: CompactedDayState[] }[] {
  const groups = new Map<string, { org: string; key: K; days: CompactedDayState[] }>();
  for (const d of days) {
    const key = keyOf(d);
    const id = `${d.org}\u0000${JSON.stringify(key)}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { org: d.org, key, days: [] }));
    g.days.push(d);
  }
  return [...groups.values()];
}

const anyOf = (conditions: readonly string[]): string => (conditions.length === 1 ? conditions[0] : `(${conditions.join('\n    OR ')})`);

export interface LakeViewOptions {
  /** The lake's location as Athena's `"$path"` gives it: `s3://bucket` (no trailing slash). */
  readonly location: string;
  readonly days: readonly CompactedDayState[];
  /** @default LAKE_TABLES */
  readonly tables?: LakeTableNames;
}

/** The `CREATE OR REPLACE VIEW` statement for the lake in `days`' state (see the module comment). */
export function lakeViewSql(options: LakeViewOptions): string {
  const t = options.tables ?? LAKE_TABLES;
  const location = options.location.replace(/\/+$/, '');
  const days = [...options.days].sort((a, b) => a.org.localeCompare(b.org) || a.dt.localeCompare(b.dt));
  const columns = LOG_EVENT_COLUMNS.map((c) => ident(c.name)).join(', ');

  const byOrg = groupBy(days, () => 'all');
  const compactedDays = byOrg.map((g) => `(org = ${str(g.org)} AND ${dayCondition(g.days.map((d) => d.dt))})`);

  const byGeneration = groupBy(days, (d) => d.generation);
  const currentParts = byGeneration.map(
    (g) => `(org = ${str(g.org)} AND ${dayCondition(g.days.map((d) => d.dt))} AND "$path" LIKE ${str(`%/${generationLabel(g.key)}-part-%`)})`,
  );

  const absorbing = days.filter((d) => d.absorbedLate.length > 0);
  const absorbed = [
    ...groupBy(
      absorbing.filter((d) => d.lateCutoff !== undefined),
      (d) => d.lateCutoff as string,
    ).map((g) => `(org = ${str(g.org)} AND ${dayCondition(g.days.map((d) => d.dt))} AND ingested_at IS NOT NULL AND ingested_at <= ${timestampLiteral(g.key)})`),
    // A record without a cutoff names its absorbed objects.
    ...absorbing
      .filter((d) => d.lateCutoff === undefined)
      .map((d) => `(org = ${str(d.org)} AND dt = ${str(d.dt)} AND "$path" IN (${d.absorbedLate.map((k) => str(`${location}/${k}`)).join(', ')}))`),
  ];

  const where = (condition: string | undefined): string => (condition === undefined ? '' : `\nWHERE ${condition}`);
  return [
    `CREATE OR REPLACE VIEW ${ident(t.view)} AS`,
    `SELECT ${columns}, org, dt, hour FROM ${ident(t.events)}${where(compactedDays.length > 0 ? `NOT ${anyOf(compactedDays)}` : undefined)}`,
    'UNION ALL',
    `SELECT ${columns}, org, dt, hour FROM ${ident(t.late)}${where(absorbed.length > 0 ? `NOT ${anyOf(absorbed)}` : undefined)}`,
    'UNION ALL',
    `SELECT ${columns}, org, dt, lpad(CAST(hour(published) AS varchar), 2, '0') AS hour FROM ${ident(t.compacted)}${where(currentParts.length > 0 ? anyOf(currentParts) : 'false')}`,
  ].join('\n');
}
