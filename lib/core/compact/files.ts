/**
 * Which files a reader reads for each org-day, so that every reader sees each day exactly once:
 *
 * - a day with a current generation g (the highest one with a switch record): g's part files, plus
 *   every `late/` object of the day that g's switch does not list as absorbed (and any `events/`
 *   object it does not list: one a writer stored despite the freeze, which is then still read once);
 * - any other day: its `events/` objects plus its `late/` objects.
 *
 * The choice is a pure function of what is listed (`selectDayFiles`); `lakeFilesOf` lists a lake
 * (any `LakeReader`: a sink, or a folder through `dirLakeReader`) and reads the switch records.
 * Nothing is ever removed from the lake, so the choice only moves from originals to parts at a
 * switch, which is one write of one record (see docs/compaction.md).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { OktaLakeError } from '../errors';
import { EVENTS_PREFIX, LATE_PREFIX, assertOrgLabel, parsePartitionKey } from '../layout';
import type { LakeSink } from '../ports';
import { STATE_PREFIX, assertDay, dayStatePrefix, parseCompactedKey, parseSwitch, switchKey, type SwitchRecord } from './records';

/** What compaction and the readers need of a lake: listing and reading (a `LakeSink` is one). */
export type LakeReader = Pick<LakeSink, 'location' | 'list' | 'get'>;

/** The lake could not be listed, or a switch record read. */
export class LakeFilesError extends OktaLakeError {}

/** The files of one org-day, and which of them readers read. */
export interface DayFiles {
  readonly org: string;
  readonly dt: string;
  /** `events/` objects of the day (keys). */
  readonly events: readonly string[];
  /** `late/` objects of the day (keys). */
  readonly late: readonly string[];
  /** The current generation's switch, when the day is compacted. */
  readonly current?: SwitchRecord;
  /** `late/` objects the current generation did not absorb (all of `late` when not compacted). */
  readonly unabsorbedLate: readonly string[];
  /** `events/` objects the current generation did not absorb (none when not compacted; none unless a writer ignored the freeze). */
  readonly unabsorbedEvents: readonly string[];
  /** Part files readers read (the current generation's; none when not compacted). */
  readonly parts: readonly string[];
  /** Original objects readers read (`events/` and `late/` when not compacted; unabsorbed ones when compacted). */
  readonly originals: readonly string[];
}

/** What a listing says about one day, before the switch is read. */
export interface DayListing {
  readonly org: string;
  readonly dt: string;
  readonly events: readonly string[];
  readonly late: readonly string[];
  /** Generations with a switch record. */
  readonly switched: readonly number[];
}

/** The reader's choice for one day (pure). */
export function selectDayFiles(listing: DayListing, current: SwitchRecord | undefined): DayFiles {
  const events = [...listing.events].sort();
  const late = [...listing.late].sort();
  if (!current) return { org: listing.org, dt: listing.dt, events, late, unabsorbedLate: late, unabsorbedEvents: [], parts: [], originals: [...events, ...late] };
  const absorbed = new Set([...current.absorbedLate, ...current.absorbedEvents]);
  const unabsorbedLate = late.filter((k) => !absorbed.has(k));
  const unabsorbedEvents = events.filter((k) => !absorbed.has(k));
  return { org: listing.org, dt: listing.dt, events, late, current, unabsorbedLate, unabsorbedEvents, parts: [...current.parts], originals: [...unabsorbedEvents, ...unabsorbedLate] };
}

/** Every file readers read for `days`, in order. */
export const readerFiles = (days: readonly DayFiles[]): { originals: string[]; parts: string[] } => ({
  originals: days.flatMap((d) => d.originals),
  parts: days.flatMap((d) => d.parts),
});

export interface LakeScope {
  /** Only this org. */
  readonly org?: string;
  /** Only this day (with `org`, one listing of that day). */
  readonly dt?: string;
}

const PARQUET = '.parquet';

function scopePrefix(root: string, scope: LakeScope): string {
  if (!scope.org) return `${root}/`;
  return `${root}/org=${assertOrgLabel(scope.org)}/${scope.dt ? `dt=${assertDay(scope.dt)}/` : ''}`;
}

async function listOrFail(reader: LakeReader, prefix: string): Promise<string[]> {
  try {
    return await reader.list(prefix);
  } catch (cause) {
    throw new LakeFilesError(`could not list ${reader.location}/${prefix}`, { cause });
  }
}

/** Lists the days of the lake in `scope` (originals and switch records), sorted by org then day. */
export async function listDays(reader: LakeReader, scope: LakeScope = {}): Promise<DayListing[]> {
  const statePrefix = scope.org ? (scope.dt ? dayStatePrefix(scope.org, scope.dt) : `${STATE_PREFIX}/org=${assertOrgLabel(scope.org)}/`) : `${STATE_PREFIX}/`;
  const [events, late, state] = await Promise.all([
    listOrFail(reader, scopePrefix(EVENTS_PREFIX, scope)),
    listOrFail(reader, scopePrefix(LATE_PREFIX, scope)),
    listOrFail(reader, statePrefix),
  ]);
  const days = new Map<string, { org: string; dt: string; events: string[]; late: string[]; switched: number[] }>();
  const day = (org: string, dt: string) => {
    const id = `${org}/${dt}`;
    let d = days.get(id);
    if (!d) days.set(id, (d = { org, dt, events: [], late: [], switched: [] }));
    return d;
  };
  for (const [keys, field] of [
    [events, 'events'],
    [late, 'late'],
  ] as const) {
    for (const key of keys) {
      if (!key.endsWith(PARQUET)) continue;
      const p = parsePartitionKey(key);
      if (p.org && p.dt && p.hour) day(p.org, p.dt)[field].push(key);
    }
  }
  for (const key of state) {
    const k = parseCompactedKey(key);
    if (k?.kind === 'switch') day(k.org, k.dt).switched.push(k.generation);
  }
  return [...days.values()].sort((a, b) => (a.org === b.org ? a.dt.localeCompare(b.dt) : a.org.localeCompare(b.org)));
}

/** Reads the switch record of generation `g` of a day. */
export async function readSwitch(reader: LakeReader, org: string, dt: string, g: number): Promise<SwitchRecord> {
  const key = switchKey(org, dt, g);
  let body: Uint8Array | undefined;
  try {
    body = await reader.get(key);
  } catch (cause) {
    throw new LakeFilesError(`could not read ${reader.location}/${key}`, { cause });
  }
  if (body === undefined) throw new LakeFilesError(`${reader.location}/${key} was listed but cannot be found`);
  return parseSwitch(body, key, { org, dt, generation: g });
}

/** The files of each day in `scope` and which of them readers read (see the module comment). */
export async function lakeFilesOf(reader: LakeReader, scope: LakeScope = {}): Promise<DayFiles[]> {
  const listings = await listDays(reader, scope);
  return Promise.all(
    listings.map(async (l) => {
      const g = l.switched.length === 0 ? undefined : Math.max(...l.switched);
      return selectDayFiles(l, g === undefined ? undefined : await readSwitch(reader, l.org, l.dt, g));
    }),
  );
}

/**
 * A read-only `LakeReader` over a lake folder (same keys as `LocalSink`; files whose name starts
 * with `.`, such as a sink's temporary files, are not listed). For the local hunting view, which
 * lives in the core and must not depend on an adapter.
 */
export function dirLakeReader(dir: string): LakeReader {
  const root = resolve(dir);
  const walk = async (path: string, key: string, prefix: string, out: string[]): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const k = `${key}${e.name}`;
      if (e.isDirectory()) {
        const folder = `${k}/`;
        if (folder.startsWith(prefix) || prefix.startsWith(folder)) await walk(join(path, e.name), folder, prefix, out);
      } else if (e.isFile() && k.startsWith(prefix)) out.push(k);
    }
  };
  return {
    location: root,
    list: async (prefix) => {
      const cut = prefix.lastIndexOf('/');
      const folder = cut < 0 ? '' : prefix.slice(0, cut + 1);
      const out: string[] = [];
      await walk(join(root, ...folder.split('/').filter(Boolean)), folder, prefix, out);
      return out.sort();
    },
    get: async (key) => {
      try {
        const data = await readFile(join(root, ...key.split('/')));
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
        throw error;
      }
    },
  };
}
